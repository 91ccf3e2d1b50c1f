"""`smarketing import hubspot|salesforce|pipedrive|csv FILE...`: a company's CRM exports, through one import run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from smarketing.ingest.enums import ImportStatus

if TYPE_CHECKING:
    from smarketing.ingest.models import ImportRun

FILES = typer.Argument(..., help="Export files (the kind of each is detected from its header)")
DRY_RUN = typer.Option(False, "--dry-run", help="Report what would be created, updated and appended; write nothing")
SKIP = typer.Option(False, "--skip-invalid", help="Write the valid rows; rejected rows go to <file>.rejected.csv")
JSON = typer.Option(False, "--json", help="Print the run's summary and problems as JSON")
DATE_FORMAT = typer.Option(None, "--date-format", help="ymd, mdy or dmy (detected when unambiguous)")
TIMEZONE = typer.Option(None, "--timezone", help="The exporting portal's time zone (dates without an offset)")


def _run(files: list[Path], *, system: str, mapping: Path | None, dry_run: bool, skip_invalid: bool, json_out: bool,
         date_format: str | None, timezone: str | None) -> None:
    from rich.progress import Progress as Bar

    from smarketing.ingest.services import import_run_create, import_run_execute

    run = import_run_create(files=files, system=system, mapping=mapping, dry_run=dry_run, skip_invalid=skip_invalid,
                            date_format=date_format, timezone=timezone)
    with Bar(transient=True, disable=json_out) as bar:
        tasks: dict[str, Any] = {}

        def progress(step: str, done: int, total: int) -> None:
            if step not in tasks:
                tasks[step] = bar.add_task(step, total=total)
            bar.update(tasks[step], completed=done, total=total)

        run = import_run_execute(run=run, progress=progress)
    if json_out:
        typer.echo(json.dumps(run_as_dict(run), default=str))
    else:
        typer.echo(run_as_text(run))
    if run.status != ImportStatus.SUCCEEDED or run.problems_count:
        raise typer.Exit(2)


def run_as_dict(run: ImportRun) -> dict[str, Any]:
    return {"id": run.pk, "status": run.status, "system": run.system, "dry_run": run.dry_run,
            "skip_invalid": run.skip_invalid,
            "files": [{k: f[k] for k in ("name", "sha256", "size", "kind")} for f in run.files],
            "summary": run.summary, "problems_count": run.problems_count, "problems": run.problems,
            "rejected_file": run.rejected_file, "error": run.error}


def run_as_text(run: ImportRun) -> str:
    s = run.summary
    head = {"succeeded": "imported", "refused": "refused"}.get(run.status, run.status)
    if run.dry_run and run.status == ImportStatus.SUCCEEDED:
        head = "dry run (nothing written)"
    lines = [f"import #{run.pk} {run.system}: {head}"]
    for f in s.get("files", []):
        lines.append(f"  {f['name']}: {f['kind']}, {f['rows']} rows, {f['rejected']} rejected")
    for entity in ("accounts", "contacts", "opportunities"):
        if entity in s:
            c = s[entity]
            verb = "would be " if run.dry_run or not s.get("written") else ""
            lines.append(f"  {entity}: {c['created']} {verb}created, {c['updated']} {verb}updated, "
                         f"{c['unchanged']} unchanged")
    if "campaign_records" in s:
        c = s["campaign_records"]
        lines.append(f"  campaigns: {c['created']} created, {c['updated']} updated, {c['unchanged']} unchanged")
    if s.get("stages"):
        lines.append("  stage changes appended: " + ", ".join(f"{k} {v}" for k, v in s["stages"].items()))
    if s.get("owners_created"):
        lines.append("  owners created as inactive sales users: " + ", ".join(s["owners_created"]))
    if s.get("unmapped"):
        lines.append("  unmapped values (add them to the playbook's vocabulary): "
                     + ", ".join(f"{k} ×{v}" for k, v in s["unmapped"].items()))
    for note in s.get("moved", []):
        lines.append(f"  moved stage date: {note}")
    if s.get("unresolved_refs"):
        lines.append(f"  references to records not in these files nor imported before: {s['unresolved_refs']}")
    if run.problems_count:
        lines.append(f"  {run.problems_count} problem(s)" + ("; nothing was written" if not run.skip_invalid else
                                                              f"; rejected rows in {run.rejected_file}"))
        lines += [f"    {p['file']}, line {p['line']}, column {p['column']!r}: {p['message']}" for p in run.problems]
    elif run.error:
        lines.append(f"  {run.error}")
    return "\n".join(lines)


def hubspot(files: list[Path] = FILES, dry_run: bool = DRY_RUN, skip_invalid: bool = SKIP, json_out: bool = JSON,
            date_format: str | None = DATE_FORMAT, timezone: str | None = TIMEZONE) -> None:
    """Import HubSpot exports (contacts, companies, deals): upserts by record id, stage history rebuilt."""
    _run(files, system="hubspot", mapping=None, dry_run=dry_run, skip_invalid=skip_invalid, json_out=json_out,
         date_format=date_format, timezone=timezone)


def salesforce(files: list[Path] = FILES, dry_run: bool = DRY_RUN, skip_invalid: bool = SKIP, json_out: bool = JSON,
               date_format: str | None = DATE_FORMAT, timezone: str | None = TIMEZONE) -> None:
    """Import Salesforce report or Data Loader exports."""
    _run(files, system="salesforce", mapping=None, dry_run=dry_run, skip_invalid=skip_invalid, json_out=json_out,
         date_format=date_format, timezone=timezone)


def pipedrive(files: list[Path] = FILES, dry_run: bool = DRY_RUN, skip_invalid: bool = SKIP, json_out: bool = JSON,
              date_format: str | None = DATE_FORMAT, timezone: str | None = TIMEZONE) -> None:
    """Import Pipedrive deal exports."""
    _run(files, system="pipedrive", mapping=None, dry_run=dry_run, skip_invalid=skip_invalid, json_out=json_out,
         date_format=date_format, timezone=timezone)


def any_csv(files: list[Path] = FILES,
            mapping: Path = typer.Option(..., "--mapping", help="The mapping file (format in the README), or a "
                                                                "shipped mapping's name (maven_crm)"),
            dry_run: bool = DRY_RUN, skip_invalid: bool = SKIP, json_out: bool = JSON,
            date_format: str | None = DATE_FORMAT, timezone: str | None = TIMEZONE) -> None:
    """Import any CSV through a mapping file (or a shipped mapping by its name: maven_crm, hubspot, …)."""
    if not mapping.is_file() and mapping.suffix == "" and len(mapping.parts) == 1:
        from smarketing.ingest.mapping import mapping_shipped_path

        mapping = mapping_shipped_path(mapping.name) or mapping
    _run(files, system="", mapping=mapping, dry_run=dry_run, skip_invalid=skip_invalid, json_out=json_out,
         date_format=date_format, timezone=timezone)


def cleanup(days: int | None = typer.Option(None, "--days", help="Remove upload folders older than this many days "
                                                                 "(default SMARKETING_IMPORT_KEEP_DAYS, 14)"),
            json_out: bool = JSON) -> None:
    """Remove uploaded import files no longer needed: folders older than --days, and the inputs of uploads a
    real run has imported (their rejected rows stay for download until then)."""
    from smarketing.ingest.retention import uploads_cleanup

    result = uploads_cleanup(older_than_days=days)
    if json_out:
        typer.echo(json.dumps(result.as_dict()))
    else:
        typer.echo(f"upload folders removed: {result.folders_removed}; imported inputs removed: "
                   f"{result.inputs_removed}; {result.bytes_freed / 1e6:.1f} MB freed; folders kept: {result.kept}")
