"""`smarketing handoff …`, `smarketing sla …`, `smarketing webhook …`: the handoff queue, decisions, the SLA
and outgoing webhooks from the command line."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import typer

from smarketing.core.cli_format import Col, console, print_table, text_col
from smarketing.core.formatting import business_hours, percent, when


def _echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, default=str))


def _decider(username: str | None, contact: Any) -> Any:
    from smarketing.core.errors import ValidationFailed
    from smarketing.team.selectors import user_get_by_username

    if username:
        return user_get_by_username(username=username)
    if contact.owner is None:
        raise ValidationFailed(f"contact {contact.pk} has no owner; say who decides with --as USERNAME", field="as")
    return contact.owner


def _decision_out(d: Any) -> dict[str, Any]:
    return {"decision_id": d.pk, "contact_id": d.contact_id, "decision": d.decision, "to_stage": d.to_stage,
            "reason_key": d.reason_key, "reason_label": d.reason_label, "note": d.note,
            "recycle_until": d.recycle_until, "decided_by": d.decided_by.username if d.decided_by else None,
            "decided_at": d.decided_at, "playbook_version": d.playbook_version.number}


def _print_compliance(c: dict[str, Any]) -> None:
    con = console()
    con.print()

    def rate(b: dict[str, Any]) -> str:
        return percent(b["within_sla_rate"])

    sales = c["sales"]
    print_table(con, [text_col("clock"), Col("within SLA"), Col("met"), Col("breached"), Col("open")],
                [[kind, rate(b), str(b["met"]), str(b["breached"]), str(b["open"])]
                 for kind, b in sales["overall"].items()], title=f"Sales, {c['period']}")
    rows = [[f"team {t['team']}", "", rate(t["first_touch"]), rate(t["decision"])] for t in sales["teams"]]
    rows += [[p["name"], p["team"], rate(p["first_touch"]), rate(p["decision"])] for p in sales["people"]]
    if rows:
        con.print()
        print_table(con, [text_col("team or person"), text_col("team"), Col("first touch"), Col("decision")], rows,
                    title="Within SLA by team and person")
    m = c["marketing"]
    state = ("met" if m["volume_met"] else "missed" if m["closed"] else "on pace" if m["on_pace"] else "behind pace")
    con.print()
    con.print(f"marketing, {m['period']}: {m['mql_volume']} MQLs of {m['mql_target']} committed ({state}); "
              f"acceptance {percent(m['acceptance_rate'])} vs {percent(m['acceptance_target'])}")


def _clock_text(clock: dict[str, Any]) -> str:
    """A clock in words: when a met clock was met, when a breached one was due, else the business hours left."""
    hours = clock["business_hours_left"]
    if clock["state"] == "met":
        return f"met {when(clock.get('resolved_at'))}" if clock.get("resolved_at") else "met"
    if clock["state"] == "breached":
        return f"breached (due {when(clock['deadline'])})"
    return f"{business_hours(hours)} left" if hours > 0 else f"overdue {business_hours(hours)}"


def register(app: typer.Typer) -> None:
    handoff = typer.Typer(help="MQL handoff: qualify, the queue, accept / reject / recycle, closed-loop report.",
                          no_args_is_help=True)
    sla = typer.Typer(help="The two-sided SLA: status, compliance, one check pass.", no_args_is_help=True)
    webhook = typer.Typer(help="Outgoing webhooks (signed HMAC-SHA256, retried with backoff).", no_args_is_help=True)
    app.add_typer(handoff, name="handoff")
    app.add_typer(sla, name="sla")
    app.add_typer(webhook, name="webhook")
    correct = typer.Typer(help="RevOps: correct a bad history row (a recorded reversal, never an edit).",
                          no_args_is_help=True)
    app.add_typer(correct, name="correct")

    @correct.command("stage-change")
    def correct_stage_change(change_id: int = typer.Argument(..., help="The stage change's id"),
                             reason: str = typer.Option(..., "--reason", help="Why it is wrong"),
                             as_user: str = typer.Option(..., "--as", help="The RevOps admin correcting it")) -> None:
        """Reverse a stage change: it stays in the history, marked, and drops out of every figure."""
        from smarketing.lifecycle.services_corrections import stage_change_correct
        from smarketing.team.selectors import user_get_by_username

        c = stage_change_correct(stage_change_id=change_id, reason=reason,
                                 corrected_by=user_get_by_username(username=as_user))
        typer.echo(f"stage change {change_id} corrected by {as_user}: {c.reason}")

    @correct.command("touchpoint")
    def correct_touchpoint(touchpoint_id: int = typer.Argument(..., help="The touchpoint's id"),
                           reason: str = typer.Option(..., "--reason", help="Why it is wrong"),
                           as_user: str = typer.Option(..., "--as", help="The RevOps admin correcting it")) -> None:
        """Reverse a touchpoint: it stays in the history, marked, and drops out of every figure."""
        from smarketing.campaigns.services import touchpoint_correct
        from smarketing.team.selectors import user_get_by_username

        c = touchpoint_correct(touchpoint_id=touchpoint_id, reason=reason,
                               corrected_by=user_get_by_username(username=as_user))
        typer.echo(f"touchpoint {touchpoint_id} corrected by {as_user}: {c.reason}")


    # ------------------------------------------------------------------------------------------- handoff

    @handoff.command()
    def qualify(contact_id: int | None = typer.Argument(None, help="One contact; omit with --all"),
                all_: bool = typer.Option(False, "--all", help="Every lead and recycled contact"),
                as_json: bool = typer.Option(False, "--json")) -> None:
        """Make contacts MQLs where the playbook's criteria hold, then route them and start their SLA clocks."""
        from smarketing.lifecycle.services_bulk import mqls_qualify_bulk
        from smarketing.lifecycle.services_handoff import contact_get_for_handoff, mql_qualify

        if all_:
            counts = mqls_qualify_bulk()
            _echo_json(counts) if as_json else typer.echo(
                f"{counts['qualified']} of {counts['checked']} contacts became MQLs")
            return
        if contact_id is None:
            raise typer.BadParameter("give a CONTACT_ID or --all")
        result = mql_qualify(contact=contact_get_for_handoff(contact_id=contact_id))
        a = result.assignment
        out: dict[str, Any] = {"contact_id": contact_id, "qualified": result.qualified, "score": result.score, "unmet": result.unmet,
               "assigned_to": a.owner.username if a and a.owner else None, "routing_reason": a.reason if a else None}
        if as_json:
            _echo_json(out)
        elif result.qualified:
            typer.echo(f"contact {contact_id} is now an MQL (score {result.score['total']:.1f}); "
                       f"assigned to {out['assigned_to'] or 'nobody'}: {out['routing_reason']}")
        else:
            typer.echo(f"contact {contact_id} does not qualify:\n  " + "\n  ".join(result.unmet))

    @handoff.command()
    def queue(owner: str | None = typer.Option(None, "--owner", help="Only this seller's MQLs (username)"),
              team: str = typer.Option("", "--team", help="Only this team's MQLs"),
              as_json: bool = typer.Option(False, "--json")) -> None:
        """MQLs awaiting a decision, most urgent first, with SLA countdowns in business hours."""
        from smarketing.lifecycle.selectors_queue import handoff_queue
        from smarketing.team.selectors import user_get_by_username

        owner_id = user_get_by_username(username=owner).pk if owner else None
        rows = handoff_queue(owner_id=owner_id, team=team)
        if as_json:
            _echo_json(rows)
            return
        if not rows:
            typer.echo("no MQLs are waiting for a decision")
            return
        print_table(console(), [text_col("contact"), text_col("account"), Col("score"), text_col("owner"),
                                text_col("first touch"), text_col("decision")],
                    [[f"#{r['contact_id']} {r['name']}", r["account"], f"{r['score_total'] or 0:.1f}",
                      r["owner"] or "nobody", *[_clock_text(r["sla"][k]) if k in r["sla"] else "not started"
                                                for k in ("first_touch", "decision")]]
                     for r in rows], title="MQLs awaiting a decision (bh: business hours)")
        for r in rows:
            others = sorted({t["actor"] or "?" for t in r["touched_by_others"]})
            if others:
                typer.echo(f"#{r['contact_id']} {r['name']}: touched by someone else: {', '.join(others)}")

    @handoff.command()
    def accept(contact_id: int = typer.Argument(...),
               as_user: str | None = typer.Option(None, "--as", help="Who decides (default: the contact's owner)"),
               sql: bool = typer.Option(False, "--sql", help="Straight to SQL (qualification already done)"),
               note: str = typer.Option("", "--note"), as_json: bool = typer.Option(False, "--json")) -> None:
        """Accept an MQL: it becomes a SAL (or an SQL with --sql)."""
        from smarketing.lifecycle.services_handoff import contact_get_for_handoff, handoff_accept

        contact = contact_get_for_handoff(contact_id=contact_id)
        d = handoff_accept(contact=contact, user=_decider(as_user, contact), to_stage="sql" if sql else "sal",
                           note=note)
        _echo_json(_decision_out(d)) if as_json else typer.echo(f"contact {contact_id} accepted → {d.to_stage}")

    @handoff.command()
    def reject(contact_id: int = typer.Argument(...),
               reason: str = typer.Option(..., "--reason", help="A rejection reason key from the playbook"),
               note: str = typer.Option("", "--note", help="Free text for marketing"),
               as_user: str | None = typer.Option(None, "--as", help="Who decides (default: the contact's owner)"),
               to_stage: str = typer.Option("", "--to", help="recycled or disqualified (default: the "
                                                             "reason's disposition in the playbook)"),
               as_json: bool = typer.Option(False, "--json")) -> None:
        """Reject an MQL with a reason from the playbook; it is disqualified or recycled."""
        from smarketing.lifecycle.services_handoff import contact_get_for_handoff, handoff_reject

        contact = contact_get_for_handoff(contact_id=contact_id)
        d = handoff_reject(contact=contact, user=_decider(as_user, contact), reason_key=reason, note=note,
                           to_stage=to_stage)
        _echo_json(_decision_out(d)) if as_json else typer.echo(
            f"contact {contact_id} rejected ({d.reason_label}) → {d.to_stage}")

    @handoff.command()
    def recycle(contact_id: int = typer.Argument(...),
                until: str | None = typer.Option(None, "--until", help="YYYY-MM-DD (default: playbook's days)"),
                reason: str = typer.Option("", "--reason", help="Optional reason key from the playbook"),
                note: str = typer.Option("", "--note"),
                as_user: str | None = typer.Option(None, "--as", help="Who decides (default: the contact's owner)"),
                as_json: bool = typer.Option(False, "--json")) -> None:
        """Send an MQL back to nurture until a date."""
        from smarketing.core.errors import ValidationFailed
        from smarketing.lifecycle.services_handoff import contact_get_for_handoff, handoff_recycle

        try:
            until_date = date.fromisoformat(until) if until else None
        except ValueError:
            raise ValidationFailed(f"--until {until!r} is not a date (YYYY-MM-DD)", field="until") from None
        contact = contact_get_for_handoff(contact_id=contact_id)
        d = handoff_recycle(contact=contact, user=_decider(as_user, contact), until=until_date, note=note,
                            reason_key=reason)
        _echo_json(_decision_out(d)) if as_json else typer.echo(
            f"contact {contact_id} recycled to nurture until {d.recycle_until}")

    @handoff.command()
    def report(as_json: bool = typer.Option(False, "--json"),
               since: str | None = typer.Option(None, "--since", help="MQLs from this date (YYYY-MM-DD)")) -> None:
        """The closed-loop report: acceptance and rejection per scoring rule and per campaign, with reasons."""
        from datetime import UTC, datetime

        from smarketing.lifecycle.selectors_report import handoff_report

        start = datetime.combine(date.fromisoformat(since), datetime.min.time(), tzinfo=UTC) if since else None
        out = handoff_report(since=start)
        if as_json:
            _echo_json(out)
            return
        o = out["overall"]
        typer.echo(f"{o['mqls']} MQLs, {o['decided']} decided: accepted {percent(o['acceptance_rate'])}, "
                   f"rejected/recycled {percent(o['rejection_rate'])}")
        con = console()
        for title, rows, key in (("scoring rule", out["rules"], "rule_id"), ("campaign", out["campaigns"], "campaign")):
            con.print()
            print_table(con, [text_col(title), Col("MQLs"), Col("accepted"), Col("rejected"), text_col("top reasons")],
                        [[str(r[key]), f"{r['mqls']:,}", percent(r["acceptance_rate"]), percent(r["rejection_rate"]),
                          ", ".join(f"{k} {v}" for k, v in list(r["reasons"].items())[:3])] for r in rows],
                        title=f"By {title}")

    # ----------------------------------------------------------------------------------------------- sla

    @sla.command()
    def status(as_json: bool = typer.Option(False, "--json")) -> None:
        """Open and overdue clocks, recent breaches, this period's compliance of both sides, the worker."""
        from smarketing.lifecycle.selectors_sla import sla_status

        out = sla_status()
        if as_json:
            _echo_json(out)
            return
        worker = out["worker"]
        typer.echo(f"open clocks {out['open_clocks']}, overdue awaiting the worker {out['overdue_unprocessed']}")
        typer.echo("worker: " + (f"last scheduled check {when(worker['last_sla_check_at'])}"
                                 if worker["last_sla_check_at"] else "no scheduled check has run yet (start it with "
                                 "`smarketing worker`; `smarketing sla check` runs one pass by hand)")
                   + (f"; next {when(worker['next_sla_check_at'])}" if worker["next_sla_check_at"] else ""))
        for b in out["recent_breaches"][:5]:
            who = (f"#{b['contact_id']} {b['contact']}, {b['owner'] or 'nobody'}" if b["contact_id"] is not None
                   else f"marketing's commitment{', ' + b['team'] if b['team'] else ''}")
            due = f"due {when(b['deadline'])}" if b["deadline"] else "judged at the end of the period"
            typer.echo(f"  breached: {b['clock_kind']} — {who}, {due}")
        _print_compliance(out["compliance"])

    @sla.command()
    def compliance(period: str = typer.Option("", "--period", help="2026-11, 2026-W48 or 2026-Q4 (default: now)"),
                   kind: str = typer.Option("", "--kind", help="week, month or quarter (default: the playbook's)"),
                   as_json: bool = typer.Option(False, "--json")) -> None:
        """Compliance of both sides for one period, per team and per person."""
        from smarketing.core.errors import ValidationFailed
        from smarketing.lifecycle.selectors_sla import sla_compliance

        if period and not kind:
            kind = "week" if "-W" in period else "quarter" if "-Q" in period else "month"
        try:
            out = sla_compliance(period_kind=kind, period_key=period)
        except ValueError as exc:
            raise ValidationFailed(str(exc), field="period") from None
        _echo_json(out) if as_json else _print_compliance(out)

    @sla.command()
    def check(as_json: bool = typer.Option(False, "--json")) -> None:
        """One SLA pass now, without the worker: record breaches, judge closed periods, send due webhooks."""
        from smarketing.lifecycle.services_sla_check import sla_check_once

        out = sla_check_once()
        _echo_json(out) if as_json else typer.echo(
            f"{out['breached']} breach(es) recorded; {out['webhooks_delivered']} webhook(s) delivered, "
            f"{out['webhooks_failed']} to retry; marketing: {', '.join(out['marketing_verdicts']) or 'nothing new'}")

    # ------------------------------------------------------------------------------------------- webhook

    @webhook.command()
    def add(url: str = typer.Argument(..., help="http(s) URL that receives POSTs"),
            secret: str = typer.Option(..., "--secret", help="Shared secret for the HMAC-SHA256 signature"),
            event: list[str] = typer.Option([], "--event", help="Only these event types (repeatable)"),
            description: str = typer.Option("", "--description")) -> None:
        """Register an endpoint."""
        from smarketing.lifecycle.services_webhooks import webhook_endpoint_create

        ep = webhook_endpoint_create(url=url, secret=secret, event_types=event, description=description)
        typer.echo(f"webhook {ep.pk} → {ep.url} ({', '.join(ep.event_types) or 'all events'})")

    @webhook.command("list")
    def list_(as_json: bool = typer.Option(False, "--json")) -> None:
        """Endpoints with their delivery counts."""
        from smarketing.lifecycle.selectors_webhooks import webhook_endpoint_list

        rows = [{"id": e.pk, "url": e.url, "active": e.active, "event_types": e.event_types,
                 "delivered": e.delivered, "pending": e.pending, "failed": e.failed}  # type: ignore[attr-defined]
                for e in webhook_endpoint_list()]
        if as_json:
            _echo_json(rows)
            return
        for r in rows:
            typer.echo(f"{r['id']:>4} {'on ' if r['active'] else 'off'} {r['url']}  delivered {r['delivered']}, "
                       f"pending {r['pending']}, failed {r['failed']}")

    @webhook.command()
    def ping(endpoint_id: int = typer.Argument(..., help="Endpoint id (see `webhook list`)")) -> None:
        """Send a signed test delivery to an endpoint now."""
        from smarketing.lifecycle.services_webhooks import webhook_endpoint_get, webhook_ping

        row = webhook_ping(endpoint=webhook_endpoint_get(endpoint_id=endpoint_id))
        typer.echo(f"ping to {row.endpoint.url}: {row.status}"
                   + (f" (HTTP {row.last_status_code})" if row.last_status_code else "")
                   + (f" — {row.last_error}" if row.last_error else ""))
