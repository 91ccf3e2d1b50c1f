"""Directly-follows graph and top paths over seeded synthetic events: our compiled kernel and DuckDB engine path
versus pm4py on the very same events. Prints time, peak memory and the ratio; checks the numbers agree.

    .venv/bin/python benchmarks/journeys.py --events 30000000 [--pm4py-events 10000000] [--top 10]

pm4py is a benchmark-only dependency (`pip install -e .[bench]`); the product never imports it.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))

LABELS = ["ad_impression", "ad_click", "page_view", "email_open", "email_click", "content_download", "form_fill",
          "webinar_registered", "webinar_attended", "demo_request", "pricing_view", "sales_call", "meeting",
          "stage:lead", "stage:mql", "stage:sal", "stage:sql", "stage:opportunity", "stage:customer"]


def generate(n_events: int, seed: int = 7) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sorted (subject, ts seconds, code) arrays: funnel-shaped journeys of 1–40 events, ~12 per subject."""
    rng = np.random.default_rng(seed)
    lengths = np.clip(rng.geometric(1 / 12, size=n_events // 6), 1, 40)
    lengths = lengths[np.cumsum(lengths) <= n_events]
    if lengths.sum() < n_events:
        lengths = np.r_[lengths, n_events - lengths.sum()]
    n_subj = len(lengths)
    subject = np.repeat(np.arange(n_subj, dtype=np.int64), lengths)
    starts = np.r_[0, np.cumsum(lengths)[:-1]]
    pos = np.arange(n_events) - np.repeat(starts, lengths)
    # Activities drift along the funnel with position; noise makes paths vary but leaves popular ones.
    base = np.minimum(pos // 2, len(LABELS) - 1)
    noise = rng.choice([0, 0, 0, 0, 1, 2, -1], size=n_events)
    code = np.clip(base + noise, 0, len(LABELS) - 1).astype(np.int32)
    t0 = rng.integers(1_700_000_000, 1_760_000_000, size=n_subj)
    gaps = rng.exponential(3 * 86400, size=n_events).astype(np.int64)
    gaps[starts] = 0
    ts = np.repeat(t0, lengths) + np.cumsum(gaps) - np.repeat(np.cumsum(gaps)[starts], lengths)
    return subject, ts.astype(np.int64), code


class PeakRss:
    """Peak resident memory above the level when started, sampled every 5 ms."""

    def __init__(self) -> None:
        self.page = os.sysconf("SC_PAGE_SIZE")
        self.base = self._rss()
        self.peak = self.base
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _rss(self) -> int:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * self.page

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._rss())
            time.sleep(0.005)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._rss())

    @property
    def mb(self) -> float:
        return (self.peak - self.base) / 2**20


def measure(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    gc.collect()
    with PeakRss() as mem:
        t = time.perf_counter()
        out = fn()
        elapsed = time.perf_counter() - t
    return out, elapsed, mem.mb


def ours_kernel(subject: np.ndarray, ts: np.ndarray, code: np.ndarray, top: int) -> tuple[dict, list]:
    from smarketing.analytics import paths
    from smarketing.analytics.queries.journeys import SEP

    ev = paths.EventArrays(subject, ts, code, LABELS)
    g = paths.dfg(ev)
    inverse, rep, counts = paths.path_ids(ev)
    threshold = np.sort(counts)[-min(top, len(counts))]
    cands = np.flatnonzero(counts >= threshold)
    rows = sorted(((int(counts[p]), SEP.join(paths.sequence(ev, int(rep[p])))) for p in cands),
                  key=lambda r: (-r[0], r[1]))[:top]
    edges = {(LABELS[a], LABELS[b]): c for (a, b), (c, _) in g.edges.items()}
    return edges, rows


def ours_engine(subject: np.ndarray, ts: np.ndarray, code: np.ndarray, top: int) -> tuple[dict, list]:
    """The same queries as ibis expressions executed by DuckDB (what Spark/PostgreSQL run)."""
    import ibis
    import pyarrow as pa

    from smarketing.analytics.engine import Engine
    from smarketing.analytics.queries.journeys import _edges_engine, _paths_engine

    backend = ibis.duckdb.connect()
    labels = pa.array(LABELS)
    table = pa.table({"subject": subject, "occurred_at": pa.array(ts * 1_000_000, pa.timestamp("us", tz="UTC")),
                      "src": pa.array(np.zeros(len(ts), dtype=np.int8)),
                      "eid": pa.array(np.arange(len(ts), dtype=np.int64)),
                      "activity": labels.take(pa.array(code))})
    ev = backend.create_table("events", table)
    engine = Engine("duckdb", backend)
    edges, _, _ = _edges_engine(engine, ev)
    _, paths = _paths_engine(engine, ev, top, "stage:customer")
    return ({(e.source, e.target): e.count for e in edges},
            [(p.subjects, " > ".join(p.path)) for p in paths])


def pm4py_run(subject: np.ndarray, ts: np.ndarray, code: np.ndarray, top: int) -> tuple[dict, list]:
    import pandas as pd
    import pm4py

    df = pd.DataFrame({"case:concept:name": subject.astype(str), "concept:name": np.array(LABELS)[code],
                       "time:timestamp": pd.to_datetime(ts, unit="s", utc=True)})
    dfg, _start, _end = pm4py.discover_dfg(df)
    variants = pm4py.get_variants(df)
    counted = [(int(v if isinstance(v, int | np.integer) else len(v)), " > ".join(k)) for k, v in variants.items()]
    return dict(dfg), sorted(counted, key=lambda r: (-r[0], r[1]))[:top]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=30_000_000)
    parser.add_argument("--pm4py-events", type=int, default=None, help="Size for the pm4py comparison "
                        "(default: --events); ours is also timed at this size for the ratio")
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("--skip-engine", action="store_true", help="Skip the DuckDB engine variant")
    args = parser.parse_args()

    print(f"journeys benchmark: {args.events:,} events, top {args.top} paths, numpy {np.__version__}")
    subject, ts, code = generate(args.events)
    ours_kernel(subject[:1000], ts[:1000], code[:1000], args.top)  # warm up: imports outside the timing
    print(f"  subjects {subject[-1] + 1:,}, activities {len(LABELS)}")
    (edges, top), t_ours, m_ours = measure(lambda: ours_kernel(subject, ts, code, args.top))
    print(f"  ours (compiled kernel)   {t_ours:8.2f} s  {m_ours:8.0f} MB  {args.events / t_ours / 1e6:7.1f} M events/s")
    if not args.skip_engine:
        (e_edges, e_top), t_eng, m_eng = measure(lambda: ours_engine(subject, ts, code, args.top))
        agree = e_edges == edges and [(n, p) for n, p in e_top] == top
        print(f"  ours (DuckDB engine)  {t_eng:8.2f} s  {m_eng:8.0f} MB  agree with kernel: {agree}")

    n_pm = args.pm4py_events or args.events
    try:
        import pm4py  # noqa: F401
    except ImportError:
        print("  pm4py is not installed (pip install -e .[bench]); no peer comparison")
        return
    if n_pm != args.events:
        subject, ts, code = subject[:n_pm], ts[:n_pm], code[:n_pm]
        # cut at a subject boundary so both see whole journeys
        cut = np.flatnonzero(subject != subject[-1])[-1] + 1
        subject, ts, code = subject[:cut], ts[:cut], code[:cut]
        (edges, top), t_ours, m_ours = measure(lambda: ours_kernel(subject, ts, code, args.top))
        print(f"  at {len(subject):,} events: ours (compiled kernel) {t_ours:8.2f} s  {m_ours:8.0f} MB")
    (p_edges, p_top), t_pm, m_pm = measure(lambda: pm4py_run(subject, ts, code, args.top))
    print(f"  pm4py {pm4py.__version__:12s}     {t_pm:8.2f} s  {m_pm:8.0f} MB  (DFG + variants, same events)")
    print(f"  agreement: DFG {'identical' if p_edges == edges else 'DIFFERENT'}, "
          f"top paths {'identical' if p_top == top else 'DIFFERENT'}")
    print(f"  ratio: ours is {t_pm / t_ours:,.1f}x faster than pm4py (target >= 50x), "
          f"memory {m_pm / max(m_ours, 1):,.1f}x less")


if __name__ == "__main__":
    main()
