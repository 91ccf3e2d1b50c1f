"""API of the workspace both teams share: your notifications inbox and the header's search.

Notifications are your own: another user's id is a 404, as one that does not exist. Every role, a viewer too, marks
its own read (personal state, not a change to shared records). Search returns the groups the web page shows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from smarketing.core.apitools import READ_ERRORS, WRITE_ERRORS, Limit, Offset, Paged, RecordId, request_user
from smarketing.core.errors import ValidationFailed
from smarketing.core.pagination import paginate
from smarketing.lifecycle.enums import NotificationKind
from smarketing.lifecycle.selectors_notifications import notification_list_for_user, notification_unread_count
from smarketing.lifecycle.services_notifications import notification_mark_all_read, notification_mark_read
from smarketing.team.auth import TokenAuth
from smarketing.web.views.search import MAX_LENGTH, MIN_LENGTH, PER_GROUP, search_groups

router = Router()
# Why self_service: marking your own notifications read is personal state, so a viewer (read-only otherwise) does it.
OWN_INBOX = TokenAuth(self_service=True)


class InboxNotificationOut(Schema):
    id: int
    kind: str
    kind_label: str
    title: str
    body: str
    contact_id: int | None
    url: str | None
    created_at: datetime
    read_at: datetime | None

    @staticmethod
    def resolve_kind_label(obj: Any) -> str:
        return str(dict(NotificationKind.choices).get(obj.kind, obj.kind))

    @staticmethod
    def resolve_url(obj: Any) -> str | None:
        return f"/contacts/{obj.contact_id}/" if obj.contact_id else None


class NotificationPage(Paged[InboxNotificationOut]):
    unread: int


class ReadAllOut(Schema):
    marked: int
    unread: int


class SearchHitOut(Schema):
    label: str
    detail: str
    url: str


class SearchGroupOut(Schema):
    key: str
    title: str
    total: int
    hits: list[SearchHitOut]


class SearchOut(Schema):
    q: str
    groups: list[SearchGroupOut]


@router.get("/notifications", response={200: NotificationPage, **READ_ERRORS},
            summary="Your notifications, newest first (paged; unread=true for the unread ones, kind= one kind)")
def notification_inbox(request: HttpRequest, unread: bool = False, kind: NotificationKind | None = None,
                       limit: Limit = 50, offset: Offset = 0) -> dict[str, Any]:
    user = request_user(request)
    p = paginate(notification_list_for_user(user_id=user.pk, unread_only=unread, kind=kind.value if kind else ""),
                 limit=limit, offset=offset)
    return {"total": p.total, "limit": p.limit, "offset": p.offset, "items": p.items,
            "unread": notification_unread_count(user_id=user.pk)}


@router.post("/notifications/{notification_id}/read", response={200: InboxNotificationOut, **WRITE_ERRORS},
             auth=OWN_INBOX,
             summary="Mark one of your notifications read (idempotent; another user's is a 404)")
def notification_inbox_read(request: HttpRequest, notification_id: RecordId) -> Any:
    return notification_mark_read(user=request_user(request), notification_id=notification_id)


@router.post("/notifications/read-all", response={200: ReadAllOut, **WRITE_ERRORS}, auth=OWN_INBOX,
             summary="Mark every one of your unread notifications read")
def notification_inbox_read_all(request: HttpRequest) -> dict[str, int]:
    user = request_user(request)
    return {"marked": notification_mark_all_read(user=user), "unread": notification_unread_count(user_id=user.pk)}


@router.get("/search", response={200: SearchOut, **READ_ERRORS},
            summary="Contacts, accounts, opportunities, campaigns and feedback themes matching q, grouped with counts")
def search(request: HttpRequest, q: str, per_group: int = PER_GROUP) -> dict[str, Any]:
    text = " ".join(q.split())
    if not MIN_LENGTH <= len(text) <= MAX_LENGTH:
        message = f"must be {MIN_LENGTH} to {MAX_LENGTH} characters, not {len(text)}"
        raise ValidationFailed(f"q: {message}", field="q", details=[{"field": "q", "message": message}])
    if not 1 <= per_group <= 50:
        message = f"must be from 1 to 50, not {per_group}"
        raise ValidationFailed(f"per_group: {message}", field="per_group",
                               details=[{"field": "per_group", "message": message}])
    return {"q": text, "groups": search_groups(text, per_group=per_group)}
