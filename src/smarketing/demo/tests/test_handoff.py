"""The simulated handoff: SLA deadlines as the product computes them, decisions by the playbook's dispositions,
compliance within planted bounds, and recycled contacts that come back and qualify again by the product's rule."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from smarketing.demo import simulator
from smarketing.demo.business_clock import clock_for
from smarketing.demo.simulator import END_DAY, Generated, day_to_datetime, generate
from smarketing.lifecycle import sla
from smarketing.playbook import schema
from smarketing.playbook.selectors import default_playbook_data
from smarketing.scoring.rules import Touch, facts_from, qualifies_as_mql, score_contact


@pytest.fixture(scope="module")
def small() -> Generated:
    return generate(size="small", seed=7)


def _terms() -> schema.Playbook:
    return schema.parse(default_playbook_data())


@pytest.mark.parametrize("moment", [
    datetime(2026, 3, 6, 16, 30, tzinfo=UTC),  # Friday afternoon in New York: runs over the weekend
    datetime(2026, 3, 8, 6, 59, 59, tzinfo=UTC),  # the night the clocks change in New York
    datetime(2026, 11, 1, 13, 0, tzinfo=UTC),  # the day they change back
    datetime(2026, 5, 22, 20, 0, tzinfo=UTC),  # after hours before a holiday weekend (Memorial Day)
    datetime(2025, 12, 24, 21, 0, tzinfo=UTC),
])
def test_the_vectorised_clock_gives_the_products_sla_deadlines(moment):
    # given the shipped playbook's SLA and a moment in the simulated year
    terms = _terms()
    origin = simulator.start_datetime()
    clk = clock_for(terms.sla.calendar, origin, 400)
    seconds = np.array([round((moment - origin).total_seconds())])
    # when both compute the first-touch and decision deadlines
    want = sla.sales_deadlines(terms.sla, moment)
    ft = clk.add(seconds, round(terms.sla.sales.first_touch_business_hours * 3600))[0]
    dec = clk.add(seconds, round(terms.sla.sales.decision_business_days * clk.day_seconds))[0]
    # then they agree to the second
    assert origin + timedelta(seconds=int(ft)) == want.first_touch
    assert origin + timedelta(seconds=int(dec)) == want.decision


def test_every_mql_is_one_handoff_episode_with_its_stage_changes(small):
    st, h = small.stage_changes, small.handoffs
    mqls = st[(st["to_stage"] == "mql") & (st["contact"] >= 0)]
    # then each MQL stage change is exactly one episode's, and each decision row points back at its MQL
    assert sorted(h["mql_sc"]) == sorted(mqls["id"])
    decided = h[h["dec_sc"] >= 0]
    rows = st.set_index("id")
    assert (rows.loc[decided["dec_sc"], "mql_ref"].to_numpy() == decided["mql_sc"].to_numpy()).all()
    assert (rows.loc[decided["dec_sc"], "t"].to_numpy() == decided["t_decision"].to_numpy()).all()
    assert (rows.loc[decided["dec_sc"], "to_stage"].to_numpy() == decided["to_stage"].to_numpy()).all()
    # and the decision comes after the MQL, an SLA deadline after the start
    assert (decided["t_decision"] > decided["t_mql"]).all()
    assert (h["ft_deadline"] > h["t_mql"]).all() and (h["dec_deadline"] > h["ft_deadline"]).all()


def test_rejections_use_the_playbook_reasons_and_go_where_their_disposition_says(small):
    reasons = {r.key: r for r in _terms().handoff.rejection_reasons}
    h = small.handoffs
    rejected = h[h["decision"] == "reject"]
    recycled = h[h["decision"] == "recycle"]
    # then every rejection has a playbook reason, its label, and the reason's disposition as the next stage
    assert set(rejected["reason_key"]) <= set(reasons)
    assert (rejected["to_stage"] == rejected["reason_key"].map(lambda k: reasons[k].disposition)).all()
    assert (rejected["reason_label"] == rejected["reason_key"].map(lambda k: reasons[k].label)).all()
    # and there are rejections for each common reason, both dispositions, and recycles with a date
    counts = rejected["reason_key"].value_counts()
    assert all(counts.get(k, 0) >= 5 for k in ("no_budget", "bad_timing", "no_need", "no_authority"))
    assert set(rejected["to_stage"]) == {"recycled", "disqualified"}
    assert len(recycled) >= 5 and (recycled["to_stage"] == "recycled").all()
    back_to_nurture = h[h["to_stage"] == "recycled"]
    assert (back_to_nurture["recycle_until"] > back_to_nurture["t_decision"]).all()
    assert h.loc[h["to_stage"] == "disqualified", "recycle_until"].isna().all()
    # and most MQLs are accepted
    assert 0.6 < (h["decision"] == "accept").sum() / (h["decision"] != "").sum() < 0.9


def test_sla_compliance_is_mostly_in_time_with_breaches_on_both_clocks(small):
    h = small.handoffs
    for clock, lo, hi in (("ft", 0.6, 0.95), ("dec", 0.75, 0.98)):
        met, breached = (h[f"{clock}_state"] == "met").sum(), (h[f"{clock}_state"] == "breached").sum()
        assert breached >= 10, clock
        assert lo < met / (met + breached) < hi, (clock, met, breached)
    # a breach is recorded at the deadline; a met clock was resolved by it
    late = h[h["dec_state"] == "breached"]
    assert (late["dec_resolved"] == late["dec_deadline"]).all()
    on_time = h[h["dec_state"] == "met"]
    assert (on_time["dec_resolved"] <= on_time["dec_deadline"] + 1e-9).all()
    # and rejections before any touch cancel the first-touch clock instead of breaching it
    assert (h.loc[h["ft_state"] == "cancelled", "decision"] != "accept").all()


def test_the_first_touch_clock_follows_the_contacts_first_sales_touch(small):
    # given each episode and the sales touches (email, call, meeting) of its contact
    h = small.handoffs
    tp = small.touches[small.touches["kind"].isin(["sales_email", "sales_call", "meeting"])]
    # sales touches name the seller who made them; marketing touches (an event's meetings too) name no one
    assert (small.touches["channel"] == "sales").eq(small.touches["actor"] >= 0).all()
    by_contact = {c: g for c, g in tp.groupby("contact")}
    empty = tp.iloc[:0]
    for row in h.itertuples():
        # only the owner's touches, or ones naming no rep, count for the owner's clock (sla.first_touch_by)
        mine = by_contact.get(row.contact, empty)
        times = np.sort(mine.loc[mine["actor"].isin([row.owner, -1]), "t"].to_numpy())
        after = times[times >= row.t_mql]
        first = after[0] if after.size else np.inf
        # then a met clock was met by the first sales touch after the MQL, and a breached one saw none in time
        if row.ft_state == "met":
            assert first == row.ft_resolved, row.episode
            made = tp[(tp["contact"] == row.contact) & (tp["t"] == first)]
            assert row.first_touch_id in set(made["id"])
            # by the owner, or a touch naming no rep (which the product counts as well)
            who = made.loc[made["id"] == row.first_touch_id, "actor"].iloc[0]
            assert who == (row.owner if row.first_by == "owner" else -1), row.episode
        elif row.ft_state == "breached":
            assert first > row.ft_deadline, row.episode


def test_sellers_with_better_planted_habits_breach_less(small):
    h = small.handoffs
    habit = small.simulation.habits.first_touch_on_time
    per = h.groupby("owner")["ft_state"].agg(lambda s: (s == "met").sum() / max((s != "open").sum(), 1))
    big = h["owner"].value_counts()
    owners = [o for o in per.index if big[o] >= 20]
    from scipy.stats import spearmanr

    assert spearmanr([habit[o] for o in owners], [per[o] for o in owners]).statistic > 0.3


def test_recycled_contacts_come_back_and_some_convert(small):
    h, st = small.handoffs, small.stage_changes
    again = h[h["round"] == 2]
    # then a fair number of recycled contacts qualified again, each after its recycle date, from recycled
    assert len(again) >= 20
    assert small.truth.counts["n_reengaged"] >= 20
    rows = st.set_index("id")
    assert (rows.loc[again["mql_sc"], "from_stage"] == "recycled").all()
    first = h[h["round"] == 1].set_index("contact")
    until = first["recycle_until"].reindex(again["contact"]).to_numpy()
    assert (~(again["t_mql"].to_numpy() < np.nan_to_num(until, nan=-1))).all()
    # and some of them went on to an SQL or further after coming back (the journey shows the loop)
    assert small.truth.counts["n_requalified_sql"] >= 5
    loop = again["contact"].iloc[0]
    path = st[st["contact"] == loop].sort_values("t")["to_stage"].tolist()
    assert path.index("recycled") < len(path) - 1 - path[::-1].index("mql")


def test_requalification_happens_when_the_playbook_score_qualifies_again(small):
    # given re-qualified MQLs and the product's scoring
    st, h = small.stage_changes, small.handoffs
    again = h[h["round"] == 2].head(15)
    contacts = small.contacts.set_index("id")
    terms = {p.index: p.terms for p in small.simulation.periods}
    for row in again.itertuples():
        c = contacts.loc[row.contact]
        facts = facts_from({"buying_role": c.buying_role, "email": c.email, "title": c.title, "country": c.country},
                           {"industry": c.industry, "employees": int(c.employees), "region": c.region,
                            "segment": c.segment})
        mine = small.touches[small.touches["contact"] == row.contact]
        touches = [Touch(k, day_to_datetime(t)) for k, t in zip(mine["kind"], mine["t"], strict=True)]
        at = day_to_datetime(row.t_mql)
        # then the score qualifies at that moment under the version in force
        score = score_contact(terms[row.version].scoring, facts, touches, at)
        assert qualifies_as_mql(terms[row.version], score, facts), (row.contact, score)
        # and the stage change records that score with an explanation that adds up
        details = json.loads(st.set_index("id").loc[row.mql_sc, "details"])
        assert details["score"]["total"] == pytest.approx(score.total, abs=0.01)
        assert sum(x["points"] for x in details["score"]["explanation"]) == pytest.approx(score.total, abs=0.1)


def test_the_truth_states_the_planted_handoff_behaviour(small):
    planted = small.truth.handoff
    sellers = [p.username for p in small.simulation.people if p.role == "sales"]
    assert set(planted["sellers"]) == set(sellers)
    assert all(0 < v["first_touch_on_time"] <= 1 and 0 < v["talk_track_adherence"] <= 1
               for v in planted["sellers"].values())
    assert set(planted["reengage_share"]) == {"handoff", "stall", "lost"}


def test_a_few_episodes_are_touched_by_another_seller_inside_the_owners_open_clock(small):
    # given the episodes with a planted touch by someone other than the owner
    h = small.handoffs
    planted = h[h["other_touch_id"] >= 0]
    # then they are a few percent, each by another seller, strictly inside the first-touch clock's open window
    assert 0.01 * len(h) <= len(planted) <= 0.08 * len(h)
    assert (planted["other_actor"] != planted["owner"]).all() and (planted["other_actor"] >= 0).all()
    until = planted["ft_resolved"].fillna(END_DAY).to_numpy()
    assert ((planted["other_t"] > planted["t_mql"]) & (planted["other_t"] < until)).all()
    # and each is a sales touch in the company's touches, naming that seller
    touches = small.touches.set_index("id").loc[planted["other_touch_id"]]
    assert (touches["actor"].to_numpy() == planted["other_actor"].to_numpy()).all()
    assert (touches["contact"].to_numpy() == planted["contact"].to_numpy()).all()
    assert set(touches["kind"]) <= {"sales_call", "sales_email"} and (touches["channel"] == "sales").all()
    # and one of the MQLs still waiting for a decision at the end of the year is among them
    assert (planted["dec_sc"] < 0).any()
