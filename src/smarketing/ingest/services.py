"""Import runs: a company's export files in, through the owning apps' services, recorded as an ImportRun.

One run reads every file (kinds detected from their headers), types each row through the mapping and the
playbook's vocabulary, matches rows to records already present, then writes accounts, contacts, opportunities
and the rebuilt stage history in one transaction. A dry run, or a run with problems and no `skip_invalid`, does
the same work and rolls it back, so what it reports is exactly what a real run would write.
"""

from __future__ import annotations

import csv
import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import transaction

from smarketing.core import clock
from smarketing.core.csvsafe import csv_safe_row
from smarketing.core.errors import DomainError, ValidationFailed
from smarketing.crm.selectors import records_for_import
from smarketing.crm.services import (
    accounts_bulk_create,
    contacts_bulk_create,
    opportunities_bulk_create,
    records_bulk_update,
)
from smarketing.feedback.capture import feedback_capture_opportunity_losses
from smarketing.ingest import plan
from smarketing.ingest.campaign_records import campaign_records_write
from smarketing.ingest.detect import DetectedFile, kind_detect
from smarketing.ingest.enums import ImportStatus
from smarketing.ingest.mapping import Mapping, mapping_load, mapping_shipped, mappings_shipped
from smarketing.ingest.models import MAX_PROBLEMS_KEPT, ImportRun
from smarketing.ingest.progress import ProgressFile
from smarketing.ingest.readers import read_header, read_table
from smarketing.ingest.services_history import (
    campaign_members_from_contacts,
    history_rebuild,
    opportunity_history_rebuild,
)
from smarketing.playbook.schema import SystemVocabulary
from smarketing.playbook.selectors import playbook_active_terms
from smarketing.scoring.tasks import scores_rebuild_all_task
from smarketing.team.selectors import user_ids_by_email_and_name
from smarketing.team.services import users_inactive_owners_create

Progress = Callable[[str, int, int], None]
ENTITY_ORDER = ("account", "contact", "opportunity")
PLURAL = {"account": "accounts", "contact": "contacts", "opportunity": "opportunities"}
MATCH_BY = {"account": "domain", "contact": "email", "opportunity": ""}
MAX_NOTES = 50
WRITE_CHUNK = 10_000  # rows written between two progress reports
REF_ENTITY = {("contact", "account"): "account", ("opportunity", "account"): "account",
              ("opportunity", "contacts"): "contact"}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _mapping(system: str, mapping: Path | None) -> Mapping:
    if mapping is not None:
        return mapping_load(mapping)
    if not system:
        raise ValidationFailed("name the system (hubspot, salesforce, pipedrive) or give a mapping file",
                               field="system")
    if system == "csv":
        raise ValidationFailed("import csv needs --mapping FILE (the mapping format is in the README)",
                               field="mapping")
    return mapping_shipped(system)


def import_detect(*, files: list[Path], system: str = "", mapping: Path | None = None) -> list[DetectedFile]:
    """Each file's system, kind and mapping from its header; a file no mapping recognises is refused with the
    headers each known kind expects."""
    mappings = [_mapping(system, mapping)] if (system or mapping) else mappings_shipped()
    out = []
    for path in files:
        found, kind = kind_detect(read_header(path), name=path.name, mappings=mappings)
        out.append(DetectedFile(name=path.name, system=found.system, kind=kind,
                                mapping=mapping.name if mapping is not None else found.system))
    return out


@transaction.atomic
def import_run_create(*, files: list[Path], system: str = "", mapping: Path | None = None, dry_run: bool,
                      skip_invalid: bool = False, actor: Any = None, date_format: str | None = None,
                      timezone: str | None = None) -> ImportRun:
    """Record a pending import of these files (hashed, kinds detected); a file that cannot be read or recognised
    makes the run refused at once with that problem."""
    if date_format not in (None, "", "ymd", "mdy", "dmy"):
        raise ValidationFailed(f"date format {date_format!r} is not ymd, mdy or dmy", field="date_format")
    if timezone:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValidationFailed(f"unknown time zone {timezone!r}", field="timezone") from None
    entries: list[dict[str, Any]] = []
    for path in files:
        if not path.is_file():
            raise ValidationFailed(f"{path.name} is not a file", field="files", record=path.name)
        entries.append({"name": path.name, "path": str(path), "sha256": _sha256(path), "size": path.stat().st_size,
                        "kind": ""})
    run = ImportRun(actor=actor, system=system or ("csv" if mapping else ""), dry_run=dry_run,
                    skip_invalid=skip_invalid, date_format=date_format or "", timezone=timezone or "",
                    mapping=str(mapping) if mapping is not None else system, files=entries)
    try:
        for entry, found in zip(entries, import_detect(files=files, system=system, mapping=mapping), strict=True):
            entry["kind"] = found.kind
            run.system = run.system or found.system
            run.mapping = run.mapping or found.mapping
    except DomainError as exc:
        run.status, run.error, run.finished_at = ImportStatus.REFUSED, str(exc), clock.now()
        message = str(exc).removeprefix(f"{exc.record}: ") if exc.record else str(exc)
        run.problems = [{"file": exc.record or "", "line": 1, "column": exc.field or "header", "message": message}]
        run.problems_count = 1
    run.save()
    return run


