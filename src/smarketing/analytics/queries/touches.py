"""The sorted touches attribution reads: every touch of a level that has a subject, read once from the engine.

The engine hands over integer-coded touches (channels as their index in CHANNELS, campaigns by id); here they are
put in (subject, time, id) order, so each subject's touches are one run and a journey is a prefix of its run
(`attribution_journeys` cuts them).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from smarketing.analytics.queries.common import epoch_seconds
from smarketing.campaigns.enums import Channel

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import pyarrow as pa

Level = Literal["contact", "account"]
NO_CAMPAIGN = "(no campaign)"
# The channels a touch is recorded with; the engine codes these, and a touch's channel outside them is read as text.
CHANNELS: tuple[str, ...] = tuple(str(c) for c in Channel.values)


def _touches(engine: Any, level: Level, above: int | None = None) -> ir.Table:
    """The touch columns a level's journeys need (the subject is resolved in `subject_touches`); with `above`, of
    the touches with an id above it only."""
    tp = engine.table("touchpoints") if above is None else _appended(engine, above)
    if above is not None:
        tp = tp.filter(tp.id > above)
    if level == "contact":
        return tp.filter(tp.contact_id.notnull()).select("id", "contact_id", "channel", "campaign_id", "occurred_at")
    return tp.select("id", "contact_id", "account_id", "channel", "campaign_id", "occurred_at")


def _appended(engine: Any, above: int) -> ir.Table:
    """The touchpoints dataset over only the lake files that may hold touches with an id above `above` (a history
    file's name bounds its ids): extending kept touches by a catch-up's few rows opens the files it wrote (and a
    month compacted since), not every file of the history. A remote lake reads the whole dataset."""
    import ibis

    from smarketing.analytics.datasets import SCHEMAS
    from smarketing.analytics.store import reader
    from smarketing.analytics.store.layout import manifest_above

    store = engine.store
    if not store.lake.is_local:  # (its files are registered by table name, which the whole dataset's view uses)
        return engine.table("touchpoints")
    manifests = {**store.manifests, "touchpoints": manifest_above(store.manifests["touchpoints"], above)}
    con = engine.backend.con
    con.execute(f'CREATE OR REPLACE VIEW "touchpoints_appended" AS '
                f'{reader.dataset_sql(con, "touchpoints", store.lake, manifests)}')
    return ibis.table(SCHEMAS["touchpoints"], name="touchpoints_appended")


def _coded_touches(touches: ir.Table) -> ir.Table:
    """The touches with each channel as its index in CHANNELS ("other" without a channel; -1 for a channel outside
    the list): the engine hands over integers, not the text of every touch's channel (most of the transfer's cost
    on a large history)."""
    import ibis  # loads when a query runs, not at start-up

    code = ibis.cases((touches.channel.isnull(), ibis.literal(CHANNELS.index("other"), "int32")),
                      *((touches.channel == name, ibis.literal(i, "int32")) for i, name in enumerate(CHANNELS)),
                      else_=ibis.literal(-1, "int32"))
    return touches.mutate(channel=code.cast("int32"))


def _channel_codes_of(engine: Any, touches: ir.Table, tt: pa.Table) -> tuple[np.ndarray, tuple[str, ...]]:
    """Per touch of `tt` (read through `_coded_touches`) its channel's code, and the channel names: CHANNELS, then
    the channels outside it, whose touches (few or none) are read again with their text."""
    codes = tt["channel"].to_numpy(zero_copy_only=False).astype(np.int32, copy=False)
    outside = np.flatnonzero(codes < 0)
    if outside.size == 0:
        return codes, CHANNELS
    import pyarrow.compute as pc

    odd = engine.to_arrow(touches.filter(touches.channel.notnull() & ~touches.channel.isin(CHANNELS))
                          .select("id", "channel"))
    coded = pc.dictionary_encode(odd["channel"].combine_chunks())
    odd_ids = odd["id"].to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    by_id = np.argsort(odd_ids)
    ids = tt["id"].to_numpy(zero_copy_only=False).astype(np.int64, copy=False)[outside]
    at = by_id[np.clip(np.searchsorted(odd_ids[by_id], ids), 0, max(odd_ids.shape[0] - 1, 0))]
    extra = coded.indices.to_numpy(zero_copy_only=False).astype(np.int32, copy=False)
    codes = codes.copy()  # read-only when Arrow's buffer was taken as it is (the common case, no odd channel)
    codes[outside] = len(CHANNELS) + extra[at]
    return codes, (*CHANNELS, *(str(x) for x in coded.dictionary.to_pylist()))


def _touch_subjects(engine: Any, level: Level, tt: pa.Table) -> tuple[np.ndarray, np.ndarray, bool]:
    """Per touch its subject, which touches have one, and whether the contacts were read. At account level a touch
    carries the account at record time and falls back to its contact's current account (a lookup here, not a join
    of every touch in the engine)."""
    contact = tt["contact_id"].fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    if level == "contact":
        return contact, np.ones(contact.shape[0], dtype=bool), False
    own = tt["account_id"]
    has_own = own.is_valid().to_numpy(zero_copy_only=False).astype(bool, copy=False)
    subject = own.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    if has_own.all():
        return subject, has_own, False
    con = engine.to_arrow(engine.table("contacts").select("id", "account_id"))
    ids = con["id"].to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    account = con["account_id"].fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    known = con["account_id"].is_valid().to_numpy(zero_copy_only=False).astype(bool, copy=False)
    by_id = np.argsort(ids)
    ids, account, known = ids[by_id], account[by_id], known[by_id]
    if ids.shape[0] == 0:
        return subject, has_own, True
    at = np.clip(np.searchsorted(ids, contact), 0, ids.shape[0] - 1)
    found = (ids[at] == contact) & known[at] & tt["contact_id"].is_valid().to_numpy(zero_copy_only=False)
    return np.where(has_own, subject, account[at]), has_own | found, True


@dataclasses.dataclass(frozen=True)
class SubjectTouches:
    """Every touch that has a subject, sorted by subject, then time, then id: each subject's touches are one run,
    and a journey is a prefix of its subject's run (cut at the unit's end, and at the window's start)."""

    subject: np.ndarray
    t_epoch: np.ndarray
    touch_id: np.ndarray
    channel: np.ndarray  # per touch, its index in channel_names
    channel_names: tuple[str, ...]
    campaign: np.ndarray  # per touch, its index in campaign_names (the ids as text, then NO_CAMPAIGN)
    campaign_names: tuple[str, ...]
    runs: SubjectRuns | None  # None without touches


