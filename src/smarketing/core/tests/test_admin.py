"""Every history table's admin is append-only: rows can be read (and, where the admin allows, added), never
edited or deleted."""

from __future__ import annotations

from django.contrib import admin
from django.test import RequestFactory

from smarketing.core.admin import AppendOnlyAdmin
from smarketing.core.models import AppendOnly


def test_every_append_only_model_has_an_append_only_admin():
    history = [m for m in admin.site._registry if issubclass(m, AppendOnly)]
    wrong = [m.__name__ for m in history if not isinstance(admin.site._registry[m], AppendOnlyAdmin)]

    assert len(history) >= 10  # stage changes, touchpoints, decisions, SLA events, feedback, …
    assert wrong == []


def test_an_append_only_admin_refuses_change_and_delete(db, admin_user):
    request = RequestFactory().get("/admin/")
    request.user = admin_user
    for model, model_admin in admin.site._registry.items():
        if issubclass(model, AppendOnly):
            assert not model_admin.has_change_permission(request), model.__name__
            assert not model_admin.has_delete_permission(request), model.__name__
