"""Import touchpoints from a CSV file (a CRM's, dialer's or sequencer's activity export), one touchpoint per row.

Columns (header names as written here; extra columns are ignored)
- `contact_id` or `contact_email`: the contact, by id or by email (case-insensitive); one of the two columns
  is required, and each row must fill one.
- `channel`, `kind`: the product's keys (e.g. `sales`, `sales_call`).
- `occurred_at`: ISO 8601 with a UTC offset (`2026-11-24T16:00:00Z`, `…+01:00`); a time without one is refused.
- `actor` (optional): the rep who made a sales touch, by username or email (a username wins over another
  user's email; an email shared by two users is refused as ambiguous). Empty when the export does not know
  the rep: such touches count for the lead's owner in the SLA, as touches always did before they had actors.
- `campaign_id`, `value` (optional).
- `source_id` (optional): the event's id in the sending system. Without it the row's key is a hash of its
  contact, channel, kind, time, actor, campaign and value, so importing the same file again adds nothing.

The import is transactional and idempotent: every row is checked first (each problem names the CSV line and
the column, and nothing is written if there is any), then the rows are appended in one transaction; a row
whose (source, source_id) already exists is skipped. Sales touches then go through the same first-touch
detection as touchpoints recorded one by one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import typer
from django.db import transaction

from smarketing.campaigns.enums import Channel, TouchKind
from smarketing.core.errors import ValidationFailed
from smarketing.core.validation import activity_window_problem
from smarketing.ingest.csvfile import Problem, problems_error, read_csv

# Services and selectors load in the functions that use them: the CLI imports this module before Django is set
# up (smarketing.commands).

DEFAULT_SOURCE = "csv"
REQUIRED = ("channel", "kind", "occurred_at")


@dataclass(frozen=True)
class TouchpointImportResult:
    rows: int
    created: int
    skipped: int

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def _row_key(t: dict[str, Any]) -> str:
    parts = [t["contact_id"], t["channel"], t["kind"], t["occurred_at"].astimezone(UTC).isoformat(),
             t.get("actor_id"), t.get("campaign_id"), t.get("value")]
    return "row-" + hashlib.sha256("|".join("" if p is None else str(p) for p in parts).encode()).hexdigest()[:40]


def _is_id(text: str) -> bool:
    """A record id as the database holds it: ASCII digits ('²' is a digit to str.isdigit) below 2^63."""
    return text.isascii() and text.isdigit() and len(text) <= 18


def read_touchpoints(path: Path, *, source: str = DEFAULT_SOURCE) -> list[dict[str, Any]]:
    """Parse and check every row; all problems are raised together, each naming its line and column."""
    from smarketing.campaigns.selectors import campaign_ids_existing
    from smarketing.crm.selectors import contact_accounts_by_id, contact_ids_by_email
    from smarketing.team.selectors import user_ids_by_login

    table = read_csv(path)
    if not source or len(source) > 32:
        raise ValidationFailed(f"source {source!r} must be 1 to 32 characters", field="source")
    header = table.header
    lines = [line for line, _ in table.rows]
    raw = [{k: v.strip() for k, v in row.items()} for _, row in table.rows]
    problems = [Problem(1, col, "this column is missing from the header") for col in table.missing(REQUIRED)]
    if "contact_id" not in header and "contact_email" not in header:
        problems.append(Problem(1, "contact_id", "the header needs a contact_id or a contact_email column"))
    if problems:
        raise problems_error(problems, path)
    if not raw:
        raise problems_error([Problem(2, "occurred_at", "the file has no rows")], path)

    contact_ids = {int(r["contact_id"]) for r in raw if _is_id(r.get("contact_id", ""))}
    emails = {r["contact_email"] for r in raw if not r.get("contact_id") and r.get("contact_email")}
    contacts_by_id = contact_accounts_by_id(ids=contact_ids)
    contacts_by_email = contact_ids_by_email(emails=emails)
    users = user_ids_by_login(logins={r["actor"] for r in raw if r.get("actor")})
    campaigns = campaign_ids_existing(ids={int(r["campaign_id"]) for r in raw if _is_id(r.get("campaign_id", ""))})

    out: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for line, r in zip(lines, raw, strict=True):
        bad = len(problems)

        def problem(column: str, message: str, line: int = line) -> None:
            problems.append(Problem(line, column, message))

        t: dict[str, Any] = {"source": source}
        if r.get("contact_id"):
            if not _is_id(r["contact_id"]) or int(r["contact_id"]) not in contacts_by_id:
                problem("contact_id", f"no contact has id {r['contact_id']!r}")
            else:
                t["contact_id"] = int(r["contact_id"])
                t["account_id"] = contacts_by_id[t["contact_id"]]
        elif r.get("contact_email"):
            found = contacts_by_email.get(r["contact_email"].lower())
            if found is None:
                problem("contact_email", f"no contact has the email {r['contact_email']!r}")
            else:
                t["contact_id"], t["account_id"] = found
        else:
            problem("contact_id" if "contact_id" in header else "contact_email", "is empty: name the contact")
        if r.get("channel") not in Channel.values:
            problem("channel", f"{r.get('channel')!r} is not a channel; use one of {', '.join(Channel.values)}")
        else:
            t["channel"] = r["channel"]
        if r.get("kind") not in TouchKind.values:
            problem("kind", f"{r.get('kind')!r} is not a touch kind; use one of {', '.join(TouchKind.values)}")
        else:
            t["kind"] = r["kind"]
        try:
            at = datetime.fromisoformat(r.get("occurred_at", ""))
        except ValueError:
            problem("occurred_at", f"{r.get('occurred_at')!r} is not an ISO 8601 time (2026-11-24T16:00:00Z)")
        else:
            if at.tzinfo is None:
                problem("occurred_at", f"{r['occurred_at']!r} has no UTC offset (add Z or +hh:mm)")
            elif window := activity_window_problem(at):
                problem("occurred_at", window)
            else:
                t["occurred_at"] = at
        if r.get("actor"):
            user = users.get(r["actor"])
            if user is None:
                problem("actor", f"no user has the username or email {r['actor']!r}")
            elif isinstance(user, list):
                problem("actor", f"the email {r['actor']!r} belongs to {len(user)} users; use the username")
            else:
                t["actor_id"] = user
        if r.get("campaign_id"):
            if not _is_id(r["campaign_id"]) or int(r["campaign_id"]) not in campaigns:
                problem("campaign_id", f"no campaign has id {r['campaign_id']!r}")
            else:
                t["campaign_id"] = int(r["campaign_id"])
        if r.get("value"):
            try:
                value = Decimal(r["value"])
                if not value.is_finite() or abs(value) >= Decimal(10) ** 12:
                    raise InvalidOperation
                t["value"] = value.quantize(Decimal("0.01"))
            except InvalidOperation:
                problem("value", f"{r['value']!r} is not an amount")
        if len(r.get("source_id", "")) > 128:
            problem("source_id", "is longer than 128 characters")
        if len(problems) > bad:
            continue
        t["source_id"] = r.get("source_id") or _row_key(t)
        if t["source_id"] in seen:
            problem("source_id", f"{t['source_id']!r} repeats line {seen[t['source_id']]}" if r.get("source_id")
                    else f"repeats line {seen[t['source_id']]} (same contact, kind, time, actor and campaign)")
            continue
        seen[t["source_id"]] = line
        out.append(t)
    if problems:
        raise problems_error(problems, path)
    return out


def touchpoints_import(*, path: Path, source: str = DEFAULT_SOURCE) -> TouchpointImportResult:
    """Import a touchpoints CSV, all or nothing; rows already imported (same source and source_id) are skipped."""
    from smarketing.campaigns.services import touchpoints_record_many
    from smarketing.scoring.hooks import rescore_deferred

    rows = read_touchpoints(path, source=source)
    with rescore_deferred(), transaction.atomic():
        created = touchpoints_record_many(touchpoints=rows)
    return TouchpointImportResult(rows=len(rows), created=created, skipped=len(rows) - created)


def command(
    path: Path = typer.Argument(..., help="CSV with contact_id or contact_email, channel, kind, occurred_at, "
                                          "and optionally actor, campaign_id, value, source_id"),
    source: str = typer.Option(DEFAULT_SOURCE, help="The sending system; with source_id keeps re-imports single"),
    json_out: bool = typer.Option(False, "--json", help="Print the result as JSON"),
) -> None:
    """Import touchpoints (with the rep who made each sales touch) from a CSV (idempotent; all or nothing)."""
    import json

    result = touchpoints_import(path=path, source=source)
    if json_out:
        typer.echo(json.dumps(result.as_dict()))
    else:
        typer.echo(f"imported {result.rows} rows from {path}: {result.created} touchpoints recorded, "
                   f"{result.skipped} already there")
