import pytest

from smarketing.playbook.criteria import all_hold, holds
from smarketing.playbook.schema import Criterion


@pytest.mark.parametrize(
    ("field", "op", "value", "facts", "expected"),
    [
        ("score.total", ">=", 60, {"score.total": 60}, True),
        ("score.total", ">=", 60, {"score.total": 59.9}, False),
        ("score.total", ">=", 60, {}, False),
        ("account.employees", "<", 100, {"account.employees": None}, False),
        ("account.industry", "in", ["Software", "Healthcare"], {"account.industry": " software "}, True),
        ("account.industry", "not_in", ["Software"], {}, True),
        ("contact.email", "contains", "@gmail.", {"contact.email": "Bob@GMAIL.com"}, True),
        ("contact.buying_role", "==", "champion", {"contact.buying_role": "decision_maker"}, False),
        ("account.region", "!=", "EMEA", {"account.region": "AMER"}, True),
        ("contact.title", "exists", None, {"contact.title": ""}, False),
        ("account.employees", ">", 10, {"account.employees": "many"}, False),
    ],
)
def test_criterion(field, op, value, facts, expected):
    assert holds(Criterion(field=field, op=op, value=value), facts) is expected


def test_all_hold_needs_every_criterion():
    crit = [Criterion(field="score.total", op=">=", value=60), Criterion(field="score.fit", op=">=", value=10)]
    assert all_hold(crit, {"score.total": 70, "score.fit": 10})
    assert not all_hold(crit, {"score.total": 70, "score.fit": 5})
    assert all_hold([], {})
