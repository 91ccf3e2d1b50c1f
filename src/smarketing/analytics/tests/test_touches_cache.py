"""A level's sorted touches are kept on disk for the store they were read from: another process (a fresh engine)
reading the very same store loads them instead of reading and sorting again; a store that moved on reads afresh;
a damaged set is recomputed, never trusted."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

import numpy as np
import pytest

from smarketing.analytics.kernels import journeys as journey_kernels
from smarketing.analytics.tests.test_engines_agree import company  # noqa: F401 - the shared fixture


@pytest.fixture
def lake(settings, tmp_path) -> Any:
    settings.SMARKETING = {**settings.SMARKETING, "LAKE_URL": str(tmp_path / "lake"), "ANALYTICS_STORE": "lake"}
    settings.DATA_DIR = tmp_path / "data"
    return tmp_path / "data" / "cache" / "touches"


@pytest.fixture
def sorts(monkeypatch) -> list[int]:
    """One entry each time a level's touches are read from the engine and sorted."""
    calls: list[int] = []
    sorted_rows = journey_kernels.sorted_rows

    def counted(*args: Any) -> Any:
        calls.append(1)
        return sorted_rows(*args)

    monkeypatch.setattr(journey_kernels, "sorted_rows", counted)
    return calls


def _touches(level: Literal["contact", "account"]) -> Any:
    from smarketing.analytics.engine import open_engine
    from smarketing.analytics.queries.touches import subject_touches

    with open_engine() as engine:  # a fresh engine each time: a process of its own, as far as the memo goes
        return subject_touches(engine, level)


def _same(a: Any, b: Any) -> None:
    for name in ("subject", "t_epoch", "touch_id", "channel", "campaign"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert a.channel_names == b.channel_names and a.campaign_names == b.campaign_names
    assert np.array_equal(a.runs.key, b.runs.key) and (a.runs.tmin, a.runs.span) == (b.runs.tmin, b.runs.span)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("level", ["contact", "account"])
def test_a_second_engine_on_the_same_store_loads_the_kept_touches(company, lake, sorts, level):  # noqa: F811
    # given one engine that read and sorted the level's touches
    first = _touches(level)
    assert len(sorts) == 1 and first.subject.size > 0
    # when another engine reads the same store
    second = _touches(level)
    # then it loaded them (no read, no sort): the same arrays, writable as computed ones are
    assert len(sorts) == 1
    _same(first, second)
    assert second.subject.flags.writeable
    assert [p.name.split("-")[0] for p in lake.iterdir()] == [level]


@pytest.mark.django_db(transaction=True)
def test_a_touch_recorded_since_is_read_afresh_and_the_old_set_goes(company, lake, sorts):  # noqa: F811
    from smarketing.crm.models import Contact
    from smarketing.testing.factories import TouchpointFactory

    # given kept touches
    _touches("contact")
    before = {p.name for p in lake.iterdir()}
    # when a touch is recorded and the touches are read again
    touch = TouchpointFactory(contact=Contact.objects.order_by("id").first(), kind="ad_click", channel="paid_search",
                              occurred_at=datetime(2026, 3, 1, 10, tzinfo=UTC))
    after = _touches("contact")
    # then they were read afresh, the new touch with them, and only the new set is kept
    assert len(sorts) == 2
    assert touch.pk in after.touch_id
    assert len(before) == 1 and {p.name for p in lake.iterdir()}.isdisjoint(before)
    assert len(list(lake.iterdir())) == 1


@pytest.mark.django_db(transaction=True)
def test_a_damaged_set_is_recomputed(company, lake, sorts):  # noqa: F811
    # given kept touches whose arrays file was cut short
    first = _touches("contact")
    (kept,) = lake.iterdir()
    data = (kept / "touch_id.npy").read_bytes()
    (kept / "touch_id.npy").write_bytes(data[: len(data) // 2])
    # when they are read again
    again = _touches("contact")
    # then they were computed (not loaded) and are right
    assert len(sorts) == 2
    _same(first, again)


@pytest.mark.django_db(transaction=True)
def test_other_code_never_loads_the_kept_touches(company, lake, sorts, monkeypatch):  # noqa: F811
    from smarketing.analytics.store import touches_cache

    # given touches kept by this code
    _touches("contact")
    # when code that computes them differently (an upgrade) reads the same store
    monkeypatch.setattr(touches_cache, "_code", lambda: "another version")
    _touches("contact")
    # then it computed them itself
    assert len(sorts) == 2
