"""The simulated company as database rows, chunk by chunk, in the order foreign keys need.

Why not the other apps' services: millions of append-only rows (the large company); these are the rows those
services write, built from the simulator's frames: CRM records, touchpoints, stage history with the product's
details (the score at MQL, the handoff decision and the MQL it answers), and the handoff history the lifecycle
app writes (assignments, SLA clocks and their events, decisions, notifications, rejection feedback).
Seeded rows get explicit ids so related rows can point at them; `demo.services` moves the sequences afterwards.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from django.db import models

from smarketing.campaigns.models import Touchpoint
from smarketing.core import bulk
from smarketing.crm.models import Account, Contact, Opportunity
from smarketing.demo import simulator, writer
from smarketing.demo.simulator import Chunk
from smarketing.feedback.models import FeedbackItem
from smarketing.lifecycle.models import (
    Assignment,
    HandoffDecision,
    Notification,
    SlaClock,
    SlaEvent,
    StageChange,
)

SOURCE = "demo"
# Tables whose rows get explicit ids (their sequences must be moved past them after seeding).
EXPLICIT_IDS: tuple[type[models.Model], ...] = (Touchpoint, StageChange, Assignment, SlaClock, SlaEvent,
                                                 HandoffDecision)
# SLA events per episode: started, resolved and escalated, for each of the two clocks, then a touch by someone else
EVENT_SLOTS = 7
OTHER_SLOT = 6
READ_AFTER_DAYS = 3.0  # notifications older than this at the end of the year have been read


@dataclass
class _Ids:
    """Offsets from simulator ids (0-based) to database ids, and simulator people to users.

    History tables (stage changes, the handoff's rows) get their first free id on first use, so callers that
    build `_Ids` from the CRM tables alone (the seed benchmark) need not know them.
    """

    account: int
    contact: int
    opportunity: int
    campaign: int
    users: list[int]
    versions: list[int]
    history: dict[str, int] = field(default_factory=dict)
    version_numbers: list[int] = field(default_factory=list)

    def first(self, model: type[models.Model]) -> int:
        key = model._meta.label
        if key not in self.history:
            self.history[key] = writer.next_id(model)
        return self.history[key]

    def number(self, index: int) -> int:
        """The version number of the simulator's playbook period `index`."""
        if not self.version_numbers:
            from smarketing.playbook.selectors import playbook_version_list

            by_pk = {v.pk: v.number for v in playbook_version_list()}
            self.version_numbers = [by_pk[pk] for pk in self.versions]
        return self.version_numbers[index]


def _user_ids(index: np.ndarray, ids: _Ids) -> list[int | None]:
    users = np.asarray(ids.users + [0], dtype=object)
    users[-1] = None
    return users[np.where(np.asarray(index) >= 0, index, -1)].tolist()


def _offset(values: np.ndarray, base: int) -> list[int | None]:
    v = np.asarray(values, dtype=np.int64)
    out = (v + base).astype(object)
    out[v < 0] = None
    return out.tolist()


def chunk_rows(chunk: Chunk, ids: _Ids) -> dict[str, tuple[type, list[str], list[tuple[Any, ...]]]]:
    """A chunk as database rows: table by table, the model, its field names and the row tuples."""
    ts = writer.timestamps
    as_of = ts(simulator.to_datetime64(np.array([simulator.END_DAY - 1e-4])))[0]
    acc, con, opp, tp, st, fb = (chunk.accounts, chunk.contacts, chunk.opportunities, chunk.touches,
                                 chunk.stage_changes, chunk.feedback)
    created_acc = con.groupby("account")["first_seen"].min().reindex(acc["id"]).to_numpy()
    n = len(acc)
    accounts = list(zip(
        (acc["id"] + ids.account).tolist(), acc["name"].tolist(), acc["domain"].tolist(), acc["industry"].tolist(),
        acc["employees"].tolist(), acc["revenue_band"].tolist(), acc["region"].tolist(), acc["segment"].tolist(),
        _user_ids(acc["owner"].to_numpy(), ids), acc["lifecycle_stage"].tolist(), acc["is_customer"].tolist(),
        [SOURCE] * n, [f"demo-a-{i}" for i in acc["id"]], ts(simulator.to_datetime64(created_acc)), [as_of] * n,
        strict=True))
    n = len(con)
    first_seen = ts(simulator.to_datetime64(con["first_seen"].to_numpy()))
    contacts = list(zip(
        (con["id"] + ids.contact).tolist(), (con["account"] + ids.account).tolist(), con["email"].tolist(),
        con["first_name"].tolist(), con["last_name"].tolist(), con["title"].tolist(), con["buying_role"].tolist(),
        con["lifecycle_stage"].tolist(), _user_ids(con["owner"].to_numpy(), ids), con["lead_source"].tolist(),
        con["country"].tolist(), first_seen, ["{}"] * n, [SOURCE] * n, [f"demo-c-{i}" for i in con["id"]],
        first_seen, [as_of] * n, strict=True))
    n = len(opp)
    opened = ts(simulator.to_datetime64(opp["opened"].to_numpy()))
    closed_days = opp["closed"].to_numpy(dtype=float)
    closed = ts(simulator.to_datetime64(np.nan_to_num(closed_days)))
    opportunities = list(zip(
        (opp["id"] + ids.opportunity).tolist(), (opp["account"] + ids.account).tolist(),
        (opp["contact"] + ids.contact).tolist(), opp["name"].tolist(), opp["type"].tolist(),
        [f"{a:.2f}" for a in opp["amount"]], ["USD"] * n, opp["stage"].tolist(), opened,
        [c if np.isfinite(d) else None for c, d in zip(closed, closed_days, strict=True)], opp["outcome"].tolist(),
        opp["loss_reason"].tolist(), _user_ids(opp["owner"].to_numpy(), ids), opp["product"].tolist(), [SOURCE] * n,
        [f"demo-o-{i}" for i in opp["id"]], opened, [as_of] * n, strict=True))
    n = len(tp)
    when = ts(simulator.to_datetime64(tp["t"].to_numpy()))
    touches = list(zip(
        (tp["id"].to_numpy(dtype=np.int64) + ids.first(Touchpoint)).tolist(),
        (tp["contact"] + ids.contact).tolist(), (tp["account"] + ids.account).tolist(),
        _offset(tp["campaign"].to_numpy(), ids.campaign), tp["channel"].tolist(), tp["kind"].tolist(), when,
        [SOURCE] * n, [""] * n, when, _user_ids(tp["actor"].to_numpy(), ids), strict=True))
    when = ts(simulator.to_datetime64(st["t"].to_numpy()))
    versions = np.asarray(ids.versions, dtype=object)[st["version"].to_numpy(dtype=np.int64)].tolist()
    stages = list(zip(
        (st["id"].to_numpy(dtype=np.int64) + ids.first(StageChange)).tolist(),
        _offset(st["contact"].to_numpy(), ids.contact), _offset(st["account"].to_numpy(), ids.account),
        st["from_stage"].tolist(), st["to_stage"].tolist(), when, _user_ids(st["actor"].to_numpy(), ids),
        st["actor_kind"].tolist(), st["reason"].tolist(), _stage_details(st, ids), versions, when, strict=True))
    n = len(fb)
    when = ts(simulator.to_datetime64(fb["t"].to_numpy(dtype=float)))
    feedback = list(zip(
        (fb["account"].to_numpy(dtype=np.int64) + ids.account).tolist(),
        _offset(fb["contact"].to_numpy(), ids.contact), _offset(fb["opportunity"].to_numpy(), ids.opportunity),
        _user_ids(fb["author"].to_numpy(dtype=np.int64), ids), fb["kind"].tolist(), fb["text"].tolist(), when,
        ["simulator"] * n, fb["source_id"].tolist(), when, strict=True))
    feedback += _rejection_feedback(chunk.handoffs, ids)
    return {
        "accounts": (Account, ["id", "name", "domain", "industry", "employees", "revenue_band", "region", "segment",
                               "owner", "lifecycle_stage", "is_customer", "source", "source_id", "created_at",
                               "updated_at"], accounts),
        "contacts": (Contact, ["id", "account", "email", "first_name", "last_name", "title", "buying_role",
                               "lifecycle_stage", "owner", "lead_source", "country", "first_seen_at", "attributes",
                               "source", "source_id", "created_at", "updated_at"], contacts),
        "opportunities": (Opportunity, ["id", "account", "primary_contact", "name", "type", "amount", "currency",
                                        "stage", "opened_at", "closed_at", "outcome", "loss_reason", "owner",
                                        "product", "source", "source_id", "created_at", "updated_at"],
                          opportunities),
        "touchpoints": (Touchpoint, ["id", "contact", "account", "campaign", "channel", "kind", "occurred_at", "source",
                                     "source_id", "recorded_at", "actor"], touches),
        "stage_changes": (StageChange, ["id", "contact", "account", "from_stage", "to_stage", "occurred_at", "actor",
                                        "actor_kind", "reason", "details", "playbook_version", "recorded_at"],
                          stages),
        **handoff_rows(chunk, ids),
        "feedback": (FeedbackItem, ["account", "contact", "opportunity", "author", "kind", "text", "occurred_at",
                                    "source", "source_id", "recorded_at"], feedback),
    }


def write_chunk(chunk: Chunk, ids: _Ids) -> dict[str, int]:
    """Write one chunk's rows in dependency order; returns rows per table."""
    return {name: bulk.rows_insert(model, fields, rows) for name, (model, fields, rows) in chunk_rows(chunk, ids).items()}


def _stage_details(st: pd.DataFrame, ids: _Ids) -> list[str]:
    """Stage-change details, completed with what only the database knows (as `lifecycle` records them): the
    playbook version number on an MQL, the id of the MQL stage change a handoff decision answers."""
    details = st["details"].tolist()
    episode = st["episode"].to_numpy()
    ref = st["mql_ref"].to_numpy()
    version = st["version"].to_numpy()
    first = ids.first(StageChange)
    for i in np.flatnonzero((episode >= 0) & (st["to_stage"].to_numpy() == "mql")):
        details[i] = details[i][:-1] + f', "playbook_version": {ids.number(int(version[i]))}}}'
    for i in np.flatnonzero(ref >= 0):
        details[i] = details[i][:-1] + f', "mql_change_id": {first + int(ref[i])}}}'
    return details


def _stamps(days: np.ndarray) -> list[str | None]:
    """Database timestamps of simulated days; NaN (never happened) -> None."""
    days = np.asarray(days, dtype=float)
    stamps = writer.timestamps(simulator.to_datetime64(np.nan_to_num(days)))
    return [s if np.isfinite(d) else None for s, d in zip(stamps, days, strict=True)]


def _rejection_feedback(h: pd.DataFrame, ids: _Ids) -> list[tuple[Any, ...]]:
    """A rejection feeds the closed loop as feedback, as `handoff_reject` records it."""
    rej = h[(h["decision"] == "reject") & (h["dec_sc"] >= 0)]
    when = _stamps(rej["t_decision"].to_numpy())
    decision_ids = ids.first(HandoffDecision) + rej["episode"].to_numpy(dtype=np.int64)
    texts = [label + (f": {note}" if note else "") for label, note in zip(rej["reason_label"], rej["note"],
                                                                          strict=True)]
    return list(zip(
        (rej["account"].to_numpy(dtype=np.int64) + ids.account).tolist(),
        (rej["contact"].to_numpy(dtype=np.int64) + ids.contact).tolist(), [None] * len(rej),
        _user_ids(rej["owner"].to_numpy(dtype=np.int64), ids), ["rejection_reason"] * len(rej), texts, when,
        ["handoff_rejection"] * len(rej), [f"handoff:{i}" for i in decision_ids], when, strict=True))


CLOCKS = (("first_touch", "ft", "first touch"), ("decision", "dec", "handoff decision"))


def handoff_rows(chunk: Chunk, ids: _Ids) -> dict[str, tuple[type, list[str], list[tuple[Any, ...]]]]:
    """The handoff history of a chunk's MQL episodes, as the lifecycle services write it."""
    h = chunk.handoffs
    ep = h["episode"].to_numpy(dtype=np.int64)
    n = len(h)
    sc0 = ids.first(StageChange)
    assignment = (ids.first(Assignment) + ep).tolist()
    mql = (sc0 + h["mql_sc"].to_numpy(dtype=np.int64)).tolist()
    contact = (ids.contact + h["contact"].to_numpy(dtype=np.int64)).tolist()
    owner_idx = h["owner"].to_numpy(dtype=np.int64)
    owner = _user_ids(owner_idx, ids)
    version = [ids.versions[v] for v in h["version"]]
    t_mql = _stamps(h["t_mql"].to_numpy())
    team, code, names = h["team"].tolist(), h["reason_code"].tolist(), h["contact_name"].tolist()
    route_details = [json.dumps({"account_owner_id": o} if c == "account_owner" else
                                {"team": tm, "rule_id": r, "matched_team": tm})
                     for o, c, tm, r in zip(owner, code, team, h["rule_id"], strict=True)]
    assignments = list(zip(assignment, contact, mql, owner, team, code, h["route_reason"].tolist(), route_details,
                           t_mql, [None] * n, [None] * n, version, t_mql, strict=True))

    clocks: list[tuple[Any, ...]] = []
    events: list[tuple[Any, ...]] = []
    # Notifications: (user, kind, title, body, contact, dedupe key, created day); the owner hears of each new MQL.
    notes: list[tuple[Any, ...]] = [(u, "assigned", f"New MQL: {name}", why, c, f"assigned:{a}", t) for u, name, why, c, a, t
                                    in zip(owner, names, h["route_reason"], contact, assignment, h["t_mql"],
                                           strict=True)]
    clock0, event0 = ids.first(SlaClock), ids.first(SlaEvent)
    decision = h["decision"].tolist()
    first_kind = h["first_kind"].tolist()
    first_touch = _offset(h["first_touch_id"].to_numpy(), ids.first(Touchpoint))
    usernames = h["owner_username"].tolist()
    first_by = h["first_by"].tolist()
    escalate_role = h["escalate_role"].tolist()
    other_touch = _offset(h["other_touch_id"].to_numpy(), ids.first(Touchpoint))
    other_at = _stamps(h["other_t"].to_numpy(dtype=float))
    other_actor = _user_ids(h["other_actor"].to_numpy(dtype=np.int64), ids)
    other_kind, other_username = h["other_kind"].tolist(), h["other_username"].tolist()
    for k, (kind, col, what) in enumerate(CLOCKS):
        deadline_days = h[f"{col}_deadline"].to_numpy(dtype=float)
        deadline = _stamps(deadline_days)
        state = h[f"{col}_state"].tolist()
        resolved = _stamps(h[f"{col}_resolved"].to_numpy(dtype=float))
        clock_id = (clock0 + 2 * ep + k).tolist()
        clocks += list(zip(clock_id, contact, mql, assignment, owner, team, [kind] * n, ["sales"] * n, [0] * n,
                           t_mql, deadline, state, resolved, version, strict=True))
        for i in range(n):
            base = event0 + EVENT_SLOTS * int(ep[i])
            row = (clock_id[i], kind, contact[i], owner[i], team[i], deadline[i], version[i])
            events.append(_event(base + k, row, "started", t_mql[i],
                                 {"assignment_id": assignment[i], "reason_code": code[i]}))
            if col == "ft" and other_touch[i] is not None:
                # first_touch_detect's record of another seller's touch: on the clock, which keeps running
                events.append(_event(base + OTHER_SLOT, row, "other_touch", other_at[i], {
                    "touchpoint_id": other_touch[i], "touch_kind": other_kind[i], "touched_by": "someone_else",
                    "actor_id": other_actor[i], "actor": other_username[i], "owner_at_touch_id": owner[i]},
                    touchpoint=other_touch[i]))
            s = state[i]
            if s == "met" and col == "ft":  # met by the first sales touch (first_touch_detect's details)
                met: dict[str, Any] = {"touchpoint_id": first_touch[i], "touch_kind": first_kind[i],
                                       "touched_by": first_by[i]}
                if first_by[i] == "owner":
                    met.update(actor_id=owner[i], actor=usernames[i])
                events.append(_event(base + 2 + k, row, "met", resolved[i], met, touchpoint=first_touch[i]))
            elif s == "met":
                events.append(_event(base + 2 + k, row, "met", resolved[i], {"decision": decision[i]}))
            elif s == "cancelled":
                events.append(_event(base + 2 + k, row, "cancelled", resolved[i],
                                     {"why": f"lead {decision[i]}ed before a first touch"}))
            elif s == "breached":
                events.append(_event(base + 2 + k, row, "breached", resolved[i], {}))
                title = f"SLA breached: {what} on {names[i]}"
                body = f"The {what} was due {simulator.day_to_datetime(deadline_days[i]):%Y-%m-%d %H:%M} UTC."
                told = ([int(owner_idx[i])] if h["notify_owner"].iat[i] else []) + list(h["breach_to"].iat[i])
                notes += [(ids.users[p], "sla_breach", title, body, contact[i], f"sla-breach:{base + 2 + k}",
                           deadline_days[i]) for p in dict.fromkeys(told)]
                if escalate_role[i]:
                    events.append(_event(base + 4 + k, row, "escalated", resolved[i], {"to_role": escalate_role[i]}))
                    notes += [(ids.users[p], "escalation", f"Escalated: {title}", body, contact[i],
                               f"sla-escalation:{base + 4 + k}", deadline_days[i]) for p in h["escalate_to"].iat[i]]

    done = h[h["dec_sc"] >= 0]
    d_ep = done["episode"].to_numpy(dtype=np.int64)
    start = simulator.start_datetime().date()
    until = [None if not np.isfinite(u) else (start + pd.Timedelta(days=int(u))).isoformat()
             for u in done["recycle_until"].to_numpy(dtype=float)]
    decided = _stamps(done["t_decision"].to_numpy())
    decisions = list(zip(
        (ids.first(HandoffDecision) + d_ep).tolist(), (ids.contact + done["contact"].to_numpy(dtype=np.int64)).tolist(),
        (sc0 + done["mql_sc"].to_numpy(dtype=np.int64)).tolist(), (ids.first(Assignment) + d_ep).tolist(),
        done["decision"].tolist(), done["reason_key"].tolist(), done["reason_label"].tolist(), done["note"].tolist(),
        until, done["to_stage"].tolist(), (sc0 + done["dec_sc"].to_numpy(dtype=np.int64)).tolist(),
        _user_ids(done["owner"].to_numpy(dtype=np.int64), ids), decided,
        [ids.versions[v] for v in done["dec_version"]], decided, strict=True))
    return {
        "assignments": (Assignment, ["id", "contact", "mql_change", "owner", "team", "reason_code", "reason", "details",
                                     "assigned_at", "actor", "previous", "playbook_version", "recorded_at"],
                        assignments),
        "sla_clocks": (SlaClock, ["id", "contact", "mql_change", "assignment", "owner", "team", "kind", "side",
                                  "generation", "started_at", "deadline", "state", "resolved_at", "playbook_version"],
                       clocks),
        "sla_events": (SlaEvent, ["id", "clock", "kind", "side", "clock_kind", "contact", "owner", "team", "deadline",
                                  "occurred_at", "period", "details", "playbook_version", "recorded_at",
                                  "touchpoint"], events),
        "handoff_decisions": (HandoffDecision, ["id", "contact", "mql_change", "assignment", "decision", "reason_key",
                                                "reason_label", "note", "recycle_until", "to_stage", "stage_change",
                                                "decided_by", "decided_at", "playbook_version", "recorded_at"],
                              decisions),
        "notifications": (Notification, ["user", "kind", "title", "body", "contact", "dedupe_key", "created_at",
                                         "read_at"], _notifications(notes)),
    }


def _event(event_id: int, clock: tuple[Any, ...], kind: str, at: str | None, details: dict[str, Any],
           touchpoint: int | None = None) -> tuple[Any, ...]:
    """An SlaEvent row; `clock` is (id, clock kind, contact, owner, team, deadline, playbook version)."""
    clock_id, clock_kind, contact, owner, team, deadline, version = clock
    return (event_id, clock_id, kind, "sales", clock_kind, contact, owner, team, deadline, at, "", json.dumps(details),
            version, at, touchpoint)


def _notifications(notes: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Notification rows; the ones older than a few days at the end of the year have been read (minutes to a
    day and a half later, spread by a hash of the dedupe key so the same seed reads the same)."""
    created = np.asarray([n[6] for n in notes], dtype=float)
    lag = np.asarray([zlib.crc32(n[5].encode()) % 997 for n in notes], dtype=float) / 997 * 1.5 + 0.01
    read = np.where(created < simulator.END_DAY - READ_AFTER_DAYS, created + lag, np.nan)
    at, read_at = _stamps(created), _stamps(read)
    return [(u, kind, title[:200], body, contact, key, a, r) for (u, kind, title, body, contact, key, _), a, r
            in zip(notes, at, read_at, strict=True)]
