"""Journeys: paths of stages and touch kinds per contact or account, against the playbook's ideal journeys.

Events are touchpoints (labelled by kind) and stage changes (labelled `stage:<key>`), ordered by time, then
touches before stage changes at the same instant, then id. The directly-follows graph and the top paths run
as engine expressions everywhere; on the embedded engine (DuckDB) a NumPy kernel over integer-coded arrays
replaces them (`kernel="numpy"`), with identical numbers. Conformance walks each subject's coded events.

Conformance: a journey conforms when the ideal journey's required steps, except its last (the outcome, e.g.
`stage:customer`), occur in order, other events allowed in between. Optional steps never break conformance.
Conversion is reaching the outcome step, so conforming and non-conforming journeys can be compared.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import Field, model_validator

from smarketing.analytics.queries.common import (
    clean,
    day_after,
    day_start,
    epoch,
    epoch_micros,
    instant_micros,
    ratio,
    ts_literal,
)
from smarketing.analytics.queries.kept import Appended, journey_events_kept, journey_existing_kept, kept_in
from smarketing.analytics.registry import QueryResult, QuerySpec, query_kind
from smarketing.core.errors import ValidationFailed

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from smarketing.analytics import paths

Level = Literal["contact", "account"]
SEP = " > "
JOURNEY_NAMES = ("new_customer", "existing_customer")


class JourneyStepIn(QuerySpec):
    kind: str
    optional: bool = False


class JourneysQuery(QuerySpec):
    """Which subjects and period; how many top paths; optionally ideal journeys other than the playbook's."""

    level: Level = "contact"
    start: date | None = None
    end: date | None = None
    top: int = Field(default=10, ge=1, le=1000)
    kernel: Literal["auto", "numpy", "engine"] = Field(default="auto",
                                                       description="auto: NumPy on the embedded engine")
    ideal_journeys: dict[str, list[JourneyStepIn]] | None = Field(
        default=None, description="new_customer / existing_customer steps; default: the active playbook's")

    @model_validator(mode="after")
    def _check(self) -> JourneysQuery:
        if self.start and self.end and self.end < self.start:
            raise ValidationFailed(f"the date range is empty: end {self.end} is before start {self.start}", field="end")
        for name, steps in (self.ideal_journeys or {}).items():
            if name not in JOURNEY_NAMES:
                raise ValidationFailed(f"ideal journey {name!r} is unknown; use {list(JOURNEY_NAMES)}",
                                       field=f"ideal_journeys.{name}")
            if len([s for s in steps if not s.optional]) < 2:
                raise ValidationFailed(f"ideal journey {name!r} needs at least two required steps",
                                       field=f"ideal_journeys.{name}")
        return self


class Edge(QueryResult):
    source: str
    target: str
    count: int
    mean_days: float


class PathCount(QueryResult):
    path: list[str]
    subjects: int
    share: float
    converted: int


class Deviation(QueryResult):
    step_index: int
    step: str
    subjects: int
    skipped: int = Field(description="Went on to a later required step anyway")
    stopped: int = Field(description="No later required step happened")


class Conformance(QueryResult):
    journey: str
    steps: list[str]
    outcome: str
    subjects: int
    conforming: int
    conformance_rate: float | None
    conversion_conforming: float | None
    conversion_non_conforming: float | None
    deviations: list[Deviation]


class JourneysResult(QueryResult):
    query: JourneysQuery
    kernel: str
    subjects: int
    events: int
    edges: list[Edge]
    start_activities: dict[str, int]
    end_activities: dict[str, int]
    top_paths: list[PathCount]
    conformance: list[Conformance]


