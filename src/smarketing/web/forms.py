"""Forms the web app owns (the feedback capture form belongs to the feedback app when it ships one)."""

from __future__ import annotations

from django import forms

from smarketing.feedback.enums import FeedbackKind

CAPTURE_KINDS = [(k, v) for k, v in FeedbackKind.choices if k not in ("rejection_reason",)]


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
    revenue = forms.FloatField(min_value=1, label="Revenue goal (USD)")
    avg_deal = forms.FloatField(min_value=1, label="Average deal size (USD)")
    lead = forms.FloatField(min_value=0.1, max_value=100, label="Lead → MQL (%)")
    mql = forms.FloatField(min_value=0.1, max_value=100, label="MQL → SAL (%)")
    sal = forms.FloatField(min_value=0.1, max_value=100, label="SAL → SQL (%)")
    sql = forms.FloatField(min_value=0.1, max_value=100, label="SQL → opportunity (%)")
    opportunity = forms.FloatField(min_value=0.1, max_value=100, label="Opportunity → customer (%)")
