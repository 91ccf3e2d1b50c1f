"""Pure decisions of an import: cells → typed records with problems by file, line and column; records + what the
database already holds → what to create, update, leave unchanged and append, and what conflicts (no ORM here)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from smarketing.ingest import values
from smarketing.ingest.mapping import FieldSpec, KindMapping
from smarketing.ingest.readers import Table
from smarketing.playbook.schema import SystemVocabulary, vocabulary_key

MAX_TEXT = {"email": 254, "first_name": 100, "last_name": 100, "title": 200, "lead_source": 64, "country": 64,
            "name": 200, "domain": 200, "industry": 100, "region": 32, "segment": 32, "loss_reason": 200,
            "product": 100, "currency": 3}
PROGRESS_ROWS = 5000  # rows typed between two progress reports


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "column": self.column, "message": self.message}

    def text(self) -> str:
        return f"{self.file}, line {self.line}, column {self.column!r}: {self.message}"


@dataclass
class Record:
    """One row of one file, typed: the entity's fields, attributes, refs by external id and dated stages."""

    file: str
    kind: str
    entity: str
    line: int
    external_id: str
    fields: dict[str, Any] = field(default_factory=dict)
    attributes: dict[str, Any] = field(default_factory=dict)
    refs: dict[str, list[str]] = field(default_factory=dict)  # target → external ids (first is primary)
    owner: tuple[str, str] | None = None  # (full name, email)
    stages: dict[str, datetime] = field(default_factory=dict)  # stage → when it was entered (a deal's: deal stages)
    stage_exits: dict[str, datetime] = field(default_factory=dict)  # a deal's stage → when it was left
    campaigns: list[tuple[str, str]] = field(default_factory=list)  # (campaign external id, name)
    campaign_status: str = "sent"
    campaigns_at: datetime | None = None


@dataclass
class ReadResult:
    records: list[Record] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    rejected_lines: dict[int, str] = field(default_factory=dict)  # line → reason
    unmapped: Counter[str] = field(default_factory=Counter)  # "list: label" → rows
    unused_columns: list[str] = field(default_factory=list)


def _lookup(vocabulary: SystemVocabulary, name: str) -> dict[str, Any]:
    return {vocabulary_key(k): v for k, v in getattr(vocabulary, name).items()}