@dataclasses.dataclass(frozen=True)
class SubjectRuns:
    """Where each subject's run of sorted touches starts, and one sorted key over (subject rank, time) that a
    searchsorted cuts journeys from: a touch's key is rank * span + (time - tmin)."""

    firsts: np.ndarray
    subjects: np.ndarray
    key: np.ndarray
    tmin: int
    tmax: int
    span: int


def _subject_runs(subject: np.ndarray, t_epoch: np.ndarray) -> SubjectRuns | None:
    from smarketing.analytics.kernels.ranges import run_keys  # compiled; loads when a query runs

    if subject.shape[0] == 0:
        return None
    tmin, tmax = int(t_epoch.min()), int(t_epoch.max())
    span = tmax - tmin + 2  # a time key in [-1, span - 1) stays inside its subject's band
    firsts, key = run_keys(subject, t_epoch, tmin, span)
    return SubjectRuns(firsts=firsts, subjects=subject[firsts], key=key, tmin=tmin, tmax=tmax, span=span)


def subject_touches(engine: Any, level: Level) -> SubjectTouches:
    """The level's touches, read once from the engine and put in that order; an embedded engine keeps them for the
    queries it runs next (the roi's four journey builds, a page's several figures read the same touches), and any
    process reading the same store later loads them from disk (`store.touches_cache`), merging in the touches
    appended to the store since they were kept."""
    memo = engine.memo if engine.embedded else None
    if memo is not None and ("subject_touches", level) in memo:
        cached: SubjectTouches = memo["subject_touches", level]
        return cached
    from smarketing.analytics.store.touches_cache import touches_keep, touches_load

    kept = touches_load(engine, level)
    if kept is not None and kept.above is None:
        found = kept.touches
    else:
        read, contacts_read = _sorted_touches(engine, level, above=None if kept is None else kept.above)
        if kept is None:
            found = read
        else:
            found = extended(without(kept.touches, _corrected_since(engine, kept.corrected_above)), read)
        touches_keep(engine, level, found, contacts_read=contacts_read or (kept is not None and kept.contacts_read))
    if memo is not None:
        memo["subject_touches", level] = found
    return found


