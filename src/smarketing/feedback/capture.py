"""Capture of feedback from every source: quick capture, CSV import, and lost opportunities' loss reasons.

(Handoff rejections arrive through services.feedback_record with source "handoff_rejection".)
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction

from smarketing.core import clock
from smarketing.core.errors import NotFound, ValidationFailed
from smarketing.core.validation import check_activity_datetime
from smarketing.crm.enums import Outcome
from smarketing.crm.models import Account, Contact, Opportunity
from smarketing.crm.selectors import opportunity_list
from smarketing.feedback.enums import FeedbackKind, FeedbackSource
from smarketing.feedback.models import FeedbackItem
from smarketing.feedback.services import MAX_TEXT, as_utc, feedback_record
from smarketing.feedback.tasks import schedule_assignment
from smarketing.feedback.text import clean
from smarketing.team.models import User

# --- quick capture ----------------------------------------------------------------------------------------------

_KIND_HINTS = [
    (FeedbackKind.COMPETITOR, re.compile(r"\b(went with|chose|switched to|lost (the deal )?to|competitor|incumbent)\b", re.I)),
    (FeedbackKind.FEATURE_REQUEST, re.compile(r"\b(feature|would like|wish|asked for|request(ed)?|roadmap|missing)\b",
                                              re.I)),
    (FeedbackKind.PRAISE, re.compile(r"\b(love[sd]?|great|amazing|impressed|praised?|fantastic|easy to use)\b", re.I)),
    (FeedbackKind.OBJECTION, re.compile(r"\b(too (expensive|high|slow|long)|concern|worried|blocker|cannot|can't)\b",
                                        re.I)),
]


def guess_kind(text: str) -> str:
    """A first guess of the kind from the wording, for quick capture without a kind (the person can correct it)."""
    for kind, pattern in _KIND_HINTS:
        if pattern.search(text or ""):
            return str(kind)
    return str(FeedbackKind.STORY)


def feedback_capture(*, text: str, author: Any = None, kind: str = "", source: str = FeedbackSource.API,
                     source_id: str = "", occurred_at: Any = None, account_id: int | None = None,
                     contact_id: int | None = None, opportunity_id: int | None = None) -> tuple[FeedbackItem, bool]:
    """Capture one item from the web form or the API in seconds: ids are resolved, kind guessed when absent."""
    account = _by_id(Account, account_id, "account_id", "account")
    contact = _by_id(Contact, contact_id, "contact_id", "contact")
    opportunity = _by_id(Opportunity, opportunity_id, "opportunity_id", "opportunity")
    if account is None and opportunity is not None:
        account = opportunity.account
    return feedback_record(kind=kind or guess_kind(text), text=text, occurred_at=occurred_at or clock.now(),
                           source=source, source_id=source_id, account=account, contact=contact,
                           opportunity=opportunity, author=author)


def _by_id(model: Any, pk: int | None, field: str, label: str) -> Any:
    if pk is None:
        return None
    obj = model.objects.filter(pk=pk).first()
    if obj is None:
        raise NotFound(f"{label} {pk} does not exist", field=field, record=f"{label}:{pk}")
    return obj


# --- lost opportunities -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CaptureReport:
    created: int
    existing: int


@transaction.atomic
def feedback_capture_opportunity_losses(*, opportunity_ids: list[int] | None = None) -> CaptureReport:
    """Turn each lost opportunity's loss reason into a feedback item, once (source id = opportunity id)."""
    qs = opportunity_list(outcome=Outcome.LOST).exclude(loss_reason="")
    if opportunity_ids is not None:
        qs = qs.filter(pk__in=opportunity_ids)
    done = set(FeedbackItem.objects.filter(source=FeedbackSource.OPPORTUNITY_LOSS).values_list("source_id", flat=True))
    created = existing = 0
    for opp in qs:
        if str(opp.pk) in done or not clean(opp.loss_reason):
            existing += str(opp.pk) in done
            continue
        feedback_record(kind=FeedbackKind.LOSS_REASON, text=opp.loss_reason, occurred_at=opp.closed_at or opp.opened_at,
                        source=FeedbackSource.OPPORTUNITY_LOSS, source_id=str(opp.pk), account=opp.account,
                        contact=opp.primary_contact, opportunity=opp, author=opp.owner, assign=False)
        created += 1
    if created:
        transaction.on_commit(schedule_assignment)
    return CaptureReport(created=created, existing=existing)


# --- CSV import -------------------------------------------------------------------------------------------------

COLUMNS = {
    "text": ("text", "feedback", "comment", "note", "notes", "body", "message"),
    "kind": ("kind", "type", "category"),
    "occurred_at": ("occurred_at", "date", "created_at", "when", "timestamp"),
    "source_id": ("source_id", "id", "external_id", "feedback_id"),
    "account_id": ("account_id",),
    "account_domain": ("account_domain", "domain"),
    "account_name": ("account", "account_name", "company"),
    "contact_email": ("contact_email", "email", "contact"),
    "opportunity_id": ("opportunity_id", "deal_id"),
    "author": ("author", "author_username", "rep", "owner"),
}
KIND_ALIASES = {"loss": FeedbackKind.LOSS_REASON, "lost": FeedbackKind.LOSS_REASON, "loss reason": FeedbackKind.LOSS_REASON,
                "feature": FeedbackKind.FEATURE_REQUEST, "feature request": FeedbackKind.FEATURE_REQUEST,
                "request": FeedbackKind.FEATURE_REQUEST, "customer story": FeedbackKind.STORY,
                "rejection": FeedbackKind.REJECTION_REASON, "competition": FeedbackKind.COMPETITOR}
