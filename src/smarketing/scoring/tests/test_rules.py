from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smarketing.playbook import schema
from smarketing.playbook.selectors import default_playbook_data
from smarketing.scoring.rules import (
    AccountContact,
    Contribution,
    ScoreResult,
    Touch,
    TouchArrays,
    engagement_score,
    facts_from,
    mql_unmet,
    qualifies_as_mql,
    score_account,
    score_contact,
    score_many,
    to_datetime64,
)

AS_OF = datetime(2026, 6, 1, 12, tzinfo=UTC)
TERMS = schema.parse(default_playbook_data())
SCORING = TERMS.scoring


def _facts(role: str = "decision_maker", industry: str = "Software", employees: int | None = 800,
           email: str = "a@corp.example") -> dict:
    return facts_from({"buying_role": role, "email": email, "attributes": {"country": "US"}},
                      {"industry": industry, "employees": employees})


def test_facts_flatten_nested_attributes():
    facts = _facts()
    assert facts["contact.attributes.country"] == "US"
    assert facts["account.industry"] == "Software"


@pytest.mark.parametrize(("age_days", "expected"), [(0, 10.0), (30, 5.0), (60, 2.5), (90, 1.25)])
def test_one_half_life_halves_the_points(age_days, expected):
    # given a pricing view (10 points) and a 30-day half-life
    touches = [Touch("pricing_view", AS_OF - timedelta(days=age_days))]
    # when engagement is scored
    eng, lines = engagement_score(SCORING, touches, AS_OF)
    # then the points halve with every half-life
    assert eng == pytest.approx(expected)
    assert lines[0].rule_id == "eng-pricing"


def test_touches_after_as_of_do_not_count_yet():
    eng, lines = engagement_score(SCORING, [Touch("demo_request", AS_OF + timedelta(hours=1))], AS_OF)
    assert eng == 0 and lines == []


def test_only_the_newest_max_count_touches_count():
    # given 5 demo requests (rule max_count 2), the newest two one and two days old
    touches = [Touch("demo_request", AS_OF - timedelta(days=d)) for d in (5, 1, 9, 2, 7)]
    # when scored
    eng, lines = engagement_score(SCORING, touches, AS_OF)
    # then exactly the two newest count
    expected = 35 * (0.5 ** (1 / 30) + 0.5 ** (2 / 30))
    assert eng == pytest.approx(expected)
    assert lines[0].count == 2


def test_explanation_sums_to_the_total_with_weights():
    # given weights other than 1 and a mix of fit and engagement
    scoring = SCORING.model_copy(update={"fit_weight": 0.5, "engagement_weight": 2.0})
    touches = [Touch("webinar_attended", AS_OF - timedelta(days=3)), Touch("page_view", AS_OF),
               Touch("email_click", AS_OF - timedelta(days=40))]
    # when scored
    result = score_contact(scoring, _facts(email="x@gmail.com"), touches, AS_OF)
    # then each rule's contribution is listed and they add up to the total
    ids = [c.rule_id for c in result.explanation]
    assert ids == ["fit-industry", "fit-size-mid", "fit-decision-maker", "fit-free-email", "eng-webinar",
                   "eng-email-click", "eng-page-view"]
    assert sum(c.points for c in result.explanation) == pytest.approx(result.total)
    assert result.fit == 15 + 15 + 20 - 10
    assert result.total == pytest.approx(0.5 * result.fit + 2.0 * result.engagement)


@pytest.mark.parametrize(
    ("fit_kw", "touch_kinds", "qualifies"),
    [
        ({}, ["demo_request", "pricing_view"], True),  # fit 50 + ~45 engagement
        ({}, ["page_view"], False),  # fit 50 + 1 < 60
        ({"role": "user", "industry": "Retail", "employees": 50}, ["demo_request"] * 2 + ["webinar_attended"] * 3,
         False),  # 106 engagement but no fit: the mql entry criterion score.fit >= 10 fails
    ],
)
def test_mql_needs_threshold_and_stage_criteria(fit_kw, touch_kinds, qualifies):
    facts = _facts(**fit_kw)
    result = score_contact(SCORING, facts, [Touch(k, AS_OF) for k in touch_kinds], AS_OF)
    assert qualifies_as_mql(TERMS, result, facts) is qualifies
    assert (mql_unmet(TERMS, result, facts) == []) is qualifies


