"""The metrics layer: each figure of the product defined once, by name, and computed from the rows it counts.

`MEASURES` is the registry; `MetricsQuery` / `MeasureRecordsQuery` are the query kinds the API, the web pages
and the CLI run; `reporting_period` is the one reporting period.

The names load with the submodule that defines them, on first use (PEP 562): the web pages' period picker needs
`reporting_period`, not the queries (NumPy, pydantic) behind `run_metrics`, and the server's first answer should
not wait for them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from smarketing.analytics.metrics.compare import Change, change, previous_period
    from smarketing.analytics.metrics.definitions import (
        CONTACT_FILTERS,
        MEASURES,
        Measure,
        check_filters,
        measure_get,
    )
    from smarketing.analytics.metrics.periods import ReportingPeriod, reporting_period, reporting_timezone
    from smarketing.analytics.metrics.query import (
        MeasureRecordsQuery,
        MeasureRecordsResult,
        MeasureValue,
        MetricsQuery,
        MetricsResult,
        PeriodRef,
        RecordRef,
        campaign_metrics,
        compared,
        run_measure_records,
        run_metrics,
    )

_WHERE = {
    "compare": ("Change", "change", "previous_period"),
    "definitions": ("CONTACT_FILTERS", "MEASURES", "Measure", "check_filters", "measure_get"),
    "periods": ("ReportingPeriod", "reporting_period", "reporting_timezone"),
    "query": ("MeasureRecordsQuery", "MeasureRecordsResult", "MeasureValue", "MetricsQuery", "MetricsResult",
              "PeriodRef", "RecordRef", "campaign_metrics", "compared", "run_measure_records", "run_metrics"),
}
_MODULE_OF = {name: module for module, names in _WHERE.items() for name in names}

__all__ = [
    "CONTACT_FILTERS", "Change", "PeriodRef", "change", "compared", "previous_period", "MEASURES", "Measure",
    "MeasureRecordsQuery", "MeasureRecordsResult", "MeasureValue", "MetricsQuery", "MetricsResult", "RecordRef",
    "ReportingPeriod", "campaign_metrics", "check_filters", "measure_get", "reporting_period", "reporting_timezone",
    "run_measure_records", "run_metrics",
]


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # the next lookup is a plain attribute
    return value
