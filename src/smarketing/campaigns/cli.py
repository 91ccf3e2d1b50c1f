"""`smarketing campaign …`: message consistency of sales outreach against campaign briefs."""

from __future__ import annotations

import json
from typing import Any

import typer

from smarketing.core.cli_format import Col, console, print_table, text_col
from smarketing.core.formatting import money, percent_value

campaign_app = typer.Typer(help="Campaigns as sales carries them: briefs and message consistency.",
                           no_args_is_help=True)


def _verdicts(items: list[Any], status: str, limit: int = 3) -> list[dict[str, Any]]:
    return [{"text": v.text, "similarity": v.similarity, "closest": v.closest}
            for v in [v for v in items if v.status == status][:limit]]


@campaign_app.command("consistency")
def consistency(campaign: int = typer.Option(0, help="One campaign, with matching and drifting sentences"),
                backend: str = typer.Option("", help="tfidf or embedding (default: SMARKETING_THEME_BACKEND)"),
                with_roi: bool = typer.Option(False, "--with-roi", help="Show consistency beside each campaign's ROI"),
                as_json: bool = typer.Option(False, "--json")) -> None:
    """How closely sales outreach carries each campaign's core message and proof points, per campaign and rep."""
    from smarketing.campaigns.brief_selectors import (
        campaign_consistency_get,
        campaign_consistency_list,
        consistency_beside_roi,
    )

    if with_roi:
        joined = consistency_beside_roi(backend=backend or None)
        if as_json:
            typer.echo(json.dumps({"rows": [j.__dict__ for j in joined.rows], "correlation": joined.correlation},
                                  indent=2, default=str))
            return
        print_table(console(), [Col("id"), text_col("campaign"), Col("consistency"), Col("ROI"), Col("revenue")],
                    [[str(j.campaign_id), j.campaign, "—" if j.consistency is None else f"{j.consistency:.2f}",
                      percent_value(j.roi), money(j.revenue)] for j in joined.rows], keys=2,
                    legend=["consistency: 0–1 similarity of outreach to the brief; ROI = (attributed revenue − cost) "
                            "/ cost, in percent"])
        if joined.correlation is not None:
            typer.echo(f"rank correlation of consistency with ROI: {joined.correlation:+.2f}")
        return

    rows = ([campaign_consistency_get(campaign_id=campaign, backend=backend or None)] if campaign
            else campaign_consistency_list(backend=backend or None))
    if as_json:
        typer.echo(json.dumps([{
            "campaign_id": c.campaign_id, "campaign": c.campaign, "has_brief": c.has_brief, "outreach": c.outreach,
            "score": c.score, "proof_point_coverage": c.coverage,
            "reps": [r.__dict__ for r in c.reps],
            "items": [{"outreach_id": i.outreach_id, "rep": i.rep, "score": i.result.score,
                       "semantic": i.result.semantic, "coverage": i.result.coverage, "missing": i.result.missing,
                       "matching": _verdicts(i.result.sentences, "match"),
                       "drifting": _verdicts(i.result.sentences, "drift")} for i in c.items],
        } for c in rows], indent=2, default=str, ensure_ascii=False))
        return
    if not rows:
        typer.echo("no campaign has a brief or linked outreach yet")
    for c in rows:
        score = "no brief" if not c.has_brief else "-" if c.score is None else f"{c.score:.2f}"
        typer.echo(f"{c.campaign_id:>4}  {c.campaign:<40}  outreach {c.outreach:>4}  consistency {score}")
        for r in c.reps:
            typer.echo(f"        {r.rep:<20} {r.outreach:>4} pieces  {'-' if r.score is None else f'{r.score:.2f}'}")
        for i in c.items:
            typer.echo(f"      outreach {i.outreach_id} by {i.rep}: {i.result.score:.2f} "
                       f"(message {i.result.semantic:.2f}, proof points {i.result.coverage:.0%})")
            for v in _verdicts(i.result.sentences, "match"):
                typer.echo(f"        + {v['text']}")
            for v in _verdicts(i.result.sentences, "drift"):
                typer.echo(f"        - {v['text']}")


def register(app: typer.Typer) -> None:
    app.add_typer(campaign_app, name="campaign")
