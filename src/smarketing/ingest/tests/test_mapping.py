"""The mapping format: shipped mappings validate, bad mappings are refused by field path, and any CSV imports through
a mapping file with the same engine (detection, locale dates, vocabulary, upsert)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from smarketing.cli import build_app
from smarketing.core.errors import ValidationFailed
from smarketing.crm.models import Contact
from smarketing.ingest.mapping import mapping_load, mapping_parse, mappings_shipped
from smarketing.lifecycle.models import StageChange

ZOHO_MAPPING = """\
system: zoho
name: Zoho CRM leads
timezone: Europe/Paris
kinds:
  leads:
    entity: contact
    detect: [Lead Id, Email, Lead Stage]
    id: Lead Id
    fields:
      email: {column: Email, type: email}
      first_name: First Name
      last_name: Last Name
      owner: {column: Lead Owner, type: owner}
      first_seen_at: {column: Created Time, type: datetime}
    attributes:
      rating: Rating
    stage_dates:
      lead: Created Time
      mql: MQL Date
    current_stage: {column: Lead Stage, vocabulary: stages, at: [Created Time]}
"""


def _zoho(tmp_path: Path, rows: list[str]) -> tuple[Path, Path]:
    mapping = tmp_path / "zoho.yaml"
    mapping.write_text(ZOHO_MAPPING, encoding="utf-8")
    data = tmp_path / "zoho-leads.csv"
    data.write_text("Lead Id,First Name,Last Name,Email,Lead Owner,Created Time,MQL Date,Lead Stage,Rating\n"
                    + "\n".join(rows) + "\n", encoding="utf-8")
    return mapping, data


def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(build_app(), list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_every_shipped_mapping_validates():
    systems = [m.system for m in mappings_shipped()]
    assert "hubspot" in systems
    hubspot = next(m for m in mappings_shipped() if m.system == "hubspot")
    assert set(hubspot.kinds) >= {"contacts", "contacts_legacy", "companies", "deals"}


@pytest.mark.parametrize("change, field, words", [
    (lambda d: d["kinds"]["leads"]["fields"].update({"shoe_size": "Shoe"}), "kinds.leads.fields.shoe_size",
     "a contact has no field 'shoe_size'"),
    (lambda d: d["kinds"]["leads"]["fields"]["email"].update({"type": "colour"}), "kinds.leads.fields.email.type",
     "Input should be"),
    (lambda d: d["kinds"]["leads"]["fields"].update({"account": {"column": "Company Id", "type": "ref",
                                                                 "kind": "companies"}}),
     "kinds.leads.fields.account.kind", "no file kind 'companies'"),
    (lambda d: d["kinds"]["leads"]["stage_dates"].update({"won": "Won Date"}), "kinds.leads.stage_dates.won",
     "Input should be"),
    (lambda d: d.update({"timezone": "Mars/Olympus"}), "timezone", "unknown time zone"),
    (lambda d: d["kinds"]["leads"].pop("id"), "kinds.leads.id", "Field required"),
])
def test_a_bad_mapping_is_refused_naming_the_field(change, field, words):
    import yaml

    data = yaml.safe_load(ZOHO_MAPPING)
    change(data)
    with pytest.raises(ValidationFailed) as caught:
        mapping_parse(data, source="zoho.yaml")
    assert caught.value.field == field
    assert words in str(caught.value) and "zoho.yaml" in str(caught.value)


def test_a_mapping_that_is_not_yaml_names_its_line_and_column(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("system: zoho\nkinds:\n  leads: [unclosed\n", encoding="utf-8")
    with pytest.raises(ValidationFailed, match=r"broken.yaml: not valid YAML at line 4, column 1"):
        mapping_load(path)


def test_any_csv_imports_through_its_mapping_with_locale_dates(active_playbook, users, tmp_path):
    mapping, data = _zoho(tmp_path, [
        "Z1,Léa,Roux,lea@roux.fr,Sam Seller,25/03/2026 10:15,28/03/2026 09:00,MQL,Hot",
        "Z2,Tom,Petit,tom@petit.fr,,02/04/2026 08:00,,Lead,Cold",
    ])
    # the vocabulary of this system lives in the playbook: MQL and Lead are not there yet
    code, out = _cli("import", "csv", str(data), "--mapping", str(mapping), "--json")
    assert code == 2
    refused = json.loads(out)
    assert refused["status"] == "refused" and refused["summary"]["unmapped"] == {"stages: MQL": 1, "stages: Lead": 1}
    assert refused["problems"][0] == {"file": "zoho-leads.csv", "line": 2, "column": "Lead Stage", "message":
                                      refused["problems"][0]["message"]}
    assert Contact.objects.count() == 0
    # given the playbook's vocabulary for zoho (a new version, signed off like any other term)
    _vocabulary(users, "zoho", {"stages": {"Lead": "lead", "MQL": "mql"}})
    code, out = _cli("import", "csv", str(data), "--mapping", str(mapping), "--json")
    assert code == 0, out
    done = json.loads(out)
    assert done["summary"]["contacts"]["created"] == 2 and done["summary"]["stages"] == {"lead": 2, "mql": 1}
    lea = Contact.objects.get(source="zoho", source_id="Z1")
    # 25/03/2026 10:15 in Paris (UTC+1 in March before the switch) is 09:15 UTC; day/month read from 25 > 12
    assert lea.first_seen_at.isoformat() == "2026-03-25T09:15:00+00:00"
    assert lea.attributes == {"rating": "Hot"}
    assert StageChange.objects.get(contact=lea, to_stage="mql").occurred_at.isoformat() == "2026-03-28T08:00:00+00:00"


def test_dates_that_read_both_ways_are_refused_until_the_format_is_given(active_playbook, users, tmp_path):
    _vocabulary(users, "zoho", {"stages": {"Lead": "lead"}})
    mapping, data = _zoho(tmp_path, ["Z1,Léa,Roux,lea@roux.fr,,03/04/2026 10:15,,Lead,Hot",
                                     "Z2,Tom,Petit,tom@petit.fr,,05/06/2026 08:00,,Lead,Cold"])
    code, out = _cli("import", "csv", str(data), "--mapping", str(mapping), "--json")
    assert code == 2
    problem = json.loads(out)["problems"][0]
    assert (problem["line"], problem["column"]) == (2, "Created Time")
    assert "--date-format" in problem["message"]
    code, out = _cli("import", "csv", str(data), "--mapping", str(mapping), "--json", "--date-format", "dmy")
    assert code == 0, out
    assert Contact.objects.get(source_id="Z1").first_seen_at.month == 4


def _vocabulary(users: dict[str, Any], system: str, terms: dict[str, dict[str, str]]) -> None:
    """A new playbook version whose vocabulary knows this system, activated by both sides' sign-off."""
    from smarketing.playbook.selectors import playbook_version_active_get
    from smarketing.playbook.services import playbook_draft_create, playbook_sign_off

    content = dict(playbook_version_active_get().content)
    content["vocabulary"] = {**content.get("vocabulary", {}), system: terms}
    draft = playbook_draft_create(content=content)
    playbook_sign_off(version=draft, user=users["marketing"])
    playbook_sign_off(version=draft, user=users["sales"])


def test_the_readme_example_mapping_is_valid():
    import yaml

    readme = (Path(__file__).resolve().parents[4] / "README.md").read_text(encoding="utf-8")
    block = readme.split("### The mapping format", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    mapping = mapping_parse(yaml.safe_load(block), source="README.md")
    assert set(mapping.kinds) == {"leads", "accounts"}
