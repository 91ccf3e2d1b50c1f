"""`smarketing playbook …`: show, export, import, sign off and diff the shared playbook."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from smarketing.playbook.impact import Impact
    from smarketing.playbook.models import PlaybookVersion
    from smarketing.playbook.schema import Criterion, Playbook


def register(app: typer.Typer) -> None:
    playbook = typer.Typer(help="The shared playbook: show, export, import, sign off, diff.", no_args_is_help=True)
    app.add_typer(playbook, name="playbook")

    @playbook.command("list")
    def list_() -> None:
        """List versions, newest first, with status and each side's sign-off."""
        from smarketing.playbook.selectors import playbook_version_list

        versions = playbook_version_list()
        if not versions:
            typer.echo("no playbook versions yet: smarketing migrate adopts the shipped default")
            return
        for v in versions:
            status = _signoff_status(v)
            sides = "  ".join(f"{side}: {s.user.username if s else '—'}" for side, s in status.items())
            when = f"{v.created_at:%Y-%m-%d}"
            typer.echo(f"v{v.number:<4} {v.status:<10} {when}  {sides}  {v.notes[:60]}")

    @playbook.command()
    def show(version: int | None = typer.Option(None, "--version", "-v", help="Version number (default: active)"),
             as_json: bool = typer.Option(False, "--json", help="Print the version and its content as JSON")) -> None:
        """Print a readable summary: stages, scoring, threshold, routing, SLA, goals and sign-offs."""
        from smarketing.playbook.selectors import playbook_terms

        v = _version(version)
        if as_json:
            from smarketing.playbook.schemas import PlaybookVersionDetailOut  # the API's shape (django-ninja)

            typer.echo(json.dumps(PlaybookVersionDetailOut.from_orm(v).model_dump(mode="json"), indent=2))
            return
        typer.echo(render_summary(v, playbook_terms(v)))

    @playbook.command()
    def export(version: int | None = typer.Option(None, "--version", "-v", help="Version number (default: active)"),
               output: Path | None = typer.Option(None, "--output", "-o", help="Write to this file, not stdout")
               ) -> None:
        """Export a version as one YAML file."""
        from smarketing.playbook.selectors import playbook_to_yaml

        v = _version(version)
        text = playbook_to_yaml(v)
        if output is None:
            typer.echo(text, nl=False)
            return
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            _fail(f"cannot write {output}: {exc.strerror or exc}")
        typer.echo(f"wrote playbook v{v.number} ({v.status}) to {output}", err=True)

    @playbook.command("import")
    def import_(file: Path = typer.Argument(..., help="A playbook YAML file (see `playbook export`)"),
                notes: str = typer.Option("", "--notes", "-n", help="What changed and why"),
                as_user: str | None = typer.Option(None, "--as", help="Username recorded as the draft's author")
                ) -> None:
        """Import a YAML file as a new draft; marketing and sales then sign it off."""
        from smarketing.core.errors import ValidationFailed
        from smarketing.playbook.diff import content_changes
        from smarketing.playbook.selectors import playbook_version_active_get
        from smarketing.playbook.services import parse_yaml, playbook_draft_create
        from smarketing.team.selectors import user_get_by_username

        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            _fail(f"cannot read {file}: {getattr(exc, 'strerror', None) or exc}")
        author = user_get_by_username(username=as_user) if as_user else None
        active = _active_or_none(playbook_version_active_get)
        try:
            draft = playbook_draft_create(content=parse_yaml(text), created_by=author, notes=notes or f"imported {file.name}",
                                          based_on=active)
        except ValidationFailed as exc:
            problems = exc.details or [{"field": exc.field or "(file)", "message": exc.message}]
            lines = [f"error: {file} is not a valid playbook ({len(problems)} problem{'s' if len(problems) != 1 else ''}):"]
            lines += [f"  {p['field']}: {p['message']}" for p in problems]
            _fail("\n".join(lines), prefix=False)
        typer.echo(f"created draft v{draft.number} from {file}")
        if active is not None:
            changes = content_changes(active.content, draft.content)
            typer.echo(f"{len(changes)} change(s) from active v{active.number}"
                       + (f"; see: smarketing playbook diff {active.number} {draft.number}" if changes else ""))
        typer.echo(f"next: a marketing and a sales user sign it off: smarketing playbook signoff {draft.number} --as USER")

    @playbook.command()
    def signoff(version: int = typer.Argument(..., help="Draft version number"),
                as_user: str = typer.Option(..., "--as", help="Username signing (their role gives the side)"),
                comment: str = typer.Option("", "--comment", "-c")) -> None:
        """Sign off a draft for the user's side; with both sides signed it becomes active."""
        from smarketing.playbook.selectors import playbook_version_get
        from smarketing.playbook.services import playbook_sign_off
        from smarketing.team.selectors import user_get_by_username

        user = user_get_by_username(username=as_user)
        v = playbook_sign_off(version=playbook_version_get(number=version), user=user, comment=comment)
        v = playbook_version_get(number=v.number)
        typer.echo(f"{user.username} signed v{v.number} for {user.role}")
        if v.status == "active":
            typer.echo(f"playbook v{v.number} is now active; new stage changes are stamped with it and the "
                       "worker rebuilds the scores under its rules")
        else:
            waiting = [side for side, st in _signoff_status(v).items() if not st]
            typer.echo(f"v{v.number} is still a draft; waiting for: {', '.join(waiting)}")

    @playbook.command()
    def impact(version: int = typer.Argument(..., help="Version number (usually a draft)"),
               as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON")) -> None:
        """What a version would have done to the last year of history, next to the active version."""
        from smarketing.playbook.selectors import playbook_impact, playbook_version_get

        result = playbook_impact(playbook_version_get(number=version))
        if as_json:
            typer.echo(json.dumps(result.as_dict(), indent=2))
            return
        typer.echo(render_impact(result))

    @playbook.command()
    def diff(a: int = typer.Argument(..., help="Older version"), b: int = typer.Argument(..., help="Newer version"),
             unified: bool = typer.Option(False, "--unified", "-u", help="Print a unified diff of the YAML")) -> None:
        """What changed between two versions."""
        from smarketing.playbook.diff import content_changes
        from smarketing.playbook.selectors import playbook_diff, playbook_version_get

        old, new = playbook_version_get(number=a), playbook_version_get(number=b)
        if unified:
            typer.echo("\n".join(playbook_diff(old, new)))
            return
        changes = content_changes(old.content, new.content)
        typer.echo(f"v{a} → v{b}: {len(changes)} change(s)")
        for change in changes:
            typer.echo(f"  {change.describe()}")


def _fail(message: str, *, prefix: bool = True) -> None:
    typer.secho(f"error: {message}" if prefix else message, err=True, fg=typer.colors.RED)
    raise typer.Exit(2)


def _version(number: int | None) -> PlaybookVersion:
    from smarketing.playbook.selectors import playbook_version_active_get, playbook_version_get

    return playbook_version_get(number=number if number is not None else playbook_version_active_get().number)


def _active_or_none(getter: Any) -> PlaybookVersion | None:
    from smarketing.core.errors import Conflict

    try:
        version: PlaybookVersion = getter()
        return version
    except Conflict:
        return None


def _signoff_status(version: PlaybookVersion) -> dict[str, Any]:
    """Per side, the current signature (on this exact content) or None."""
    out: dict[str, Any] = {"marketing": None, "sales": None}
    for s in version.signoffs.all():
        if s.content_sha == version.content_sha and out.get(s.side) is None:
            out[s.side] = s
    return out


def _criteria(criteria: list[Criterion]) -> str:
    def one(c: Criterion) -> str:
        if c.op == "exists":
            return f"{c.field} exists"
        value = ", ".join(map(str, c.value)) if isinstance(c.value, list) else (
            f"{c.value:g}" if isinstance(c.value, float) else c.value)
        return f"{c.field} {c.op} [{value}]" if isinstance(c.value, list) else f"{c.field} {c.op} {value}"

    return " and ".join(one(c) for c in criteria)


def render_summary(version: PlaybookVersion, terms: Playbook) -> str:
    """A readable summary of one version, as `playbook show` prints it."""
    lines = [f"{terms.name} — playbook v{version.number} ({version.status}"
             + (", bootstrap default" if version.bootstrap else "") + ")"]
    if version.activated_at:
        lines.append(f"  active since {version.activated_at:%Y-%m-%d %H:%M} UTC")
    if version.notes:
        lines.append(f"  notes: {version.notes}")
    lines.append("Sign-off:")
    for side, s in _signoff_status(version).items():
        mark = f"signed by {s.user.username} on {s.signed_at:%Y-%m-%d}" if s else "not signed"
        lines.append(f"  {side:<10} {mark}" + (f" — {s.comment}" if s and s.comment else ""))

    lines.append(f"Stages ({len(terms.stages)}):")
    for st in terms.stages:
        lines.append(f"  {st.key.value:<13} {st.name:<28} owner: {st.owner_side:<10}{st.definition}")
        entry = terms.entry_criteria(st.key)
        if entry:
            lines.append(f"  {'':<13} entry: {_criteria(entry)}")

    sc = terms.scoring
    lines.append(f"Scoring: MQL threshold {sc.mql_threshold:g} · engagement half-life {sc.engagement_half_life_days:g} "
                 f"days · weights fit {sc.fit_weight:g} / engagement {sc.engagement_weight:g}")
    lines.append("  fit rules:")
    for fr in sc.fit_rules:
        lines.append(f"    {fr.points:+4d}  {fr.id:<22} {fr.description}  (when {_criteria(list(fr.when))})")
    lines.append("  engagement rules:")
    for er in sc.engagement_rules:
        lines.append(f"    {er.points:+4d}  {er.id:<22} {er.kind.value} (up to {er.max_count}×)  {er.description}")

    ro = terms.routing
    flags = [f"default team {ro.default_team or '(none)'}", f"capacity per {ro.capacity_period}"]
    if ro.account_owner_first:
        flags.insert(0, "account owner first")
    if ro.skip_out_of_office:
        flags.append("skip out-of-office")
    lines.append("Routing: " + " · ".join(flags))
    for rr in ro.rules:
        lines.append(f"    {rr.id:<22} → {rr.team:<12} when {_criteria(list(rr.when))}")

    sla, cal = terms.sla, terms.sla.calendar
    lines.append(f"SLA (business hours {cal.day_start:%H:%M}–{cal.day_end:%H:%M} {cal.timezone}, "
                 f"{'/'.join(cal.working_days)}, {len(cal.holidays)} holidays):")
    breach = sla.sales.on_breach
    lines.append(f"  sales:     first touch within {sla.sales.first_touch_business_hours:g} business hours; accept or "
                 f"reject within {sla.sales.decision_business_days:g} business days; on breach notify "
                 f"{', '.join(breach.notify) or 'nobody'}"
                 + (f", escalate to {breach.escalate_to_role}" if breach.escalate_to_role else "")
                 + (", reassign" if breach.reassign else ""))
    lines.append(f"  marketing: {sla.marketing.mql_volume} MQLs per {sla.marketing.period}, "
                 f"acceptance rate at least {sla.marketing.min_acceptance_rate:.0%}")
    lines.append(f"Handoff: recycled leads return after {terms.handoff.recycle_default_days} days; rejection reasons: "
                 + ", ".join(f"{r.key} (→ {r.disposition})" for r in terms.handoff.rejection_reasons))

    lines.append("Goals:" if terms.goals else "Goals: none")
    for g in terms.goals:
        lines.append(f"  {g.period:<8} {g.currency} {g.revenue:,.0f}" + (f"  ({g.segment})" if g.segment else ""))
    return "\n".join(lines)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:,.1f}"


