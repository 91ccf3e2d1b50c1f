"""Forms of the Settings area: they parse and bound the input; the team and lifecycle services decide and write.

`errors_from` puts a service's DomainError on the field it names, so every refusal shows beside its input.
"""

from __future__ import annotations

import secrets
from typing import Any

from django import forms

from smarketing.core.errors import DomainError
from smarketing.lifecycle.enums import WebhookFormat
from smarketing.team.enums import EmailNotifications, Role

TOKEN_EXPIRY = [(0, "Never"), (7, "In 7 days"), (30, "In 30 days"), (90, "In 90 days"), (365, "In a year")]
WEBHOOK_EVENTS = [("sla.breached", "Sales SLA breached"), ("sla.marketing_breached", "Marketing SLA missed"),
                  ("lead.reassigned", "Lead reassigned")]
# A service names the API's field (`manager_id`); the form's input has the plain name.
FIELD_ALIASES = {"manager_id": "manager", "user_id": "user", "expires_at": "days"}


def errors_from(form: forms.Form, exc: DomainError) -> None:
    """Show a service's refusal on the form field it names (or above the form when it names none of them)."""
    field = FIELD_ALIASES.get(exc.field or "", exc.field or "")
    form.add_error(field if field in form.fields else None, exc.message)


class _UserPick(forms.TypedChoiceField):
    def __init__(self, *, choices: list[tuple[int, str]], empty: str, **kw: Any) -> None:
        super().__init__(choices=[("", empty), *choices], coerce=int, empty_value=None, **kw)


class UserCreateForm(forms.Form):
    username = forms.CharField(max_length=150, help_text="What they sign in with, e.g. ana.silva")
    email = forms.EmailField(max_length=254, help_text="Where notification emails go")
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    role = forms.ChoiceField(choices=Role.choices, initial=Role.VIEWER)
    password = forms.CharField(widget=forms.PasswordInput(render_value=False), strip=False,
                               help_text="Their first password; it must pass the password policy")

    def __init__(self, *args: Any, managers: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["manager"] = _UserPick(choices=managers, empty="Nobody", required=False, label="Reports to")


class UserRoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class UserManagerForm(forms.Form):
    def __init__(self, *args: Any, managers: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["manager"] = _UserPick(choices=managers, empty="Nobody", required=False, label="Reports to")


class UserRoutingForm(forms.Form):
    team_name = forms.CharField(max_length=64, required=False, label="Team",
                                help_text="Routing sends a lead to the sellers of the team the playbook names")
    capacity_per_week = forms.IntegerField(min_value=0, max_value=10_000, label="Leads a week",
                                           help_text="0: routing gives them no new leads")
    out_of_office_until = forms.DateField(required=False, label="Out of office until",
                                          widget=forms.DateInput(attrs={"type": "date"}),
                                          help_text="Inclusive; empty: in office. Routing skips them until then")


class UserActiveForm(forms.Form):
    active = forms.TypedChoiceField(choices=[("1", "active"), ("0", "inactive")], coerce=lambda v: v == "1")


class TokenCreateForm(forms.Form):
    name = forms.CharField(max_length=100, label="What it is for", help_text="e.g. 'hubspot sync'")
    days = forms.TypedChoiceField(choices=TOKEN_EXPIRY, coerce=int, initial=90, label="Expires")

    def __init__(self, *args: Any, users: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"] = _UserPick(choices=users, empty="Choose a user", required=True, label="Token for")
        self.order_fields(["user", "name", "days"])


class WebhookCreateForm(forms.Form):
    url = forms.URLField(max_length=500, label="URL", assume_scheme="https",
                         help_text="Where events are POSTed; for Slack, the channel's incoming-webhook URL")
    format = forms.ChoiceField(choices=WebhookFormat.choices, initial=WebhookFormat.SMARKETING,
                               help_text="Slack: a message for the channel ({text, blocks}) instead of the JSON event")
    description = forms.CharField(max_length=200, required=False)
    event_types = forms.MultipleChoiceField(choices=WEBHOOK_EVENTS, required=False, label="Events",
                                            widget=forms.CheckboxSelectMultiple, help_text="None ticked: all events")
    secret = forms.CharField(max_length=200, required=False, strip=True, label="Signing secret",
                             help_text="At least 16 characters; empty: one is generated and shown once")

    def clean_secret(self) -> str:
        # Why generated here: Slack does not verify signatures, so most admins leave it empty.
        return str(self.cleaned_data.get("secret") or "") or secrets.token_urlsafe(24)


class EmailNotificationsForm(forms.Form):
    email_notifications = forms.ChoiceField(choices=EmailNotifications.choices, widget=forms.RadioSelect,
                                            label="Notification emails")
