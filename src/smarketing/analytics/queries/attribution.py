"""Attribution: which channels and campaigns earned the conversions, pipeline and revenue.

Spec → expression → engine → kernel → typed result. The relational part (conversion units, the touches before
each, the first MQL of each subject) is one ibis expression per table and runs on DuckDB, PostgreSQL or Spark.
The engine returns integer-coded touches; the pure NumPy kernels in `analytics.kernels` do the crediting.

A *journey* ends in one conversion unit — an opportunity (created or won) or a subject's first arrival at a
lifecycle stage — and holds the subject's touches up to that moment (within `window_days` if given). At contact
level the subject is the contact (an opportunity's primary contact); at account level it is the account, so an
opportunity's journey holds every touch of the buying committee. Subjects with touches and no conversion are
non-converting journeys, which data-driven models need to see what does not work.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import Field, model_validator

from smarketing.analytics.enums import AttributionModel
from smarketing.analytics.queries.common import (
    STAGE_KEYS,
    check_timezone,
    day_after,
    day_start,
    epoch,
    epoch_seconds,
    reached_set,
    ts_literal,
)
from smarketing.analytics.registry import QueryResult, QuerySpec, query_kind
from smarketing.campaigns.enums import Channel
from smarketing.core.errors import NotFound, ValidationFailed

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import pyarrow as pa

    from smarketing.analytics.kernels import Credit, Journeys

Level = Literal["contact", "account"]
CreditKind = Literal["conversions", "pipeline", "revenue"]
OPPORTUNITY_CONVERSIONS = ("opportunity_created", "opportunity_won")
NO_CAMPAIGN = "(no campaign)"
FAR_FUTURE = 2**62
LEAD_STAGE = "mql"
# The channels a touch is recorded with; the engine codes these, and a touch's channel outside them is read as text.
CHANNELS: tuple[str, ...] = tuple(str(c) for c in Channel.values)


class AttributionQuery(QuerySpec):
    """Which model, at which level, crediting what, for which conversion event."""

    model: AttributionModel = AttributionModel.LAST_TOUCH
    order: int = Field(default=1, ge=1, le=3, description="Markov chain order (states = last k channels)")
    half_life_days: float = Field(default=7.0, gt=0, description="Time decay: a touch this old weighs half")
    weights: tuple[float, ...] | None = Field(default=None, description="Custom position weights: first, …, last")
    level: Level = "contact"
    credit: CreditKind = "conversions"
    conversion: str = Field(default="opportunity_created",
                            description="opportunity_created, opportunity_won or a lifecycle stage reached (mql…)")
    window_days: float | None = Field(default=None, gt=0, description="Only touches this many days before")
    start: date | None = Field(default=None, description="First day of conversions counted")
    end: date | None = Field(default=None, description="Last day (inclusive) of conversions counted")
    timezone: str | None = Field(default=None, description="Time zone whose midnights bound start and end (default "
                                 "UTC), e.g. the reporting period's")
    seed: int = Field(default=0, description="Kept for old specs: no model samples (Shapley is exact), so it "
                                            "changes nothing")

    @model_validator(mode="after")
    def _check(self) -> AttributionQuery:
        from smarketing.analytics.kernels import validate_custom_weights  # the kernels load on use

        if self.conversion not in OPPORTUNITY_CONVERSIONS and self.conversion not in STAGE_KEYS:
            raise ValidationFailed(f"conversion {self.conversion!r} is unknown; use one of "
                                   f"{[*OPPORTUNITY_CONVERSIONS, *STAGE_KEYS]}", field="conversion")
        if self.model is AttributionModel.CUSTOM:
            if self.weights is None:
                raise ValidationFailed("the custom model needs weights, e.g. 0.4,0.2,0.4", field="weights")
            validate_custom_weights(self.weights)
        elif self.weights is not None:
            raise ValidationFailed(f"weights apply to the custom model only, not {self.model.value}", field="weights")
        if self.start and self.end and self.end < self.start:
            raise ValidationFailed(f"the date range is empty: end {self.end} is before start {self.start}", field="end")
        check_timezone(self.timezone)
        return self

    @property
    def opportunity_based(self) -> bool:
        return self.conversion in OPPORTUNITY_CONVERSIONS


class CreditRow(QueryResult):
    key: str
    name: str
    conversions: float
    value: float
    share: float = Field(description="Share of attributed conversions")
    weight: float | None = Field(default=None, description="The model's weight for this row (data-driven models)")
    touches: int = Field(description="Touches in converting journeys")
    reach: int = Field(default=0, description="Journeys (converting or not) with at least one touch of it")
    by_order: list[float] | None = Field(default=None, description=(
        "Shapley only (the ordered Shapley value): `conversions` split by the order in which this channel entered "
        "each journey — as its 1st, 2nd, 3rd, or 4th-or-later distinct channel"))


class AttributionResult(QueryResult):
    query: AttributionQuery
    weights: dict[str, Any] = Field(description="The model's weights, to show beside the figures")
    definition: str = Field(description="The model's weights and definition in plain words")
    method: str = Field(description="How the figures were computed: exact, or sampled with its sample size and seed")
    value_label: str
    journeys: int
    converting_journeys: int
    touches: int
    total_conversions: float
    total_value: float
    unattributed_conversions: float = Field(description="Conversions with no touch before them")
    unattributed_value: float
    conversion_probability: float | None = None
    channels: list[CreditRow]
    campaigns: list[CreditRow]


@dataclasses.dataclass(frozen=True)
class JourneyData:
    """Journeys keyed by channel and by campaign (same touches), with the ids that map back to records."""

    by_channel: Journeys
    by_campaign: Journeys
    touch_ids: np.ndarray
    unit_keys: np.ndarray
    opportunity_ids: np.ndarray  # per journey, -1 when the unit is not an opportunity
    subject_ids: np.ndarray
    campaign_keys: tuple[str, ...]


def _float(x: int) -> ir.FloatingValue:
    """A float constant every engine types as double (PostgreSQL reads a bare `1.0` as numeric)."""
    import ibis  # loads when a query runs, not at start-up

    return ibis.literal(x, "int64").cast("float64")


def _value_expr(spec: AttributionQuery, amount: ir.FloatingValue, outcome: ir.StringValue) -> ir.FloatingValue:
    import ibis  # loads when a query runs, not at start-up

    if spec.credit == "conversions":
        return _float(1)
    if spec.credit == "revenue":
        return ibis.ifelse(outcome == "won", amount.fill_null(0.0), 0.0)
    return amount.fill_null(0.0)


def _in_period(spec: AttributionQuery, ts: ir.TimestampValue) -> ir.BooleanValue:
    import ibis  # loads when a query runs, not at start-up

    cond = ibis.literal(True)
    if spec.start is not None:
        cond &= ts >= ts_literal(day_start(spec.start, spec.timezone))
    if spec.end is not None:
        cond &= ts < ts_literal(day_after(spec.end, spec.timezone))
    return cond


def _touches(engine: Any, level: Level) -> ir.Table:
    """The touch columns a level's journeys need (the subject is resolved in `subject_touches`)."""
    tp = engine.table("touchpoints")
    if level == "contact":
        return tp.filter(tp.contact_id.notnull()).select("id", "contact_id", "channel", "campaign_id", "occurred_at")
    return tp.select("id", "contact_id", "account_id", "channel", "campaign_id", "occurred_at")


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


