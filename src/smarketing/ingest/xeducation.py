"""Import the X Education leads CSV (Kaggle "Leads.csv"): contacts, their activity as touchpoints, and the outcome.

Mapping
- One contact per row: source="xeducation", source_id=`Prospect ID`; every other column goes into
  `attributes` under a snake_case key (`Lead Origin` → `lead_origin`, `Tags` → `tags`…); `Select` and empty
  cells mean "not given" and are left out. `Lead Source` and `Country` also fill the contact's own fields.
- The file has no dates, so a timeline is synthesised from `Lead Number` (a sequence): leads are spread over
  the year before `end` in number order, and their activity follows their first day.
- Touchpoints: the lead's origin (a form fill for form origins, a page view for API/website leads), one page
  view per visit (`TotalVisits`, at most MAX_VISIT_TOUCHES; the full count stays in the attributes), a content
  download when they asked for the free interview guide, and `Last Activity` mapped to a touch kind.
- History: every lead gets a lead stage change on its first day; `Converted = 1` adds a change to customer
  DAYS_TO_OUTCOME days later (actor "import", the playbook version in force at that time), which is what the
  funnel, predictive training and the threshold table read. Re-importing a row whose Converted changed records
  a change back to lead (or to customer) now; history is never rewritten. Imported history is the past: it
  starts no SLA clock and notifies nobody.

The import is transactional and idempotent: every row is checked first (an error names the CSV line and the
column, and nothing is written), then contacts are upserted by Prospect ID and touchpoints by a stable key.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import typer
from django.db import transaction

from smarketing.campaigns.enums import Channel, TouchKind
from smarketing.core import clock
from smarketing.core.errors import ValidationFailed
from smarketing.core.validation import activity_window_problem
from smarketing.ingest.csvfile import read_csv
from smarketing.lifecycle.enums import Stage

# Services, selectors and tasks load in the functions that use them: the CLI imports this module before Django
# is set up (smarketing.commands).

SOURCE = "xeducation"
DEFAULT_END = datetime(2026, 6, 30, tzinfo=UTC)
TIMELINE_DAYS = 365
MAX_VISIT_TOUCHES = 10
DAYS_TO_OUTCOME = 21
MISSING = {"", "select", "nan"}

# column → (attribute key, type); types: str, bool (Yes/No), int, float
COLUMNS: dict[str, tuple[str, str]] = {
    "Lead Number": ("lead_number", "int"),
    "Lead Origin": ("lead_origin", "str"),
    "Lead Source": ("lead_source", "str"),
    "Do Not Email": ("do_not_email", "bool"),
    "Do Not Call": ("do_not_call", "bool"),
    "TotalVisits": ("total_visits", "float"),
    "Total Time Spent on Website": ("total_time_spent_on_website", "float"),
    "Page Views Per Visit": ("page_views_per_visit", "float"),
    "Last Activity": ("last_activity", "str"),
    "Country": ("country", "str"),
    "Specialization": ("specialization", "str"),
    "How did you hear about X Education": ("how_did_you_hear", "str"),
    "What is your current occupation": ("occupation", "str"),
    "What matters most to you in choosing a course": ("what_matters_most", "str"),
    "Search": ("ad_search", "bool"),
    "Magazine": ("ad_magazine", "bool"),
    "Newspaper Article": ("ad_newspaper_article", "bool"),
    "X Education Forums": ("ad_forums", "bool"),
    "Newspaper": ("ad_newspaper", "bool"),
    "Digital Advertisement": ("ad_digital", "bool"),
    "Through Recommendations": ("through_recommendations", "bool"),
    "Receive More Updates About Our Courses": ("receive_more_updates", "bool"),
    "Tags": ("tags", "str"),
    "Lead Quality": ("lead_quality", "str"),
    "Update me on Supply Chain Content": ("update_supply_chain_content", "bool"),
    "Get updates on DM Content": ("update_dm_content", "bool"),
    "Lead Profile": ("lead_profile", "str"),
    "City": ("city", "str"),
    "Asymmetrique Activity Index": ("asymmetrique_activity_index", "str"),
    "Asymmetrique Profile Index": ("asymmetrique_profile_index", "str"),
    "Asymmetrique Activity Score": ("asymmetrique_activity_score", "float"),
    "Asymmetrique Profile Score": ("asymmetrique_profile_score", "float"),
    "I agree to pay the amount through cheque": ("agrees_to_pay_by_cheque", "bool"),
    "A free copy of Mastering The Interview": ("free_interview_guide", "bool"),
    "Last Notable Activity": ("last_notable_activity", "str"),
}
REQUIRED = ("Prospect ID", "Lead Number", "Converted")

ORIGIN_KIND: dict[str, str] = {"landing page submission": TouchKind.FORM_FILL, "lead add form": TouchKind.FORM_FILL,
               "quick add form": TouchKind.FORM_FILL, "api": TouchKind.PAGE_VIEW}
ACTIVITY_KIND: dict[str, str] = {
    "email opened": TouchKind.EMAIL_OPEN, "email received": TouchKind.EMAIL_OPEN,
    "email link clicked": TouchKind.EMAIL_CLICK, "view in browser link clicked": TouchKind.EMAIL_CLICK,
    "resubscribed to emails": TouchKind.EMAIL_CLICK,
    "page visited on website": TouchKind.PAGE_VIEW, "olark chat conversation": TouchKind.CHAT,
    "form submitted on website": TouchKind.FORM_FILL, "converted to lead": TouchKind.FORM_FILL,
    "had a phone conversation": TouchKind.SALES_CALL, "approached upfront": TouchKind.SALES_CALL,
    "sms sent": TouchKind.SALES_EMAIL, "visited booth in tradeshow": TouchKind.EVENT_ATTENDED,
}  # bounces, spam marks, unsubscribes and "unreachable" are not interactions and make no touchpoint
SOURCE_CHANNEL: dict[str, str] = {"google": Channel.PAID_SEARCH, "bing": Channel.PAID_SEARCH, "pay per click ads": Channel.PAID_SEARCH,
                  "organic search": Channel.ORGANIC_SEARCH, "direct traffic": Channel.DIRECT,
                  "olark chat": Channel.DIRECT, "live chat": Channel.DIRECT, "reference": Channel.REFERRAL,
                  "referral sites": Channel.REFERRAL, "welingak website": Channel.REFERRAL,
                  "facebook": Channel.PAID_SOCIAL, "social media": Channel.PAID_SOCIAL, "blog": Channel.CONTENT,
                  "youtubechannel": Channel.CONTENT, "welearnblog_home": Channel.CONTENT, "nc_edm": Channel.EMAIL}
KIND_CHANNEL: dict[str, str] = {TouchKind.EMAIL_OPEN: Channel.EMAIL, TouchKind.EMAIL_CLICK: Channel.EMAIL,
                TouchKind.SALES_CALL: Channel.SALES, TouchKind.SALES_EMAIL: Channel.SALES,
                TouchKind.CHAT: Channel.DIRECT, TouchKind.EVENT_ATTENDED: Channel.EVENT,
                TouchKind.CONTENT_DOWNLOAD: Channel.CONTENT}


@dataclass
class Lead:
    line: int
    prospect_id: str
    lead_number: int
    converted: bool
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ImportResult:
    rows: int
    contacts_created: int
    contacts_updated: int
    touchpoints_created: int
    conversions_recorded: int
    reversals_recorded: int

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def _bad(line: int, column: str, message: str) -> ValidationFailed:
    return ValidationFailed(f"line {line}, column {column!r}: {message}; nothing was imported",
                            field=column, record=f"xeducation:line {line}")


def _value(raw: str | None, kind: str, line: int, column: str) -> Any:
    text = (raw or "").strip()
    if text.lower() in MISSING:
        return None
    if kind == "str":
        return text
    if kind == "bool":
        if text.lower() in ("yes", "1", "true"):
            return True
        if text.lower() in ("no", "0", "false"):
            return False
        raise _bad(line, column, f"{text!r} is not Yes or No")
    try:
        number = float(text)
    except ValueError:
        raise _bad(line, column, f"{text!r} is not a number") from None
    if number != number or number < 0:
        raise _bad(line, column, f"{text!r} must be a number of at least 0")
    if kind == "int":
        if number != int(number):
            raise _bad(line, column, f"{text!r} is not a whole number")
        return int(number)
    return number


def read_leads(path: Path) -> list[Lead]:
    """Parse and check every row; the first problem raises an error naming its line and column."""
    table = read_csv(path)
    if missing := table.missing(REQUIRED):
        raise _bad(1, missing[0], "this column is missing from the header")
    leads: list[Lead] = []
    seen: dict[str, int] = {}
    for i, row in table.rows:
        pid = (row.get("Prospect ID") or "").strip()
        if not pid:
            raise _bad(i, "Prospect ID", "is empty")
        if len(pid) > 128:
            raise _bad(i, "Prospect ID", "is longer than 128 characters")
        if pid in seen:
            raise _bad(i, "Prospect ID", f"{pid!r} repeats line {seen[pid]}")
        seen[pid] = i
        converted = (row.get("Converted") or "").strip()
        if converted not in ("0", "1"):
            raise _bad(i, "Converted", f"{converted!r} must be 0 or 1")
        number = _value(row.get("Lead Number"), "int", i, "Lead Number")
        if number is None:
            raise _bad(i, "Lead Number", "is empty")
        attrs = {}
        for col, (key, kind) in COLUMNS.items():
            if col in row:
                v = _value(row[col], kind, i, col)
                if v is not None:
                    attrs[key] = v
        leads.append(Lead(line=i, prospect_id=pid, lead_number=number, converted=converted == "1",
                          attributes=attrs))
    if not leads:
        raise _bad(2, "Prospect ID", "the file has no rows")
    return leads


def _first_seen(leads: list[Lead], end: datetime) -> dict[str, datetime]:
    lo = min(lead.lead_number for lead in leads)
    hi = max(lead.lead_number for lead in leads)
    span = max(hi - lo, 1)
    return {lead.prospect_id: end - timedelta(days=TIMELINE_DAYS * (hi - lead.lead_number) / span)
            for lead in leads}


def _touches(lead: Lead, contact_id: int, start: datetime) -> Iterator[dict[str, Any]]:
    a = lead.attributes
    channel = SOURCE_CHANNEL.get(str(a.get("lead_source", "")).lower(), Channel.OTHER)

    def touch(suffix: str, kind: str, at: datetime) -> dict[str, Any]:
        return {"contact_id": contact_id, "account_id": None, "kind": kind,
                "channel": KIND_CHANNEL.get(kind, channel), "occurred_at": at, "source": SOURCE,
                "source_id": f"{lead.prospect_id}:{suffix}"}

    origin = ORIGIN_KIND.get(str(a.get("lead_origin", "")).lower())
    if origin:
        yield touch("origin", origin, start)
    visits = int(min(a.get("total_visits") or 0, MAX_VISIT_TOUCHES))
    for v in range(visits):
        yield touch(f"visit-{v + 1}", TouchKind.PAGE_VIEW, start + timedelta(hours=2 + 24 * v))
    if a.get("free_interview_guide"):
        yield touch("guide", TouchKind.CONTENT_DOWNLOAD, start + timedelta(hours=1))
    last = ACTIVITY_KIND.get(str(a.get("last_activity", "")).lower())
    if last:
        yield touch("last-activity", last, start + timedelta(days=visits + 1))


Progress = Callable[[str, int, int], None]


def xeducation_import(*, path: Path, end: datetime = DEFAULT_END, progress: Progress | None = None) -> ImportResult:
    """Import Leads.csv: contacts, touchpoints and complete stage histories, all or nothing; re-imports update."""
    from smarketing.campaigns.services import touchpoints_bulk_record
    from smarketing.crm.selectors import contact_stages_by_id
    from smarketing.crm.services import contacts_upsert_by_source
    from smarketing.scoring.tasks import scores_rebuild_all_task

    if end.tzinfo is None:
        raise ValidationFailed("end must be timezone-aware", field="end")
    leads = read_leads(path)
    first_seen = _first_seen(leads, end)
    with transaction.atomic():
        rows = [{"source_id": lead.prospect_id, "first_name": "Lead", "last_name": str(lead.lead_number),
                 "lead_source": str(lead.attributes.get("lead_source", ""))[:64],
                 "country": str(lead.attributes.get("country", ""))[:64],
                 "first_seen_at": first_seen[lead.prospect_id], "attributes": lead.attributes} for lead in leads]
        stages_before = contact_stages_by_id(ids=set(_ids_present(leads)))
        ids, created, updated = contacts_upsert_by_source(source=SOURCE, rows=rows)
        if progress:
            progress("contacts", len(leads), len(leads))
        touches = [t for lead in leads for t in _touches(lead, ids[lead.prospect_id], first_seen[lead.prospect_id])]
        n_touches = touchpoints_bulk_record(touchpoints=touches)
        if progress:
            progress("touchpoints", len(leads), len(leads))
        conversions, reversals = _record_history(leads, ids, first_seen, stages_before)
        if progress:
            progress("history", len(leads), len(leads))
        if n_touches:
            # Scores are derived from touchpoints: refresh them all once the import has committed.
            transaction.on_commit(scores_rebuild_all_task.enqueue)
    return ImportResult(rows=len(leads), contacts_created=created, contacts_updated=updated,
                        touchpoints_created=n_touches, conversions_recorded=conversions, reversals_recorded=reversals)


def _ids_present(leads: list[Lead]) -> list[int]:
    from smarketing.crm.selectors import contact_ids_by_source

    return list(contact_ids_by_source(source=SOURCE, source_ids=[lead.prospect_id for lead in leads]).values())


def _record_history(leads: list[Lead], ids: dict[str, int], first_seen: dict[str, datetime],
                    stages_before: dict[int, str]) -> tuple[int, int]:
    """Each lead's stage changes as they happened: lead at its first day and, when Converted = 1, customer three
    weeks later. A contact imported before whose Converted changed since moves now (never before its outcome
    day), so history gains a row instead of being rewritten."""
    from smarketing.lifecycle.services_bulk import PastStageChange, stage_changes_bulk_record

    now = clock.now()
    changes: list[PastStageChange] = []
    conversions = reversals = 0
    for lead in leads:
        cid = ids[lead.prospect_id]
        start = first_seen[lead.prospect_id]
        outcome_at = start + timedelta(days=DAYS_TO_OUTCOME)
        details = {"source": SOURCE, "line": lead.line}
        changes.append(PastStageChange(to_stage=Stage.LEAD, occurred_at=start, contact_id=cid,
                                       reason="X Education lead", details=details,
                                       source_key=f"{SOURCE}:{lead.prospect_id}:lead"))
        before = stages_before.get(cid)
        if lead.converted and before != Stage.CUSTOMER:
            changes.append(PastStageChange(to_stage=Stage.CUSTOMER, contact_id=cid, details=details,
                                           occurred_at=outcome_at if before is None else max(now, outcome_at),
                                           reason="X Education: Converted = 1"))
            conversions += 1
        elif not lead.converted and before == Stage.CUSTOMER:
            changes.append(PastStageChange(to_stage=Stage.LEAD, contact_id=cid, details=details,
                                           occurred_at=max(now, outcome_at),
                                           reason="X Education: Converted = 0 on re-import"))
            reversals += 1
    stage_changes_bulk_record(changes=changes)
    return conversions, reversals


def default_path() -> Path:
    """Where the shared dataset sits beside the repository."""
    return Path(__file__).resolve().parents[3] / ".." / "shared" / "datasets" / "xeducation" / "Leads.csv"


def command(
    path: Path = typer.Argument(..., help="Leads.csv from the X Education dataset", exists=False),
    end: str = typer.Option(DEFAULT_END.date().isoformat(), help="Last day of the synthesised one-year timeline"),
    json_out: bool = typer.Option(False, "--json", help="Print the result as JSON"),
) -> None:
    """Import X Education leads with their activity and outcome (idempotent; all or nothing)."""
    import json

    from rich.progress import Progress as Bar

    try:
        end_at = datetime.fromisoformat(end).replace(tzinfo=UTC)
    except ValueError:
        raise ValidationFailed(f"--end {end!r} is not a date (YYYY-MM-DD)", field="end") from None
    if problem := activity_window_problem(end_at):
        raise ValidationFailed(f"--end {problem}", field="end")
    with Bar(transient=True, disable=json_out) as bar:
        tasks: dict[str, Any] = {}

        def progress(step: str, done: int, total: int) -> None:
            if step not in tasks:
                tasks[step] = bar.add_task(step, total=total)
            bar.update(tasks[step], completed=done)

        result = xeducation_import(path=path, end=end_at, progress=progress)
    if json_out:
        typer.echo(json.dumps(result.as_dict()))
    else:
        typer.echo(f"imported {result.rows} leads from {path}: {result.contacts_created} contacts created, "
                   f"{result.contacts_updated} updated, {result.touchpoints_created} touchpoints, "
                   f"{result.conversions_recorded} conversions recorded")
