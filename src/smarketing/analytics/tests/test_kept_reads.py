"""Each kept read declares every lake table it reads (`queries.kept`): run on the store, the engine datasets it opens
and the database tables its ORM queries name all map to lake tables it declares, so no change of a table it reads
can leave it kept. Every query kind that keeps a read runs, at both levels, on an engine whose memo is carried."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date
from typing import Any

import pytest
from django.db import connection

from smarketing.analytics.engine import Engine, open_engine
from smarketing.analytics.metrics import MetricsQuery
from smarketing.analytics.queries.attribution import AttributionQuery
from smarketing.analytics.queries.funnel import FunnelQuery
from smarketing.analytics.queries.goals import GoalsQuery
from smarketing.analytics.queries.journeys import JourneysQuery
from smarketing.analytics.queries.kept import MEMO_CARRIED, lake_tables
from smarketing.analytics.registry import run_query
from smarketing.analytics.store.layout import TABLES
from smarketing.analytics.tests.test_engines_agree import company  # noqa: F401 - the shared fixture
from smarketing.analytics.tests.test_touches_cache import lake  # noqa: F401 - the shared fixture
from smarketing.lifecycle.models import SlaClock

# Database tables an ORM kept read may join though the lake does not mirror them, and why no change of theirs can
# change what it read.
UNMIRRORED = {SlaClock._meta.db_table: "a clock's side and start are set when it starts and never change"}
SPECS: list[Any] = [
    MetricsQuery(period="2026"), MetricsQuery(period="2026-Q2"), GoalsQuery(period="2026-Q2", revenue=100_000),
    *(FunnelQuery(from_stage=stage, to_stage="customer", level=level, start=date(2026, 1, 1),  # type: ignore[arg-type]
                  end=date(2026, 6, 30)) for level in ("contact", "account") for stage in ("lead", "mql")),
    *(JourneysQuery(level=level, start=date(2026, 2, 1)) for level in ("contact", "account")),  # type: ignore[arg-type]
    *(AttributionQuery(level=level, conversion="sql", start=date(2026, 1, 1))  # type: ignore[arg-type]
      for level in ("contact", "account")),
]


class _Recording(dict[Any, Any]):
    """An engine memo that notes, per kept read, the datasets and database tables read while `kept_in` reads it
    (from its miss on the kept value to the value stored)."""

    def __init__(self) -> None:
        super().__init__()
        self.current: str | None = None
        self.datasets: dict[str, set[str]] = defaultdict(set)
        self.sql: dict[str, list[str]] = defaultdict(list)

    def __contains__(self, key: object) -> bool:
        found = super().__contains__(key)
        if not found and isinstance(key, tuple) and key[0] == "metrics:kept":
            self.current = key[1]
        return found

    def __setitem__(self, key: Any, value: Any) -> None:
        if isinstance(key, tuple) and key[0] == "metrics:kept":
            self.current = None
        super().__setitem__(key, value)


@pytest.mark.django_db(transaction=True)
def test_every_table_a_kept_read_reads_is_declared(company, lake, monkeypatch):  # noqa: F811
    memo = _Recording()
    table = Engine.table

    def noted(self: Engine, name: str) -> Any:
        noting = self.memo
        if isinstance(noting, _Recording) and noting.current is not None:
            noting.datasets[noting.current].add(name)
        return table(self, name)

    def queried(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if memo.current is not None:
            memo.sql[memo.current].append(sql)
        return execute(sql, params, many, context)

    monkeypatch.setattr(Engine, "table", noted)
    mirrored = {TABLES[name].db_table(): name for name in TABLES}
    # given every query kind that keeps a read, on the store, one memo carried from engine to engine
    with connection.execute_wrapper(queried):
        for spec in SPECS:
            with open_engine("duckdb") as engine:
                assert engine.store is not None
                engine.memo = memo
                memo[MEMO_CARRIED] = True
                run_query(spec, engine=engine)
    sources = {key[1]: value for key, value in memo.items() if isinstance(key, tuple) and key[0] == "metrics:kept from"}
    # then each kept read was recorded, and declared (with the manifests it read) every lake table it read
    assert {key.split(":")[0] for key in sources} >= {
        "touchpoint_times", "mql_decisions", "cohort_steps", "sales_sla_events", "sorted_times", "funnel_timeline",
        "journey_events", "journey_existing", "reach_epochs"}
    assert memo.sql["mql_decisions"] and memo.sql["sales_sla_events"]  # the ORM reads were seen
    for key, source in sources.items():
        declared = set(source.manifests)
        read = set(lake_tables(*memo.datasets[key]))
        for sql in memo.sql[key]:
            named = set(re.findall(r'"(\w+)"\.', sql)) | set(re.findall(r'(?:FROM|JOIN) "(\w+)"', sql))
            assert named - set(mirrored) <= set(UNMIRRORED), (key, named)
            read |= {mirrored[t] for t in named if t in mirrored}
        assert read, key
        assert read <= declared, (key, read - declared)