def _touch_subjects(engine: Any, level: Level, tt: pa.Table) -> tuple[np.ndarray, np.ndarray]:
    """Per touch its subject, and which touches have one. At account level a touch carries the account at record
    time and falls back to its contact's current account (a lookup here, not a join of every touch in the engine)."""
    contact = tt["contact_id"].fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    if level == "contact":
        return contact, np.ones(contact.shape[0], dtype=bool)
    own = tt["account_id"]
    has_own = own.is_valid().to_numpy(zero_copy_only=False).astype(bool, copy=False)
    subject = own.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    if has_own.all():
        return subject, has_own
    con = engine.to_arrow(engine.table("contacts").select("id", "account_id"))
    ids = con["id"].to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    account = con["account_id"].fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    known = con["account_id"].is_valid().to_numpy(zero_copy_only=False).astype(bool, copy=False)
    by_id = np.argsort(ids)
    ids, account, known = ids[by_id], account[by_id], known[by_id]
    if ids.shape[0] == 0:
        return subject, has_own
    at = np.clip(np.searchsorted(ids, contact), 0, ids.shape[0] - 1)
    found = (ids[at] == contact) & known[at] & tt["contact_id"].is_valid().to_numpy(zero_copy_only=False)
    return np.where(has_own, subject, account[at]), has_own | found


