"""The demo records MQL score details exactly as the product's scoring explains them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from smarketing.demo.qualify import mql_details
from smarketing.playbook import schema
from smarketing.playbook.selectors import default_playbook_data
from smarketing.scoring.rules import Touch, facts_from, score_contact

ORIGIN = datetime(2026, 1, 1, tzinfo=UTC)


def test_mql_details_carry_the_same_lines_as_the_products_explanation():
    # given a decision maker with a demo request on day 0 and two pricing views on days 20 and 40, qualified on day 50
    terms = schema.parse(default_playbook_data())
    facts = [facts_from({"buying_role": "decision_maker", "email": "a@corp.example"},
                        {"industry": "Software", "employees": 800})]
    t_days = np.asarray([0.0, 20.0, 40.0])
    kind = np.asarray(["demo_request", "pricing_view", "pricing_view"], dtype=object)
    # when the demo records the MQL's details
    [details] = mql_details(terms, facts, np.asarray([0]), np.asarray([50.0]), np.zeros(3, dtype=np.int64), t_days,
                            kind, ORIGIN)
    # then its lines are the product's explanation lines, playbook points, decay and summary included
    touches = [Touch(k, ORIGIN + timedelta(days=float(t))) for k, t in zip(kind, t_days, strict=True)]
    product = score_contact(terms.scoring, facts[0], touches, ORIGIN + timedelta(days=50)).as_dict()
    assert details["score"]["explanation"] == product["explanation"]
    demo = next(x for x in details["score"]["explanation"] if x["rule_id"] == "eng-demo-request")
    assert (demo["playbook_points"], demo["count"], demo["decay"]) == (35, 1, round(0.5 ** (50 / 30), 6))
    assert demo["summary"] == "Asked for a demo: 35 pts × 1 × decay 0.31 = 11.0 pts"