def records_read(table: Table, *, kind_name: str, kind: KindMapping, vocabulary: SystemVocabulary, tz: ZoneInfo,
                 date_format: str | None, embedded: bool = False,
                 progress: Callable[[int, int], None] | None = None) -> ReadResult:
    """Type every row of one file by its kind's mapping; each bad cell is a problem at its line and column.

    `embedded`: the kind is carried inside another kind's file (a Pipedrive deal row's `Person - …` columns), so
    a row without its id has none of it, and a repeated id is the same record again (its first row is read)."""
    out = ReadResult()
    name = table.path.name
    lookups = {n: _lookup(vocabulary, n) for n in ("stages", "lead_statuses", "sources", "deal_stages")}
    id_col = table.column(kind.id)
    if id_col is None:
        out.problems.append(Problem(name, 1, kind.id, "the external id column is missing from the header"))
        return out
    seen: dict[str, int] = {}
    if date_format is None:
        date_format, ambiguous = _date_format_detect(table, kind)
        if ambiguous is not None:
            out.problems.append(ambiguous)
            return out

    def bad(line: int, column: str, message: str) -> None:
        out.problems.append(Problem(name, line, column, message))
        out.rejected_lines.setdefault(line, f"{column}: {message}")

    # Where each spec reads, found once per file (a file has hundreds of columns and many thousands of rows):
    # the spec's columns the file has; a row reads the first of them it fills (Won time, else Lost time, …).
    def locate(spec: FieldSpec) -> tuple[FieldSpec, list[tuple[str, int]]]:
        return spec, [(column, i) for column in spec.columns if (i := table.column(column)) is not None]

    def typed(located: tuple[FieldSpec, list[tuple[str, int]]], target: str, line: int, cells: list[str]
              ) -> tuple[bool, Any]:
        spec, present = located
        text = column = ""
        for where in present:  # a plain loop: this runs for every cell the mapping reads
            cell = cells[where[1]]
            if cell and (text := cell.strip()):
                column = where[0]
                break
        if not text:
            if spec.required:
                bad(line, spec.columns[0], "is required" if present else "the column is missing from the header")
            return False, None
        try:
            # The two commonest cells without the general dispatch (a wide export has hundreds of thousands)
            value: Any
            if spec.type == "string" and not spec.values:
                value = text
            elif spec.type == "datetime" and not spec.values:
                value = values.parse_datetime(text, tz=tz, date_format=date_format)
            else:
                value = _value(spec, text, tz=tz, date_format=date_format, lookups=lookups)
        except values.ValueProblem as exc:
            bad(line, column, str(exc))
            return False, None
        if value is _UNMAPPED:
            out.unmapped[f"{spec.vocabulary or target}: {text}"] += 1
            bad(line, column, f"{text!r} is not in the playbook's {spec.vocabulary or target} vocabulary "
                              "for this system; add it there (or map it to null)" if spec.vocabulary else
                              f"{text!r} is not one of {sorted(spec.values)}")
            return False, None
        if isinstance(value, str) and target in MAX_TEXT and len(value) > MAX_TEXT[target]:
            bad(line, column, f"is longer than {MAX_TEXT[target]} characters")
            return False, None
        return True, value

    fields = [(target, locate(spec)) for target, spec in kind.fields.items()]
    attributes = [(key, locate(spec)) for key, spec in kind.attributes.items()]
    stage_dates = [(str(stage), locate(FieldSpec(column=columns, type="datetime")))
                   for stage, columns in kind.stage_dates.items()]
    missing = [spec.columns[0] for _, (spec, present) in [*fields, *attributes] if spec.required and not present]
    if missing:  # said once for the file, not once per row
        for column in missing:
            out.problems.append(Problem(name, 1, column, "this required column is missing from the header"))
        return out
    # What the file lacks, no row has (and none of it is required, said above): not looked for row by row.
    fields = [f for f in fields if f[1][1]]
    attributes = [a for a in attributes if a[1][1]]
    stage_dates = [d for d in stage_dates if d[1][1]]
    current_at = locate(FieldSpec(column=kind.current_stage.at, type="datetime")) if kind.current_stage else None
    current_col = table.column(kind.current_stage.column) if kind.current_stage else None
    campaigns_at = (locate(FieldSpec(column=kind.campaigns.at, type="datetime"))
                    if kind.campaigns is not None and kind.campaigns.at else None)
    stage_columns = _stage_columns(table, kind, lookups)
    campaign_cols = ((table.column(kind.campaigns.ids),
                      table.column(kind.campaigns.names) if kind.campaigns.names else None)
                     if kind.campaigns is not None else (None, None))

    total = len(table.rows)
    for n, (line, cells) in enumerate(table.rows):
        if progress is not None and n % PROGRESS_ROWS == 0:
            progress(n, total)
        if not any(c.strip() for c in cells):
            continue
        sid = cells[id_col].strip()
        if embedded and (not sid or sid in seen):
            continue
        if not sid:
            bad(line, kind.id, "is empty: every row needs its external id")
            continue
        if sid in seen and kind.entity != "opportunity_history":  # a history report has a row per move
            bad(line, kind.id, f"{sid!r} repeats line {seen[sid]}")
            continue
        seen.setdefault(sid, line)
        rec = Record(file=name, kind=kind_name, entity=kind.entity, line=line, external_id=sid)
        for target, located in fields:
            ok, value = typed(located, target, line, cells)
            if not ok or value is None:
                continue
            if located[0].type == "ref":
                rec.refs[target] = value
            elif located[0].type == "owner":
                rec.owner = value
            else:
                rec.fields[target] = value
        for key, located in attributes:
            ok, value = typed(located, key, line, cells)
            if ok and value is not None:
                rec.attributes[key] = _jsonable(value)
        for stage, located in stage_dates:
            ok, value = typed(located, stage, line, cells)
            if ok and value is not None:
                rec.stages[stage] = value
        if kind.current_stage is not None and current_at is not None:
            cs = kind.current_stage
            label = cells[current_col].strip() if current_col is not None else ""
            if label:
                lookup = lookups[cs.vocabulary]
                if vocabulary_key(label) not in lookup:
                    out.unmapped[f"{cs.vocabulary}: {label}"] += 1
                    bad(line, cs.column, f"{label!r} is not in the playbook's {cs.vocabulary} vocabulary for this "
                                         "system; add it there (or map it to null)")
                elif (stage := lookup[vocabulary_key(label)]) is not None and str(stage) not in rec.stages:
                    ok, at = typed(current_at, "at", line, cells)
                    if ok and at is not None:
                        rec.stages[str(stage)] = at
        for column, i, label, stage, exit_i in stage_columns:
            text = cells[i].strip()
            if not text:
                continue
            if stage is _UNMAPPED:
                out.unmapped[f"deal_stages: {label}"] += 1
                bad(line, column, f"{label!r} is not in the playbook's deal_stages vocabulary for this system; add "
                                  "it there (or map it to null)")
                continue
            try:
                at = values.parse_datetime(text, tz=tz, date_format=date_format)
                left = (values.parse_datetime(cells[exit_i[1]].strip(), tz=tz, date_format=date_format)
                        if exit_i is not None and cells[exit_i[1]].strip() else None)
            except values.ValueProblem as exc:
                bad(line, column, str(exc))
                continue
            # Several of the system's stages may mean one of ours: the move into it is the earliest of them.
            if stage is None or at is None or (stage in rec.stages and rec.stages[stage] <= at):
                continue
            rec.stages[stage] = at
            if left is not None:
                rec.stage_exits[stage] = left
        ids_at, names_at = campaign_cols
        if kind.campaigns is not None and ids_at is not None:
            ids = [c for c in values.split_multi(cells[ids_at]) if c]
            names = values.split_multi(cells[names_at]) if names_at is not None else []
            if ids:
                rec.campaigns = [(cid, names[n] if len(names) == len(ids) else "") for n, cid in enumerate(ids)]
                rec.campaign_status = kind.campaigns.status
                if campaigns_at is not None:
                    ok, at = typed(campaigns_at, "at", line, cells)
                    rec.campaigns_at = at if ok else None
        if kind.entity == "contact" and "email" not in rec.fields and not (rec.fields.get("first_name")
                                                                           or rec.fields.get("last_name")):
            bad(line, "Email", "a contact needs an email or a name")
        if line not in out.rejected_lines:
            out.records.append(rec)
    if progress is not None:
        progress(total, total)
    used = {c for spec in [*kind.fields.values(), *kind.attributes.values()] for c in spec.columns}
    used |= {kind.id} | {c for cols in kind.stage_dates.values() for c in ([cols] if isinstance(cols, str) else cols)}
    used |= {c for c, _, _, _, _ in stage_columns} | {e[0] for *_, e in stage_columns if e is not None}
    out.unused_columns = [h for h in table.header if h not in used]
    return out


