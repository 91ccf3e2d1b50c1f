"""The web form sales uses to capture feedback in seconds; the page (web app) renders it and calls capture()."""

from __future__ import annotations

from typing import Any

from django import forms

from smarketing.core import clock
from smarketing.core.errors import DomainError
from smarketing.crm.models import Account, Contact, Opportunity
from smarketing.feedback.capture import feedback_capture
from smarketing.feedback.enums import FeedbackKind, FeedbackSource
from smarketing.feedback.models import FeedbackItem
from smarketing.feedback.services import MAX_TEXT


class FeedbackCaptureForm(forms.Form):
    """Text first; kind, account, contact, deal and date are optional (kind is guessed when left empty)."""

    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 4, "placeholder": "What did the customer say?"}),
                           max_length=MAX_TEXT, strip=True)
    kind = forms.ChoiceField(choices=[("", "Guess from the text"), *FeedbackKind.choices], required=False)
    account = forms.ModelChoiceField(queryset=Account.objects.order_by("name"), required=False)
    contact = forms.ModelChoiceField(queryset=Contact.objects.order_by("last_name", "first_name"), required=False)
    opportunity = forms.ModelChoiceField(queryset=Opportunity.objects.order_by("-opened_at"), required=False)
    occurred_at = forms.DateTimeField(required=False, help_text="When the customer said it (default: now)")

    def clean_occurred_at(self) -> Any:
        value = self.cleaned_data.get("occurred_at")
        if value is not None and value > clock.now():
            raise forms.ValidationError("cannot be in the future")
        return value

    def capture(self, *, author: Any) -> FeedbackItem | None:
        """Record the item (source: web form); domain errors become form errors on their field."""
        if not self.is_valid():
            return None
        data = self.cleaned_data
        try:
            item, _ = feedback_capture(
                text=data["text"], kind=data.get("kind") or "", author=author, source=FeedbackSource.WEB,
                occurred_at=data.get("occurred_at"),
                account_id=data["account"].pk if data.get("account") else None,
                contact_id=data["contact"].pk if data.get("contact") else None,
                opportunity_id=data["opportunity"].pk if data.get("opportunity") else None)
        except DomainError as exc:
            name = (exc.field or "").replace("_id", "")
            self.add_error(name if name in self.fields else None, exc.message)
            return None
        return item
