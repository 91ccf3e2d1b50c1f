"""Forms the web app owns (the feedback capture form belongs to the feedback app when it ships one)."""

from __future__ import annotations

from typing import Any

from django import forms

from smarketing.feedback.enums import FeedbackKind

CAPTURE_KINDS = [(k, v) for k, v in FeedbackKind.choices if k not in ("rejection_reason",)]


def web_capture_form_class() -> type[forms.Form]:
    """Feedback's own capture form, with the account typed by name instead of picked from every row in the CRM
    (a select of every contact and deal does not scale to a real CRM); the web app's fallback before it existed."""
    try:
        from smarketing.feedback.forms import FeedbackCaptureForm as Owned
    except ImportError:
        return FeedbackCaptureForm

    class WebFeedbackForm(Owned):  # type: ignore[misc,valid-type]
        account = forms.CharField(  # type: ignore[assignment]
            required=False, max_length=200, label="Account (optional)",
            help_text="Name or domain of the account, so revenue at stake can be counted.")
        contact = None  # type: ignore[assignment]
        opportunity = None  # type: ignore[assignment]
        occurred_at = None  # type: ignore[assignment]

        field_order = ["kind", "text", "account"]

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.fields["text"].label = "What the customer said"
            self.fields["text"].help_text = "In their words, as close as you can."
            self.fields["kind"].label = "What kind of feedback"

        def clean_account(self) -> object:
            from smarketing.crm.selectors import account_list

            name = (self.cleaned_data.get("account") or "").strip()
            if not name:
                return None
            account = account_list(q=name).first()
            if account is None:
                raise forms.ValidationError(f"no account named like {name!r}; leave it empty or check the name")
            return account

    return WebFeedbackForm


class FeedbackCaptureForm(forms.Form):
    kind = forms.ChoiceField(choices=CAPTURE_KINDS, label="What kind of feedback")
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), max_length=20_000,
                           label="What the customer said", help_text="In their words, as close as you can.")
    account = forms.CharField(required=False, max_length=200, label="Account (optional)",
                              help_text="Name or domain of the account, so revenue at stake can be counted.")


class PlaybookDraftForm(forms.Form):
    yaml = forms.CharField(widget=forms.Textarea(attrs={"rows": 28, "spellcheck": "false"}), label="Playbook (YAML)")
    notes = forms.CharField(required=False, max_length=2000, label="What changed and why",
                            widget=forms.TextInput())


class SignoffForm(forms.Form):
    comment = forms.CharField(required=False, max_length=2000, label="Comment (optional)")


class GoalPlanForm(forms.Form):
    """What-if inputs of the reverse waterfall (the analytics goals query's chain: lead → MQL → SQL → opp → won)."""

    revenue = forms.FloatField(min_value=1, label="Revenue goal (USD)")
    avg_deal = forms.FloatField(min_value=1, label="Average deal size (USD)")
    lead_to_mql = forms.FloatField(min_value=0.1, max_value=100, label="Lead → MQL (%)")
    mql_to_sql = forms.FloatField(min_value=0.1, max_value=100, label="MQL → SQL (%)")
    sql_to_opportunity = forms.FloatField(min_value=0.1, max_value=100, label="SQL → opportunity (%)")
    win_rate = forms.FloatField(min_value=0.1, max_value=100, label="Opportunity → won (%)")


class PeriodRangeForm(forms.Form):
    """A custom period: its first and last day (inclusive), named `from` and `to` in the address."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        messages = {"required": "Enter the %s day as YYYY-MM-DD.", "invalid": "Not a date: use YYYY-MM-DD."}
        for name, which in (("from", "first"), ("to", "last")):
            self.fields[name] = forms.DateField(
                label=f"{which.capitalize()} day", input_formats=["%Y-%m-%d"],
                error_messages={"required": messages["required"] % which, "invalid": messages["invalid"]})

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, last = data.get("from"), data.get("to")
        if first and last and last < first:
            self.add_error("to", f"The last day ({last}) is before the first day ({first}).")
        return data

    @property
    def period_key(self) -> str:
        """The metrics layer's key of the range (`2026-10-01..2026-12-31`); only for a valid form."""
        return f"{self.cleaned_data['from']}..{self.cleaned_data['to']}"