_UNMAPPED: Any = object()


def _stage_columns(table: Table, kind: KindMapping, lookups: dict[str, dict[str, Any]]
                   ) -> list[tuple[str, int, str, Any, tuple[str, int] | None]]:
    """The deal-stage date columns of a file (HubSpot's `Date entered "<stage> (<pipeline>)"`): (column, index,
    stage label, our stage — None when the vocabulary maps it to nothing, _UNMAPPED when it lacks it — and the
    matching exit column)."""
    spec = kind.stage_columns
    if spec is None:
        return []
    entered = spec.matcher(spec.entered)
    exited = spec.matcher(spec.exited) if spec.exited else None
    exits: dict[tuple[str, str], tuple[str, int]] = {}
    if exited is not None:
        for i, column in enumerate(table.header):
            if (m := exited.fullmatch(column)) is not None:
                exits[(m["stage"], m.groupdict().get("pipeline") or "")] = (column, i)
    lookup = lookups[spec.vocabulary]
    out = []
    for i, column in enumerate(table.header):
        if (m := entered.fullmatch(column)) is None:
            continue
        label = m["stage"]
        key = vocabulary_key(label)
        stage = (str(lookup[key]) if lookup[key] is not None else None) if key in lookup else _UNMAPPED
        out.append((column, i, label, stage, exits.get((label, m.groupdict().get("pipeline") or ""))))
    return out


