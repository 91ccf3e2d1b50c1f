"""Writes of the playbook: drafts, imports, sign-off and activation."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.db import transaction
from django.db.models import Max

from smarketing.core import clock
from smarketing.core.errors import Conflict, PermissionDenied, ValidationFailed
from smarketing.playbook import schema
from smarketing.playbook.enums import Side, VersionStatus
from smarketing.playbook.hooks import ACTIVATION_HOOKS
from smarketing.playbook.models import PlaybookSignoff, PlaybookVersion
from smarketing.playbook.selectors import default_playbook_data
from smarketing.team.enums import Role
from smarketing.team.models import User
from smarketing.team.roles import SIGNOFF_ROLES


def content_sha(content: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()


def _normalise(data: Any) -> dict[str, Any]:
    """Validate and return JSON-safe content (dates/times as ISO strings)."""
    try:
        terms = schema.parse(data)
    except schema.PlaybookInvalid as exc:
        raise ValidationFailed(str(exc), field=exc.errors[0]["field"], record="playbook", details=exc.errors) from None
    return terms.model_dump(mode="json")


def parse_yaml(text: str) -> Any:
    import yaml  # Why here: the web pages and commands that load these services rarely parse YAML

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ValidationFailed(f"playbook YAML cannot be read{where}: {getattr(exc, 'problem', exc)}",
                               field="(yaml)", record="playbook") from None


@transaction.atomic
def playbook_draft_create(*, content: Any, created_by: User | None = None, notes: str = "",
                          based_on: PlaybookVersion | None = None) -> PlaybookVersion:
    """Create a draft from raw content after validating it; nothing is written if it is invalid."""
    clean = _normalise(content)
    number = (PlaybookVersion.objects.select_for_update().aggregate(n=Max("number"))["n"] or 0) + 1
    return PlaybookVersion.objects.create(number=number, status=VersionStatus.DRAFT, content=clean,
                                          content_sha=content_sha(clean), notes=notes, created_by=created_by,
                                          based_on=based_on)


def playbook_import_yaml(*, text: str, created_by: User | None = None, notes: str = "") -> PlaybookVersion:
    """Import one YAML file as a new draft."""
    return playbook_draft_create(content=parse_yaml(text), created_by=created_by, notes=notes or "imported")


@transaction.atomic
def playbook_draft_update(*, version: PlaybookVersion, content: Any, notes: str | None = None) -> PlaybookVersion:
    """Change a draft's content; earlier sign-offs no longer count because they signed other content."""
    version = PlaybookVersion.objects.select_for_update().get(pk=version.pk)
    if version.status != VersionStatus.DRAFT:
        raise Conflict(f"playbook v{version.number} is {version.status}; only drafts can be edited",
                       field="status", record=f"playbook:v{version.number}")
    clean = _normalise(content)
    version.content = clean
    version.content_sha = content_sha(clean)
    if notes is not None:
        version.notes = notes
    version.save(update_fields=["content", "content_sha", "notes", "updated_at"])
    return version


def _side_for(user: User) -> str:
    if user.role in SIGNOFF_ROLES:
        return Side.MARKETING if user.role == Role.MARKETING else Side.SALES
    raise PermissionDenied(f"user {user.username!r} has role {user.role!r}; only marketing and sales users sign "
                           "off the playbook", field="role", record=f"user:{user.username}")


def signoff_sides(version: PlaybookVersion) -> set[str]:
    """Sides whose signatures are on the version's current content."""
    return {s.side for s in version.signoffs.all() if s.content_sha == version.content_sha}


@transaction.atomic
def playbook_sign_off(*, version: PlaybookVersion, user: User, comment: str = "") -> PlaybookVersion:
    """Sign a draft for the user's side; when marketing and sales have both signed it becomes active.

    Activation runs ACTIVATION_HOOKS after the commit (scoring rescores every contact under the new rules).
    """
    version = PlaybookVersion.objects.select_for_update().get(pk=version.pk)
    if version.status != VersionStatus.DRAFT:
        raise Conflict(f"playbook v{version.number} is {version.status}; only drafts can be signed off",
                       field="status", record=f"playbook:v{version.number}")
    side = _side_for(user)
    _revalidate(version)
    PlaybookSignoff.objects.get_or_create(version=version, user=user, content_sha=version.content_sha,
                                          defaults={"side": side, "comment": comment, "signed_at": clock.now()})
    if signoff_sides(version) >= {Side.MARKETING, Side.SALES}:
        _activate(version)
        version_id = version.pk
        transaction.on_commit(lambda: _after_activation(version_id))
    return version


def _revalidate(version: PlaybookVersion) -> None:
    """Refuse to sign (and so to activate) stored content that today's validation rejects.

    Why: content may have been stored by an older release or written around the services; an active playbook
    that fails its own validation would break every page that reads it.
    """
    try:
        schema.parse(version.content)
    except schema.PlaybookInvalid as exc:
        raise ValidationFailed(f"playbook v{version.number} cannot be signed off: its stored content is invalid; "
                               f"{exc}", field=exc.errors[0]["field"], record=f"playbook:v{version.number}",
                               details=exc.errors) from None


def _activate(version: PlaybookVersion) -> None:
    now = clock.now()
    PlaybookVersion.objects.filter(status=VersionStatus.ACTIVE).update(status=VersionStatus.SUPERSEDED, superseded_at=now)
    version.status = VersionStatus.ACTIVE
    version.activated_at = now
    version.save(update_fields=["status", "activated_at", "updated_at"])


def _after_activation(version_id: int) -> None:
    for hook in ACTIVATION_HOOKS:
        hook(version_id)


@transaction.atomic
def playbook_bootstrap() -> PlaybookVersion:
    """On a database that never had an active playbook, adopt the shipped default as v1, marked as bootstrap.

    Why: imports and the first stage changes need a version to stamp; the UI shows that this one
    was never signed by the teams until they sign a successor. No activation hooks run: no score can exist
    before the first active version, so there is nothing to rescore.
    """
    active = PlaybookVersion.objects.select_for_update().filter(status=VersionStatus.ACTIVE).first()
    if active is not None:
        return active
    if PlaybookVersion.objects.exclude(status=VersionStatus.DRAFT).exists():
        raise Conflict("no playbook is active, but one was before: sign off a draft", record="playbook")
    version = playbook_draft_create(content=default_playbook_data(), notes="shipped default (bootstrap)")
    version.bootstrap = True
    version.save(update_fields=["bootstrap"])
    _activate(version)
    return version
