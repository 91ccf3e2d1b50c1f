"""The metrics layer: each figure of the product defined once, by name, and computed from the rows it counts.

`MEASURES` is the registry; `MetricsQuery` / `MeasureRecordsQuery` are the query kinds the API, the web pages
and the CLI run; `reporting_period` is the one reporting period.
"""

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

__all__ = [
    "CONTACT_FILTERS", "Change", "PeriodRef", "change", "compared", "previous_period", "MEASURES", "Measure", "MeasureRecordsQuery", "MeasureRecordsResult", "MeasureValue",
    "MetricsQuery", "MetricsResult", "RecordRef", "ReportingPeriod", "campaign_metrics", "check_filters", "measure_get",
    "reporting_period", "reporting_timezone", "run_measure_records", "run_metrics",
]