def _sorted_touches(engine: Any, level: Level, above: int | None = None) -> tuple[SubjectTouches, bool]:
    """The level's touches (only those with an id above `above`, when given) in order, and whether any took its
    account from its contact (so the contacts table was read)."""
    from smarketing.analytics.kernels.journeys import sorted_rows

    touches = _touches(engine, level, above)
    tt = engine.to_arrow(_coded_touches(touches))
    subject, has, contacts_read = _touch_subjects(engine, level, tt)
    if not has.all():
        import pyarrow as pa

        tt, subject = tt.filter(pa.array(has)), subject[has]
    t_epoch = epoch_seconds(tt["occurred_at"])
    touch_id = tt["id"].to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    order, subject, t_epoch = sorted_rows(subject, t_epoch, touch_id)
    channel_codes, channel_names = _channel_codes_of(engine, touches, tt)
    campaign_codes, campaign_names = _campaign_index(tt["campaign_id"].combine_chunks(), order)
    return SubjectTouches(
        subject=subject, t_epoch=t_epoch, touch_id=touch_id[order], runs=_subject_runs(subject, t_epoch),
        channel=channel_codes[order], channel_names=channel_names, campaign=campaign_codes,
        campaign_names=campaign_names), contacts_read


def extended(kept: SubjectTouches, new: SubjectTouches) -> SubjectTouches:
    """`kept` with the touches `new` (none of them in `kept`) merged in: the same arrays a read of all of them would
    sort, coded by the union of their channel names (the kept ones first) and of their campaigns."""
    from smarketing.analytics.kernels.journeys import interleave_columns, merge_positions

    if new.subject.shape[0] == 0:
        return kept
    channel_names = (*kept.channel_names, *(n for n in new.channel_names if n not in kept.channel_names))
    channel = _recoded(new.channel, new.channel_names, channel_names, kept.channel.dtype)
    ids = sorted({int(n) for n in (*kept.campaign_names[:-1], *new.campaign_names[:-1])})
    campaign_names = (*(str(i) for i in ids), NO_CAMPAIGN)
    old_campaign = (kept.campaign if campaign_names == kept.campaign_names
                    else _recoded(kept.campaign, kept.campaign_names, campaign_names, kept.campaign.dtype))
    campaign = _recoded(new.campaign, new.campaign_names, campaign_names, kept.campaign.dtype)
    at = merge_positions(kept.subject, kept.t_epoch, kept.touch_id, new.subject, new.t_epoch, new.touch_id)
    # The subjects and times first; then the runs over them while the other columns are merged.
    subject, t_epoch = interleave_columns([(kept.subject, new.subject.astype(kept.subject.dtype)),
                                           (kept.t_epoch, new.t_epoch.astype(kept.t_epoch.dtype))], at)
    touch_id, channel, campaign, runs = interleave_columns(
        [(kept.touch_id, new.touch_id), (kept.channel, channel), (old_campaign, campaign)], at,
        beside=lambda: _subject_runs(subject, t_epoch))
    return SubjectTouches(
        subject=subject, t_epoch=t_epoch, touch_id=touch_id, channel=channel, channel_names=channel_names,
        campaign=campaign, campaign_names=campaign_names, runs=runs)


