"""`smarketing feedback …`: import, capture loss reasons, themes (with edits) and the insights inbox."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import typer

feedback_app = typer.Typer(help="Customer feedback from sales: import, themes and insights for marketing.",
                           no_args_is_help=True)


def _json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, default=str, ensure_ascii=False))


def _user(username: str | None) -> Any:
    if not username:
        return None
    from smarketing.core.errors import NotFound
    from smarketing.team.models import User

    user = User.objects.filter(username=username).first()
    if user is None:
        raise NotFound(f"user {username!r} does not exist", field="author", record=f"user:{username}")
    return user


@feedback_app.command("import")
def import_(file: Path = typer.Argument(..., help="CSV with a text column; optional kind, occurred_at, id, "
                                                   "account_id/account_domain/account, contact_email, "
                                                   "opportunity_id, author"),
            author: str = typer.Option("", help="Username recorded as author where the file names none"),
            kind: str = typer.Option("objection", help="Kind for rows without one"),
            skip_invalid: bool = typer.Option(False, "--skip-invalid",
                                              help="Import the valid rows and write the others to FILE.rejected.csv"),
            as_json: bool = typer.Option(False, "--json")) -> None:
    """Import feedback from CSV: all or nothing (or --skip-invalid); re-importing the same rows adds nothing."""
    from smarketing.core.csvsafe import SafeDictWriter
    from smarketing.core.errors import ValidationFailed
    from smarketing.feedback.capture import feedback_import_csv

    if not file.is_file():
        raise ValidationFailed(f"{file} is not a file", field="FILE")
    report = feedback_import_csv(data=file.read_bytes(), author=_user(author), skip_invalid=skip_invalid,
                                 default_kind=kind)
    rejected_path = None
    if report.rejected:
        rejected_path = file.with_suffix(".rejected.csv")
        fields = list(dict.fromkeys(k for row in report.rejected for k in row))
        with rejected_path.open("w", newline="", encoding="utf-8") as fh:
            writer = SafeDictWriter(fh, fieldnames=fields)
            writer.writeheader()
            writer.writerows(report.rejected)
    if as_json:
        _json({"rows": report.rows, "created": report.created, "existing": report.existing,
               "rejected": len(report.rejected), "rejected_file": str(rejected_path) if rejected_path else None,
               "problems": [p.__dict__ for p in report.problems], "ignored_columns": report.ignored_columns})
        return
    typer.echo(f"{report.rows} rows: {report.created} imported, {report.existing} already there")
    if report.ignored_columns:
        typer.echo(f"ignored columns: {', '.join(report.ignored_columns)}")
    for p in report.problems:
        typer.echo(f"  rejected {p}")
    if rejected_path:
        typer.echo(f"{len(report.rejected)} rejected rows written to {rejected_path} (fix them and import that file)")


@feedback_app.command("capture-losses")
def capture_losses() -> None:
    """Turn lost opportunities' loss reasons into feedback items (once per opportunity)."""
    from smarketing.feedback.capture import feedback_capture_opportunity_losses

    r = feedback_capture_opportunity_losses()
    typer.echo(f"{r.created} loss reasons captured, {r.existing} already captured")


def _theme_dict(row: Any) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "named_by_person": row.name_is_manual, "key_phrases": row.key_phrases,
            "volume": row.volume, "sentiment": row.sentiment, "first_signal_at": row.first_signal_at,
            "last_signal_at": row.last_signal_at, "accounts": row.revenue.accounts,
            "open_pipeline": row.revenue.open_pipeline, "arr": row.revenue.arr}


