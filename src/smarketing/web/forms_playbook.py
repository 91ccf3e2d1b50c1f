"""The playbook draft editor without YAML: each section's fields named by their path in the playbook document
(`scoring.mql_threshold`, `scoring.fit_rules.2.points`), read back into the same document the YAML file holds.

Sections the form does not show (handoff reasons, ideal journeys, the calendar's days and holidays, breach actions,
account scoring, the vocabulary's sources and deal stages) are kept from the draft being edited, so the form and
the YAML view produce the same draft through the same service. Repeating rows (stages, rules, criteria, goals,
vocabulary labels) are posted as `<group>.<n>.<field>`; a group is replaced only when the form says it sent it
(`_groups`), so a group whose rows were all removed reads as empty, not as missing.
"""

from __future__ import annotations

import copy
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from smarketing.campaigns.enums import TouchKind
from smarketing.lifecycle.enums import Stage
from smarketing.playbook.impact import Impact
from smarketing.playbook.schema import Op
from smarketing.web import formatting

Problem = dict[str, str]
OPS: tuple[str, ...] = Op.__args__  # type: ignore[attr-defined]
LIST_OPS = ("in", "not_in")
SIDES = [("marketing", "Marketing"), ("sales", "Sales"), ("shared", "Shared")]
YES_NO = [("true", "Yes"), ("false", "No")]
PERIODS = [("week", "Week"), ("month", "Month"), ("quarter", "Quarter")]
CAPACITY_PERIODS = [("week", "Week"), ("month", "Month")]
# The vocabulary lists that map an outside label to a stage (the form's "CRM label → stage" rows).
STAGE_LISTS = [("stages", "Lifecycle stage"), ("lead_statuses", "Lead status")]
NOT_A_STAGE = ""
GROUPS = ("stages", "scoring.fit_rules", "scoring.engagement_rules", "routing.rules", "goals", "vocab")


