"""Writes of campaign briefs (with sales' comments and sign-off) and of sales outreach."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.db import transaction

from smarketing.campaigns import permissions
from smarketing.campaigns.brief_selectors import brief_override as brief_override_get
from smarketing.campaigns.brief_selectors import brief_sides
from smarketing.campaigns.enums import BriefCommentTopic, BriefSide, OutreachKind
from smarketing.campaigns.models import BriefComment, BriefSignoff, Campaign, CampaignBrief, Outreach
from smarketing.core import clock
from smarketing.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from smarketing.crm.models import Account, Contact
from smarketing.feedback.services import MAX_TEXT, as_utc
from smarketing.feedback.text import clean

BRIEF_FIELDS = ("audience", "core_message", "proof_points", "talk_track", "objection_handling", "assets")


def _content(brief: CampaignBrief) -> dict[str, Any]:
    return {f: getattr(brief, f) for f in BRIEF_FIELDS}


def brief_content_sha(brief: CampaignBrief) -> str:
    return hashlib.sha256(json.dumps(_content(brief), sort_keys=True).encode()).hexdigest()


def _label(brief: CampaignBrief | None, campaign_id: int | None = None) -> str:
    return f"brief:{brief.pk}" if brief is not None and brief.pk else f"campaign:{campaign_id}"


def _clean_fields(data: dict[str, Any], record: str) -> dict[str, Any]:
    """Check and normalise brief fields; errors name the field and the position in a list."""
    unknown = sorted(set(data) - set(BRIEF_FIELDS))
    if unknown:
        raise ValidationFailed(f"unknown brief field(s): {', '.join(unknown)}", field=unknown[0], record=record)
    out: dict[str, Any] = {}
    for name in ("audience", "core_message", "talk_track"):
        if name in data:
            value = clean(str(data[name] or ""))
            if len(value) > MAX_TEXT:
                raise ValidationFailed(f"{name} is {len(value):,} characters; the limit is {MAX_TEXT:,}", field=name,
                                       record=record)
            out[name] = value
    if "proof_points" in data:
        points = data["proof_points"] or []
        if not isinstance(points, list) or not all(isinstance(p, str) for p in points):
            raise ValidationFailed("proof_points must be a list of texts", field="proof_points", record=record)
        out["proof_points"] = [clean(p) for p in points if clean(p)]
    if "objection_handling" in data:
        pairs = data["objection_handling"] or []
        if not isinstance(pairs, list):
            raise ValidationFailed("objection_handling must be a list of {objection, response}",
                                   field="objection_handling", record=record)
        cleaned = []
        for i, pair in enumerate(pairs):
            obj = clean(str((pair or {}).get("objection", ""))) if isinstance(pair, dict) else ""
            resp = clean(str((pair or {}).get("response", ""))) if isinstance(pair, dict) else ""
            if not obj or not resp:
                raise ValidationFailed(f"objection_handling[{i}] needs both an objection and a response",
                                       field=f"objection_handling.{i}", record=record)
            cleaned.append({"objection": obj, "response": resp})
        out["objection_handling"] = cleaned
    if "assets" in data:
        assets = data["assets"] or []
        if not isinstance(assets, list):
            raise ValidationFailed("assets must be a list of {title, url}", field="assets", record=record)
        cleaned_assets = []
        for i, asset in enumerate(assets):
            url = str(asset.get("url", "")).strip() if isinstance(asset, dict) else ""
            title = str(asset.get("title", "")).strip() if isinstance(asset, dict) else ""
            if not url.startswith(("https://", "http://", "/")):
                raise ValidationFailed(f"assets[{i}].url {url!r} must be an http(s) link or a path on this site",
                                       field=f"assets.{i}.url", record=record)
            cleaned_assets.append({"title": title or url, "url": url})
        out["assets"] = cleaned_assets
    return out


def _refuse(refusal: str, record: str, field: str = "role") -> None:
    if refusal:
        raise PermissionDenied(f"{record}: {refusal}", field=field, record=record)


@transaction.atomic
def brief_create(*, campaign_id: int, data: dict[str, Any], actor: Any) -> CampaignBrief:
    """Write the brief of a campaign (one per campaign; marketing writes it); the core message is required."""
    _refuse(permissions.write_refusal(permissions.Actor.of(actor), what="write"), f"campaign:{campaign_id}")
    campaign = Campaign.objects.select_for_update().filter(pk=campaign_id).first()
    if campaign is None:
        raise NotFound(f"campaign {campaign_id} does not exist", field="campaign_id", record=f"campaign:{campaign_id}")
    if CampaignBrief.objects.filter(campaign=campaign).exists():
        raise Conflict(f"campaign {campaign_id} already has a brief; edit it instead", field="campaign_id",
                       record=f"campaign:{campaign_id}")
    values = _clean_fields(data, f"campaign:{campaign_id}")
    values.setdefault("core_message", campaign.core_message)
    values.setdefault("audience", campaign.audience)
    if not values.get("core_message"):
        raise ValidationFailed("a brief needs a core message", field="core_message", record=f"campaign:{campaign_id}")
    brief = CampaignBrief(campaign=campaign, created_by=actor, **values)
    brief.content_sha = brief_content_sha(brief)
    brief.save()
    return brief


def _brief_for_update(brief_id: int) -> CampaignBrief:
    brief = CampaignBrief.objects.select_for_update().filter(pk=brief_id).first()
    if brief is None:
        raise NotFound(f"brief {brief_id} does not exist", record=f"brief:{brief_id}")
    return brief


class BriefLaunched(Conflict):
    """A launched brief is the record of what the campaign carried: it is revised into a new version, not edited."""

    code = "brief_launched"


def _changed_values(data: dict[str, Any], record: str) -> dict[str, Any]:
    values = _clean_fields(data, record)
    if "core_message" in values and not values["core_message"]:
        raise ValidationFailed("a brief needs a core message", field="core_message", record=record)
    return values


def _writable(brief_id: int, actor: Any, what: str) -> CampaignBrief:
    brief = _brief_for_update(brief_id)
    _refuse(permissions.write_refusal(permissions.Actor.of(actor), author_id=brief.created_by_id, what=what),
            f"brief:{brief_id}")
    return brief


@transaction.atomic
def brief_update(*, brief_id: int, data: dict[str, Any], actor: Any) -> CampaignBrief:
    """Change a brief before launch (marketing users and its author); a changed content needs both sides' sign-off
    again (earlier ones signed other words).

    A launched brief is frozen (BriefLaunched): `brief_revise` makes its next version.
    """
    brief = _writable(brief_id, actor, "edit")
    if brief.launched_at is not None:
        raise BriefLaunched(f"brief {brief_id} (v{brief.version}) was launched on {brief.launched_at:%Y-%m-%d} and "
                            f"is kept as sales signed it; revise it to make v{brief.version + 1}, which needs its own "
                            f"sign-off (POST /api/loop/briefs/{brief_id}/revisions)", field="launched_at",
                            record=f"brief:{brief_id}")
    values = _changed_values(data, f"brief:{brief_id}")
    for name, value in values.items():
        setattr(brief, name, value)
    brief.content_sha = brief_content_sha(brief)
    brief.save()
    return brief


@transaction.atomic
def brief_revise(*, brief_id: int, data: dict[str, Any], actor: Any) -> CampaignBrief:
    """Make the next version of a launched brief: its content with the changes, a draft awaiting both sides' sign-off
    (marketing users and the brief's author revise it; the reviser is the new version's author).

    The launched version stays as it was. Only the latest version is revised, once: a second revision of the same
    version, or a revision of a brief not yet launched (edit it instead), is a Conflict.
    """
    brief = _writable(brief_id, actor, "revise")
    record = f"brief:{brief_id}"
    if brief.launched_at is None:
        raise Conflict(f"brief {brief_id} (v{brief.version}) is not launched yet; edit it instead", field="launched_at",
                       record=record)
    successor = CampaignBrief.objects.filter(previous=brief).first()
    if successor is not None:
        raise Conflict(f"brief {brief_id} (v{brief.version}) was already revised as brief {successor.pk} "
                       f"(v{successor.version}); change that one", field="brief_id", record=record)
    values = _changed_values(data, record)
    revision = CampaignBrief(campaign_id=brief.campaign_id, version=brief.version + 1, previous=brief,
                             created_by=actor, **{**_content(brief), **values})
    revision.content_sha = brief_content_sha(revision)
    revision.save()
    return revision


@transaction.atomic
def brief_delete(*, brief_id: int, actor: Any) -> None:
    """Delete a brief that was never launched (marketing users and its author)."""
    brief = _writable(brief_id, actor, "delete")
    if brief.launched_at is not None:
        raise Conflict(f"brief {brief_id} was launched on {brief.launched_at:%Y-%m-%d}; it is kept as the record",
                       field="launched_at", record=f"brief:{brief_id}")
    brief.delete()


@transaction.atomic
def brief_comment_add(*, brief_id: int, author: Any, text: str, topic: str = BriefCommentTopic.MESSAGING) -> BriefComment:
    """Sales' comment on targeting or messaging; only before launch, when it can still change the campaign."""
    brief = _brief_for_update(brief_id)
    if brief.launched_at is not None:
        raise Conflict(f"brief {brief_id} is already launched; comments are taken before launch", field="launched_at",
                       record=f"brief:{brief_id}")
    if topic not in BriefCommentTopic.values:
        raise ValidationFailed(f"topic {topic!r} is not one of {BriefCommentTopic.values}", field="topic",
                               record=f"brief:{brief_id}")
    text = clean(text or "")
    if not text:
        raise ValidationFailed("a comment cannot be empty", field="text", record=f"brief:{brief_id}")
    if len(text) > MAX_TEXT:
        raise ValidationFailed(f"a comment is at most {MAX_TEXT:,} characters", field="text", record=f"brief:{brief_id}")
    return BriefComment.objects.create(brief=brief, author=author, topic=topic, text=text)


