"""Attribution's journeys: the conversion units, and each unit's run of its subject's sorted touches.

A *journey* ends in one conversion unit — an opportunity (created or won) or a subject's first arrival at a
lifecycle stage — and holds the subject's touches up to that moment (within `window_days` if given). The units are
one ibis expression (DuckDB, PostgreSQL or Spark); an embedded engine reads a stage conversion's units, when each
is worth one conversion, off each subject's first arrival at the stage, which it keeps (the same rows). The
journeys are cut from the sorted touches (`touches`) inside each subject's run, as ranges (`journey_ranges`) or
gathered into the kernels' `Journeys` (`build_journeys`).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import numpy as np

from smarketing.analytics.queries.common import day_after, day_start, epoch, reached_set, ts_literal
from smarketing.analytics.queries.kept import kept_in, reach_epochs_kept
from smarketing.analytics.queries.touches import Level, SubjectTouches, first_seen, subject_touches

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import pyarrow as pa

    from smarketing.analytics.kernels import Journeys
    from smarketing.analytics.queries.attribution import AttributionQuery

FAR_FUTURE = 2**62
LEAD_STAGE = "mql"


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


def _reach_epochs(engine: Any, level: Level, stage: str) -> tuple[np.ndarray, np.ndarray]:
    """Each subject's first arrival at `stage` (or a later one) in epoch seconds, sorted by subject. An embedded
    engine keeps them, as the touches: they are the same whatever the period or model."""
    def read() -> tuple[np.ndarray, np.ndarray]:
        reach = engine.to_arrow(_first_reach(engine, level, stage).mutate(
            reach_epoch=lambda t: epoch(t.reached_at)).select("subject", "reach_epoch"))
        s = reach["subject"].to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
        e = reach["reach_epoch"].to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
        order = np.argsort(s)
        return s[order], e[order]

    found = kept_in(engine, reach_epochs_kept(level, stage), read)
    return found if found is not None else read()


def _stage_units(engine: Any, spec: AttributionQuery) -> dict[str, np.ndarray] | None:
    """The units of a stage conversion credited by conversions (each worth 1) from the kept first arrivals, without
    a query: the rows `conversion_units` gives (a subject's first arrival in the period). None when the engine keeps
    nothing or the units need the opportunities' amounts."""
    if not engine.embedded or spec.opportunity_based or spec.credit != "conversions":
        return None
    s, e = _reach_epochs(engine, spec.level, spec.conversion)
    # Whole seconds floored, against midnights (whole seconds): the same rows as the timestamps' comparison.
    keep = np.ones(s.shape[0], dtype=bool)
    if spec.start is not None:
        keep &= e >= int(day_start(spec.start, spec.timezone).timestamp())
    if spec.end is not None:
        keep &= e < int(day_after(spec.end, spec.timezone).timestamp())
    s, e = s[keep], e[keep]
    n = s.shape[0]
    return {"keys": s, "subjects": s, "conv": np.ones(n), "value": np.ones(n), "end": e.astype(np.float64),
            "end_at": e, "opened": np.full(n, -1, dtype=np.int64), "opp_ids": np.full(n, -1, dtype=np.int64)}


def _journey_ranges(st: SubjectTouches, subjects: np.ndarray, end: np.ndarray,
                    window_days: float | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per unit, the run [lo, hi) of the sorted touches that makes its journey: its subject's touches at or
    before `end` (and at or after `end - window`), and the unit's band offset into the runs' key. The subject's run
    is found among the runs (one searchsorted over the subjects), the cut inside it by binary search: the touches
    of the run and the keys' order agree, so this is the searchsorted over the (subject rank, time) key."""
    from smarketing.analytics.kernels.ranges import cut_runs  # compiled; loads when a query runs

    n = subjects.shape[0]
    r = st.runs
    if r is None or n == 0:
        zero = np.zeros(n, dtype=np.int64)
        return zero, zero, zero
    k = np.clip(np.searchsorted(r.subjects, subjects), 0, r.subjects.shape[0] - 1)
    has = r.subjects[k] == subjects
    band = k * r.span - r.tmin
    start = end if window_days is None else end - int(window_days * 86400)
    lo, hi = cut_runs(r.firsts, st.t_epoch.shape[0], st.t_epoch, k, has, end, start, window_days is not None)
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


def _unit_columns(ut: pa.Table) -> dict[str, np.ndarray]:
    """The conversion units `conversion_units` gives as arrays."""
    def col(name: str, fill: int | None = None) -> np.ndarray:
        c = ut[name] if fill is None else ut[name].fill_null(fill)
        return c.to_numpy(zero_copy_only=False)

    return {"keys": col("unit_key").astype(np.int64), "subjects": col("subject").astype(np.int64),
            "conv": col("converted").astype(np.float64), "value": col("value").astype(np.float64),
            "end": col("end_epoch").astype(np.float64),
            "end_at": col("end_epoch", -FAR_FUTURE).astype(np.int64),
            "opened": col("opened_epoch", -1).astype(np.int64), "opp_ids": col("opportunity_id", -1).astype(np.int64)}


def _with_lonely(units: dict[str, np.ndarray], st: SubjectTouches) -> dict[str, np.ndarray]:
    """The conversion units plus one non-converting unit per subject with touches and no unit (its key the negated
    subject, which never collides with a record id; it ends at the subject's last touch)."""
    r = st.runs
    if r is None:
        return units
    # Which subjects' runs some unit covers: the runs are in subject order, so one searchsorted finds each unit's.
    k = np.searchsorted(r.subjects, units["subjects"])
    inside = k < r.subjects.shape[0]
    k = k[inside]
    covered = np.zeros(r.subjects.shape[0], dtype=bool)
    covered[k[r.subjects[k] == units["subjects"][inside]]] = True
    lonely = np.append(r.firsts[1:] - 1, st.subject.shape[0] - 1)[~covered]  # the uncovered runs' last touches
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
    units = _stage_units(engine, spec)
    if units is None:
        units = _unit_columns(engine.to_arrow(conversion_units(engine, spec)))
    u = _with_lonely(units, st)
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
    lead_pos = _last_position_at_or_before(st, lo, hi, band, lead_epochs_of(engine, spec.level, r.subjects))
    opp_pos = np.where(r.opened >= 0, _last_position_at_or_before(st, lo, hi, band, r.opened), -1)
    by_channel = Journeys(offsets=offsets, codes=ch_codes, names=ch_names, conversions=r.conversions, value=r.value,
                          nulls=1.0 - r.conversions, times=days, end_times=r.end / 86400.0, lead_pos=lead_pos,
                          opp_pos=opp_pos)
    by_campaign = dataclasses.replace(by_channel, codes=cp_codes, names=cp_names)
    return JourneyData(by_channel=by_channel, by_campaign=by_campaign, touch_ids=touch_id, unit_keys=r.keys,
                       opportunity_ids=r.opportunity_ids, subject_ids=r.subjects, campaign_keys=cp_names)


def lead_epochs_of(engine: Any, level: Level, subjects: np.ndarray) -> np.ndarray:
    """Per unit of `subjects`, its subject's first MQL epoch (-1 when it never became one)."""
    return _lookup(_reach_epochs(engine, level, LEAD_STAGE), subjects)


def _lookup(lead: tuple[np.ndarray, np.ndarray], subjects: np.ndarray) -> np.ndarray:
    """Per unit, the subject's first MQL epoch (-1 when it never became one)."""
    s, e = lead
    if s.size == 0:
        return np.full(subjects.shape[0], -1, dtype=np.int64)
    i = np.clip(np.searchsorted(s, subjects), 0, s.size - 1)
    return np.where(s[i] == subjects, e[i], -1)