def import_run_execute(*, run: ImportRun, progress: Progress | None = None) -> ImportRun:
    """Run a pending import: read, check, write in one transaction (rolled back for a dry run or when problems
    were found without skip_invalid) and record the outcome on the run."""
    if run.status != ImportStatus.PENDING:
        return run
    run.status, run.started_at = ImportStatus.RUNNING, clock.now()
    run.save(update_fields=["status", "started_at"])

    live = ProgressFile(run.pk)  # readable by the page and the API while the write's transaction is open

    def step(name: str, done: int, total: int) -> None:
        run.progress = {"step": name, "done": done, "total": total}
        live.publish(run.progress)
        if progress is not None:
            progress(name, done, total)

    try:
        outcome = _execute(run, step)
    except DomainError as exc:
        run.status, run.error = ImportStatus.REFUSED, str(exc)
        run.problems = [{"file": exc.record or "", "line": 0, "column": exc.field or "", "message": str(exc)}]
        run.problems_count = 1
    except Exception as exc:
        run.status, run.error, run.finished_at = ImportStatus.FAILED, f"{type(exc).__name__}: {exc}", clock.now()
        run.save()
        raise
    else:
        summary, problems, rejected = outcome
        run.summary = summary
        run.problems = [p.as_dict() for p in problems[:MAX_PROBLEMS_KEPT]]
        run.problems_count = len(problems)
        run.rejected_file = rejected
        run.status = ImportStatus.REFUSED if problems and not run.skip_invalid else ImportStatus.SUCCEEDED
        if problems and not run.skip_invalid:
            run.error = f"{len(problems)} problem(s) found; nothing was written"
    finally:
        live.clear()
    run.finished_at = clock.now()
    run.save()
    return run


def _vocabulary(system: str) -> tuple[SystemVocabulary, str]:
    """The system's vocabulary in the active playbook (the shipped default's when the version has none)."""
    version, terms = playbook_active_terms()
    if terms.vocabulary:  # a version signed before the vocabulary existed has none (stored empty or absent)
        return terms.vocabulary.get(system, SystemVocabulary()), f"playbook v{version.number}"
    from smarketing.playbook.schema import load
    from smarketing.playbook.selectors import default_playbook_data

    shipped = load(default_playbook_data()).vocabulary
    return shipped.get(system, SystemVocabulary()), (f"shipped default (playbook v{version.number} has no "
                                                     "vocabulary yet)")


@dataclass(frozen=True)
class FileRead:
    """What a run keeps of a file once its rows are typed."""

    path: Path
    kind: str
    rows: int


class _Rollback(Exception):
    pass


