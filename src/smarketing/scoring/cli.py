"""`smarketing score …`: train and inspect the predictive model, explain scores, agree the threshold, rebuild."""

from __future__ import annotations

import json
from typing import Any

import typer

score_app = typer.Typer(help="Lead scoring: explain, predictive model, MQL threshold, rebuild.",
                        no_args_is_help=True)


def _print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, default=str))


def exclusion_lines(card: dict[str, Any]) -> list[str]:
    """The model card's exclusions in words: each column with its rule and numbers, contacts, the touch cutoff."""
    lines = []
    for e in card.get("excluded_columns", []):
        numbers = ", ".join(f"{k} {v}" for k, v in e.items() if k not in ("field", "rule"))
        lines.append(f"column {e['field']}: {e['rule']}" + (f" ({numbers})" if numbers else ""))
    for e in card.get("excluded_contacts", []):
        lines.append(f"{e['contacts']} contacts left out: {e['rule']}")
    cutoff = card.get("cutoff")
    if cutoff:
        lines.append(f"{cutoff['touches_excluded']} touches left out: {cutoff['rule']} "
                     f"({cutoff['contacts_qualified']} contacts qualified)")
    return lines


@score_app.command()
def train(include_leaky: bool = typer.Option(False, "--include-leaky",
                                             help="Also use the leaky columns: Tags/Lead Quality, sales "
                                                  "touches and columns found present for one class only "
                                                  "(kept for comparison, never activated)"),
          algorithm: str = typer.Option("auto", help="auto, logistic or gradient_boosting"),
          accept_suspicious: bool = typer.Option(False, "--accept-suspicious",
                                                 help="Keep a model whose held-out AUC is above 0.99"),
          json_out: bool = typer.Option(False, "--json", help="Print the model card as JSON")) -> None:
    """Train the predictive score on recorded outcomes and print its model card (AUC on a held-out split)."""
    from smarketing.scoring.services import predictive_train

    model = predictive_train(include_leaky=include_leaky, algorithm=algorithm, accept_suspicious=accept_suspicious)
    card = {"model_id": model.pk, **model.card}
    if json_out:
        _print_json(card)
        return
    typer.echo(f"model {model.pk}: {card['algorithm']}, AUC {card['auc']:.3f} on {card['n_test']} held-out contacts "
               f"(base rate {card['base_rate']:.1%}, Brier {card['brier']:.3f} vs {card['brier_base_rate']:.3f} "
               f"for the base rate){'; active' if model.active else '; stored, not active (uses leaky columns)'}")
    typer.echo(f"features: {len(card['features']['numeric'])} numeric, {len(card['features']['categorical'])} "
               f"categorical; leaky columns {'included' if include_leaky else 'excluded'}: "
               f"{', '.join(card['leaky_columns']) or 'none found'}")
    if card.get("suspicious"):
        typer.echo(f"SUSPICIOUS (kept with --accept-suspicious): {card['suspicious']}")
    for line in exclusion_lines(card):
        typer.echo(f"  {line}")
    typer.echo("top features (AUC drop when shuffled):")
    for f in card["top_features"][:8]:
        typer.echo(f"  {f['feature']:<45} {f['auc_drop']:+.4f}")
    typer.echo("calibration (predicted → observed):")
    for b in card["calibration"]:
        typer.echo(f"  {b['bin']:<9} n={b['n']:<5} {b['mean_predicted']:.2f} → {b['observed_rate']:.2f}")


@score_app.command()
def explain(contact_id: int = typer.Argument(..., help="Contact id"),
            fresh: bool = typer.Option(True, "--fresh/--cached", help="Rescore now (default) or show the cache"),
            json_out: bool = typer.Option(False, "--json", help="Print as JSON")) -> None:
    """Which rules gave a contact how many points, and whether it qualifies as an MQL."""
    from smarketing.scoring.selectors import contact_score_explain

    data = contact_score_explain(contact_id=contact_id, fresh=fresh)
    if json_out:
        _print_json(data)
        return
    typer.echo(f"contact {contact_id}: total {data['total']:.1f} = fit {data['fit']:.1f} × {data['fit_weight']:g} "
               f"+ engagement {data['engagement']:.1f} × {data['engagement_weight']:g}  "
               f"(playbook v{data['playbook_version']}, as of {data['as_of']})")
    for line in data["explanation"]:
        typer.echo(f"  {line['points']:+8.2f}  {line['rule_id']:<22} {line['summary']}")
    if data["predictive"] is not None:
        typer.echo(f"predictive: {data['predictive']:.1%} chance to convert (model {data['predictive_model_id']})")
    typer.echo("MQL: yes" if data["qualifies_as_mql"] else "MQL: not yet — " + "; ".join(data["mql_unmet"]))


@score_app.command()
def threshold(score: str = typer.Option("total", help="total (rule-based) or predictive"),
              json_out: bool = typer.Option(False, "--json", help="Print as JSON")) -> None:
    """Propose the MQL threshold from history: MQL volume against acceptance/opportunity/won rate per threshold."""
    from smarketing.scoring.selectors import threshold_proposal

    if score not in ("total", "predictive"):
        from smarketing.core.errors import ValidationFailed

        raise ValidationFailed(f"--score {score!r} must be total or predictive", field="score")
    proposal = threshold_proposal(score=score)
    if json_out:
        _print_json(proposal.as_dict())
        return
    typer.echo(f"{proposal.n} contacts; scored by {proposal.basis}")

    def pct(v: float | None) -> str:
        return "    –" if v is None else f"{v:5.1%}"

    typer.echo(f"{'threshold':>9} {'MQLs':>6} {'share':>6} {'accept':>6} {'opp':>6} {'won':>6} {'F1':>5}")
    for r in proposal.table:
        mark = " ← proposed" if r.threshold == proposal.threshold else ""
        mark += " (current)" if r.threshold == proposal.current_threshold else ""
        typer.echo(f"{r.threshold:9g} {r.mql_volume:6d} {pct(r.mql_share)} {pct(r.acceptance_rate)} "
                   f"{pct(r.opportunity_rate)} {pct(r.won_rate)} {r.f1:5.2f}{mark}")
    typer.echo(f"proposal: {proposal.threshold} — {proposal.reason}")


@score_app.command()
def rebuild(background: bool = typer.Option(False, "--background", help="Queue it for the worker instead")) -> None:
    """Rescore every contact and account (vectorised, in batches), or queue that for the worker."""
    if background:
        from smarketing.scoring.tasks import scores_rebuild_all_task

        result = scores_rebuild_all_task.enqueue()
        typer.echo(f"queued full rescore as task {result.id} (run `smarketing worker` to process it)")
        return
    from rich.progress import Progress

    from smarketing.scoring.services import scores_rebuild_all

    with Progress(transient=True) as bar:
        job = bar.add_task("rescoring contacts", total=None)
        n = scores_rebuild_all(progress=lambda done, total: bar.update(job, completed=done, total=total))
    typer.echo(f"rescored {n} contacts and their accounts")


def register(app: typer.Typer) -> None:
    app.add_typer(score_app, name="score")