_DATE_FORMATS = ("%Y-%m-%d", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d")


@dataclass(frozen=True)
class ImportProblem:
    row: int  # data row, 1 = first row after the header
    line: int  # line of the file where the row ends
    field: str
    message: str

    def __str__(self) -> str:
        return f"row {self.row} (line {self.line}), {self.field}: {self.message}"


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    existing: int = 0
    problems: list[ImportProblem] = field(default_factory=list)
    rejected: list[dict[str, str]] = field(default_factory=list)  # original rows + "error", to fix and re-import
    ignored_columns: list[str] = field(default_factory=list)


@dataclass
class _Row:
    row: int
    line: int
    raw: dict[str, str]
    values: dict[str, Any] = field(default_factory=dict)


def _decode(data: bytes | str) -> str:
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ValidationFailed(f"the file is not UTF-8: byte 0x{data[exc.start]:02x} on line {line} cannot be read; "
                               "save it as UTF-8 and import again (nothing was imported)", field="(file)",
                               record=f"line:{line}") from None


def _header_map(fieldnames: list[str]) -> tuple[dict[str, str], list[str]]:
    normal = {(name or "").strip().lower().replace(" ", "_"): name for name in fieldnames}
    mapping: dict[str, str] = {}
    for target, aliases in COLUMNS.items():
        for alias in aliases:
            if alias in normal:
                mapping[target] = normal[alias]
                break
    ignored = [name for name in fieldnames if name not in mapping.values()]
    return mapping, ignored


def _parse_when(value: str) -> datetime:
    return check_activity_datetime(_parse_date_or_time(value))


def _parse_date_or_time(value: str) -> datetime:
    value = value.strip()
    try:
        return as_utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        pass
    for fmt in _DATE_FORMATS:
        try:
            return as_utc(datetime.strptime(value, fmt))
        except ValueError:
            continue
    raise ValueError(f"{value!r} is not a date; use YYYY-MM-DD or an ISO 8601 date-time")


def _read_rows(text: str) -> tuple[list[_Row], dict[str, str], list[str]]:
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise ValidationFailed(f"the file contains a NUL byte on line {line}; it is probably not a CSV file "
                               "(nothing was imported)", field="(file)", record=f"line:{line}")
    sample = text[:20_000]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    csv.field_size_limit(max(csv.field_size_limit(), 10_000_000))
    reader = csv.DictReader(io.StringIO(text, newline=""), dialect=dialect)
    if not reader.fieldnames:
        raise ValidationFailed("the file is empty: expected a header row with at least a 'text' column",
                               field="(file)")
    mapping, ignored = _header_map(list(reader.fieldnames))
    if "text" not in mapping:
        raise ValidationFailed(f"no text column: expected one of {', '.join(COLUMNS['text'])}; the header has "
                               f"{', '.join(reader.fieldnames)}", field="text", record="line:1")
    rows = []
    try:
        for i, raw in enumerate(reader, start=1):
            if not any((v or "").strip() for v in raw.values() if isinstance(v, str)):
                continue  # blank line
            rows.append(_Row(row=i, line=reader.line_num, raw={k: v for k, v in raw.items() if k is not None}))
            if None in raw:
                rows[-1].values["_extra"] = True
    except csv.Error as exc:
        raise ValidationFailed(f"line {reader.line_num}: the CSV cannot be read ({exc}); nothing was imported",
                               field="(file)", record=f"line:{reader.line_num}") from None
    return rows, mapping, ignored


def _validate(rows: list[_Row], mapping: dict[str, str], default_kind: str) -> list[ImportProblem]:
    problems: list[ImportProblem] = []

    def col(r: _Row, name: str) -> str:
        return (r.raw.get(mapping[name]) or "").strip() if name in mapping else ""

    account_ids = {int(v) for r in rows if (v := col(r, "account_id")).isdigit()}
    domains = {col(r, "account_domain").lower() for r in rows if col(r, "account_domain")}
    names = {col(r, "account_name") for r in rows if col(r, "account_name")}
    emails = {col(r, "contact_email").lower() for r in rows if col(r, "contact_email")}
    opp_ids = {int(v) for r in rows if (v := col(r, "opportunity_id")).isdigit()}
    authors = {col(r, "author") for r in rows if col(r, "author")}
    acc_by_id = Account.objects.in_bulk(account_ids)
    acc_by_domain = {a.domain.lower(): a for a in Account.objects.filter(domain__in=domains)} if domains else {}
    acc_by_name = {a.name: a for a in Account.objects.filter(name__in=names)} if names else {}
    contacts = {c.email.lower(): c for c in Contact.objects.select_related("account").filter(email__in=emails)}
    opps = Opportunity.objects.select_related("account").in_bulk(opp_ids)
    users = {u.username: u for u in User.objects.filter(username__in=authors)}
    seen: dict[str, tuple[int, str]] = {}
    for r in rows:
        def bad(fieldname: str, message: str, r: _Row = r) -> None:
            problems.append(ImportProblem(r.row, r.line, fieldname, message))

        if r.values.pop("_extra", False):
            bad("(row)", "the row has more cells than the header has columns")
        text = clean(col(r, "text"))
        if not text:
            bad("text", "is empty")
        elif len(text) > MAX_TEXT:
            bad("text", f"is {len(text):,} characters; the limit is {MAX_TEXT:,}")
        kind_raw = col(r, "kind").lower()
        kind = KIND_ALIASES.get(kind_raw, kind_raw.replace(" ", "_")) if kind_raw else default_kind
        if kind not in FeedbackKind.values:
            bad("kind", f"{kind_raw!r} is not one of {', '.join(FeedbackKind.values)}")
        when_raw = col(r, "occurred_at")
        when = clock.now()
        if when_raw:
            try:
                when = _parse_when(when_raw)
            except ValueError as exc:
                bad("occurred_at", str(exc))
        account = None
        if v := col(r, "account_id"):
            account = acc_by_id.get(int(v)) if v.isdigit() else None
            if account is None:
                bad("account_id", f"no account with id {v!r}")
        elif v := col(r, "account_domain"):
            account = acc_by_domain.get(v.lower())
            if account is None:
                bad("account_domain", f"no account with domain {v!r}")
        elif v := col(r, "account_name"):
            account = acc_by_name.get(v)
            if account is None:
                bad("account_name", f"no account named {v!r}")
        contact = None
        if v := col(r, "contact_email"):
            contact = contacts.get(v.lower())
            if contact is None:
                bad("contact_email", f"no contact with email {v!r}")
        opportunity = None
        if v := col(r, "opportunity_id"):
            opportunity = opps.get(int(v)) if v.isdigit() else None
            if opportunity is None:
                bad("opportunity_id", f"no opportunity with id {v!r}")
        author = None
        if v := col(r, "author"):
            author = users.get(v)
            if author is None:
                bad("author", f"no user named {v!r}")
        source_id = col(r, "source_id")
        if not source_id and text:
            # Why: without an id in the file, the content is the identity, so a re-import adds nothing.
            key = "|".join([text, when_raw, str(account.pk if account else ""), str(contact.pk if contact else "")])
            source_id = "sha1:" + hashlib.sha1(key.encode()).hexdigest()
        if source_id in seen and seen[source_id][1] != text:
            bad("source_id", f"id {source_id!r} is also used by row {seen[source_id][0]} with a different text")
        seen.setdefault(source_id, (r.row, text))
        r.values = {"text": text, "kind": kind, "occurred_at": when, "account": account, "contact": contact,
                    "opportunity": opportunity, "author": author, "source_id": source_id}
    return problems


def feedback_import_csv(*, data: bytes | str, author: Any = None, skip_invalid: bool = False,
                        default_kind: str = FeedbackKind.OBJECTION) -> ImportReport:
    """Import feedback from CSV in one transaction; a re-import of the same rows adds nothing.

    Every row is checked first. With any problem nothing is written and the error lists each row and field,
    unless skip_invalid: then the valid rows are imported and the others come back in `rejected` (nothing lost).
    """
    rows, mapping, ignored = _read_rows(_decode(data))
    problems = _validate(rows, mapping, default_kind)
    report = ImportReport(rows=len(rows), problems=problems, ignored_columns=ignored)
    bad_rows = {p.row for p in problems}
    if problems and not skip_invalid:
        shown = "; ".join(str(p) for p in problems[:20])
        more = f" (and {len(problems) - 20} more)" if len(problems) > 20 else ""
        raise ValidationFailed(f"{len(problems)} problem(s) in {len(bad_rows)} of {len(rows)} rows; nothing was "
                               f"imported: {shown}{more}", field=problems[0].field, record=f"row:{problems[0].row}",
                               details=[{"row": p.row, "line": p.line, "field": p.field, "message": p.message}
                                        for p in problems])
    by_row: dict[int, list[str]] = {}
    for p in problems:
        by_row.setdefault(p.row, []).append(f"{p.field}: {p.message}")
    report.rejected = [{**r.raw, "error": "; ".join(by_row[r.row])} for r in rows if r.row in bad_rows]
    with transaction.atomic():
        for r in rows:
            if r.row in bad_rows:
                continue
            v = r.values
            _, created = feedback_record(kind=v["kind"], text=v["text"], occurred_at=v["occurred_at"],
                                         source=FeedbackSource.CSV, source_id=v["source_id"], account=v["account"],
                                         contact=v["contact"], opportunity=v["opportunity"],
                                         author=v["author"] or author, assign=False)
            report.created += created
            report.existing += not created
        if report.created:
            transaction.on_commit(schedule_assignment)
    return report