def events_table(engine: Any, spec: JourneysQuery, above: Mapping[str, int] | None = None) -> ir.Table:
    """(subject, occurred_at, src, eid, activity): touches (src 0) and stage changes (src 1); with `above`, only
    those of the rows appended above these marks (table → high-water mark; a table not named: none of its rows)."""
    import ibis  # loads when a query runs, not at start-up

    sc = engine.table("stage_changes")
    tp = engine.table("touchpoints")
    if above is not None:
        sc, tp = (t.filter(t.id > above[name] if name in above else ibis.literal(False))
                  for t, name in ((sc, "stage_changes"), (tp, "touchpoints")))
    if spec.level == "contact":
        sc = sc.filter(sc.contact_id.notnull()).select(subject=sc.contact_id, occurred_at=sc.occurred_at,
                                                        src=ibis.literal(1), eid=sc.id,
                                                        activity=ibis.literal("stage:") + sc.to_stage)
        tp = tp.select(subject=tp.contact_id, occurred_at=tp.occurred_at, src=ibis.literal(0), eid=tp.id,
                       activity=tp.kind)
    else:
        con = engine.table("contacts").select(cid=lambda t: t.id, caccount=lambda t: t.account_id)
        sj = sc.join(con, sc.contact_id == con.cid, how="left")
        sc = sj.select(subject=ibis.coalesce(sj.account_id, sj.caccount), occurred_at=sj.occurred_at,
                       src=ibis.literal(1), eid=sj.id, activity=ibis.literal("stage:") + sj.to_stage)
        tj = tp.join(con, tp.contact_id == con.cid, how="left")
        tp = tj.select(subject=ibis.coalesce(tj.account_id, tj.caccount), occurred_at=tj.occurred_at,
                       src=ibis.literal(0), eid=tj.id, activity=tj.kind)
    ev = sc.union(tp)
    ev = ev.filter(ev.subject.notnull())
    if spec.start is not None:
        ev = ev.filter(ev.occurred_at >= ts_literal(day_start(spec.start)))
    if spec.end is not None:
        ev = ev.filter(ev.occurred_at < ts_literal(day_after(spec.end)))
    return ev.mutate(src=ev.src.cast("int8"))


def _ideal(spec: JourneysQuery) -> dict[str, list[JourneyStepIn]]:
    if spec.ideal_journeys is not None:
        return spec.ideal_journeys
    from smarketing.playbook.schema import parse

    try:
        from smarketing.playbook.selectors import playbook_active_terms

        _, terms = playbook_active_terms()
    except Exception:  # noqa: BLE001 - no database or no active version: fall back to the shipped default
        from smarketing.playbook.selectors import default_playbook_data

        terms = parse(default_playbook_data())
    ideal = terms.ideal_journeys
    return {name: [JourneyStepIn(kind=s.kind, optional=s.optional) for s in getattr(ideal, name)]
            for name in JOURNEY_NAMES}


def _existing_subjects(engine: Any, spec: JourneysQuery) -> np.ndarray:
    """Subjects whose account has an expansion or renewal opportunity (their journey is the existing-customer one),
    sorted; kept where the engine's memo is carried, as they do not depend on the period."""
    found = kept_in(engine, journey_existing_kept(spec.level), lambda: _existing_read(engine, spec),
                    carried_only=True)
    return found if found is not None else _existing_read(engine, spec)


def _existing_read(engine: Any, spec: JourneysQuery) -> np.ndarray:
    return np.array(sorted(_existing_ids(engine, spec)), dtype=np.int64)


def _existing_ids(engine: Any, spec: JourneysQuery) -> set[int]:
    opp = engine.table("opportunities")
    accounts = opp.filter(opp.type.isin(["expansion", "renewal"]), opp.account_id.notnull()).select(
        aid=opp.account_id).distinct()
    if spec.level == "account":
        frame = engine.execute(accounts)
        return {int(v) for v in frame["aid"]}
    con = engine.table("contacts")
    j = con.join(accounts, con.account_id == accounts.aid).select(sid=con.id)
    return {int(v) for v in engine.execute(j)["sid"]}


def fetch_arrays(engine: Any, ev: ir.Table) -> paths.EventArrays:
    """Coded, sorted event arrays pulled from the engine (codes assigned from the sorted distinct labels)."""
    return _sorted_events(engine, ev).arrays()