@feedback_app.command("themes")
def themes(backend: str = typer.Option("", help="tfidf, embedding or auto (default: SMARKETING_THEME_BACKEND, "
                                                 "auto: embedding where installed); naming one rebuilds"),
           rebuild: bool = typer.Option(False, "--rebuild", help="Re-cluster everything (keeps human edits)"),
           k: int = typer.Option(0, help="Number of themes for a rebuild (0 = automatic)"),
           as_json: bool = typer.Option(False, "--json")) -> None:
    """Group feedback into themes: new items join the nearest theme; --rebuild re-clusters all of it."""
    from smarketing.feedback.capture import feedback_capture_opportunity_losses
    from smarketing.feedback.theme_selectors import theme_rows, theme_run_latest, unassigned_items
    from smarketing.feedback.theme_services import themes_assign_new, themes_rebuild

    feedback_capture_opportunity_losses()
    summary: dict[str, Any]
    if rebuild or backend:
        s = themes_rebuild(backend=backend or None, k=k or None)
        summary = {"mode": "rebuild", "backend": s.run.backend, "items": s.run.items, "themes": s.themes,
                   "kept": s.kept, "new": s.new, "retired": s.retired, "unassigned": s.unassigned}
    else:
        a = themes_assign_new()
        latest = theme_run_latest()
        summary = {"mode": "rebuild (first run)" if a.rebuilt else "incremental",
                   "backend": latest.backend if latest else "", "assigned": a.assigned, "unassigned": a.unassigned}
    latest = theme_run_latest()
    if latest is not None and latest.model_name:
        summary["model"] = latest.model_name
    rows = theme_rows()
    waiting = len(unassigned_items(limit=100_000))
    if as_json:
        _json({"summary": summary, "unassigned": waiting, "themes": [_theme_dict(r) for r in rows]})
        return
    typer.echo(" · ".join(f"{k}: {v}" for k, v in summary.items()))
    typer.echo(f"{'id':>4}  {'items':>5}  {'mood':>5}  {'pipeline':>12}  {'ARR':>12}  name")
    for r in rows:
        mood = "" if r.sentiment is None else f"{r.sentiment:+.2f}"
        typer.echo(f"{r.id:>4}  {r.volume:>5}  {mood:>5}  {r.revenue.open_pipeline:>12,.0f}  {r.revenue.arr:>12,.0f}  "
                   f"{r.name}{' (named)' if r.name_is_manual else ''}")
    if waiting:
        typer.echo(f"{waiting} items wait for the next --rebuild (no theme close enough yet)")


@feedback_app.command("theme-show")
def theme_show(theme_id: int, as_json: bool = typer.Option(False, "--json")) -> None:
    """One theme: volume by month, sentiment, who raises it, revenue at stake, latest items and edits."""
    from smarketing.feedback.theme_selectors import theme_detail

    d = theme_detail(pk=theme_id, items=10)
    if as_json:
        _json({"theme": _theme_dict(d.row), "volume_by_month": d.volume_by_month, "sentiment": d.sentiment_split,
               "segments": d.segments, "industries": d.industries, "buying_roles": d.buying_roles,
               "titles": d.titles, "items": d.items, "edits": d.edits})
        return
    r = d.row
    typer.echo(f"theme {r.id}: {r.name}  [{r.status}]  key phrases: {', '.join(r.key_phrases)}")
    typer.echo(f"{r.volume} items from {r.revenue.accounts} accounts; open pipeline {r.revenue.open_pipeline:,.0f}, "
               f"ARR {r.revenue.arr:,.0f}")
    typer.echo("by month: " + ", ".join(f"{m} {n}" for m, n in d.volume_by_month))
    typer.echo("sentiment: " + ", ".join(f"{k} {v}" for k, v in d.sentiment_split.items()))
    for label, pairs in (("segments", d.segments), ("industries", d.industries), ("buying roles", d.buying_roles),
                         ("titles", d.titles)):
        if pairs:
            typer.echo(f"{label}: " + ", ".join(f"{k} {n}" for k, n in pairs[:5]))
    for item in d.items:
        typer.echo(f"  #{item['id']} {item['occurred_at']:%Y-%m-%d} {item['kind']}: {item['text'][:100]}")
    for e in d.edits:
        typer.echo(f"  edit {e['kind']} by {e['by'] or '-'} at {e['at']:%Y-%m-%d}: {e['old_name']} -> {e['new_name']}")


@feedback_app.command("theme-rename")
def theme_rename(theme_id: int, name: str) -> None:
    """Name a theme; later runs keep the name."""
    from smarketing.feedback.theme_services import theme_rename as rename

    t = rename(theme_id=theme_id, name=name)
    typer.echo(f"theme {t.pk} is now {t.name!r}")


