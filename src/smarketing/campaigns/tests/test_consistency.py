"""Message consistency ranks on-message outreach above off-message outreach, per campaign and per rep."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from smarketing.campaigns.brief_selectors import (
    campaign_consistency_get,
    campaign_consistency_list,
    consistency_by_campaign,
    rep_consistency_list,
)
from smarketing.campaigns.briefs import (
    brief_create,
    brief_launch,
    brief_revise,
    brief_sign_off,
    outreach_record,
)
from smarketing.campaigns.consistency import BriefText, score_outreach, stem
from smarketing.testing.factories import CampaignFactory, UserFactory

BRIEF = BriefText(
    core_message="Cut month-end close from ten days to three with automated reconciliation.",
    proof_points=["Northwind closed their books in 3 days instead of 10.",
                  "Bank reconciliation matches 95% of transactions automatically.",
                  "Live in four weeks with our implementation team."],
    talk_track="Ask how long their close takes today. Explain that automated matching removes spreadsheet work.",
)

# Hand-written, from most to least on message.
ON_MESSAGE = ("Hi Anna,\nHow long does your month-end close take today? Teams like Northwind went from a 10-day "
              "close to 3 days by automating reconciliation. Our bank reconciliation auto-matches about 95% of "
              "transactions, and most teams are live in four weeks.\nBest, Tom")
PARTLY = ("Hi Anna, we help finance teams close the month faster. Automated reconciliation replaces the "
          "spreadsheets. Would a call next week work?")
OFF_MESSAGE = ("Hi Anna, our platform has a brand new dashboard with 50 chart types and dark mode. We also offer "
               "a discount if you sign before Friday. Let me know if you want a demo.")
UNRELATED = "Just checking in to see whether you saw my note about our award-winning mobile app for field sales."


def test_tfidf_ranks_hand_written_outreach_by_consistency():
    scores = score_outreach(BRIEF, [ON_MESSAGE, PARTLY, OFF_MESSAGE, UNRELATED])
    values = [s.score for s in scores]
    assert values[0] > values[1] > max(values[2], values[3])
    assert values[0] >= 0.6 and max(values[2], values[3]) <= 0.2
    # the matching and drifting sentences are shown
    assert any("Northwind" in v.text for v in scores[0].matching)
    assert any("dark mode" in v.text for v in scores[2].drifting)
    assert scores[0].covered and "Live in four weeks with our implementation team." in scores[0].covered
    assert scores[2].missing == BRIEF.proof_points


@pytest.mark.parametrize("text", ["", "   ", "Hi Anna,", "🙂", "Best, Tom"])
def test_empty_or_greeting_only_outreach_scores_zero(text):
    [score] = score_outreach(BRIEF, [text])
    assert score.score == 0.0 and not score.matching


def test_non_english_outreach_does_not_break_scoring():
    [fr, ja] = score_outreach(BRIEF, ["Réduisez la clôture mensuelle de dix jours à trois grâce au rapprochement.",
                                      "月末決算を10日から3日に短縮します。"])
    assert 0.0 <= fr.score <= 1.0 and 0.0 <= ja.score <= 1.0


def test_brief_without_proof_points_scores_on_the_message_alone():
    brief = BriefText(core_message="Close the books in three days with automated reconciliation.")
    [good, bad] = score_outreach(brief, ["You can close the books in three days with automated reconciliation.",
                                         "Our mobile app has a dark mode and fifty chart types."])
    assert good.score > bad.score and good.coverage == good.semantic


def test_stemmer_joins_word_forms():
    assert stem("reconciliations") == stem("reconciliation") == "reconcili"
    assert stem("automated") == stem("automates") == "automat"


@pytest.fixture
def campaign_world(db):
    marketer = UserFactory(role="marketing")
    good_rep = UserFactory(username="gina", role="sales")
    loose_rep = UserFactory(username="luke", role="sales")
    campaign = CampaignFactory(name="Fast close")
    brief_create(campaign_id=campaign.pk, data={"core_message": BRIEF.core_message,
                                                "proof_points": BRIEF.proof_points,
                                                "talk_track": BRIEF.talk_track}, actor=marketer)
    when = datetime(2026, 3, 1, tzinfo=UTC)
    outreach_record(rep=good_rep, text=ON_MESSAGE, campaign_id=campaign.pk, sent_at=when)
    outreach_record(rep=good_rep, text=PARTLY, campaign_id=campaign.pk, sent_at=when, kind="call_note")
    outreach_record(rep=loose_rep, text=OFF_MESSAGE, campaign_id=campaign.pk, sent_at=when)
    outreach_record(rep=loose_rep, text=UNRELATED, campaign_id=campaign.pk, sent_at=when, kind="sequence_step")
    no_brief = CampaignFactory(name="No brief yet")
    outreach_record(rep=loose_rep, text=ON_MESSAGE, campaign_id=no_brief.pk, sent_at=when)
    return campaign, no_brief, good_rep, loose_rep


def test_consistency_per_campaign_and_per_rep(campaign_world):
    campaign, no_brief, good_rep, loose_rep = campaign_world
    rows = {c.campaign_id: c for c in campaign_consistency_list()}
    fast = rows[campaign.pk]
    assert fast.has_brief and fast.outreach == 4 and fast.score is not None
    assert [r.rep for r in fast.reps] == ["gina", "luke"] and fast.reps[0].score > fast.reps[1].score
    assert not rows[no_brief.pk].has_brief and rows[no_brief.pk].score is None
    assert consistency_by_campaign() == {campaign.pk: fast.score, no_brief.pk: None}
    reps = rep_consistency_list()
    assert [r.rep for r in reps] == ["gina", "luke"]
    detail = campaign_consistency_get(campaign_id=campaign.pk)
    assert len(detail.items) == 4 and detail.items[0].result.matching


def test_consistency_api_and_cli(api, campaign_world, capsys):
    from smarketing.feedback.tests.test_capture import run_cli

    campaign = campaign_world[0]
    listing = api.get("/api/loop/consistency")
    assert listing.status_code == 200
    row = next(c for c in listing.json() if c["campaign_id"] == campaign.pk)
    assert row["reps"][0]["rep"] == "gina"
    detail = api.get(f"/api/loop/consistency/{campaign.pk}")
    assert detail.status_code == 200 and detail.json()["items"][0]["matching"]
    assert api.get("/api/loop/consistency/reps").json()[0]["rep"] == "gina"
    assert api.get("/api/loop/consistency", backend="bert").status_code == 422
    assert run_cli(["campaign", "consistency", "--campaign", str(campaign.pk), "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body[0]["campaign_id"] == campaign.pk and len(body[0]["items"]) == 4
    assert run_cli(["campaign", "consistency", "--campaign", "999999"]) == 2


@pytest.mark.slow
def test_embedding_consistency_ranks_the_same_way():
    from smarketing.campaigns.consistency import embedding_similarity_fn
    from smarketing.feedback import embeddings

    scores = score_outreach(BRIEF, [ON_MESSAGE, PARTLY, OFF_MESSAGE, UNRELATED],
                            similarity=embedding_similarity_fn(embeddings.encode))
    values = [s.score for s in scores]
    assert values[0] > values[1] > max(values[2], values[3])


def test_join_roi_lines_up_campaigns_and_ranks_the_relation():
    from types import SimpleNamespace

    from smarketing.campaigns.brief_selectors import CampaignConsistency, join_roi

    cons = [CampaignConsistency(i, f"c{i}", True, 3, score, None) for i, score in [(1, 0.9), (2, 0.5), (3, 0.2)]]
    roi = [SimpleNamespace(campaign_id=i, name=f"c{i}", roi=r, roas=None, revenue=10.0, pipeline=5.0)
           for i, r in [(1, 3.0), (2, 1.0), (3, -0.5), (4, 2.0)]] + [
        SimpleNamespace(campaign_id=None, name="(no campaign)", roi=None, roas=None, revenue=1.0, pipeline=0.0)]
    joined = join_roi(cons, roi)
    assert [r.campaign_id for r in joined.rows] == [1, 2, 3, 4]
    assert joined.rows[-1].consistency is None and joined.correlation == 1.0


def test_consistency_beside_roi_api(api, campaign_world):
    campaign = campaign_world[0]
    res = api.get("/api/loop/consistency/roi")
    assert res.status_code == 200, res.content
    row = next(r for r in res.json()["rows"] if r["campaign_id"] == campaign.pk)
    assert row["consistency"] is not None and row["outreach"] == 4


def test_consistency_reads_the_launched_brief_in_force_not_a_later_draft(campaign_world, users):
    # given the campaign's brief launched with the fast-close message, then revised to an off-message draft
    campaign, _, _, _ = campaign_world
    launched = campaign.briefs.get()
    marketer = launched.created_by
    brief_sign_off(brief_id=launched.pk, user=marketer)
    brief_sign_off(brief_id=launched.pk, user=users["sales"])
    brief_launch(brief_id=launched.pk, actor=marketer)
    before = {r.rep: r.score for r in campaign_consistency_get(campaign_id=campaign.pk).reps}
    draft = brief_revise(brief_id=launched.pk, data={"core_message": UNRELATED, "proof_points": [],
                                                     "talk_track": ""}, actor=marketer)
    # then the outreach is still measured against the launched v1, the brief sales carries
    during = campaign_consistency_get(campaign_id=campaign.pk)
    assert {r.rep: r.score for r in during.reps} == before and before["gina"] > before["luke"]
    # and once v2 is signed off and launched, against v2, where the unrelated note is the one on message
    brief_sign_off(brief_id=draft.pk, user=marketer)
    brief_sign_off(brief_id=draft.pk, user=users["sales"])
    brief_launch(brief_id=draft.pk, actor=marketer)
    after = {r.rep: r.score for r in campaign_consistency_get(campaign_id=campaign.pk).reps}
    assert after != before and after["luke"] > after["gina"]


def test_without_a_launched_version_the_latest_brief_is_read(db):
    from smarketing.campaigns.brief_selectors import brief_in_force
    from smarketing.campaigns.models import CampaignBrief

    def brief(version: int, launched: bool) -> CampaignBrief:
        return CampaignBrief(version=version, launched_at=datetime(2026, 1, version, tzinfo=UTC) if launched else None)

    assert brief_in_force([brief(2, False), brief(1, False)]).version == 2
    assert brief_in_force([brief(3, False), brief(1, True), brief(2, True)]).version == 2