@dataclasses.dataclass(frozen=True)
class _SortedEvents:
    """Events in (subject, time, src, id) order: subject ids, epoch microseconds (a missing time reads as the
    largest int64, `epoch_micros`), codes into the sorted distinct `labels`, and (src, id) packed into one int64
    (`tie`: what orders the events of one subject at one instant; None once cut to a period)."""

    subject: np.ndarray
    micros: np.ndarray
    code: np.ndarray
    labels: list[str]
    tie: np.ndarray | None = None

    def arrays(self) -> paths.EventArrays:
        from smarketing.analytics import paths  # loads when a query runs, not at start-up

        return paths.EventArrays(subject=self.subject, ts=self.micros // 1_000_000,  # floored, as `epoch`
                                 code=self.code, labels=self.labels)

    def between(self, lo: int | None, hi: int | None) -> _SortedEvents:
        """The events at or after `lo` and before `hi` (epoch microseconds; None: unbounded), as the engine's
        filter on the time keeps them (a missing time is kept by neither bound), still in order; codes into the
        sorted labels of the events kept, as a read of only those events codes them."""
        keep = np.ones(self.micros.shape[0], dtype=bool) if lo is None else self.micros >= lo
        if hi is not None:
            keep &= self.micros < hi
        elif lo is not None:
            keep &= self.micros != np.iinfo(np.int64).max
        at = np.flatnonzero(keep)  # one pass over the mask, then a gather per array
        code = self.code.take(at)
        present = np.flatnonzero(np.bincount(code, minlength=len(self.labels)))
        rank = np.zeros(len(self.labels), dtype=np.int32)
        rank[present] = np.arange(present.shape[0], dtype=np.int32)
        return _SortedEvents(subject=self.subject.take(at), micros=self.micros.take(at), code=rank.take(code),
                             labels=[self.labels[i] for i in present])

    def extended(self, new: _SortedEvents) -> _SortedEvents:
        """These events with the `new` ones (none of them among these) merged in, coded by the sorted union of
        their labels: what a read of all of them gives."""
        from smarketing.analytics.kernels.journeys import interleave, merge_positions

        if new.subject.shape[0] == 0:
            return self
        assert self.tie is not None and new.tie is not None
        labels = sorted({*self.labels, *new.labels})
        index = {label: k for k, label in enumerate(labels)}
        code = self.code if labels == self.labels else \
            np.array([index[x] for x in self.labels], dtype=np.int32).take(self.code)
        new_code = np.array([index[x] for x in new.labels], dtype=np.int32).take(new.code)
        # Microseconds order as (whole seconds, the rest) do: the order `_sorted_events` gives.
        at = merge_positions(self.subject, self.micros, self.tie, new.subject, new.micros, new.tie)
        return _SortedEvents(subject=interleave(self.subject, new.subject, at),
                             micros=interleave(self.micros, new.micros, at), code=interleave(code, new_code, at),
                             labels=labels, tie=interleave(self.tie, new.tie, at))


# `_SortedEvents.tie`: the source above the id (ids stay below 2**62).
_SRC_SHIFT = 62


def _sorted_events(engine: Any, ev: ir.Table) -> _SortedEvents:
    import pyarrow.compute as pc

    from smarketing.analytics.kernels.journeys import sort_order

    # Read unsorted and ordered here by (subject, time, src, id): the engine's ORDER BY carried the labels through
    # its sort and cost most of the query.
    table = engine.to_arrow(ev.select("subject", "occurred_at", "src", "eid", "activity"))
    subject = table.column("subject").to_numpy().astype(np.int64)
    micros = epoch_micros(table.column("occurred_at"))
    seconds = micros // 1_000_000  # floored, as `epoch` in the engines
    src = table.column("src").to_numpy().astype(np.int64)
    eid = table.column("eid").to_numpy().astype(np.int64)
    order = sort_order(subject, seconds, micros - seconds * 1_000_000, src, eid)
    # Arrow codes the labels in one hash pass; ranking the few distinct ones gives the sorted codes (a NumPy unique
    # over the event strings sorted them all, most of the query's time). A missing label reads "None", as before.
    encoded = pc.dictionary_encode(table.column("activity").combine_chunks().fill_null("None"))
    seen = [str(x) for x in encoded.dictionary.to_pylist()]
    by_label = sorted(range(len(seen)), key=seen.__getitem__)
    rank = np.empty(len(seen), dtype=np.int32)
    rank[by_label] = np.arange(len(seen), dtype=np.int32)
    codes = rank[encoded.indices.to_numpy(zero_copy_only=False)] if len(seen) else np.zeros(0, dtype=np.int32)
    return _SortedEvents(subject=subject[order], micros=micros[order], code=codes.astype(np.int32)[order],
                         labels=[seen[i] for i in by_label], tie=((src << _SRC_SHIFT) | eid)[order])