def test_unmet_criteria_are_named():
    facts = _facts(role="user", industry="Retail", employees=50)
    result = score_contact(SCORING, facts, [Touch("demo_request", AS_OF)], AS_OF)
    unmet = mql_unmet(TERMS, result, facts)
    assert any("score.total" in u and "threshold" in u for u in unmet)
    assert any(u.startswith("score.fit >= 10") for u in unmet)


def _s(total: float, engagement: float) -> ScoreResult:
    return ScoreResult(fit=total - engagement, engagement=engagement, total=total)


def test_account_score_counts_each_engaged_role_once_plus_best_contact_share():
    # given two engaged decision makers, an engaged champion and an unengaged influencer
    contacts = [AccountContact(1, "decision_maker", _s(70, 30)), AccountContact(2, "decision_maker", _s(40, 15)),
                AccountContact(3, "champion", _s(30, 10)), AccountContact(4, "influencer", _s(90, 5))]
    # when the account is scored
    result = score_account(SCORING, contacts)
    # then coverage counts decision maker (20) and champion (15) once each; influencer is not engaged
    assert result.coverage == 35
    assert result.engaged_roles == ["decision_maker", "champion"]
    assert result.best_contact_id == 4
    assert result.total == pytest.approx(35 + 0.5 * 90)
    assert sum(c.points for c in result.explanation) == pytest.approx(result.total)
    assert [c.count for c in result.explanation if c.source == "role"] == [2, 1]


def test_account_without_contacts_scores_zero():
    result = score_account(SCORING, [])
    assert result.total == 0 and result.best_contact_id is None and result.explanation == []


# ------------------------------------------------------------------------------ vectorised == scalar

KINDS = ["demo_request", "pricing_view", "webinar_attended", "page_view", "email_click", "sales_call", "form_fill"]
touch_st = st.builds(Touch, st.sampled_from(KINDS),
                     st.integers(min_value=-5 * 86400, max_value=400 * 86400).map(
                         lambda s: AS_OF - timedelta(seconds=s, microseconds=s % 997)))
contact_st = st.tuples(
    st.fixed_dictionaries({"role": st.sampled_from(["decision_maker", "champion", "influencer", "user", "unknown"]),
                           "industry": st.sampled_from(["Software", "Retail", "healthcare ", ""]),
                           "employees": st.one_of(st.none(), st.integers(0, 20000),
                                                  st.sampled_from(["many", "300", " 7000 ", True, 250.5])),
                           "email": st.sampled_from(["a@gmail.com", "b@corp.example", ""])}),
    st.lists(touch_st, max_size=25),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(contact_st, max_size=12), st.floats(0.5, 400), st.floats(0, 3), st.floats(0, 3))
def test_vectorised_scores_equal_the_scalar_ones(contacts, half_life, fw, ew):
    # given any contacts, touches, half-life and weights
    scoring = SCORING.model_copy(update={"engagement_half_life_days": half_life, "fit_weight": fw,
                                         "engagement_weight": ew})
    facts = [_facts(**kw) for kw, _ in contacts]
    # when scored one by one and all at once
    scalar = [score_contact(scoring, f, ts, AS_OF) for f, (_, ts) in zip(facts, contacts, strict=True)]
    batch = score_many(scoring, facts, TouchArrays.from_lists([ts for _, ts in contacts]), AS_OF)
    # then every number and every explanation line agree
    assert len(batch) == len(scalar)
    for i, one in enumerate(scalar):
        many = batch.result(i)
        for a, b in ((one.fit, many.fit), (one.engagement, many.engagement), (one.total, many.total)):
            assert math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)
        assert [(c.rule_id, c.count, c.source) for c in one.explanation] == \
               [(c.rule_id, c.count, c.source) for c in many.explanation]
        for c1, c2 in zip(one.explanation, many.explanation, strict=True):
            assert math.isclose(c1.points, c2.points, rel_tol=1e-12, abs_tol=1e-12)
            assert (c1.playbook_points, c1.weight) == (c2.playbook_points, c2.weight)
            assert math.isclose(c1.decay, c2.decay, rel_tol=1e-9, abs_tol=1e-12)


