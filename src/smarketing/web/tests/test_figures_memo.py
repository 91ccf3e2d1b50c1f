"""Figures computed one after another (the worker's tasks for a page) read the history store's touches once while
the store is unchanged: the engine's memo is carried from one computation to the next (`common._memo_carry`), and
dropped when the store changes."""

from __future__ import annotations

import shutil
from datetime import date
from typing import Any

import pytest

from smarketing.analytics.queries.roi import RoiQuery
from smarketing.analytics.tests.test_engines_agree import company  # noqa: F401 - the shared fixture
from smarketing.analytics.tests.test_touches_cache import lake, sorts  # noqa: F401 - shared fixtures
from smarketing.core import background
from smarketing.web.data import common


def _roi(first: date, last: date, model: str = "linear") -> dict[str, Any]:
    spec = RoiQuery(model=model, start=first, end=last)  # type: ignore[arg-type]
    result = common.compute_query(kind="roi", spec_json=spec.model_dump_json(), version=f"v-{first}-{model}")
    dumped: dict[str, Any] = result.model_dump(mode="json", exclude={"data_as_of"})
    return dumped


@pytest.mark.django_db(transaction=True)
def test_a_pages_figures_read_the_touches_once_while_the_store_is_unchanged(company, lake, sorts,  # noqa: F811
                                                                             settings):
    # given a figure computed on the store
    year = _roi(date(2025, 1, 1), date(2026, 12, 31))
    assert len(sorts) == 1
    # when other periods and models are computed next
    _roi(date(2026, 1, 1), date(2026, 6, 30))
    decay = _roi(date(2025, 1, 1), date(2026, 12, 31), model="time_decay")
    # then they read the touches the first one read
    assert len(sorts) == 1
    # and their figures are those of a computation that reads everything afresh (no figure, memo or kept touches)
    common.clear(rows=True)
    background.finish()  # the kept touches being written in the background are written before the folder goes
    shutil.rmtree(settings.DATA_DIR / "cache")
    assert _roi(date(2025, 1, 1), date(2026, 12, 31), model="time_decay") == decay
    assert len(sorts) == 2
    assert year["total"]["mqls"] > 0


@pytest.mark.django_db(transaction=True)
def test_a_touch_recorded_since_makes_the_next_figure_read_the_touches_again(company, lake, sorts):  # noqa: F811
    from datetime import UTC, datetime

    from smarketing.crm.models import Contact
    from smarketing.testing.factories import TouchpointFactory

    # given a figure computed on the store
    _roi(date(2025, 1, 1), date(2026, 12, 31))
    # when a touch is recorded and the next figure is computed
    touch = TouchpointFactory(contact=Contact.objects.order_by("id").first(), kind="ad_click", channel="paid_search",
                              occurred_at=datetime(2026, 3, 1, 10, tzinfo=UTC))
    _roi(date(2025, 1, 2), date(2026, 12, 31))
    # then the touches were read again, the new one with them
    assert len(sorts) == 2
    assert common._carried is not None
    assert touch.pk in common._carried[1]["subject_touches", "contact"].touch_id