def _period_events(engine: Any, spec: JourneysQuery) -> paths.EventArrays:
    """The spec's events: where the engine's memo is carried to later computations (the web's figure tasks), a
    slice of every event of the level, read and sorted once per store (`queries.kept.kept_in`: a page's new period
    filters arrays instead of reading and sorting a million events again; the touches and stage changes appended
    to the store since are merged in); otherwise the period's alone."""
    whole = spec.model_copy(update={"start": None, "end": None})

    def extend(every: _SortedEvents, appended: Appended) -> _SortedEvents:
        return every.extended(_sorted_events(engine, events_table(engine, whole, above=appended.above)))

    every = kept_in(engine, journey_events_kept(spec.level), lambda: _sorted_events(engine, events_table(engine, whole)),
                    extend=extend, carried_only=True)
    if every is None:
        return fetch_arrays(engine, events_table(engine, spec))
    lo = instant_micros(day_start(spec.start)) if spec.start is not None else None
    hi = instant_micros(day_after(spec.end)) if spec.end is not None else None
    return every.between(lo, hi).arrays()


def _edges_engine(engine: Any, ev: ir.Table) -> tuple[list[Edge], dict[str, int], dict[str, int]]:
    import ibis  # loads when a query runs, not at start-up

    w = ibis.window(group_by=ev.subject, order_by=[ev.occurred_at, ev.src, ev.eid])
    seq = ev.mutate(nxt=ev.activity.lead().over(w), nxt_at=ev.occurred_at.lead().over(w),
                    prv=ev.activity.lag().over(w))
    pairs = seq.filter(seq.nxt.notnull())
    gap = (epoch(pairs.nxt_at) - epoch(pairs.occurred_at)).cast("float64")
    frame = engine.execute(pairs.group_by(source=pairs.activity, target=pairs.nxt).aggregate(
        count=pairs.count(), mean_seconds=gap.mean()))
    edges = [Edge(source=r.source, target=r.target, count=int(r.count), mean_days=clean(r.mean_seconds / 86400) or 0.0)
             for r in frame.itertuples()]
    first, last = seq.filter(seq.prv.isnull()), seq.filter(seq.nxt.isnull())
    starts = engine.execute(first.group_by("activity").aggregate(n=first.count()))
    ends = engine.execute(last.group_by("activity").aggregate(n=last.count()))
    return (edges, {r.activity: int(r.n) for r in starts.itertuples()},
            {r.activity: int(r.n) for r in ends.itertuples()})


def _paths_engine(engine: Any, ev: ir.Table, top: int, outcome: str) -> tuple[int, list[PathCount]]:
    import ibis  # loads when a query runs, not at start-up

    if engine.name == "spark":
        # Spark has no ordered aggregate: collect (time, src, id, activity) structs and sort them.
        item = ibis.struct({"t": ev.occurred_at, "s": ev.src, "i": ev.eid, "a": ev.activity})
        per = ev.group_by("subject").aggregate(items=item.collect(), conv=(ev.activity == outcome).any())
        per = per.mutate(path=per.items.sort().map(lambda x: x.a).join(SEP))
    else:
        per = ev.group_by("subject").aggregate(
            steps=ev.activity.collect(order_by=[ev.occurred_at, ev.src, ev.eid]),
            conv=(ev.activity == outcome).any())
        per = per.mutate(path=per.steps.join(SEP))
    grouped = per.group_by("path").aggregate(subjects=per.count(), converted=ibis.ifelse(per.conv, 1, 0).sum())
    total = int(engine.execute(per.count().name("n"))["n"].iloc[0])
    frame = engine.execute(grouped.order_by([ibis.desc("subjects"), "path"]).limit(top))
    return total, [PathCount(path=r.path.split(SEP), subjects=int(r.subjects), share=ratio(r.subjects, total) or 0.0,
                             converted=int(r.converted)) for r in frame.itertuples()]


def _kernel_graph(ev: paths.EventArrays, top: int, outcome: str) -> tuple[list[Edge], dict[str, int],
                                                                              dict[str, int], list[PathCount]]:
    from smarketing.analytics import paths  # loads when a query runs, not at start-up

    g = paths.dfg(ev)
    lab = ev.labels
    edges = [Edge(source=lab[a], target=lab[b], count=c, mean_days=clean(m / 86400) or 0.0)
             for (a, b), (c, m) in g.edges.items()]
    inverse, rep, counts = paths.path_ids(ev)
    total = len(ev.starts)
    out: list[PathCount] = []
    if total:
        converted_subj = paths.has_code(ev, lab.index(outcome)) if outcome in lab else np.zeros(total, dtype=bool)
        conv = np.bincount(inverse, weights=converted_subj.astype(np.float64), minlength=len(counts))
        threshold = np.sort(counts)[-min(top, len(counts))]
        cands = np.flatnonzero(counts >= threshold)
        rows = sorted(((int(counts[p]), SEP.join(paths.sequence(ev, int(rep[p]))), int(conv[p])) for p in cands),
                      key=lambda r: (-r[0], r[1]))[:top]
        out = [PathCount(path=p.split(SEP), subjects=n, share=ratio(n, total) or 0.0, converted=c) for n, p, c in rows]
    return (edges, {lab[k]: v for k, v in g.start.items()}, {lab[k]: v for k, v in g.end.items()}, out)