def _not_launched(brief: CampaignBrief, what: str) -> None:
    if brief.launched_at is not None:
        raise BriefLaunched(f"brief {brief.pk} (v{brief.version}) was launched on {brief.launched_at:%Y-%m-%d}; "
                            f"{what} is taken before launch (revise it to make v{brief.version + 1})",
                            field="launched_at", record=f"brief:{brief.pk}")


@transaction.atomic
def brief_sign_off(*, brief_id: int, user: Any, comment: str = "") -> BriefSignoff:
    """Record the signer's side's sign-off of the brief's current content: a marketing user signs marketing's side,
    a sales user other than the brief's author signs sales' side; RevOps sign neither (see `brief_override`).
    Signing the same content twice is a no-op."""
    brief = _brief_for_update(brief_id)
    side, refusal = permissions.signing_side(permissions.Actor.of(user), author_id=brief.created_by_id)
    _refuse(refusal, f"brief:{brief_id}")
    _not_launched(brief, "a sign-off")
    existing = BriefSignoff.objects.filter(brief=brief, user=user, side=side, content_sha=brief.content_sha).first()
    if existing is not None:
        return existing
    return BriefSignoff.objects.create(brief=brief, user=user, side=side, content_sha=brief.content_sha,
                                       comment=clean(comment or ""))


