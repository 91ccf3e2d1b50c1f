"""After the store caught up with CRM writes, the worker's next computation keeps what the writes left alone
(`common._memo_carry`, `analytics.queries.kept`): touches recorded leave the MQL decisions, SLA events and funnel
timelines as they were read (the very values), and extend the touch times and journey events by the new touches
(equal to a read afresh, a new touch kind among them); a touch corrected has those read afresh. The figures are
those of a computation afresh every time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from smarketing.analytics.queries import kept as kept_module
from smarketing.analytics.queries.journeys import JourneysQuery
from smarketing.analytics.tests.test_metrics_kept import spread  # noqa: F401 - the shared fixture
from smarketing.analytics.tests.test_touches_cache import lake  # noqa: F401 - the shared fixture
from smarketing.campaigns.models import Touchpoint
from smarketing.campaigns.services import touchpoint_correct, touchpoints_record_many
from smarketing.testing.factories import UserFactory
from smarketing.web.data import common
from smarketing.web.tests.test_scoreboard_kept import _afresh, _figure

# Read from stage changes, decisions and SLA events only: the very values go on after touches are recorded.
UNTOUCHED = ("mql_decisions", "sales_sla_events", "cohort_steps", "sorted_times:contact_stage_entries",
             "funnel_timeline:contact:lead", "journey_existing:contact")
EXTENDED = ("touchpoint_times", "journey_events:contact", "journey_events:account")


def _compute(version: str) -> dict[str, Any]:
    """The scoreboard's metrics, the touches recorded, a funnel and both levels' journeys as the worker computes
    them; the figures."""
    out: dict[str, Any] = {"metrics": _figure("2026-Q4", f"{version}-metrics")}
    activity = common.query_spec("metrics", {"period": "2026-Q4", "names": ["touchpoints_recorded"]})
    out["activity"] = common.compute_query(kind="metrics", spec_json=activity.model_dump_json(),
                                           version=f"{version}-activity").model_dump(mode="json",
                                                                                     exclude={"data_as_of"})
    funnel = common.query_spec("funnel", {"from_stage": "lead", "to_stage": "customer", "start": "2026-10-01",
                                          "end": "2026-12-31"})
    out["funnel"] = common.compute_query(kind="funnel", spec_json=funnel.model_dump_json(),
                                         version=f"{version}-funnel").model_dump(mode="json", exclude={"data_as_of"})
    for level in ("contact", "account"):
        spec = JourneysQuery(level=level, start=datetime(2026, 7, 1).date())  # type: ignore[arg-type]
        result = common.compute_query(kind="journeys", spec_json=spec.model_dump_json(), version=f"{version}-{level}")
        out[level] = result.model_dump(mode="json", exclude={"data_as_of"})
    return out


def _kept() -> dict[str, Any]:
    assert common._carried is not None
    return {key[1]: value for key, value in common._carried[1].items()
            if isinstance(key, tuple) and key[0] == "metrics:kept"}


def _afresh_kept(version: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """What a worker that kept nothing computes and reads: the figures and the kept values."""
    common.clear()
    return _compute(version), _kept()


def _same(a: Any, b: Any) -> None:
    if isinstance(a, np.ndarray):
        assert np.array_equal(a, b)
        return
    for name in ("subject", "micros", "code", "tie"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert a.labels == b.labels


@pytest.fixture
def fates(monkeypatch) -> list[Any]:
    """Each judgement `kept_in` and the carry make of a kept value, with the tables its reader extends."""
    seen: list[Any] = []
    judge = kept_module.kept_fate

    def recorded(was: Any, now: Any, appendable: Any) -> Any:
        fate = judge(was, now, appendable)
        seen.append((frozenset(appendable), fate))
        return fate

    monkeypatch.setattr(kept_module, "kept_fate", recorded)
    return seen


def _record_touches(spread: list[Any]) -> None:  # noqa: F811
    t0 = datetime(2026, 11, 20, 9, tzinfo=UTC)
    touchpoints_record_many(touchpoints=[
        {"contact_id": person.pk, "account_id": person.account_id, "channel": "email",
         "kind": "email_click" if i % 2 else "brand_new_kind", "occurred_at": t0 + timedelta(minutes=i),
         "source": "test", "source_id": f"t-{i}"} for i, person in enumerate(spread * 2)])


@pytest.mark.django_db(transaction=True)
def test_touches_recorded_extend_what_reads_touches_and_leave_the_rest(spread, lake, fates):  # noqa: F811
    # given the figures computed by the worker, the memo carried from one to the next
    _compute("v1")
    before = _kept()
    assert set(UNTOUCHED) | set(EXTENDED) <= set(before)
    # when touches are recorded (a kind never seen among them) and the worker computes after the store caught up
    _record_touches(spread)
    fates.clear()
    after_figures = _compute("v2")
    after = _kept()
    # then what reads no touch is the very value read before
    for key in UNTOUCHED:
        assert after[key] is before[key], key
    # what reads touches was extended, not read again, and equals a read afresh
    extended = [fate for appendable, fate in fates if isinstance(fate, kept_module.Appended)]
    assert {frozenset(a.above) for a in extended} == {frozenset({"touchpoints"})} and len(extended) >= 3
    afresh_figures, afresh = _afresh_kept("v3")
    for key in EXTENDED:
        assert after[key] is not before[key], key
        _same(after[key], afresh[key])
    assert "brand_new_kind" in after["journey_events:contact"].labels
    # and the figures are those of a worker that kept nothing
    assert after_figures == afresh_figures
    assert after_figures["metrics"] == _afresh("2026-Q4")


@pytest.mark.django_db(transaction=True)
def test_a_touch_corrected_has_what_reads_touches_read_afresh(spread, lake, fates):  # noqa: F811
    # given the figures computed by the worker, the memo carried
    before_figures = _compute("v1")
    before = _kept()
    # when a touch is corrected (it drops out of every figure)
    touch = Touchpoint.objects.filter(occurred_at__gte=datetime(2026, 10, 2, tzinfo=UTC)).order_by("id").first()
    assert touch is not None
    touchpoint_correct(touchpoint_id=touch.pk, reason="a duplicate of the import",
                       corrected_by=UserFactory(role="revops"))
    fates.clear()
    after_figures = _compute("v2")
    after = _kept()
    # then the touch reads were read afresh (never extended), the rest went on as they were
    assert not any(isinstance(fate, kept_module.Appended) for _, fate in fates)
    for key in UNTOUCHED:
        assert after[key] is before[key], key
    afresh_figures, afresh = _afresh_kept("v3")
    for key in EXTENDED:
        _same(after[key], afresh[key])
    assert after_figures == afresh_figures
    assert after_figures["activity"] != before_figures["activity"]  # the corrected touch is no longer counted