def _conformance(ev: paths.EventArrays, name: str, steps: list[JourneyStepIn], mask: np.ndarray) -> Conformance:
    from smarketing.analytics import paths  # loads when a query runs, not at start-up

    required = [s.kind for s in steps if not s.optional]
    outcome, checked = required[-1], required[:-1]
    index = {label: i for i, label in enumerate(ev.labels)}
    subjects = int(mask.sum())
    if 2 * subjects < len(mask):
        # Few subjects follow this journey (the existing customers): judge only their events. Each subject's verdict
        # reads its own events alone, so it is the same; the labels (and so the codes) stay the period's.
        events = np.repeat(mask, np.diff(ev.offsets))
        ev = paths.EventArrays(subject=ev.subject[events], ts=ev.ts[events], code=ev.code[events], labels=ev.labels)
        mask = np.ones(subjects, dtype=bool)
    converted = (paths.has_code(ev, index[outcome]) if outcome in index
                 else np.zeros(len(mask), dtype=bool))
    if any(k not in index for k in checked):
        # A step nobody ever took: everyone deviates at the first such step (or earlier).
        codes = [index.get(k, -1) for k in checked]
    else:
        codes = [index[k] for k in checked]
    result = paths.conformance(ev, codes)
    ok = result.conforming & mask
    bad = ~result.conforming & mask
    deviations = []
    for j in np.unique(result.first_deviation[bad]):
        who = bad & (result.first_deviation == j)
        n, skipped = int(who.sum()), int((who & result.skipped).sum())
        deviations.append(Deviation(step_index=int(j), step=checked[int(j)], subjects=n, skipped=skipped,
                                    stopped=n - skipped))
    deviations.sort(key=lambda d: (-d.subjects, d.step_index))
    return Conformance(
        journey=name, steps=[s.kind + ("?" if s.optional else "") for s in steps], outcome=outcome,
        subjects=subjects, conforming=int(ok.sum()), conformance_rate=ratio(int(ok.sum()), subjects),
        conversion_conforming=ratio(int((ok & converted).sum()), int(ok.sum())),
        conversion_non_conforming=ratio(int((bad & converted).sum()), int(bad.sum())),
        deviations=deviations)


@query_kind("journeys", spec=JourneysQuery, result=JourneysResult)
def run_journeys(engine: Any, spec: JourneysQuery) -> JourneysResult:
    """Directly-follows graph, top paths and conformance to the ideal journeys."""
    ideal = _ideal(spec)
    outcome = next(s.kind for s in reversed(ideal.get("new_customer", [])) if not s.optional) \
        if "new_customer" in ideal else "stage:customer"
    use_numpy = spec.kernel == "numpy" or (spec.kernel == "auto" and engine.embedded)
    arrays = _period_events(engine, spec)
    if use_numpy:
        edges, starts, ends, top = _kernel_graph(arrays, spec.top, outcome)
    else:
        ev = events_table(engine, spec)
        edges, starts, ends = _edges_engine(engine, ev)
        _, top = _paths_engine(engine, ev, spec.top, outcome)
    edges.sort(key=lambda e: (-e.count, e.source, e.target))
    subject_ids = arrays.subject[arrays.starts]
    existing = np.isin(subject_ids, _existing_subjects(engine, spec))
    conformance = [_conformance(arrays, name, steps, existing if name == "existing_customer" else ~existing)
                   for name, steps in ideal.items()]
    return JourneysResult(query=spec, kernel="numpy" if use_numpy else "engine", subjects=len(subject_ids),
                          events=len(arrays.code), edges=edges, start_activities=dict(sorted(starts.items())),
                          end_activities=dict(sorted(ends.items())), top_paths=top, conformance=conformance)