@transaction.atomic
def brief_override(*, brief_id: int, user: Any, reason: str) -> BriefSignoff:
    """RevOps let the brief's current content launch without a side's sign-off, saying why; recorded as an override
    (who, when, why), never as a signature. Overriding the same content twice is a no-op."""
    brief = _brief_for_update(brief_id)
    record = f"brief:{brief_id}"
    _refuse(permissions.override_refusal(permissions.Actor.of(user)), record)
    why = clean(reason or "")
    if not why:
        raise ValidationFailed("an override needs the reason it was made", field="reason", record=record)
    if len(why) > MAX_TEXT:
        raise ValidationFailed(f"the reason is {len(why):,} characters; the limit is {MAX_TEXT:,}", field="reason",
                               record=record)
    _not_launched(brief, "an override")
    sides = brief_sides(brief)
    if sides.marketing and sides.sales:
        raise Conflict(f"brief {brief_id}: both sides signed its current content; there is nothing to override",
                       field="signoff", record=record)
    existing = brief_override_get(brief)
    if existing is not None:
        return existing
    return BriefSignoff.objects.create(brief=brief, user=user, side=BriefSide.OVERRIDE,
                                       content_sha=brief.content_sha, reason=why)


@transaction.atomic
def brief_launch(*, brief_id: int, actor: Any) -> CampaignBrief:
    """Mark the brief launched (marketing users, its author or RevOps): both sides must have signed its current
    content, or RevOps overridden the missing sign-off."""
    brief = _brief_for_update(brief_id)
    _refuse(permissions.launch_refusal(permissions.Actor.of(actor), author_id=brief.created_by_id),
            f"brief:{brief_id}")
    if brief.launched_at is not None:
        return brief
    missing = permissions.missing_signatures(brief_sides(brief))
    if missing:
        raise Conflict(f"brief {brief_id}: {missing}", field="signoff", record=f"brief:{brief_id}")
    brief.launched_at = clock.now()
    brief.save(update_fields=["launched_at", "updated_at"])
    return brief


@transaction.atomic
def outreach_record(*, rep: Any, text: str, sent_at: Any = None, kind: str = OutreachKind.EMAIL,
                    campaign_id: int | None = None, contact_id: int | None = None, account_id: int | None = None,
                    subject: str = "", source: str = "", source_id: str = "") -> tuple[Outreach, bool]:
    """Record a rep's email, call note or sequence step; a repeated source id returns the existing row."""
    if source_id:
        existing = Outreach.objects.filter(source=source, source_id=source_id).first()
        if existing is not None:
            return existing, False
    if kind not in OutreachKind.values:
        raise ValidationFailed(f"outreach kind {kind!r} is not one of {OutreachKind.values}", field="kind")
    body = clean(text or "")
    if not body:
        raise ValidationFailed("outreach text is empty", field="text")
    if len(body) > MAX_TEXT:
        raise ValidationFailed(f"outreach text is {len(body):,} characters; the limit is {MAX_TEXT:,}", field="text")
    campaign = _get(Campaign, campaign_id, "campaign")
    contact = _get(Contact, contact_id, "contact")
    account = _get(Account, account_id, "account") or (contact.account if contact else None)
    row = Outreach.objects.create(rep=rep, text=body, sent_at=as_utc(sent_at or clock.now()), kind=kind,
                                  campaign=campaign, contact=contact, account=account, subject=clean(subject)[:300],
                                  source=source, source_id=source_id)
    return row, True


def _get(model: Any, pk: int | None, label: str) -> Any:
    if pk is None:
        return None
    obj = model.objects.filter(pk=pk).first()
    if obj is None:
        raise NotFound(f"{label} {pk} does not exist", field=f"{label}_id", record=f"{label}:{pk}")
    return obj