@feedback_app.command("theme-merge")
def theme_merge(target_id: int, source_ids: list[int]) -> None:
    """Merge themes SOURCE_IDS into TARGET_ID; later runs keep the merge."""
    from smarketing.feedback.theme_services import theme_merge as merge

    t = merge(target_id=target_id, source_ids=list(source_ids))
    typer.echo(f"merged {', '.join(map(str, source_ids))} into theme {t.pk} ({t.name})")


@feedback_app.command("theme-split")
def theme_split(theme_id: int, item_ids: list[int], name: str = typer.Option("", help="Name of the new theme")) -> None:
    """Move ITEM_IDS out of THEME_ID into a new theme; later runs keep the split."""
    from smarketing.feedback.theme_services import theme_split as split

    t = split(theme_id=theme_id, item_ids=list(item_ids), name=name)
    typer.echo(f"new theme {t.pk} ({t.name}) with {len(item_ids)} items")


def _insight_dict(i: Any) -> dict[str, Any]:
    return {"id": i.pk, "title": i.title, "status": i.status, "theme_id": i.theme_id, "reason": i.reason,
            "volume": i.volume, "open_pipeline": i.open_pipeline, "arr": i.arr,
            "revenue_at_stake": i.revenue_at_stake, "first_signal_at": i.first_signal_at,
            "acted_at": i.acted_at, "time_to_action_days": i.time_to_action_days,
            "response_campaign_id": i.response_campaign_id, "response_note": i.response_note}


@feedback_app.command("insights")
def insights(refresh: bool = typer.Option(True, "--refresh/--no-refresh", help="Raise insights for themes over "
                                                                             "the threshold first"),
             min_volume: int = typer.Option(-1, help="Items a theme needs (default: settings, 10)"),
             min_revenue: float = typer.Option(-1, help="Revenue at stake a theme needs (0 = not used)"),
             require_both: bool = typer.Option(False, "--require-both", help="Volume AND revenue must be reached"),
             status: str = typer.Option("", help="Only this status"),
             as_json: bool = typer.Option(False, "--json")) -> None:
    """The insights inbox for marketing, largest revenue at stake first: status and time to action."""
    from smarketing.feedback.insight_rules import Threshold
    from smarketing.feedback.insight_services import default_threshold, insights_refresh
    from smarketing.feedback.theme_selectors import insight_action_times, insight_list

    created = []
    if refresh:
        base = default_threshold()
        threshold = Threshold(min_volume=base.min_volume if min_volume < 0 else min_volume,
                              min_revenue=base.min_revenue if min_revenue < 0 else Decimal(str(min_revenue)),
                              require_both=require_both or base.require_both)
        created = insights_refresh(threshold=threshold)
    rows = list(insight_list(status=status))
    times = insight_action_times()
    if as_json:
        _json({"created": len(created), "insights": [_insight_dict(i) for i in rows],
               "time_to_action": times.__dict__})
        return
    if created:
        typer.echo(f"{len(created)} new insight(s)")
    for i in rows:
        tta = "" if i.time_to_action_days is None else f"  acted after {i.time_to_action_days} days"
        typer.echo(f"{i.pk:>4}  {i.status:<12}  {i.revenue_at_stake:>12,.0f}  {i.title}  [{i.reason}]{tta}")
    if not rows:
        typer.echo("no insights yet (themes below the threshold, or run `smarketing feedback themes` first)")
    if times.acted:
        typer.echo(f"time from first signal to action: median {times.median_days} days over {times.acted} insights")


@feedback_app.command("insight")
def insight_move(insight_id: int, to: str = typer.Argument(..., help="acknowledged | acted_on | closed"),
                 note: str = typer.Option(""), campaign: int = typer.Option(0, help="Campaign made in response"),
                 change: str = typer.Option("", help="Message change made in response"),
                 user: str = typer.Option("", help="Username acting")) -> None:
    """Move an insight to its next status."""
    from smarketing.feedback.insight_services import insight_transition

    i = insight_transition(insight_id=insight_id, to_status=to, actor=_user(user), note=note,
                           campaign_id=campaign or None, response_note=change)
    typer.echo(f"insight {i.pk} is {i.status}")


def register(app: typer.Typer) -> None:
    app.add_typer(feedback_app, name="feedback")
