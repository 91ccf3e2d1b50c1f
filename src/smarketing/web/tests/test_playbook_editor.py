"""The playbook draft editor: a form per section that builds the same draft as the YAML view, each problem beside
its field, and the impact preview (the playbook_impact selector) on the editor and on the draft's page."""

from __future__ import annotations

import copy
from html.parser import HTMLParser
from typing import Any

import pytest
import yaml

from smarketing.playbook.models import PlaybookVersion
from smarketing.playbook.selectors import default_playbook_data


class _Fields(HTMLParser):
    """The named fields of the editor's form as a browser would post them (selects at their selected option)."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self._select: str | None = None
        self._first: str | None = None
        self._chosen = False
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "input" and a.get("name"):
            self.fields.append((a["name"], a.get("value", "")))
        elif tag == "select" and a.get("name"):
            self._select, self._first, self._chosen = a["name"], None, False
        elif tag == "option" and self._select:
            if self._first is None:
                self._first = a.get("value", "")
            if "selected" in a:
                self.fields.append((self._select, a.get("value", "")))
                self._chosen = True
        elif tag == "textarea" and a.get("name"):
            self._textarea = a["name"]
            self.fields.append((a["name"], ""))

    def handle_data(self, data: str) -> None:
        if self._textarea:
            name, value = self.fields[-1]
            self.fields[-1] = (name, value + data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self._select:
            if not self._chosen:
                self.fields.append((self._select, self._first or ""))
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def form_fields(html: str) -> dict[str, Any]:
    """The form as posted: a dict of lists (repeated names such as `_groups` keep every value)."""
    parser = _Fields()
    parser.feed(html[html.index('id="pb-form"'):html.index("</form>", html.index('id="pb-form"'))])
    out: dict[str, Any] = {}
    for name, value in parser.fields:
        out.setdefault(name, []).append(value)
    return out


def _draft(login) -> tuple[Any, int]:
    marketing = login("marketing")
    marketing.post("/playbook/new/", {"yaml": yaml.safe_dump(default_playbook_data(), sort_keys=False),
                                      "notes": "start"})
    return marketing, PlaybookVersion.objects.get(status="draft").number


def test_the_form_and_the_yaml_view_save_the_same_draft(world, login):
    # given a draft, and the form as the editor renders it
    marketing, n = _draft(login)
    page = marketing.get(f"/playbook/v{n}/edit/")
    fields = form_fields(page.content.decode())
    assert page.status_code == 200 and fields["scoring.mql_threshold"] == ["60"]
    assert fields["stages.1.entry_criteria.0.field"] == ["score.fit"]
    # when the MQL threshold is changed in the form and saved
    saved = marketing.post(f"/playbook/v{n}/edit/", {**fields, "scoring.mql_threshold": ["50"], "notes": ["lower"]})
    by_form = PlaybookVersion.objects.get(number=n).content
    # and the same change is made in the YAML view
    data = copy.deepcopy(default_playbook_data())
    data["scoring"]["mql_threshold"] = 50
    marketing.post(f"/playbook/v{n}/edit/", {"yaml": yaml.safe_dump(data, sort_keys=False), "notes": "lower"})
    by_yaml = PlaybookVersion.objects.get(number=n).content
    # then both wrote the same document
    assert saved.status_code == 302
    assert by_form["scoring"]["mql_threshold"] == 50
    assert by_form == by_yaml
    assert "YAML (power users)" in page.content.decode()
    assert 'name="yaml"' in marketing.get(f"/playbook/v{n}/edit/?view=yaml").content.decode()


def test_removed_and_added_rows_are_saved_in_order(world, login):
    # given
    marketing, n = _draft(login)
    fields = form_fields(marketing.get(f"/playbook/v{n}/edit/").content.decode())
    # when the first goal is removed and a vocabulary label is added
    goals = {k: v for k, v in fields.items() if k.startswith("goals.")}
    kept = {k: v for k, v in fields.items() if not k.startswith("goals.")}
    shifted = {k.replace("goals.1.", "goals.0.").replace("goals.2.", "goals.1."): v for k, v in goals.items()
               if not k.startswith("goals.0.")}
    rows = len({k.split(".")[1] for k in fields if k.startswith("vocab.")})
    added = {f"vocab.{rows}.system": ["hubspot"], f"vocab.{rows}.list": ["lead_statuses"],
             f"vocab.{rows}.label": ["Nurture"], f"vocab.{rows}.stage": ["recycled"]}
    response = marketing.post(f"/playbook/v{n}/edit/", {**kept, **shifted, **added})
    # then
    content = PlaybookVersion.objects.get(number=n).content
    assert response.status_code == 302
    assert [g["period"] for g in content["goals"]] == ["2026-Q4", "2027-Q1"]
    assert content["vocabulary"]["hubspot"]["lead_statuses"]["Nurture"] == "recycled"
    assert content["vocabulary"]["hubspot"]["sources"] == default_playbook_data()["vocabulary"]["hubspot"]["sources"]


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"scoring.mql_threshold": ["nan"]}, "scoring.mql_threshold", "finite number"),
    ({"sla.sales.decision_business_days": ["0.25"]}, "sla.sales.decision_business_days", "cannot come before"),
    ({"scoring.fit_rules.0.points": ["500"]}, "scoring.fit_rules.0.points", "less than or equal to 100"),
    ({"vocab.0.label": ["Lead"]}, "vocab.0.label", "already mapped"),
], ids=["non-finite", "contradiction", "out-of-range", "label-twice"])
def test_each_problem_is_shown_beside_its_field_and_nothing_is_saved(world, login, changes, field, message):
    # given
    marketing, n = _draft(login)
    before = PlaybookVersion.objects.get(number=n).content_sha
    fields = form_fields(marketing.get(f"/playbook/v{n}/edit/").content.decode())
    if field == "vocab.0.label":  # the second row repeats the first row's label
        changes = {"vocab.1.label": fields["vocab.0.label"], "vocab.1.list": fields["vocab.0.list"],
                   "vocab.1.system": fields["vocab.0.system"]}
        field = "vocab.1.label"
    # when
    response = marketing.post(f"/playbook/v{n}/edit/", {**fields, **changes})
    html = response.content.decode()
    # then: the field is marked and its message follows it, before the next field
    assert response.status_code == 422
    at = html.index(f'name="{field}"')
    control = html[at:html.index('<div class="pb-f', at)]
    tag = html[html.rindex("<", 0, at):html.index(">", at)]
    assert 'aria-invalid="true"' in tag and message in control
    assert PlaybookVersion.objects.get(number=n).content_sha == before


def test_the_preview_follows_the_form_and_the_draft_page_shows_it(world, login):
    # given
    marketing, n = _draft(login)
    fields = form_fields(marketing.get(f"/playbook/v{n}/edit/").content.decode())
    # when
    lower = marketing.post(f"/playbook/v{n}/edit/", {**fields, "scoring.mql_threshold": ["1"], "preview": ["1"]})
    broken = marketing.post(f"/playbook/v{n}/edit/", {**fields, "scoring.mql_threshold": ["inf"], "preview": ["1"]})
    on_page = marketing.get(f"/playbook/v{n}/?part=impact")
    version_page = marketing.get(f"/playbook/v{n}/").content.decode()
    # then: nothing saved; the preview shows both thresholds, the draft's problems, or the saved draft's figures
    assert PlaybookVersion.objects.get(number=n).content["scoring"]["mql_threshold"] == 60
    assert 'data-state="ready"' in lower.content.decode() and "60 → 1" in lower.content.decode()
    assert 'data-state="invalid"' in broken.content.decode() and "scoring.mql_threshold" in broken.content.decode()
    assert 'data-state="ready"' in on_page.content.decode() and f"v{n}" in on_page.content.decode()
    assert "?part=impact" in version_page and "Sign off for" in version_page
