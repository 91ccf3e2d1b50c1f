"""The playbook's criteria in words for people: `contact.buying_role == decision_maker` reads "Contact buying role ==
Decision maker" (the YAML view keeps the keys for power users)."""

from __future__ import annotations

from typing import Any

from django import template

from smarketing.web.formatting import label

register = template.Library()


@register.filter
def criterion_field(field: str) -> str:
    """A criterion's field (`record.key`) in words."""
    return label(str(field).replace(".", " "))


@register.filter
def criterion_value(value: Any) -> str:
    """A criterion's value in words: keys as labels, lists joined, numbers as written."""
    if isinstance(value, list | tuple):
        return ", ".join(criterion_value(v) for v in value)
    if isinstance(value, bool) or not isinstance(value, str):
        return f"{value:g}" if isinstance(value, float) else str(value)
    return label(value) if "_" in value else value  # a key in words; a name or fragment ("@gmail.") as written