def _date_columns(kind: KindMapping) -> list[str]:
    specs = [spec for spec in [*kind.fields.values(), *kind.attributes.values()] if spec.type in ("datetime", "date")]
    columns = [c for spec in specs for c in spec.columns]
    columns += [c for cols in kind.stage_dates.values() for c in ([cols] if isinstance(cols, str) else cols)]
    if kind.current_stage is not None:
        columns += kind.current_stage.at
    return list(dict.fromkeys(columns))


def _date_format_detect(table: Table, kind: KindMapping) -> tuple[str | None, Problem | None]:
    """The file's date order read from all its date cells (locale exports write 08/12/2026); when they read both
    as month/day and day/month, a problem at the first such cell asking for the date format."""
    present = [(c, i) for c in _date_columns(kind) if (i := table.column(c)) is not None]
    try:
        return values.detect_date_format(cells[i] for _, cells in table.rows for _, i in present), None
    except values.AmbiguousDateFormat as exc:
        example = exc.examples[0] if exc.examples else ""
        for line, cells in table.rows:
            for column, i in present:
                if cells[i].strip() == example:
                    return None, Problem(table.path.name, line, column, f"{exc.message}; run again with "
                                                                        "--date-format mdy or dmy")
        return None, Problem(table.path.name, 1, present[0][0] if present else "", exc.message)


def _jsonable(value: Any) -> Any:
    if isinstance(value, date):  # a datetime too
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if hasattr(value, "total_seconds"):
        return value.total_seconds()
    return value


def _value(spec: FieldSpec, text: str, *, tz: ZoneInfo, date_format: str | None,
           lookups: dict[str, dict[str, Any]]) -> Any:
    kind = spec.type
    if spec.values:  # a fixed translation first (Pipedrive's `Won` → true), then the type reads the result
        if text not in spec.values:
            return _UNMAPPED
        text = spec.values[text]
    if kind == "string":
        return text
    if kind == "email":
        email = text.lower()
        if "@" not in email or " " in email or email.startswith("@") or email.endswith("@"):
            raise values.ValueProblem(f"{text!r} is not an email address")
        return email
    if kind == "datetime":
        return values.parse_datetime(text, tz=tz, date_format=date_format)
    if kind == "date":  # the calendar day where the export was written
        at = values.parse_datetime(text, tz=tz, date_format=date_format)
        return at.astimezone(tz).date() if at is not None else None
    if kind == "number":
        return values.parse_number(text)
    if kind == "integer":
        number = values.parse_number(text)
        if number is None:
            return None
        if number != number.to_integral_value() or number < 0:
            raise values.ValueProblem(f"{text!r} is not a whole number of at least 0")
        return int(number)
    if kind == "bool":
        return values.parse_bool(text)
    if kind == "duration":
        return values.parse_duration(text)
    if kind == "list":
        return values.split_multi(text)
    if kind == "ref":
        return [v for v in values.split_multi(text) if v]
    if kind == "owner":
        if "(" in text and text.endswith(")"):
            return values.parse_name_email(text)
        return ("", text.lower()) if "@" in text else (" ".join(text.split()), "")
    if kind == "vocabulary":
        assert spec.vocabulary is not None
        lookup = lookups[spec.vocabulary]
        key = vocabulary_key(text)
        if key not in lookup:
            return _UNMAPPED
        meaning = lookup[key]
        return str(meaning) if meaning is not None else None
    raise AssertionError(kind)


# ------------------------------------------------------------------------------------------------ matching


@dataclass
class Match:
    """Which existing record a row updates (None: a new one), or why it cannot be matched."""

    existing_id: int | None
    conflict: str = ""