def _first_reach(engine: Any, level: Level, stage: str) -> ir.Table:
    from smarketing.analytics.queries.funnel import stage_events

    sc = stage_events(engine, level)
    sc = sc.filter(sc.to_stage.isin(reached_set(stage)))
    return sc.group_by("subject").aggregate(reached_at=sc.occurred_at.min())


def conversion_units(engine: Any, spec: AttributionQuery) -> ir.Table:
    """One row per conversion unit: (unit_key, subject, converted, value, end_epoch, opened_epoch, opportunity_id).
    The subjects with touches and no unit are added from the sorted touches (`_units_with_lonely`)."""
    import ibis  # loads when a query runs, not at start-up

    if spec.opportunity_based:
        opp = engine.table("opportunities")
        subject = opp.account_id if spec.level == "account" else opp.primary_contact_id
        won = spec.conversion == "opportunity_won"
        when = opp.closed_at if won else opp.opened_at
        closed = ibis.coalesce(epoch(opp.closed_at), ibis.literal(FAR_FUTURE, "int64"))
        units = opp.filter(subject.notnull()).mutate(
            unit_key=opp.id, subject=subject,
            converted=(opp.outcome == "won") if won else ibis.literal(True),
            value=_value_expr(spec, opp.amount, opp.outcome),
            end_epoch=closed if won else epoch(opp.opened_at), opened_epoch=epoch(opp.opened_at),
            opportunity_id=opp.id, in_period=_in_period(spec, when) if won else _in_period(spec, opp.opened_at))
        # A won deal counts in the period it closed; lost and open deals stay in as non-converting journeys.
        units = units.filter(units.in_period | ~units.converted)
    else:
        reach = _first_reach(engine, spec.level, spec.conversion)
        reach = reach.filter(_in_period(spec, reach.reached_at))
        opp = engine.table("opportunities")
        osub = opp.account_id if spec.level == "account" else opp.primary_contact_id
        vals = (opp.filter(osub.notnull()).mutate(osub=osub, v=_value_expr(spec, opp.amount, opp.outcome))
                .group_by("osub").aggregate(v=lambda t: t.v.sum()))
        j = reach.join(vals, reach.subject == vals.osub, how="left")
        units = j.mutate(unit_key=j.subject, converted=ibis.literal(True),
                         value=_float(1) if spec.credit == "conversions" else j.v.fill_null(0.0),
                         end_epoch=epoch(j.reached_at), opened_epoch=ibis.null("int64"),
                         opportunity_id=ibis.null("int64"))
    return units.select(
        unit_key=units.unit_key.cast("int64"), subject=units.subject.cast("int64"), converted=units.converted,
        value=units.value.cast("float64"), end_epoch=units.end_epoch.cast("int64"),
        opened_epoch=units.opened_epoch.cast("int64"), opportunity_id=units.opportunity_id.cast("int64"))


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
    queries it runs next (the roi's four journey builds, a page's several figures read the same touches)."""
    from smarketing.analytics.kernels.journeys import sort_order

    memo = engine.memo if engine.embedded else None
    if memo is not None and ("subject_touches", level) in memo:
        cached: SubjectTouches = memo["subject_touches", level]
        return cached
    touches = _touches(engine, level)
    tt = engine.to_arrow(_coded_touches(touches))
    subject, has = _touch_subjects(engine, level, tt)
    if not has.all():
        import pyarrow as pa

        tt, subject = tt.filter(pa.array(has)), subject[has]
    t_epoch = epoch_seconds(tt["occurred_at"])
    touch_id = tt["id"].to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    order = sort_order(subject, t_epoch, touch_id)
    channel_codes, channel_names = _channel_codes_of(engine, touches, tt)
    campaign = tt["campaign_id"].combine_chunks()
    campaign_codes, campaign_names = _campaign_index(campaign)
    subject, t_epoch = subject[order], t_epoch[order]
    found = SubjectTouches(
        subject=subject, t_epoch=t_epoch, touch_id=touch_id[order], runs=_subject_runs(subject, t_epoch),
        channel=channel_codes[order], channel_names=channel_names, campaign=campaign_codes[order],
        campaign_names=campaign_names)
    if memo is not None:
        memo["subject_touches", level] = found
    return found


def _campaign_index(campaign: pa.Array) -> tuple[np.ndarray, tuple[str, ...]]:
    """Per touch its campaign's index among the distinct campaign ids, sorted (NO_CAMPAIGN, last, without one);
    and the names: the ids as text, then NO_CAMPAIGN."""
    from smarketing.analytics.kernels.ranges import dense_codes  # compiled; loads when a query runs

    # A copy on purpose: a read-only view of Arrow's buffer is another type to Numba (one more compiled signature).
    ids = campaign.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    missing = campaign.is_null().to_numpy(zero_copy_only=False).astype(bool, copy=False)
    import pyarrow.compute as pc

    bounds = pc.min_max(campaign)
    lowest, highest = (int(bounds["min"].as_py()), int(bounds["max"].as_py())) if bounds["min"].is_valid else (0, -1)
    if highest - lowest < 4 * len(campaign) + 1024:
        # Ids dense enough for a table indexed by id: one compiled pass, no sort, no hash.
        codes, known = dense_codes(ids, missing, lowest, highest - lowest + 1)
    else:
        known = np.sort(first_seen(ids[~missing]))
        codes = np.where(missing, known.shape[0], np.searchsorted(known, ids)).astype(np.int32)
    return codes, (*(str(int(i)) for i in known), NO_CAMPAIGN)


def _lead_epochs(engine: Any, level: Level) -> tuple[np.ndarray, np.ndarray]:
    """Each subject's first MQL epoch, sorted by subject (an embedded engine keeps them, as the touches)."""
    memo = engine.memo if engine.embedded else None
    if memo is not None and ("lead_epochs", level) in memo:
        cached: tuple[np.ndarray, np.ndarray] = memo["lead_epochs", level]
        return cached
    lead = engine.to_arrow(_first_reach(engine, level, LEAD_STAGE).mutate(
        lead_epoch=lambda t: epoch(t.reached_at)).select("subject", "lead_epoch"))
    s = lead["subject"].to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    e = lead["lead_epoch"].to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    order = np.argsort(s)
    found = (s[order], e[order])
    if memo is not None:
        memo["lead_epochs", level] = found
    return found


