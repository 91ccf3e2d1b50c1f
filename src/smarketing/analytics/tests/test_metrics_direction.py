"""Each measure says which way is good news, and a change against the previous period carries it."""

import pytest

from smarketing.analytics.metrics import MEASURES, change
from smarketing.analytics.metrics.compare import is_good


@pytest.mark.parametrize(("name", "value", "previous", "good"), [
    ("revenue_won", 120.0, 100.0, True),
    ("revenue_won", 80.0, 100.0, False),
    ("deals_lost", 3.0, 5.0, True),  # fewer lost deals is good news though the figure went down
    ("deals_lost", 7.0, 5.0, False),
    ("mqls_rejected", 2.0, 4.0, True),
    ("campaign_cost", 200.0, 100.0, None),  # spend is neither good nor bad by itself
    ("revenue_won", 100.0, 100.0, None),
    ("revenue_won", None, 100.0, None),
])
def test_change_is_judged_by_the_measures_direction(name, value, previous, good):
    c = change(value, previous, MEASURES[name].better)
    assert c.good is good
    if value is not None and value != previous:
        assert c.direction == ("up" if value > previous else "down")  # the words stay the sign's


def test_lower_is_better_for_days():
    assert is_good("down", "lower") is True and is_good("up", "lower") is False
    assert is_good("up", "higher") is True and is_good("same", "higher") is None


def test_every_measure_has_a_direction():
    assert {m.better for m in MEASURES.values()} <= {"higher", "lower", "neutral"}
    assert MEASURES["deals_lost"].better == "lower"