def _execute(run: ImportRun, step: Progress) -> tuple[dict[str, Any], list[plan.Problem], str]:
    mapping = _mapping(run.system, Path(run.mapping) if run.mapping.endswith((".yaml", ".yml")) else None)
    vocabulary, vocabulary_from = _vocabulary(mapping.system)
    tz = ZoneInfo(run.timezone or mapping.timezone)
    problems: list[plan.Problem] = []
    reads: list[tuple[FileRead, plan.ReadResult]] = []
    carried_reads: list[tuple[FileRead, plan.ReadResult]] = []
    unmapped: Counter[str] = Counter()
    for n, entry in enumerate(run.files):
        # One file at a time, and only its typed records kept: an export's hundreds of columns are let go.
        table = read_table(Path(entry["path"]))
        _, kind = kind_detect(table.header, name=table.path.name, mappings=[mapping])
        read = FileRead(path=table.path, kind=kind, rows=len(table.rows))
        date_format = run.date_format or mapping.date_format
        result = plan.records_read(table, kind_name=kind, kind=mapping.kinds[kind], vocabulary=vocabulary, tz=tz,
                                   date_format=date_format,
                                   progress=_reporter(step, f"read {table.path.name}"))
        reads.append((read, result))
        problems += result.problems
        unmapped += result.unmapped
        for other in mapping.kinds[kind].also:  # kinds carried in this file's columns (Pipedrive's persons)
            carried = plan.records_read(table, kind_name=other, kind=mapping.kinds[other], vocabulary=vocabulary,
                                        tz=tz, date_format=date_format, embedded=True)
            carried_reads.append((read, carried))
            problems += carried.problems
            unmapped += carried.unmapped
            for line, reason in carried.rejected_lines.items():
                result.rejected_lines.setdefault(line, reason)
            result.records = [r for r in result.records if r.line not in carried.rejected_lines]
        del table
        step("read", n + 1, len(run.files))
    step("check", len(reads), len(reads))

    outcome: dict[str, Any] = {}
    try:
        with transaction.atomic():
            summary = _write(mapping.system, reads + carried_reads, problems, step)
            outcome["summary"] = summary
            if run.dry_run or (problems and not run.skip_invalid):
                raise _Rollback
    except _Rollback:
        pass
    summary = outcome["summary"]
    summary.update({"system": mapping.system, "vocabulary": vocabulary_from, "dry_run": run.dry_run,
                    "written": not run.dry_run and not (problems and not run.skip_invalid),
                    "unmapped": dict(unmapped.most_common()),
                    "files": [{"name": f.path.name, "kind": f.kind, "rows": f.rows, "rejected": len(r.rejected_lines),
                               "unused_columns": len(r.unused_columns)} for f, r in reads]})
    rejected = ""
    if problems and run.skip_invalid and not run.dry_run:
        rejected = _write_rejected(reads, summary.get("conflict_lines", {}))
    summary.pop("conflict_lines", None)
    return summary, problems, rejected


