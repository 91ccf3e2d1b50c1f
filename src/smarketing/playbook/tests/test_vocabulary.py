"""The playbook's vocabulary: outside systems' labels → its stages, sources and deal stages, shipped with defaults,
validated by field, signed off like any other term and read by imports from the version in force."""

from __future__ import annotations

import copy

import pytest

from smarketing.playbook import schema
from smarketing.playbook.diff import content_changes
from smarketing.playbook.selectors import default_playbook_data


def test_the_shipped_vocabulary_reads_hubspot_salesforce_and_pipedrive_labels():
    terms = schema.parse(default_playbook_data())
    hubspot = terms.vocabulary["hubspot"]
    assert hubspot.stages["Sales Qualified Lead"] == "sql"
    assert hubspot.stages["Other"] is None  # known, and not a funnel stage
    assert hubspot.sources["Referrals"] == "referral"
    assert hubspot.deal_stages["Closed Won"] == "closed_won"
    assert terms.vocabulary["salesforce"].lead_statuses["Closed - Not Converted"] == "disqualified"
    assert terms.vocabulary["pipedrive"].deal_stages["Negotiations Started"] == "negotiation"


@pytest.mark.parametrize("mutate, field, words", [
    (lambda d: d["vocabulary"]["hubspot"]["stages"].update({"Champion": "hero"}), "vocabulary.hubspot.stages.Champion",
     "Input should be"),
    (lambda d: d["vocabulary"]["hubspot"]["stages"].update({"customer ": "lead"}),
     "vocabulary.hubspot.stages.customer ", "same label as 'Customer'"),
    (lambda d: d["vocabulary"].update({"Zoho CRM": {"stages": {}}}), "vocabulary.Zoho CRM", "lower-case"),
    (lambda d: d["vocabulary"]["hubspot"]["sources"].update({"Podcast": "radio"}), "vocabulary.hubspot.sources.Podcast",
     "Input should be"),
    (lambda d: d["vocabulary"]["hubspot"].update({"colours": {}}), "vocabulary.hubspot.colours",
     "Extra inputs are not permitted"),
])
def test_a_bad_vocabulary_entry_is_refused_by_its_field(mutate, field, words):
    data = copy.deepcopy(default_playbook_data())
    mutate(data)
    with pytest.raises(schema.PlaybookInvalid) as caught:
        schema.parse(data)
    assert any(e["field"] == field and words in e["message"] for e in caught.value.errors), caught.value.errors


def test_a_vocabulary_mapping_to_a_stage_the_playbook_drops_is_refused():
    data = copy.deepcopy(default_playbook_data())
    data["stages"] = [s for s in data["stages"] if s["key"] != "sal"]
    data["vocabulary"]["salesforce"]["lead_statuses"]["Working - Contacted"] = "sal"
    with pytest.raises(schema.PlaybookInvalid) as caught:
        schema.parse(data)
    assert {"field": "vocabulary.salesforce.lead_statuses.Working - Contacted",
            "message": "maps to stage 'sal', which stages does not define"} in caught.value.errors


def test_labels_match_ignoring_case_and_spacing():
    assert schema.vocabulary_key("  Marketing   qualified LEAD ") == schema.vocabulary_key("Marketing Qualified Lead")


def test_a_version_without_a_vocabulary_still_reads_and_a_change_shows_in_the_diff():
    older = copy.deepcopy(default_playbook_data())
    older.pop("vocabulary")
    assert schema.load(older).vocabulary == {}
    newer = copy.deepcopy(default_playbook_data())
    newer["vocabulary"]["hubspot"]["stages"]["Evangelist"] = "lead"
    changes = [c.describe() for c in content_changes(default_playbook_data(), newer)]
    assert changes == ["~ vocabulary.hubspot.stages.Evangelist: customer → lead"]
