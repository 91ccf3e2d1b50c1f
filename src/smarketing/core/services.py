"""Small shared helpers for services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, models

from smarketing.core.errors import Conflict, ValidationFailed


def apply_fields(instance: models.Model, data: dict[str, Any], *, allowed: set[str]) -> list[str]:
    """Set allowed fields on an instance, rejecting unknown ones by name; returns the changed field names."""
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValidationFailed(f"unknown field(s): {', '.join(unknown)}", field=unknown[0])
    changed = []
    for name, value in data.items():
        if getattr(instance, name) != value:
            setattr(instance, name, value)
            changed.append(name)
    return changed


def validate_and_save(instance: models.Model, *, label: str, update_fields: list[str] | None = None) -> None:
    """full_clean then save, turning Django's errors into domain errors that name the field."""
    try:
        instance.full_clean(validate_unique=False, validate_constraints=False)
    except DjangoValidationError as exc:
        details = [{"field": f, "message": " ".join(str(m) for m in msgs)} for f, msgs in exc.message_dict.items()]
        first = details[0]
        raise ValidationFailed(f"{label}: {first['field']}: {first['message']}", field=first["field"], record=label,
                               details=details) from None
    try:
        instance.save(update_fields=update_fields)
    except IntegrityError as exc:
        raise Conflict(f"{label}: conflicts with an existing record ({_constraint(exc)})", record=label) from None


M = TypeVar("M", bound=models.Model)


def record_create(model: type[M], data: dict[str, Any], *, allowed: set[str], label: str) -> M:
    """Build a new row from allowed fields, validate it and save it (call inside the service's transaction)."""
    instance = model()
    apply_fields(instance, data, allowed=allowed)
    validate_and_save(instance, label=label)
    return instance


def record_update(instance: M, data: dict[str, Any], *, allowed: set[str], label: str,
                  check: Callable[[M], None] | None = None) -> M:
    """Change allowed fields of a row; validates and saves only what changed."""
    changed = apply_fields(instance, data, allowed=allowed)
    if changed:
        if check is not None:
            check(instance)
        validate_and_save(instance, label=f"{label}:{instance.pk}", update_fields=[*changed, "updated_at"])
    return instance


def _constraint(exc: IntegrityError) -> str:
    text = str(exc)
    for name in ("contact_email_unique", "source_key", "amount_not_negative", "costs_not_negative", "ends_after_start"):
        if name in text:
            return {"contact_email_unique": "email already used by another contact"}.get(name, name.replace("_", " "))
    return text.splitlines()[0][:200]