def _write(source: str, reads: list[tuple[FileRead, plan.ReadResult]], problems: list[plan.Problem],
           step: Progress) -> dict[str, Any]:
    """Write (or rehearse) the records in entity order; returns the summary. Conflicting rows become problems."""
    records: dict[str, list[plan.Record]] = {e: [] for e in (*ENTITY_ORDER, "campaign", "opportunity_history")}
    for _, result in reads:
        for rec in result.records:
            records[rec.entity].append(rec)
    summary: dict[str, Any] = {"conflicts": [], "moved": [], "owners_created": [], "unresolved_refs": 0,
                               "stages": {}, "conflict_lines": {}}
    owners = _owners(records, summary)
    ids: dict[str, dict[str, int]] = {}
    subjects: dict[str, dict[str, int]] = {"contact": {}, "account": {}}
    opportunities_won: list[tuple[plan.Record, int]] = []
    # Records named by references (a contact's company, a deal's contacts) may come from an earlier import.
    referenced: dict[str, set[str]] = {e: set() for e in ENTITY_ORDER}
    for recs in records.values():
        for rec in recs:
            for target, sids in rec.refs.items():
                referenced[REF_ENTITY[(rec.entity, target)]].update(sids)
    # A stage-history report names opportunities by id: from this import's opportunities file or an earlier one.
    referenced["opportunity"].update(rec.external_id for rec in records["opportunity_history"])
    for entity in ENTITY_ORDER:
        recs = records[entity]
        by = MATCH_BY[entity]
        wanted_sids = sorted({r.external_id for r in recs} | referenced[entity])
        existing = records_for_import(entity=entity, source=source, source_ids=wanted_sids,
                                      emails=[r.fields["email"] for r in recs if r.fields.get("email")]
                                      if entity == "contact" else [],
                                      domains=[r.fields["domain"] for r in recs if r.fields.get("domain")]
                                      if entity == "account" else [])
        current = {r["id"]: r for r in existing}
        # A converted lead exported beside the contact it became is that contact: matched and written once, as
        # the contact; the lead's stage dates go on the contact's history (keyed by the lead's own id).
        converted = plan.converted_leads(recs) if entity == "contact" else {}
        linked = [r for r in recs if r.external_id in converted]
        recs = [r for r in recs if r.external_id not in converted]
        by_external = {r.external_id: r for r in recs}
        for lead in linked:
            contact = by_external[converted[lead.external_id]]
            # The person entered as the lead: the contact's own creation is not a new move back to that stage.
            contact.stages = {s: at for s, at in contact.stages.items() if s not in lead.stages}
        matches = plan.records_match(recs, source=source, existing=existing, by=by)
        creates: list[dict[str, Any]] = []
        updates: dict[int, dict[str, Any]] = {}
        unchanged = 0
        kept: list[plan.Record] = []
        matched: dict[str, int] = {}
        for rec in recs:
            match = matches[(rec.kind, rec.external_id)]
            if match.conflict:
                column = "Email" if by == "email" else "Company Domain Name" if by == "domain" else ""
                problem = plan.Problem(rec.file, rec.line, column, f"conflict: {match.conflict}")
                problems.append(problem)
                summary["conflicts"].append(problem.text())
                summary["conflict_lines"].setdefault(rec.file, {})[rec.line] = problem.message
                continue
            kept.append(rec)
            wanted = _row(entity, rec, owners, ids, summary)
            if match.existing_id is None:
                if entity == "opportunity" and "opened_at" not in wanted:
                    # A deal the file gives no open date (Maven's prospects): opened when it came in, on creation
                    # only, so a re-import leaves it alone.
                    wanted["opened_at"] = clock.now()
                creates.append({"source_id": rec.external_id, **wanted})
                continue
            row = current[match.existing_id]
            matched[rec.external_id] = match.existing_id
            if not row["source_id"]:  # found by email or domain, from no other system: it takes this key
                wanted = {**wanted, "source": source, "source_id": rec.external_id}
            change = plan.changed_fields(row, wanted)
            if change:
                updates[match.existing_id] = change
            else:
                unchanged += 1
        created_ids, created = _create(entity, source, creates, _reporter(step, f"create {PLURAL[entity]}"))
        pending = list(updates.items())
        for start in range(0, len(pending), WRITE_CHUNK):
            records_bulk_update(entity=entity, changes=dict(pending[start:start + WRITE_CHUNK]))
            step(f"update {PLURAL[entity]}", min(start + WRITE_CHUNK, len(pending)), len(pending))
        ids[entity] = {**{r["source_id"]: r["id"] for r in existing if r["source"] == source and r["source_id"]},
                       **created_ids, **matched}
        summary[PLURAL[entity]] = {"created": created, "updated": len(updates), "unchanged": unchanged}
        for lead in linked:
            if (contact_id := ids[entity].get(converted[lead.external_id])) is not None:
                ids[entity][lead.external_id] = contact_id
                kept.append(lead)
        if entity in subjects:
            subjects[entity] = {r.external_id: ids[entity][r.external_id] for r in kept}
        else:
            opportunities_won += [(r, ids[entity][r.external_id]) for r in kept if _outcome(r) == "won"]
            lost = [ids[entity][r.external_id] for r in kept if _outcome(r) == "lost" and r.fields.get("loss_reason")]
            # A lost deal's reason is customer voice, as when a live deal is lost (recorded once per deal).
            summary["loss_feedback"] = feedback_capture_opportunity_losses(opportunity_ids=lost).created if lost else 0
        step(PLURAL[entity], len(recs), len(recs))
    history_rebuild(source, records, subjects, opportunities_won, summary,
                    progress=_reporter(step, "history"))
    opportunity_history_rebuild(source, records["opportunity"], records["opportunity_history"],
                                ids.get("opportunity", {}), summary)
    if records["campaign"]:  # a campaigns file, before the memberships a contacts export names
        summary["campaign_records"] = campaign_records_write(source=source, records=records["campaign"])
    campaign_members_from_contacts(source, records["contact"], subjects["contact"], summary)
    if any(summary[PLURAL[e]]["created"] or summary[PLURAL[e]]["updated"] for e in ENTITY_ORDER):
        transaction.on_commit(scores_rebuild_all_task.enqueue)
    summary["conflicts"] = summary["conflicts"][:MAX_NOTES]
    summary["moved"] = summary["moved"][:MAX_NOTES]
    return summary


def _reporter(step: Progress, name: str) -> Callable[[int, int], None]:
    """Progress of one named step, as (done, total)."""

    def report(done: int, total: int) -> None:
        step(name, done, total)

    return report


def _create(entity: str, source: str, rows: list[dict[str, Any]], progress: Callable[[int, int], None]
            ) -> tuple[dict[str, int], int]:
    """Create the new records a chunk at a time (so the run's progress moves while it writes)."""
    create = {"account": accounts_bulk_create, "contact": contacts_bulk_create}.get(entity, opportunities_bulk_create)
    ids: dict[str, int] = {}
    created = 0
    for start in range(0, len(rows), WRITE_CHUNK):
        chunk_ids, n = create(source=source, rows=rows[start:start + WRITE_CHUNK])
        ids.update(chunk_ids)
        created += n
        progress(min(start + WRITE_CHUNK, len(rows)), len(rows))
    return ids, created