def test_each_contact_may_have_its_own_as_of():
    # given two contacts with the same touch, scored as of different moments
    touches = [[Touch("pricing_view", AS_OF)], [Touch("pricing_view", AS_OF)]]
    as_of = np.asarray([to_datetime64(AS_OF), to_datetime64(AS_OF + timedelta(days=30))], dtype="datetime64[us]")
    # when scored at once
    batch = score_many(SCORING, [_facts(), _facts()], TouchArrays.from_lists(touches), as_of)
    # then each decays to its own moment, as the scalar scorer would
    assert batch.engagement[0] == pytest.approx(10)
    assert batch.engagement[1] == pytest.approx(5)
    assert batch.engagement[1] == pytest.approx(score_contact(SCORING, _facts(), touches[1],
                                                              AS_OF + timedelta(days=30)).engagement)


def test_an_engagement_line_shows_the_playbooks_points_the_decay_and_the_points_after_decay():
    # given a demo request (35 points in the playbook) five half-lives ago and two pricing views (10 each)
    touches = [Touch("demo_request", AS_OF - timedelta(days=150)), Touch("pricing_view", AS_OF),
               Touch("pricing_view", AS_OF - timedelta(days=30))]
    # when the contact is scored
    result = score_contact(SCORING, _facts(), touches, AS_OF)
    lines = {c.rule_id: c.as_dict() for c in result.explanation}
    # then the line says what the playbook wrote, how often it counted, the decay applied and what is left
    demo = lines["eng-demo-request"]
    assert (demo["playbook_points"], demo["count"], demo["decay"], demo["points"]) == (35, 1, 0.03125, 1.09)
    assert demo["summary"] == "Asked for a demo: 35 pts × 1 × decay 0.031 = 1.1 pts"
    pricing = lines["eng-pricing"]
    assert (pricing["playbook_points"], pricing["count"], pricing["decay"], pricing["points"]) == (10, 2, 0.75, 15)
    assert pricing["summary"] == "Viewed pricing: 10 pts × 2 × decay 0.75 = 15.0 pts"
    # and a fit rule is undecayed
    fit = lines["fit-decision-maker"]
    assert (fit["playbook_points"], fit["count"], fit["decay"], fit["points"]) == (20, 1, 1.0, 20)
    assert fit["summary"] == "Decision maker: 20 pts"


def test_a_line_states_the_weight_when_the_playbook_weighs_its_side():
    scoring = SCORING.model_copy(update={"engagement_weight": 0.5, "fit_weight": 2.0})
    result = score_contact(scoring, _facts(), [Touch("pricing_view", AS_OF)], AS_OF)
    lines = {c.rule_id: c.summary() for c in result.explanation}
    assert lines["eng-pricing"] == "Viewed pricing: 10 pts × 1 × decay 1 × weight 0.5 = 5.0 pts"
    assert lines["fit-decision-maker"] == "Decision maker: 20 pts × weight 2 = 40.0 pts"


def test_a_line_stored_before_playbook_points_were_recorded_still_reads():
    old = {"rule_id": "eng-demo-request", "description": "Asked for a demo", "points": 1.0, "count": 1,
           "source": "engagement"}
    line = Contribution.from_dict(old)
    assert (line.playbook_points, line.decay, line.points) == (None, None, 1.0)
    assert line.summary() == "Asked for a demo: 1.0 pts"
    # and a line read back from its own dict (summary included) is the same line
    fresh = score_contact(SCORING, _facts(), [Touch("demo_request", AS_OF)], AS_OF).explanation[-1]
    assert Contribution.from_dict(fresh.as_dict()).as_dict() == fresh.as_dict()


def test_account_lines_show_the_role_weight_and_the_best_contacts_share():
    best = score_contact(SCORING, _facts(), [Touch("demo_request", AS_OF)], AS_OF)
    result = score_account(SCORING, [AccountContact(1, "decision_maker", best)])
    lines = {c.rule_id: c.summary() for c in result.explanation}
    assert lines["role-decision_maker"] == "Engaged decision maker: 20 pts (1 engaged contact)"
    assert lines["best-contact"] == "0.5 × best contact's total (contact 1): 85.0 pts × weight 0.5 = 42.5 pts"
