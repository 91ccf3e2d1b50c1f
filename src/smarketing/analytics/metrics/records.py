"""Names for the records a drill-down lists, read through the owning apps' models in one query per kind."""

from __future__ import annotations


def record_labels(kind: str, ids: list[int]) -> dict[int, str]:
    """id → a readable name for a page of records of one kind."""
    if not ids:
        return {}
    if kind == "contact":
        from smarketing.crm.models import Contact

        return {c.pk: c.name or c.email or f"contact #{c.pk}" for c in Contact.objects.filter(pk__in=ids)}
    if kind == "opportunity":
        from smarketing.crm.models import Opportunity

        return {o.pk: o.name or f"opportunity #{o.pk}" for o in Opportunity.objects.filter(pk__in=ids)}
    if kind == "touchpoint":
        from smarketing.campaigns.models import Touchpoint

        return {t.pk: f"{t.get_kind_display()} — {t.contact.name if t.contact else 'no contact'}"
                for t in Touchpoint.objects.filter(pk__in=ids).select_related("contact")}
    if kind == "campaign":
        from smarketing.campaigns.models import Campaign

        return {c.pk: c.name for c in Campaign.objects.filter(pk__in=ids)}
    if kind == "feedback":
        from smarketing.feedback.models import FeedbackItem

        return {f.pk: f.text[:80] for f in FeedbackItem.objects.filter(pk__in=ids)}
    return {}