def render_impact(impact: Impact) -> str:
    """The impact preview as `playbook impact` prints it: one row per figure, active beside the version."""
    a, d = impact.active, impact.draft
    head = f"v{d.version}" if d.version is not None else "draft"
    lines = [f"Impact of {head} ({d.status}) against active v{a.version}, "
             f"{impact.contacts:,} contacts decided or last touched {impact.history_from} – {impact.history_to} "
             f"({_num(impact.months)} months)"]
    rows = [("MQL threshold", f"{a.threshold:g}", f"{d.threshold:g}"),
            ("MQLs", f"{a.mqls:,}", f"{d.mqls:,}"),
            ("MQLs per month", _num(a.mqls_per_month), _num(d.mqls_per_month)),
            ("Acceptance rate", _pct(a.acceptance_rate), _pct(d.acceptance_rate)),
            ("Opportunity rate", _pct(a.opportunity_rate), _pct(d.opportunity_rate)),
            ("Win rate", _pct(a.won_rate), _pct(d.won_rate))]
    lines.append(f"  {'':<18} {'active v' + str(a.version):>12} {head:>12}")
    lines += [f"  {label:<18} {left:>12} {right:>12}" for label, left, right in rows]
    c = impact.commitment
    verdict = {True: "met", False: "missed", None: "unknown"}
    lines.append(f"Marketing SLA of {head}: {c.mql_volume} MQLs per {c.period} ({verdict[c.meets_volume]}: "
                 f"{_num(c.expected_volume)} expected); acceptance at least {c.min_acceptance_rate:.0%} "
                 f"({verdict[c.meets_acceptance]})")
    if impact.scoring_changed:
        lines.append("Scoring rules differ from the active version: every contact was rescored under them.")
    return "\n".join(lines)
