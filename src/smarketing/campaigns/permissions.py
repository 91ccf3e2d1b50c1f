"""Who may do what with a campaign brief: pure decisions over plain data, used by the brief services (so the API and
the web app refuse alike) and by the pages (to offer only what will work).

Separation of duties: marketing writes the brief (any marketing user, and its author); each side signs the content
it agrees to, marketing's side by a marketing user and sales' side by a sales user who did not write it; launch needs
both sides on the current content. RevOps do not sign for a side: when a side cannot sign, RevOps record an override
with who, when and why, which lets the brief launch and is shown as an override, never as a signature.
"""

from __future__ import annotations

from dataclasses import dataclass

from smarketing.campaigns.enums import BriefSide
from smarketing.team.enums import Role
from smarketing.team.roles import Actor


@dataclass(frozen=True)
class Sides:
    """Which signatures cover a brief's current content."""

    marketing: bool = False
    sales: bool = False
    override: bool = False


def write_refusal(actor: Actor, *, author_id: int | None = None, what: str = "edit") -> str:
    """Why `actor` may not write, edit, revise or delete a brief by `author_id` ('' when they may)."""
    if actor.is_superuser or actor.role == Role.MARKETING or (author_id is not None and actor.id == author_id):
        return ""
    return f"only marketing users and the brief's author {what} a brief; user {actor.username!r} is {actor.role}"


def signing_side(actor: Actor, *, author_id: int | None) -> tuple[str, str]:
    """The side `actor` signs a brief by `author_id` for, and '' — or '' and why they may not sign."""
    if actor.role == Role.MARKETING:
        return BriefSide.MARKETING, ""
    if actor.role == Role.SALES:
        if author_id is not None and actor.id == author_id:
            return "", (f"user {actor.username!r} wrote this brief; sales' side is signed by another sales user "
                        f"(separation of duties)")
        return BriefSide.SALES, ""
    if actor.role == Role.REVOPS:
        return "", (f"user {actor.username!r} is RevOps, who sign neither side; record an override with its reason "
                    f"instead (POST /api/loop/briefs/{{brief_id}}/override)")
    return "", f"briefs are signed by marketing and by sales; user {actor.username!r} is {actor.role}"


def override_refusal(actor: Actor) -> str:
    """Why `actor` may not record a RevOps override of a brief's missing sign-off ('' when they may)."""
    if actor.is_superuser or actor.role == Role.REVOPS:
        return ""
    return f"only RevOps record an override of a brief's sign-off; user {actor.username!r} is {actor.role}"


def launch_refusal(actor: Actor, *, author_id: int | None) -> str:
    """Why `actor` may not launch a brief by `author_id` ('' when they may; the signatures are `missing_signatures`)."""
    if write_refusal(actor, author_id=author_id) and override_refusal(actor):
        return (f"only marketing users, the brief's author and RevOps launch a brief; user {actor.username!r} is "
                f"{actor.role}")
    return ""


def missing_signatures(sides: Sides) -> str:
    """What the current content still lacks before it may launch ('' when both sides signed or RevOps overrode)."""
    if sides.override or (sides.marketing and sides.sales):
        return ""
    missing = [side for side, signed in (("marketing", sides.marketing), ("sales", sides.sales)) if not signed]
    return (f"the current content has no {' and no '.join(missing)} sign-off; both sides sign before launch "
            f"(or RevOps record an override with its reason)")
