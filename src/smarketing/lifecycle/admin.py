from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from smarketing.core.admin import AppendOnlyAdmin
from smarketing.core.errors import DomainError
from smarketing.core.formatting import percent
from smarketing.lifecycle.models import (
    Assignment,
    HandoffDecision,
    MqlAwaitingDecision,
    Notification,
    SlaClock,
    SlaEvent,
    StageChange,
    WebhookDelivery,
    WebhookEndpoint,
)
from smarketing.team.models import User


class ReadOnlyAdmin(AppendOnlyAdmin):
    """Written only by the engine's services."""

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False


@admin.register(StageChange)
class StageChangeAdmin(AppendOnlyAdmin):
    list_display = ("occurred_at", "contact", "account", "from_stage", "to_stage", "actor_kind", "actor",
                    "playbook_version", "reason")
    list_filter = ("to_stage", "actor_kind", "playbook_version")
    search_fields = ("source_key",)
    raw_id_fields = ("contact", "account", "actor")
    date_hierarchy = "occurred_at"


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User), "the admin requires a logged-in user"
    return request.user


def _run(request: HttpRequest, admin_obj: admin.ModelAdmin, rows: QuerySet[Any], action: Any, verb: str) -> None:
    done, failed = 0, []
    for row in rows:
        try:
            action(row)
            done += 1
        except DomainError as exc:
            failed.append(f"#{row.pk}: {exc.message}")
    if done:
        admin_obj.message_user(request, f"{verb} {done} MQL(s)", messages.SUCCESS)
    for problem in failed:
        admin_obj.message_user(request, problem, messages.ERROR)


@admin.register(MqlAwaitingDecision)
class MqlAwaitingDecisionAdmin(ReadOnlyAdmin):
    """The handoff queue: accept, reject with a playbook reason, or recycle the selected MQLs."""

    list_display = ("id", "name", "email", "title", "account", "owner", "lead_source")
    list_filter = ("owner",)
    search_fields = ("email", "first_name", "last_name", "account__name")
    actions = ["accept_selected", "recycle_selected"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).filter(lifecycle_stage="mql").select_related("account", "owner")

    @admin.action(description="Accept selected MQLs (→ SAL)")
    def accept_selected(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        from smarketing.lifecycle.services_handoff import handoff_accept

        _run(request, self, queryset, lambda c: handoff_accept(contact=c, user=_user(request)), "accepted")

    @admin.action(description="Recycle selected MQLs to nurture (playbook's default date)")
    def recycle_selected(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        from smarketing.lifecycle.services_handoff import handoff_recycle

        _run(request, self, queryset, lambda c: handoff_recycle(contact=c, user=_user(request)), "recycled")

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        """One 'Reject: <reason>' action per rejection reason in the active playbook."""
        actions = super().get_actions(request)
        try:
            from smarketing.playbook.selectors import playbook_active_terms

            _, terms = playbook_active_terms()
        except DomainError:
            return actions
        for reason in terms.handoff.rejection_reasons:
            name = f"reject_{reason.key}"
            actions[name] = (_reject_action(reason.key), name, f"Reject selected MQLs: {reason.label} (→ {reason.disposition})")
        return actions


def _reject_action(reason_key: str) -> Any:
    def reject(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        from smarketing.lifecycle.services_handoff import handoff_reject

        _run(request, modeladmin, queryset,
             lambda c: handoff_reject(contact=c, user=_user(request), reason_key=reason_key,
                                      note="rejected in the admin"), f"rejected ({reason_key})")

    return reject


@admin.register(Assignment)
class AssignmentAdmin(ReadOnlyAdmin):
    list_display = ("assigned_at", "contact", "owner", "team", "reason_code", "reason", "playbook_version")
    list_filter = ("reason_code", "team")
    raw_id_fields = ("contact", "owner", "mql_change", "previous", "actor")
    date_hierarchy = "assigned_at"


@admin.register(HandoffDecision)
class HandoffDecisionAdmin(ReadOnlyAdmin):
    list_display = ("decided_at", "contact", "decision", "reason_key", "to_stage", "recycle_until", "decided_by")
    list_filter = ("decision", "reason_key", "to_stage")
    raw_id_fields = ("contact", "mql_change", "assignment", "stage_change", "decided_by")
    date_hierarchy = "decided_at"
    actions = ["closed_loop_report"]

    @admin.action(description="Show the closed-loop report (acceptance and reasons per rule and campaign)")
    def closed_loop_report(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        from smarketing.lifecycle.selectors_report import handoff_report

        report = handoff_report()
        o = report["overall"]
        self.message_user(request, f"All MQLs: {o['mqls']}, decided {o['decided']}, acceptance "
                                   f"{percent(o['acceptance_rate'])}, reasons {o['reasons']}", messages.INFO)
        for title, rows in (("rule", report["rules"]), ("campaign", report["campaigns"])):
            for row in rows[:15]:
                name = row.get("rule_id") or row.get("campaign") or row.get("name") or row.get("key")
                self.message_user(request, f"{title} {name}: {row.get('mqls')} MQLs, acceptance "
                                           f"{percent(row.get('acceptance_rate'))}, reasons {row.get('reasons')}",
                                  messages.INFO)


@admin.register(SlaClock)
class SlaClockAdmin(ReadOnlyAdmin):
    list_display = ("id", "contact", "kind", "owner", "team", "started_at", "deadline", "state", "generation")
    list_filter = ("state", "kind", "team")
    raw_id_fields = ("contact", "mql_change", "assignment", "owner")
    actions = ["run_sla_check"]

    @admin.action(description="Run the SLA check now (all due clocks, not only the selected)")
    def run_sla_check(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        from smarketing.lifecycle.services_sla_check import sla_check_once

        out = sla_check_once()
        self.message_user(request, f"SLA check: {out['breached']} breach(es) recorded, "
                                   f"{out['webhooks_delivered']} webhook(s) delivered", messages.SUCCESS)


@admin.register(SlaEvent)
class SlaEventAdmin(ReadOnlyAdmin):
    list_display = ("occurred_at", "side", "clock_kind", "kind", "contact", "owner", "team", "period", "deadline")
    list_filter = ("side", "clock_kind", "kind", "team")
    raw_id_fields = ("clock", "contact", "owner", "touchpoint")
    date_hierarchy = "occurred_at"
    actions = ["sla_status"]

    @admin.action(description="Show SLA status (open and overdue clocks, recent breaches, the worker)")
    def sla_status(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        from smarketing.lifecycle.selectors_sla import sla_status

        status = sla_status()
        self.message_user(request, f"{status['open_clocks']} open SLA clock(s), {status['overdue_unprocessed']} "
                                   f"overdue awaiting the worker; {len(status['recent_breaches'])} recent breach(es); "
                                   f"last SLA check {status['worker']['last_sla_check_at'] or 'never'}", messages.INFO)


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("created_at", "user", "kind", "title", "read_at")
    list_filter = ("kind",)
    raw_id_fields = ("user", "contact")


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ("id", "url", "active", "description", "created_at")
    list_filter = ("active",)
    exclude = ("created_by",)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "endpoint", "event_type", "status", "attempts", "last_status_code",
                    "next_attempt_at", "delivered_at")
    list_filter = ("status", "event_type")
    actions = ["retry_now"]

    @admin.action(description="Retry selected deliveries now")
    def retry_now(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        from smarketing.lifecycle.services_webhooks import webhook_delivery_retry_now

        for row in queryset:
            webhook_delivery_retry_now(delivery=row)
        self.message_user(request, f"{queryset.count()} delivery(ies) queued", messages.SUCCESS)