def _corrected_since(engine: Any, mark: int) -> np.ndarray:
    """The ids of the touches corrected by corrections with an id above `mark` (history, appended to)."""
    from smarketing.analytics.store import reader

    con, store = engine.backend.con, engine.store
    found = con.sql(reader.corrected_since_sql(con, "touchpoints", store.lake, store.manifests, mark)).fetchnumpy()
    return np.asarray(next(iter(found.values())), dtype=np.int64)


def without(kept: SubjectTouches, touch_ids: np.ndarray) -> SubjectTouches:
    """`kept` without the touches of `touch_ids` (those it holds), its names cut to what the rest still use: what
    a read of the rest gives."""
    if touch_ids.shape[0] == 0:
        return kept
    keep = ~np.isin(kept.touch_id, touch_ids)
    if keep.all():
        return kept
    subject, t_epoch = kept.subject[keep], kept.t_epoch[keep]
    channel, channel_names = _used(kept.channel[keep], kept.channel_names, fixed=len(CHANNELS))
    campaign, campaign_names = _used(kept.campaign[keep], kept.campaign_names, last_fixed=True)
    return SubjectTouches(subject=subject, t_epoch=t_epoch, touch_id=kept.touch_id[keep], channel=channel,
                          channel_names=channel_names, campaign=campaign, campaign_names=campaign_names,
                          runs=_subject_runs(subject, t_epoch))


def _used(codes: np.ndarray, names: tuple[str, ...], *, fixed: int = 0, last_fixed: bool = False
          ) -> tuple[np.ndarray, tuple[str, ...]]:
    """Codes and names without the names no code uses, but the first `fixed` (and the last, with `last_fixed`),
    which a read always names."""
    used = np.bincount(codes, minlength=len(names)) > 0
    used[:fixed] = True
    if last_fixed:
        used[-1] = True
    if used.all():
        return codes, names
    into = tuple(n for n, u in zip(names, used, strict=True) if u)
    return _recoded(codes, names, into, codes.dtype, missing_ok=True), into


def _recoded(codes: np.ndarray, names: tuple[str, ...], into: tuple[str, ...], dtype: Any, *,
             missing_ok: bool = False) -> np.ndarray:
    """Codes into `names` as codes into `into` (which holds every one of `names` the codes use; with `missing_ok`,
    names no code uses may be missing from it)."""
    index = {name: i for i, name in enumerate(into)}
    return np.array([index.get(n, -1) if missing_ok else index[n] for n in names], dtype=dtype)[codes]


def _campaign_index(campaign: pa.Array, order: np.ndarray) -> tuple[np.ndarray, tuple[str, ...]]:
    """Per touch, taken in `order`, its campaign's index among the distinct campaign ids, sorted (NO_CAMPAIGN, last,
    without one); and the names: the ids as text, then NO_CAMPAIGN."""
    from smarketing.analytics.kernels.ranges import dense_codes  # compiled; loads when a query runs

    # A copy on purpose: a read-only view of Arrow's buffer is another type to Numba (one more compiled signature).
    ids = campaign.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    missing = campaign.is_null().to_numpy(zero_copy_only=False).astype(bool, copy=False)
    import pyarrow.compute as pc

    bounds = pc.min_max(campaign)
    lowest, highest = (int(bounds["min"].as_py()), int(bounds["max"].as_py())) if bounds["min"].is_valid else (0, -1)
    if highest - lowest < 4 * len(campaign) + 1024:
        # Ids dense enough for a table indexed by id: one compiled pass, no sort, no hash.
        codes, known = dense_codes(ids, missing, lowest, highest - lowest + 1, order)
    else:
        known = np.sort(first_seen(ids[~missing]))
        codes = np.where(missing, known.shape[0], np.searchsorted(known, ids)).astype(np.int32)[order]
    return codes, (*(str(int(i)) for i in known), NO_CAMPAIGN)


def first_seen(values: np.ndarray) -> np.ndarray:
    """The distinct values in order of first appearance (one hash pass; NumPy's unique sorts every element)."""
    import pandas as pd  # loads when a query runs, not at start-up

    return np.asarray(pd.unique(values))