def _journey_ranges(st: SubjectTouches, subjects: np.ndarray, end: np.ndarray,
                    window_days: float | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per unit, the run [lo, hi) of the sorted touches that makes its journey: its subject's touches at or
    before `end` (and at or after `end - window`), and the unit's band offset into the runs' key. One searchsorted
    over the (subject rank, time) key."""
    n = subjects.shape[0]
    r = st.runs
    if r is None or n == 0:
        zero = np.zeros(n, dtype=np.int64)
        return zero, zero, zero
    k = np.clip(np.searchsorted(r.subjects, subjects), 0, r.subjects.shape[0] - 1)
    has = r.subjects[k] == subjects
    band = k * r.span - r.tmin
    hi = np.searchsorted(r.key, band + np.clip(end, r.tmin - 1, r.tmax), side="right")
    if window_days is None:
        lo = r.firsts[k]
    else:
        start = end - int(window_days * 86400)
        lo = np.searchsorted(r.key, band + np.clip(start, r.tmin, r.tmax + 1), side="left")
    lo = np.where(has, lo, 0)
    hi = np.where(has, np.maximum(hi, lo), 0)
    return lo, hi, band


def _last_position_at_or_before(st: SubjectTouches, lo: np.ndarray, hi: np.ndarray, band: np.ndarray,
                                when: np.ndarray) -> np.ndarray:
    """Per journey [lo, hi), the position of its last touch at or before `when` (-1 when none or `when` unknown):
    its touches are in time order, so one searchsorted per journey, not a pass over every touch."""
    if st.runs is None:
        return np.full(lo.shape[0], -1, dtype=np.int64)
    r = st.runs
    past = np.searchsorted(r.key, band + np.clip(when, r.tmin - 1, r.tmax), side="right")
    count = np.clip(np.minimum(past, hi) - lo, 0, None)
    return np.where((when >= 0) & (count > 0), count - 1, -1)


def first_seen(values: np.ndarray) -> np.ndarray:
    """The distinct values in order of first appearance (one hash pass; NumPy's unique sorts every element)."""
    import pandas as pd  # loads when a query runs, not at start-up

    return np.asarray(pd.unique(values))


def _codes_first_seen(codes: np.ndarray, labels: tuple[str, ...]) -> tuple[np.ndarray, tuple[str, ...]]:
    """Codes into distinct `labels` recoded in order of first appearance, with their names: the coding a dictionary
    encoding of the labels in this order gives."""
    if codes.shape[0] == 0:
        return np.zeros(0, dtype=np.int32), ()
    present = int(np.count_nonzero(np.bincount(codes, minlength=len(labels))))
    # The few codes nearly always all appear early: look at a growing prefix, not at every touch.
    size = 4096
    while True:
        seen = first_seen(codes[:size])
        if seen.shape[0] == present or size >= codes.shape[0]:
            break
        size *= 4
    rank = np.zeros(len(labels), dtype=np.int32)
    rank[seen] = np.arange(seen.shape[0], dtype=np.int32)
    return rank[codes], tuple(labels[i] for i in seen)


def _channel_codes(st: SubjectTouches, take: np.ndarray) -> tuple[np.ndarray, tuple[str, ...]]:
    """The taken touches' channels coded in order of first appearance."""
    return _codes_first_seen(st.channel[take], st.channel_names)


def _campaign_codes(st: SubjectTouches, take: np.ndarray) -> tuple[np.ndarray, tuple[str, ...]]:
    """The taken touches' campaigns (their ids as text, NO_CAMPAIGN without one) coded in order of first appearance."""
    return _codes_first_seen(st.campaign[take], st.campaign_names)


def _unit_arrays(ut: pa.Table, st: SubjectTouches) -> dict[str, np.ndarray]:
    """The conversion units as arrays, plus one non-converting unit per subject with touches and no unit (its
    key the negated subject, which never collides with a record id; it ends at the subject's last touch)."""
    def col(name: str, fill: int | None = None) -> np.ndarray:
        c = ut[name] if fill is None else ut[name].fill_null(fill)
        return c.to_numpy(zero_copy_only=False)

    units = {"keys": col("unit_key").astype(np.int64), "subjects": col("subject").astype(np.int64),
             "conv": col("converted").astype(np.float64), "value": col("value").astype(np.float64),
             "end": col("end_epoch").astype(np.float64),
             "end_at": col("end_epoch", -FAR_FUTURE).astype(np.int64),
             "opened": col("opened_epoch", -1).astype(np.int64), "opp_ids": col("opportunity_id", -1).astype(np.int64)}
    if st.subject.shape[0] == 0:
        return units
    last = np.flatnonzero(np.r_[st.subject[1:] != st.subject[:-1], True])
    lonely = last[~np.isin(st.subject[last], units["subjects"])]
    subj, last_epoch = st.subject[lonely], st.t_epoch[lonely]
    n = subj.shape[0]
    lonely_units = {"keys": -subj, "subjects": subj, "conv": np.zeros(n), "value": np.zeros(n),
                    "end": last_epoch.astype(np.float64), "end_at": last_epoch,
                    "opened": np.full(n, -1, dtype=np.int64), "opp_ids": np.full(n, -1, dtype=np.int64)}
    return {k: np.concatenate([v, lonely_units[k]]) for k, v in units.items()}


@dataclasses.dataclass(frozen=True)
class JourneyRanges:
    """Each conversion unit's journey as the run [lo, hi) of its subject's sorted touches, units in key order; nothing
    is gathered: `build_journeys` gathers the runs into `Journeys`, a model blind to positions reads them in place."""

    touches: SubjectTouches
    keys: np.ndarray
    conversions: np.ndarray
    value: np.ndarray  # zero for a unit that did not convert
    end: np.ndarray  # epoch seconds (float) the journey ends at
    opened: np.ndarray  # the opportunity's opening epoch, -1 when the unit is not an opportunity
    opportunity_ids: np.ndarray
    subjects: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    band: np.ndarray

    @property
    def lengths(self) -> np.ndarray:
        return self.hi - self.lo


def journey_ranges(engine: Any, spec: AttributionQuery) -> JourneyRanges:
    """Run the relational part on the engine and find each journey's run of the sorted touches."""
    st = subject_touches(engine, spec.level)
    u = _unit_arrays(engine.to_arrow(conversion_units(engine, spec)), st)
    order = np.argsort(u["keys"], kind="stable")
    conv = u["conv"][order]
    subjects = u["subjects"][order]
    # Each journey is a run of its subject's sorted touches (by time, id).
    # (A unit with no end holds no touch, as `touch <= NULL` holds for none.)
    lo, hi, band = _journey_ranges(st, subjects, u["end_at"][order], spec.window_days)
    return JourneyRanges(touches=st, keys=u["keys"][order], conversions=conv,
                         value=np.nan_to_num(u["value"])[order] * conv, end=u["end"][order],
                         opened=u["opened"][order], opportunity_ids=u["opp_ids"][order], subjects=subjects,
                         lo=lo, hi=hi, band=band)


def build_journeys(engine: Any, spec: AttributionQuery) -> JourneyData:
    """Run the relational part on the engine and encode the result as integer journeys."""
    from smarketing.analytics.kernels import Journeys  # loads when a query runs, not at start-up

    r = journey_ranges(engine, spec)
    st, lo, hi, band = r.touches, r.lo, r.hi, r.band
    # Gather the runs in unit order.
    lengths = hi - lo
    n = r.keys.shape[0]
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    take = np.arange(offsets[-1], dtype=np.int64) - np.repeat(offsets[:-1] - lo, lengths)
    t_epoch, touch_id = st.t_epoch[take], st.touch_id[take]
    ch_codes, ch_names = _channel_codes(st, take)
    cp_codes, cp_names = _campaign_codes(st, take)

    days = t_epoch.astype(np.float64) / 86400.0
    lead_pos = _last_position_at_or_before(st, lo, hi, band, _lookup(_lead_epochs(engine, spec.level), r.subjects))
    opp_pos = np.where(r.opened >= 0, _last_position_at_or_before(st, lo, hi, band, r.opened), -1)
    by_channel = Journeys(offsets=offsets, codes=ch_codes, names=ch_names, conversions=r.conversions, value=r.value,
                          nulls=1.0 - r.conversions, times=days, end_times=r.end / 86400.0, lead_pos=lead_pos,
                          opp_pos=opp_pos)
    by_campaign = dataclasses.replace(by_channel, codes=cp_codes, names=cp_names)
    return JourneyData(by_channel=by_channel, by_campaign=by_campaign, touch_ids=touch_id, unit_keys=r.keys,
                       opportunity_ids=r.opportunity_ids, subject_ids=r.subjects, campaign_keys=cp_names)


def _lookup(lead: tuple[np.ndarray, np.ndarray], subjects: np.ndarray) -> np.ndarray:
    """Per unit, the subject's first MQL epoch (-1 when it never became one)."""
    s, e = lead
    if s.size == 0:
        return np.full(subjects.shape[0], -1, dtype=np.int64)
    i = np.clip(np.searchsorted(s, subjects), 0, s.size - 1)
    return np.where(s[i] == subjects, e[i], -1)


def credit_rows(credit: Credit, j: Journeys, labels: dict[str, str] | None = None) -> list[CreditRow]:
    from smarketing.analytics.kernels.loops import touches_and_reach  # compiled; loads when a query runs

    touches, reach = touches_and_reach(j.offsets, j.codes, j.conversions > 0, j.n_codes)
    return rows_of(credit, touches, reach, labels)


def rows_of(credit: Credit, touches: np.ndarray, reach: np.ndarray,
            labels: dict[str, str] | None = None) -> list[CreditRow]:
    """Credit rows, largest first, from a model's credit and each code's touches and reach."""
    total = float(credit.conversions.sum())
    shares = credit.weights.get("shares") or credit.weights.get("removal_effects")
    order = credit.extra.get("by_order")
    rows = [CreditRow(key=k, name=(labels or {}).get(k, k), conversions=round(float(c), 9), value=round(float(v), 6),
                      share=round(float(c) / total, 9) if total else 0.0,
                      weight=None if shares is None else round(float(shares.get(k, 0.0)), 9), touches=int(t),
                      reach=int(r), by_order=None if order is None else [round(float(x), 9) for x in order[i]])
            for i, (k, c, v, t, r) in enumerate(zip(credit.names, credit.conversions, credit.value, touches, reach,
                                                    strict=True))]
    return sorted(rows, key=lambda r: (-r.conversions, -r.value, r.key))


def campaign_labels(engine: Any, keys: tuple[str, ...]) -> dict[str, str]:
    camp = engine.to_arrow(engine.table("campaigns").select("id", "name"))
    names = {str(i): str(n) for i, n in zip(camp["id"].to_pylist(), camp["name"].to_pylist(), strict=True)}
    return {k: names.get(k, k) for k in keys}


def describe(spec: AttributionQuery) -> str:
    """The spec's model in plain words."""
    from smarketing.analytics.kernels.rules import model_definition  # the kernels load on use

    return model_definition(spec.model, half_life_days=spec.half_life_days, custom=spec.weights, order=spec.order)


def method_of(spec: AttributionQuery, *, channels: Credit | None = None, campaigns: Credit | None = None) -> str:
    """How the figures were computed, in words: every model here is exact; Shapley says how many coalitions."""
    if spec.model is AttributionModel.SHAPLEY:
        counts = " and ".join(f"{c.extra.get('coalitions', 0)} {what} coalitions" for c, what in
                              ((channels, "channel"), (campaigns, "campaign")) if c is not None)
        return (f"exact simplified Shapley value over the {counts} seen in converting journeys; "
                "nothing sampled")
    if spec.model is AttributionModel.MARKOV:
        return "exact: the absorbing chain is solved, not simulated; nothing sampled"
    return "exact: a fixed rule applied to every journey; nothing sampled"


def run_model(data: JourneyData, spec: AttributionQuery, *, by: Literal["channel", "campaign"]) -> Credit:
    from smarketing.analytics.kernels import attribute  # loads when a query runs, not at start-up

    j = data.by_channel if by == "channel" else data.by_campaign
    if spec.model in (AttributionModel.MARKOV, AttributionModel.SHAPLEY):
        return attribute(j, spec.model, order=spec.order, seed=spec.seed)
    # Only converting journeys can be credited by a rule, so the kernel sees those alone.
    return attribute(j.converting(), spec.model, half_life_days=spec.half_life_days, custom=spec.weights)


@query_kind("attribution", spec=AttributionQuery, result=AttributionResult)
def run_attribution(engine: Any, spec: AttributionQuery) -> AttributionResult:
    """Credit per channel and per campaign under one attribution model, with the model's weights."""
    if spec.model is AttributionModel.LINEAR:
        # The same figures, read off the sorted touches without gathering journeys.
        from smarketing.analytics.queries.attribution_linear import linear_attribution

        return linear_attribution(engine, spec)
    data = build_journeys(engine, spec)
    j = data.by_channel
    ch = run_model(data, spec, by="channel")
    cp = run_model(data, spec, by="campaign")
    return attribution_result(spec, j.conversions, j.value, j.lengths, ch, cp, channels=credit_rows(ch, j),
                              campaigns=credit_rows(cp, data.by_campaign, campaign_labels(engine, data.campaign_keys)))


def attribution_result(spec: AttributionQuery, conversions: np.ndarray, value: np.ndarray, lengths: np.ndarray,
                       ch: Credit, cp: Credit, *, channels: list[CreditRow],
                       campaigns: list[CreditRow]) -> AttributionResult:
    """The result of a run: per journey its conversions, value and touch count; the model's credit by channel and by
    campaign and their rows."""
    has = lengths > 0
    total_conv, total_val = float(conversions.sum()), float(value.sum())
    unattributed_conv = float(conversions[~has].sum())
    unattributed_val = float(value[~has].sum())
    weights = {k: v for k, v in ch.weights.items() if k not in ("shares", "removal_effects")}
    prob = ch.extra.get("conversion_probability")
    return AttributionResult(
        query=spec, weights=weights, definition=describe(spec), method=method_of(spec, channels=ch, campaigns=cp),
        value_label=spec.credit, journeys=int(has.sum()),
        converting_journeys=int(((conversions > 0) & has).sum()), touches=int(lengths.sum()),
        total_conversions=round(total_conv, 9), total_value=round(total_val, 6),
        unattributed_conversions=round(unattributed_conv, 9), unattributed_value=round(unattributed_val, 6),
        conversion_probability=None if prob is None else round(float(prob), 12),
        channels=channels, campaigns=campaigns)


class OpportunityAttributionQuery(AttributionQuery):
    """One deal's decomposition: which touches got how much of its credit."""

    opportunity_id: int = Field(description="The opportunity to decompose")
    conversion: str = "opportunity_created"
    credit: CreditKind = "pipeline"

    @model_validator(mode="after")
    def _check_opportunity(self) -> OpportunityAttributionQuery:
        if not self.opportunity_based:
            raise ValidationFailed("a deal decomposition needs an opportunity conversion: "
                                   f"{list(OPPORTUNITY_CONVERSIONS)}", field="conversion")
        return self


class TouchCredit(QueryResult):
    touch_id: int
    occurred_at_epoch: int
    channel: str
    campaign: str
    share: float
    conversions: float
    value: float


class OpportunityAttributionResult(QueryResult):
    query: OpportunityAttributionQuery
    weights: dict[str, Any]
    definition: str = Field(description="The model's weights and definition in plain words")
    opportunity_id: int
    converted: bool
    value: float
    touches: list[TouchCredit]
    channels: dict[str, float]


@query_kind("opportunity_attribution", spec=OpportunityAttributionQuery, result=OpportunityAttributionResult)
def run_opportunity_attribution(engine: Any, spec: OpportunityAttributionQuery) -> OpportunityAttributionResult:
    """Which touches earned how much of one opportunity's credit under the chosen model."""
    from smarketing.analytics.kernels import (
        attribute,  # loads when a query runs, not at start-up
        touch_share_from_channel_weights,
    )

    data = build_journeys(engine, spec)
    j = data.by_channel
    hit = np.flatnonzero(data.opportunity_ids == spec.opportunity_id)
    if hit.size == 0:
        raise NotFound(f"opportunity {spec.opportunity_id} has no {spec.level} journey (unknown id, no "
                       f"{'account' if spec.level == 'account' else 'primary contact'}, or outside the period)",
                       field="opportunity_id", record=f"opportunity:{spec.opportunity_id}")
    idx = int(hit[0])
    if spec.model is AttributionModel.MARKOV:
        credit = run_model(data, spec, by="channel")
        per_channel = np.clip(credit.conversions, 0.0, None)
        one = j.subset(np.array([idx]))
        share = touch_share_from_channel_weights(one, per_channel)
        weights = credit.weights
    else:
        one = j.subset(np.array([idx]))
        # Rule models and the simplified Shapley value split each journey on its own, so one deal is enough.
        credit = attribute(one, spec.model, half_life_days=spec.half_life_days, custom=spec.weights)
        share = credit.touch_share if credit.touch_share is not None else np.zeros(one.n_touches)
        weights = {k: v for k, v in credit.weights.items() if k not in ("shares", "coalitions")}
    lo = int(j.offsets[idx])
    labels = campaign_labels(engine, data.campaign_keys)
    conv, val = float(j.conversions[idx]), float(j.value[idx])
    touches = [TouchCredit(touch_id=int(data.touch_ids[lo + k]), occurred_at_epoch=int(round(j.times[lo + k] * 86400))
                           if j.times is not None else 0, channel=j.names[j.codes[lo + k]],
                           campaign=labels.get(data.campaign_keys[data.by_campaign.codes[lo + k]],
                                               data.campaign_keys[data.by_campaign.codes[lo + k]]),
                           share=round(float(s), 9), conversions=round(float(s) * conv, 9),
                           value=round(float(s) * val, 6))
               for k, s in enumerate(share)]
    channels: dict[str, float] = {}
    for t in touches:
        channels[t.channel] = round(channels.get(t.channel, 0.0) + t.share, 9)
    return OpportunityAttributionResult(query=spec, weights={k: v for k, v in weights.items()},
                                        definition=describe(spec),
                                        opportunity_id=spec.opportunity_id, converted=conv > 0, value=val,
                                        touches=touches, channels=channels)


class PathsAttributionResult(QueryResult):
    """Attribution of journeys brought in the aggregated path format."""

    model: AttributionModel
    weights: dict[str, Any]
    definition: str = Field(description="The model's weights and definition in plain words")
    journeys: float
    total_conversions: float
    total_value: float
    conversion_probability: float | None = None
    channels: list[CreditRow]


def attribute_paths(j: Journeys, *, model: AttributionModel | str, order: int = 1,
                    weights: tuple[float, ...] | None = None, seed: int = 0) -> PathsAttributionResult:
    """Credit channels of journeys read from a paths file (no engine: the paths are the data)."""
    from smarketing.analytics.kernels import attribute  # loads when a query runs, not at start-up
    from smarketing.analytics.kernels.rules import model_definition

    m = AttributionModel(model)
    if m is AttributionModel.TIME_DECAY:
        raise ValidationFailed("the paths format has no touch times, so time decay cannot run on it",
                               field="model")
    if m is AttributionModel.CUSTOM and weights is None:
        raise ValidationFailed("the custom model needs weights, e.g. 0.4,0.2,0.4", field="weights")
    src = j if m in (AttributionModel.MARKOV, AttributionModel.SHAPLEY) else j.converting()
    credit = attribute(src, m, order=order, custom=weights, seed=seed)
    prob = credit.extra.get("conversion_probability")
    return PathsAttributionResult(
        model=m, weights={k: v for k, v in credit.weights.items() if k not in ("shares", "removal_effects")},
        definition=model_definition(m, custom=weights, order=order),
        journeys=round(j.total_journeys(), 6), total_conversions=round(j.total_conversions(), 9),
        total_value=round(j.total_value(), 6), conversion_probability=None if prob is None else round(float(prob), 12),
        channels=credit_rows(credit, j))