def records_match(records: Iterable[Record], *, source: str, existing: list[dict[str, Any]], by: str
                  ) -> dict[tuple[str, str], Match]:
    """Match rows to records already present: by (source, external id), else by email (contacts) or domain
    (accounts). A row whose email or domain belongs to another record of the same system, or that two rows of
    this import share, is a conflict: reported, never merged."""
    by_sid = {r["source_id"]: r for r in existing if r["source"] == source and r["source_id"]}
    by_key: dict[str, dict[str, Any]] = {}
    for r in existing:
        if by and r.get(by):
            by_key.setdefault(str(r[by]).lower(), r)
    claimed: dict[str, tuple[str, int]] = {}
    out: dict[tuple[str, str], Match] = {}
    for rec in records:
        key = str(rec.fields.get(by) or "").lower() if by else ""
        if key and key in claimed and claimed[key][0] != rec.external_id:
            out[(rec.kind, rec.external_id)] = Match(None, f"{by} {key!r} is also on line {claimed[key][1]} "
                                                           f"(another record: {claimed[key][0]})")
            continue
        if key:
            claimed[key] = (rec.external_id, rec.line)
        found = by_sid.get(rec.external_id)
        if found is not None:
            other = by_key.get(key) if key else None
            if other is not None and other["id"] != found["id"]:
                out[(rec.kind, rec.external_id)] = Match(None, f"{by} {key!r} belongs to another record "
                                                               f"(#{other['id']}, {other['source'] or 'no source'} "
                                                               f"{other['source_id']})".replace(" )", ")"))
                continue
            out[(rec.kind, rec.external_id)] = Match(found["id"])
            continue
        other = by_key.get(key) if key else None
        if other is not None and other["source"] == source and other["source_id"]:
            out[(rec.kind, rec.external_id)] = Match(None, f"{by} {key!r} belongs to {source} record "
                                                           f"{other['source_id']}, not {rec.external_id}")
            continue
        out[(rec.kind, rec.external_id)] = Match(other["id"] if other is not None else None)
    return out


def converted_leads(records: list[Record]) -> dict[str, str]:
    """Lead external id → the contact it was converted into, when both rows are in this import (Salesforce Data
    Loader's `ConvertedContactId`, kept as the lead's `converted_contact_id` attribute)."""
    others = {r.external_id for r in records if not r.attributes.get("converted_contact_id")}
    return {r.external_id: str(r.attributes["converted_contact_id"]) for r in records
            if r.attributes.get("converted_contact_id") and str(r.attributes["converted_contact_id"]) in others
            and r.attributes["converted_contact_id"] != r.external_id}


def changed_fields(current: dict[str, Any], wanted: dict[str, Any]) -> dict[str, Any]:
    """The wanted fields whose value differs from the current one (attributes compared key by key, merged)."""
    out: dict[str, Any] = {}
    for name, value in wanted.items():
        now = current.get(name)
        if name == "attributes":
            merged = {**(now or {}), **value}
            if merged != (now or {}):
                out[name] = merged
        elif isinstance(value, Decimal) or isinstance(now, Decimal):
            if now is None or value is None or Decimal(str(now)) != Decimal(str(value)):
                out[name] = value
        elif now != value:
            out[name] = value
    return out


def stage_key(source: str, entity: str, external_id: str, stage: str) -> str:
    """The key a rebuilt stage change is recorded under: a re-import finds it and adds nothing."""
    return f"{source}:{entity}:{external_id}:{stage}"[:128]


@dataclass(frozen=True)
class StageAppend:
    key: str
    stage: str
    at: datetime


def stage_appends(stages: dict[str, datetime], *, source: str, entity: str, external_id: str,
                  recorded: dict[str, datetime]) -> tuple[list[StageAppend], list[str]]:
    """The dated stages not yet recorded, in time order, and a note for each recorded one whose date moved."""
    appends, moved = [], []
    for stage, at in sorted(stages.items(), key=lambda kv: kv[1]):
        key = stage_key(source, entity, external_id, stage)
        if key in recorded:
            if recorded[key] != at:
                moved.append(f"{entity} {external_id}: {stage} was entered {recorded[key]:%Y-%m-%d %H:%M}, the "
                             f"file now says {at:%Y-%m-%d %H:%M}; history is kept as recorded")
            continue
        appends.append(StageAppend(key, stage, at))
    return appends, moved
