"""Admin for scores (derived, read-only) and predictive models, with rescore and train actions."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from smarketing.core.errors import DomainError
from smarketing.scoring.models import AccountScore, ContactScore, PredictiveModel

# The services and the rules (which load the playbook's schema) are imported where an action or a column uses
# them: the URL conf loads this module, and the web server's first answer should not wait for them.


def _services() -> ModuleType:
    from smarketing.scoring import services

    return services


class DerivedAdmin(admin.ModelAdmin):
    """Scores are computed from history; they are rescored, never edited by hand."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ContactScore)
class ContactScoreAdmin(DerivedAdmin):
    list_display = ("contact", "total", "fit", "engagement", "predictive", "qualifies_as_mql", "computed_at",
                    "playbook_version")
    list_filter = ("qualifies_as_mql", "playbook_version")
    search_fields = ("contact__email", "contact__last_name")
    raw_id_fields = ("contact",)
    actions = ["explain_selected", "rescore_selected", "train_model"]

    @admin.action(description="Explain selected scores (which rules gave how many points)")
    def explain_selected(self, request: HttpRequest, queryset: QuerySet[ContactScore]) -> None:
        from smarketing.scoring.rules import line_summary

        for row in queryset.select_related("contact")[:20]:
            lines = "; ".join(line_summary(c) for c in row.explanation) or "no rule"
            self.message_user(request, f"{row.contact}: total {row.total:.1f} (fit {row.fit:.1f}, engagement "
                                       f"{row.engagement:.1f}) = {lines}", messages.INFO)

    @admin.action(description="Rescore selected contacts (and their accounts)")
    def rescore_selected(self, request: HttpRequest, queryset: QuerySet[ContactScore]) -> None:
        try:
            rows = _services().contacts_rescore(contact_ids=list(queryset.values_list("contact_id", flat=True)))
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        self.message_user(request, f"rescored {len(rows)} contacts", messages.SUCCESS)

    @admin.action(description="Train a predictive model on all recorded outcomes")
    def train_model(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        _train(self, request)


@admin.register(AccountScore)
class AccountScoreAdmin(DerivedAdmin):
    list_display = ("account", "total", "coverage", "engaged_roles", "best_contact", "computed_at")
    raw_id_fields = ("account", "best_contact")
    actions = ["rescore_selected"]

    @admin.action(description="Rescore the contacts of selected accounts")
    def rescore_selected(self, request: HttpRequest, queryset: QuerySet[AccountScore]) -> None:
        from smarketing.scoring.selectors import account_contact_ids

        ids = [c for a in queryset.values_list("account_id", flat=True) for c in account_contact_ids(account_id=a)]
        try:
            _services().contacts_rescore(contact_ids=ids)
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        self.message_user(request, f"rescored {len(ids)} contacts of {queryset.count()} accounts", messages.SUCCESS)


def _train(model_admin: admin.ModelAdmin, request: HttpRequest, include_leaky: bool = False) -> None:
    try:
        model = _services().predictive_train(include_leaky=include_leaky,
                                          trained_by=request.user if request.user.is_authenticated else None)
    except DomainError as exc:
        model_admin.message_user(request, exc.message, messages.ERROR)
        return
    model_admin.message_user(request, f"trained model {model.pk}: {model.algorithm}, held-out AUC {model.auc:.3f}"
                                      f"{' (active)' if model.active else ''}", messages.SUCCESS)


@admin.register(PredictiveModel)
class PredictiveModelAdmin(admin.ModelAdmin):
    list_display = ("id", "created_at", "algorithm", "auc", "brier", "base_rate", "n_train", "n_test",
                    "include_leaky", "active")
    list_filter = ("active", "include_leaky", "algorithm")
    readonly_fields = ("created_at", "algorithm", "include_leaky", "n_train", "n_test", "auc", "brier", "base_rate",
                       "card", "active", "trained_by")
    exclude = ("artefact",)
    actions = ["train_model", "train_model_leaky", "activate"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Train a new model (leaky columns excluded)")
    def train_model(self, request: HttpRequest, queryset: QuerySet[PredictiveModel]) -> None:
        _train(self, request)

    @admin.action(description="Train a comparison model with leaky columns (never activated)")
    def train_model_leaky(self, request: HttpRequest, queryset: QuerySet[PredictiveModel]) -> None:
        _train(self, request, include_leaky=True)

    @admin.action(description="Make the selected model the active one")
    def activate(self, request: HttpRequest, queryset: QuerySet[PredictiveModel]) -> None:
        if queryset.count() != 1:
            self.message_user(request, "select exactly one model to activate", messages.ERROR)
            return
        try:
            _services().predictive_model_activate(model=queryset.get())
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        self.message_user(request, "model activated", messages.SUCCESS)
