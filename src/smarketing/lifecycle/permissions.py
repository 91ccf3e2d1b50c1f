"""Who may decide on an MQL in the handoff queue: a pure decision over plain data, used by the handoff services (so
the API, the CLI and the web app refuse alike) and by the queue selector (so each row says whether the viewer may
decide, and the page only offers the buttons that will work).

An MQL belongs to its owner, the rep routing assigned it to. Its owner decides on it; so does anyone the owner
reports to (their manager, and that manager's managers), and RevOps, who run the queue. Viewers and marketing
never decide; a sales user does not decide on another rep's MQL, nor on an unassigned one (RevOps route it first).
"""

from __future__ import annotations

from smarketing.team.roles import HANDOFF_ROLES, REVOPS_ROLES, Actor


def mql_owner_id(*, assigned: bool, assignment_owner_id: int | None, contact_owner_id: int | None) -> int | None:
    """The owner of an open MQL: the latest assignment's seller (None when routing found nobody), else, for an MQL
    that was never routed, the contact's owner."""
    return assignment_owner_id if assigned else contact_owner_id


def role_refusal(decider: Actor) -> str:
    """Why `decider` may decide on no MQL at all ('' when their role may decide on some)."""
    if decider.is_superuser or decider.role in HANDOFF_ROLES:
        return ""
    return (f"user {decider.username!r} has role {decider.role!r}; only the MQL's owner, their manager or RevOps "
            f"decide on MQLs")


def handoff_refusal(decider: Actor, *, owner_id: int | None, reports: frozenset[int], owner_name: str = "") -> str:
    """Why `decider` may not decide on an MQL owned by `owner_id` ('' when they may).

    `reports` are the ids of the users who report to the decider, directly or through their managers; `owner_name`
    only names the owner in the refusal.
    """
    if decider.is_superuser or decider.role in REVOPS_ROLES:
        return ""
    refusal = role_refusal(decider)
    if refusal:
        return refusal
    if owner_id is None:
        return (f"the MQL has no owner; RevOps route it before anyone decides on it (user {decider.username!r} is "
                f"{decider.role})")
    if owner_id == decider.id or owner_id in reports:
        return ""
    owner = repr(owner_name) if owner_name else str(owner_id)
    return (f"the MQL belongs to user {owner}; only its owner, their manager or RevOps decide on it, and user "
            f"{decider.username!r} is neither")


def can_decide(decider: Actor, *, owner_id: int | None, reports: frozenset[int]) -> bool:
    """Whether `decider` may accept, reject or recycle an MQL owned by `owner_id` (see `handoff_refusal`)."""
    return not handoff_refusal(decider, owner_id=owner_id, reports=reports)