def _outcome(rec: plan.Record) -> str:
    if rec.fields.get("won") or rec.fields.get("stage") == "closed_won":
        return "won"
    if rec.fields.get("lost") or rec.fields.get("stage") == "closed_lost":
        return "lost"
    return "open"


def _ref(target: str, rec: plan.Record, entity: str, ids: dict[str, dict[str, int]], summary: dict[str, Any]
         ) -> int | None:
    for sid in rec.refs.get(target, []):
        pk = ids.get(entity, {}).get(sid)
        if pk is not None:
            return pk
    if rec.refs.get(target):
        summary["unresolved_refs"] += 1
    return None


def _row(entity: str, rec: plan.Record, owners: dict[tuple[str, str], int], ids: dict[str, dict[str, int]],
         summary: dict[str, Any]) -> dict[str, Any]:
    """The crm fields a record wants (foreign keys by id)."""
    f = rec.fields
    row: dict[str, Any] = {}
    if rec.owner is not None:
        row["owner_id"] = owners.get(rec.owner)
    if entity == "contact":
        row.update({k: v for k, v in f.items() if k in ("email", "first_name", "last_name", "title", "lead_source",
                                                         "country", "first_seen_at")})
        if rec.attributes:
            row["attributes"] = rec.attributes
        if (account_id := _ref("account", rec, "account", ids, summary)) is not None:
            row["account_id"] = account_id
    elif entity == "account":
        row.update({k: v for k, v in f.items() if k in ("name", "domain", "industry", "employees", "region",
                                                         "segment")})
    else:
        row.update({k: v for k, v in f.items() if k in ("name", "amount", "currency", "opened_at", "closed_at",
                                                         "loss_reason", "product", "type")})
        outcome = _outcome(rec)
        row["outcome"] = outcome
        stage = f.get("stage")
        row["stage"] = {"won": "closed_won", "lost": "closed_lost"}.get(outcome, stage if stage not in (
            None, "closed_won", "closed_lost") else "discovery")
        if outcome != "lost":
            row.pop("loss_reason", None)
        if (account_id := _ref("account", rec, "account", ids, summary)) is not None:
            row["account_id"] = account_id
        if (contact_id := _ref("contacts", rec, "contact", ids, summary)) is not None:
            row["primary_contact_id"] = contact_id
    return row


def _owners(records: dict[str, list[plan.Record]], summary: dict[str, Any]) -> dict[tuple[str, str], int]:
    """Each owner named in the files → a user id: matched by email, else by full name; the rest become inactive
    sales users (listed in the summary) so ownership history is kept."""
    named = {rec.owner for recs in records.values() for rec in recs if rec.owner is not None}
    by_email, by_name = user_ids_by_email_and_name()
    out: dict[tuple[str, str], int] = {}
    unknown: list[tuple[str, str]] = []
    for name, email in sorted(named):
        pk = by_email.get(email.lower()) if email else None
        pk = pk if pk is not None else by_name.get(" ".join(name.split()).lower()) if name else None
        if pk is None:
            unknown.append((name, email))
        else:
            out[(name, email)] = pk
    if unknown:
        out.update(users_inactive_owners_create(owners=unknown))
        summary["owners_created"] = [n or e for n, e in unknown]
    return out


def _write_rejected(reads: list[tuple[FileRead, plan.ReadResult]], conflicts: dict[str, dict[int, str]]) -> str:
    """The rejected rows of each file, beside it as `<input>.rejected.csv` with a reason column (cells that a
    spreadsheet would run as formulas are neutralised). Returns the names written, comma-separated."""
    written = []
    for read, result in reads:
        reasons = {**result.rejected_lines, **conflicts.get(read.path.name, {})}
        if not reasons:
            continue
        table = read_table(read.path)  # read again: the run let its cells go once typed
        out = table.path.with_name(table.path.name + ".rejected.csv")
        with out.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(csv_safe_row(["line", "reason", *table.header]))
            for line, cells in table.rows:
                if line in reasons:
                    writer.writerow(csv_safe_row([line, reasons[line], *cells]))
        written.append(out.name)
    return ", ".join(written)