def _text(value: Any) -> str:
    """A stored value as the form shows it: 60.0 as 60, lists comma-separated, booleans as true/false."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return str(int(value))
    if isinstance(value, list | tuple):
        return ", ".join(_text(v) for v in value)
    return str(value)


def _dom_id(path: str) -> str:
    return "pb-" + re.sub(r"[^A-Za-z0-9_-]", "-", path)


@dataclass
class Control:
    """One field: its key in its row (`f`), its whole path (the input's name), what it shows and its errors."""

    f: str
    path: str
    label: str
    value: str
    kind: str = "text"  # text | number | select | long
    choices: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    size: str = "m"  # s | m | l: how wide the field is in a row

    def html(self) -> SafeString:
        """The label, the control and its errors (named by the path, so the schema's errors land beside it)."""
        err_id = _dom_id("err-" + self.path) if self.path else ""
        attrs = format_html(' data-f="{}"', self.f)
        if self.path:
            attrs += format_html(' name="{}"', self.path)
        if self.errors:
            attrs += format_html(' aria-invalid="true" aria-describedby="{}"', err_id)
        if self.kind == "select":
            choices = list(self.choices)
            if self.value not in {c for c, _ in choices}:
                choices.append((self.value, self.value or "—"))
            options = format_html_join("", '<option value="{}"{}>{}</option>', (
                (c, mark_safe(" selected") if c == self.value else "", label) for c, label in choices))
            control = format_html("<select{}>{}</select>", attrs, options)
        elif self.kind == "long":
            control = format_html('<textarea rows="2"{}>{}</textarea>', attrs, self.value)
        else:
            mode = mark_safe(' inputmode="decimal"') if self.kind == "number" else ""
            control = format_html('<input type="text" value="{}"{}{} autocomplete="off">', self.value, attrs, mode)
        errors = format_html_join("", "<span>{}</span>", ((e,) for e in self.errors))
        error_html = format_html('<span class="pb-err" id="{}">{}</span>', err_id, errors) if self.errors else ""
        return format_html('<div class="pb-f pb-{}{}"><label><span class="pb-lab">{}</span>{}</label>{}</div>',
                           self.size, " pb-bad" if self.errors else "", self.label, control, error_html)


@dataclass
class Row:
    path: str
    controls: list[Control]
    groups: list[Group] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass
class Group:
    """Repeating rows: `key` is the whole path for a section's group, the key inside its row for a nested one."""

    key: str
    path: str
    title: str
    add_label: str
    rows: list[Row]
    blank: Row
    errors: list[str] = field(default_factory=list)
    nested: bool = False
    remove_label: str = "Remove"


class _Errors:
    """Problems by field path; each is taken once, by the first field or row that claims it."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.by_path: dict[str, list[str]] = defaultdict(list)
        for p in problems:
            self.by_path[p.get("field", "")].append(p.get("message", ""))

    def take(self, path: str) -> list[str]:
        return self.by_path.pop(path, []) if path else []


def _choices(enum: Any) -> list[tuple[str, str]]:
    return [(str(v), str(label)) for v, label in enum.choices]


def _rule_head(path: str, rule: dict[str, Any], errors: _Errors) -> list[Control]:
    """A scoring rule's id and description, the first two controls of every rule row."""
    return [Control("id", f"{path}.id", "Rule id", _text(rule.get("id")), errors=errors.take(f"{path}.id")),
            Control("description", f"{path}.description", "Description", _text(rule.get("description")),
                    errors=errors.take(f"{path}.description"), size="l")]


def _criteria_group(key: str, path: str, title: str, criteria: list[Any], errors: _Errors) -> Group:
    rows = []
    for j, c in enumerate(criteria or []):
        c = c if isinstance(c, dict) else {}
        cp = f"{path}.{j}"
        rows.append(Row(path=cp, errors=errors.take(cp), controls=[
            Control("field", f"{cp}.field", "Field", _text(c.get("field")), errors=errors.take(f"{cp}.field"),
                    size="m"),
            Control("op", f"{cp}.op", "Test", _text(c.get("op")), "select", [(o, o) for o in OPS],
                    errors=errors.take(f"{cp}.op"), size="s"),
            Control("value", f"{cp}.value", "Value", _text(c.get("value")), errors=errors.take(f"{cp}.value"),
                    size="m")]))
    blank = Row(path="", controls=[Control("field", "", "Field", ""), Control("op", "", "Test", ">=", "select",
                                                                                 [(o, o) for o in OPS], size="s"),
                                   Control("value", "", "Value", "")])
    return Group(key=key, path=path, title=title, add_label="Add a test", rows=rows, blank=blank,
                 errors=errors.take(path), nested=True, remove_label="Remove test")


def _rows(data: Mapping[str, Any], path: str) -> list[dict[str, Any]]:
    value: Any = data
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return [r if isinstance(r, dict) else {} for r in value] if isinstance(value, list) else []


def _get(data: Mapping[str, Any], path: str) -> Any:
    value: Any = data
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


@dataclass
class Editor:
    """The form's sections built from a document, with each problem placed beside its field."""

    basics: list[Control]
    stages: Group
    scoring: list[Control]
    fit_rules: Group
    engagement_rules: Group
    routing: list[Control]
    routing_rules: Group
    sla_sales: list[Control]
    sla_marketing: list[Control]
    calendar: list[Control]
    goals: Group
    vocabulary: Group
    problems: list[Problem]
    unplaced: list[Problem]


def editor(content: Mapping[str, Any], problems: list[Problem] | None = None) -> Editor:
    """The editor's fields filled from a playbook document (stored content or what was posted)."""
    problems = list(problems or [])
    errors = _Errors(problems)

    def fixed(path: str, label: str, kind: str = "text", choices: list[tuple[str, str]] | None = None,
              size: str = "m") -> Control:
        return Control(path, path, label, _text(_get(content, path)), kind, choices or [], errors.take(path), size)

    stage_choices = _choices(Stage)
    basics = [fixed("name", "Name", size="l"), fixed("description", "Description", "long", size="l")]

    stage_rows = []
    for i, s in enumerate(_rows(content, "stages")):
        p = f"stages.{i}"
        stage_rows.append(Row(path=p, errors=errors.take(p), controls=[
            Control("key", f"{p}.key", "Stage", _text(s.get("key")), "select", stage_choices,
                    errors.take(f"{p}.key"), "s"),
            Control("name", f"{p}.name", "Name", _text(s.get("name")), errors=errors.take(f"{p}.name")),
            Control("owner_side", f"{p}.owner_side", "Owner", _text(s.get("owner_side")), "select", SIDES,
                    errors.take(f"{p}.owner_side"), "s"),
            Control("definition", f"{p}.definition", "Definition", _text(s.get("definition")), "long",
                    errors=errors.take(f"{p}.definition"), size="l"),
            Control("entry_description", f"{p}.entry_description", "Entry, in words",
                    _text(s.get("entry_description")), errors=errors.take(f"{p}.entry_description"), size="l")],
            groups=[_criteria_group("entry_criteria", f"{p}.entry_criteria", "Entry criteria (besides the MQL "
                                    "threshold)", s.get("entry_criteria") or [], errors)]))
    stages = Group("stages", "stages", "Stages", "Add a stage", stage_rows, errors=errors.take("stages"), remove_label="Remove stage", blank=Row(
        path="", controls=[Control("key", "", "Stage", "lead", "select", stage_choices, size="s"),
                           Control("name", "", "Name", ""), Control("owner_side", "", "Owner", "marketing", "select",
                                                                    SIDES, size="s"),
                           Control("definition", "", "Definition", "", "long", size="l"),
                           Control("entry_description", "", "Entry, in words", "", size="l")],
        groups=[_criteria_group("entry_criteria", "", "Entry criteria (besides the MQL threshold)", [], errors)]))

    scoring = [fixed("scoring.mql_threshold", "MQL threshold (points)", "number", size="s"),
               fixed("scoring.engagement_half_life_days", "Engagement half-life (days)", "number", size="s"),
               fixed("scoring.fit_weight", "Fit weight", "number", size="s"),
               fixed("scoring.engagement_weight", "Engagement weight", "number", size="s")]

    fit_rows = []
    for i, r in enumerate(_rows(content, "scoring.fit_rules")):
        p = f"scoring.fit_rules.{i}"
        fit_rows.append(Row(path=p, errors=errors.take(p), controls=[
            *_rule_head(p, r, errors),
            Control("points", f"{p}.points", "Points", _text(r.get("points")), "number",
                    errors=errors.take(f"{p}.points"), size="s")],
            groups=[_criteria_group("when", f"{p}.when", "When", r.get("when") or [], errors)]))
    fit_rules = Group("scoring.fit_rules", "scoring.fit_rules", "Fit rules", "Add a fit rule", fit_rows,
                      errors=errors.take("scoring.fit_rules"), remove_label="Remove rule", blank=Row(path="", controls=[
                          Control("id", "", "Rule id", ""), Control("description", "", "Description", "", size="l"),
                          Control("points", "", "Points", "", "number", size="s")],
                          groups=[_criteria_group("when", "", "When", [{}], errors)]))

    kinds = _choices(TouchKind)
    eng_rows = []
    for i, r in enumerate(_rows(content, "scoring.engagement_rules")):
        p = f"scoring.engagement_rules.{i}"
        eng_rows.append(Row(path=p, errors=errors.take(p), controls=[
            *_rule_head(p, r, errors),
            Control("kind", f"{p}.kind", "Each", _text(r.get("kind")), "select", kinds, errors.take(f"{p}.kind")),
            Control("points", f"{p}.points", "Points", _text(r.get("points")), "number",
                    errors=errors.take(f"{p}.points"), size="s"),
            Control("max_count", f"{p}.max_count", "Counted (newest)", _text(r.get("max_count")), "number",
                    errors=errors.take(f"{p}.max_count"), size="s")]))
    engagement_rules = Group("scoring.engagement_rules", "scoring.engagement_rules", "Engagement rules",
                             "Add an engagement rule", eng_rows, errors=errors.take("scoring.engagement_rules"), remove_label="Remove rule",
                             blank=Row(path="", controls=[
                                 Control("id", "", "Rule id", ""), Control("description", "", "Description", "",
                                                                           size="l"),
                                 Control("kind", "", "Each", "page_view", "select", kinds),
                                 Control("points", "", "Points", "", "number", size="s"),
                                 Control("max_count", "", "Counted (newest)", "5", "number", size="s")]))

    routing = [fixed("routing.account_owner_first", "Account owner first", "select", YES_NO, "s"),
               fixed("routing.default_team", "Otherwise, team"),
               fixed("routing.capacity_period", "Capacity counted per", "select", CAPACITY_PERIODS, "s"),
               fixed("routing.skip_out_of_office", "Skip people out of office", "select", YES_NO, "s")]
    route_rows = []
    for i, r in enumerate(_rows(content, "routing.rules")):
        p = f"routing.rules.{i}"
        route_rows.append(Row(path=p, errors=errors.take(p), controls=[
            Control("id", f"{p}.id", "Rule id", _text(r.get("id")), errors=errors.take(f"{p}.id")),
            Control("description", f"{p}.description", "Description", _text(r.get("description")),
                    errors=errors.take(f"{p}.description"), size="l"),
            Control("team", f"{p}.team", "Team", _text(r.get("team")), errors=errors.take(f"{p}.team"))],
            groups=[_criteria_group("when", f"{p}.when", "When", r.get("when") or [], errors)]))
    routing_rules = Group("routing.rules", "routing.rules", "Routing rules (first match wins)", "Add a routing rule",
                          route_rows, errors=errors.take("routing.rules"), remove_label="Remove rule", blank=Row(path="", controls=[
                              Control("id", "", "Rule id", ""), Control("description", "", "Description", "",
                                                                        size="l"),
                              Control("team", "", "Team", "")],
                              groups=[_criteria_group("when", "", "When", [{}], errors)]))

    sla_sales = [fixed("sla.sales.first_touch_business_hours", "First touch within (business hours)", "number",
                       size="s"),
                 fixed("sla.sales.decision_business_days", "Accept or reject within (business days)", "number",
                       size="s")]
    sla_marketing = [fixed("sla.marketing.mql_volume", "MQLs promised", "number", size="s"),
                     fixed("sla.marketing.period", "Per", "select", PERIODS, "s"),
                     fixed("sla.marketing.min_acceptance_rate", "Sales accepts at least (0–1)", "number", size="s")]
    calendar = [fixed("sla.calendar.timezone", "Business time zone"),
                fixed("sla.calendar.day_start", "Day starts (HH:MM)", size="s"),
                fixed("sla.calendar.day_end", "Day ends (HH:MM)", size="s")]

    goal_rows = []
    for i, g in enumerate(_rows(content, "goals")):
        p = f"goals.{i}"
        goal_rows.append(Row(path=p, errors=errors.take(p), controls=[
            Control("period", f"{p}.period", "Period (2026, 2026-Q4, 2026-11)", _text(g.get("period")),
                    errors=errors.take(f"{p}.period")),
            Control("revenue", f"{p}.revenue", "Revenue", _text(g.get("revenue")), "number",
                    errors=errors.take(f"{p}.revenue")),
            Control("currency", f"{p}.currency", "Currency", _text(g.get("currency") or "USD"),
                    errors=errors.take(f"{p}.currency"), size="s"),
            Control("segment", f"{p}.segment", "Segment (blank: all)", _text(g.get("segment")),
                    errors=errors.take(f"{p}.segment"))]))
    goals = Group("goals", "goals", "Goals", "Add a goal", goal_rows, errors=errors.take("goals"), remove_label="Remove goal", blank=Row(
        path="", controls=[Control("period", "", "Period (2026, 2026-Q4, 2026-11)", ""),
                           Control("revenue", "", "Revenue", "", "number"),
                           Control("currency", "", "Currency", "USD", size="s"),
                           Control("segment", "", "Segment (blank: all)", "")]))

    vocab_rows = []
    vocab_choices = [(NOT_A_STAGE, "(not a stage)"), *stage_choices]
    for i, (system, list_name, label, stage) in enumerate(vocabulary_rows(content)):
        p = f"vocab.{i}"
        schema_path = f"vocabulary.{system}.{list_name}.{label}"
        vocab_rows.append(Row(path=p, errors=errors.take(p) + errors.take(schema_path), controls=[
            Control("system", f"{p}.system", "System", system, errors=errors.take(f"{p}.system")
                    + errors.take(f"vocabulary.{system}"), size="s"),
            Control("list", f"{p}.list", "Field", list_name, "select", STAGE_LISTS, errors.take(f"{p}.list"), "s"),
            Control("label", f"{p}.label", "CRM label", label, errors=errors.take(f"{p}.label")),
            Control("stage", f"{p}.stage", "Means", stage, "select", vocab_choices, errors.take(f"{p}.stage"))]))
    vocabulary = Group("vocab", "vocab", "Vocabulary: CRM labels → stages", "Add a label", vocab_rows,
                       errors=errors.take("vocabulary"), remove_label="Remove label", blank=Row(path="", controls=[
                           Control("system", "", "System", "hubspot", size="s"),
                           Control("list", "", "Field", "stages", "select", STAGE_LISTS, size="s"),
                           Control("label", "", "CRM label", ""),
                           Control("stage", "", "Means", NOT_A_STAGE, "select", vocab_choices)]))
    unplaced = [{"field": path, "message": m} for path, messages in errors.by_path.items() for m in messages]
    return Editor(basics, stages, scoring, fit_rules, engagement_rules, routing, routing_rules, sla_sales,
                  sla_marketing, calendar, goals, vocabulary, problems, unplaced)


def vocabulary_rows(content: Mapping[str, Any]) -> list[tuple[str, str, str, str]]:
    """(system, list, label, stage key or '') for every label the vocabulary maps to a stage (or to no stage)."""
    out = []
    vocabulary = content.get("vocabulary")
    for system, lists in (vocabulary.items() if isinstance(vocabulary, dict) else []):
        for list_name, _ in STAGE_LISTS:
            mapping = lists.get(list_name) if isinstance(lists, dict) else None
            for label, stage in (mapping.items() if isinstance(mapping, dict) else []):
                out.append((str(system), list_name, str(label), _text(stage)))
    return out


# Reading the posted form back into a document.

def _unflatten(items: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """`a.0.b=x` pairs as nested data; mappings whose keys are all numbers become lists in number order."""
    tree: dict[str, Any] = {}
    for name, value in items:
        node = tree
        parts = name.split(".")
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node[parts[-1]] = value

    def listify(node: Any) -> Any:
        if not isinstance(node, dict):
            return node
        if node and all(k.isdigit() for k in node):
            return [listify(node[k]) for k in sorted(node, key=int)]
        return {k: listify(v) for k, v in node.items()}

    return dict(listify(tree))


def _number(text: Any) -> Any:
    """A typed number as the YAML would read it (60, 0.6, nan); anything else is left for validation to name."""
    if not isinstance(text, str):
        return text
    s = text.strip().replace(",", "") if re.fullmatch(r"\s*-?[\d,]+(\.\d+)?\s*", text) else text.strip()
    try:
        return int(s)
    except ValueError:
        pass
    try:
        return float(s)
    except ValueError:
        return text.strip()


def _scalar(text: str) -> Any:
    s = text.strip()
    if s in ("true", "false"):
        return s == "true"
    value = _number(s)
    return value if value != "" else ""


def _criterion(data: Any) -> dict[str, Any]:
    data = data if isinstance(data, dict) else {}
    op = str(data.get("op", "")).strip()
    raw = str(data.get("value", ""))
    value: Any
    if op == "exists":
        value = None
    elif op in LIST_OPS:
        value = [_scalar(v) for v in raw.split(",") if v.strip()]
    else:
        value = _scalar(raw)
    return {"field": str(data.get("field", "")).strip(), "op": op, "value": value}


def _criteria(rows: Any) -> list[dict[str, Any]]:
    return [_criterion(c) for c in (rows if isinstance(rows, list) else [])]


def _strings(row: Any, *keys: str) -> dict[str, str]:
    row = row if isinstance(row, dict) else {}
    return {k: str(row.get(k, "")).strip() for k in keys}


def _list(tree: Mapping[str, Any], path: str) -> list[Any]:
    value = _get(tree, path)
    return value if isinstance(value, list) else []


def _set(doc: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    node = doc
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[parts[-1]] = value


NUMBERS = ("scoring.mql_threshold", "scoring.engagement_half_life_days", "scoring.fit_weight",
           "scoring.engagement_weight", "sla.sales.first_touch_business_hours", "sla.sales.decision_business_days",
           "sla.marketing.mql_volume", "sla.marketing.min_acceptance_rate")
BOOLEANS = ("routing.account_owner_first", "routing.skip_out_of_office")
TEXTS = ("name", "description", "routing.default_team", "routing.capacity_period", "sla.marketing.period",
         "sla.calendar.timezone", "sla.calendar.day_start", "sla.calendar.day_end")


def document_from_form(post: Any, base: Mapping[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
    """The playbook document the posted form describes, on top of `base` (the draft being edited), and the
    problems only the form can have (a vocabulary label given twice, a blank label). The schema checks the rest."""
    names = [k for k in post if k not in ("csrfmiddlewaretoken", "notes", "preview", "_groups")]
    tree = _unflatten((k, post.getlist(k)[-1]) for k in names)
    sent = set(post.getlist("_groups"))
    doc: dict[str, Any] = copy.deepcopy(dict(base))
    problems: list[Problem] = []

    for path in TEXTS:
        if _get(tree, path) is not None:
            _set(doc, path, str(_get(tree, path)).strip())
    for path in NUMBERS:
        if _get(tree, path) is not None:
            _set(doc, path, _number(_get(tree, path)))
    for path in BOOLEANS:
        if _get(tree, path) is not None:
            _set(doc, path, str(_get(tree, path)) == "true")

    if "stages" in sent:
        doc["stages"] = [{**_strings(s, "key", "name", "owner_side", "definition", "entry_description"),
                          "entry_criteria": _criteria(s.get("entry_criteria") if isinstance(s, dict) else None)}
                         for s in _list(tree, "stages")]
    if "scoring.fit_rules" in sent:
        _set(doc, "scoring.fit_rules", [
            {**_strings(r, "id", "description"), "points": _number(r.get("points", "")),
             "when": _criteria(r.get("when"))} for r in _list(tree, "scoring.fit_rules") if isinstance(r, dict)])
    if "scoring.engagement_rules" in sent:
        _set(doc, "scoring.engagement_rules", [
            {**_strings(r, "id", "description", "kind"), "points": _number(r.get("points", "")),
             "max_count": _number(r.get("max_count", ""))}
            for r in _list(tree, "scoring.engagement_rules") if isinstance(r, dict)])
    if "routing.rules" in sent:
        _set(doc, "routing.rules", [{**_strings(r, "id", "description", "team"), "when": _criteria(r.get("when"))}
                                    for r in _list(tree, "routing.rules") if isinstance(r, dict)])
    if "goals" in sent:
        doc["goals"] = [{**_strings(g, "period", "currency", "segment"), "revenue": _number(g.get("revenue", ""))}
                        for g in _list(tree, "goals") if isinstance(g, dict)]
    if "vocab" in sent:
        problems += _vocabulary_into(doc, _list(tree, "vocab"))
    return doc, problems


def _vocabulary_into(doc: dict[str, Any], rows: list[Any]) -> list[Problem]:
    """Rebuild the vocabulary's stage lists from the rows (its sources and deal stages stay as they were)."""
    found = doc.get("vocabulary")
    vocabulary: dict[str, Any] = found if isinstance(found, dict) else {}
    rebuilt: dict[str, dict[str, Any]] = {}
    for system, lists in vocabulary.items():
        kept = {k: v for k, v in (lists.items() if isinstance(lists, dict) else []) if k not in dict(STAGE_LISTS)}
        rebuilt[system] = {**kept, **{name: {} for name, _ in STAGE_LISTS}}
    problems: list[Problem] = []
    first_row: dict[tuple[str, str, str], int] = {}
    for i, row in enumerate(rows):
        r = _strings(row, "system", "list", "label", "stage")
        if not r["system"]:
            problems.append({"field": f"vocab.{i}.system", "message": "name the system (hubspot, salesforce, …)"})
            continue
        if r["list"] not in dict(STAGE_LISTS):
            problems.append({"field": f"vocab.{i}.list", "message": f"one of {', '.join(dict(STAGE_LISTS))}"})
            continue
        if not r["label"]:
            problems.append({"field": f"vocab.{i}.label", "message": "a label is needed (or remove the row)"})
            continue
        key = (r["system"], r["list"], r["label"])
        if key in first_row:
            problems.append({"field": f"vocab.{i}.label", "message": (
                f"{r['label']!r} is already mapped in row {first_row[key] + 1} for {r['system']}")})
            continue
        first_row[key] = i
        lists = rebuilt.setdefault(r["system"], {name: {} for name, _ in STAGE_LISTS})
        lists[r["list"]][r["label"]] = r["stage"] or None
    doc["vocabulary"] = rebuilt
    return problems


# The impact preview as table rows (formatting only: the figures and their differences come from the selector).

def impact_rows(impact: Impact) -> list[dict[str, str]]:
    """Label, today's figure, the draft's and the change, each in words."""
    a, d = impact.active, impact.draft

    def change(name: str, kind: str) -> str:
        delta = impact.delta(name)
        if delta is None:
            return "—"
        if abs(delta) < 1e-9:
            return "no change"
        sign = "+" if delta > 0 else "−"
        if kind == "pct":
            return f"{sign}{abs(delta) * 100:.1f} pts"
        return f"{sign}{abs(delta):,.1f}" if kind == "dec" else f"{sign}{abs(delta):,.0f}"

    def dec(v: float | None) -> str:
        return "—" if v is None else f"{v:,.1f}"

    return [
        {"key": "threshold", "label": "MQL threshold", "active": _text(a.threshold), "draft": _text(d.threshold),
         "change": "no change" if a.threshold == d.threshold else f"{_text(a.threshold)} → {_text(d.threshold)}"},
        {"key": "mqls_per_month", "label": "MQLs per month", "active": dec(a.mqls_per_month), "draft": dec(d.mqls_per_month),
         "change": change("mqls_per_month", "dec")},
        {"key": "mqls", "label": f"MQLs in {dec(impact.months)} months", "active": formatting.integer(a.mqls),
         "draft": formatting.integer(d.mqls), "change": change("mqls", "int")},
        {"key": "acceptance_rate", "label": "Accepted by sales", "active": formatting.pct(a.acceptance_rate),
         "draft": formatting.pct(d.acceptance_rate), "change": change("acceptance_rate", "pct")},
        {"key": "opportunity_rate", "label": "Became opportunities", "active": formatting.pct(a.opportunity_rate),
         "draft": formatting.pct(d.opportunity_rate), "change": change("opportunity_rate", "pct")},
        {"key": "won_rate", "label": "Won", "active": formatting.pct(a.won_rate), "draft": formatting.pct(d.won_rate),
         "change": change("won_rate", "pct")},
    ]
