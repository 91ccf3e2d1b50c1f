"""`{% measure result "mqls_entered" %}`: a figure from the metrics layer, rendered as a link to its records.

Every figure a page shows from a measure carries `data-measure` (its name) and `data-value` (the unrounded value),
so a test can check the page against `smarketing metrics` for the same period and filters; `title` is the
measure's definition; the link opens the records behind the figure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from smarketing.web import formatting

if TYPE_CHECKING:  # the metrics' query types (NumPy, pydantic) load with the first figure, not with a page
    from smarketing.analytics.metrics import MeasureValue, MetricsResult

register = template.Library()

def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:,.1f} %"


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:,.2f}"


FORMATS = {"count": formatting.integer, "money": formatting.money, "ratio": formatting.pct, "days": formatting.days,
           "percent": _percent, "number": _number}


def measure_href(name: str, period: str, filters: Mapping[str, list[str]] | None = None,
                 model: str | None = None) -> str:
    """The drill-down page of a measure for a period, filters and (campaign measures) attribution model."""
    query = urlencode({"period": period, **({"model": model} if model else {}), **dict(filters or {})}, doseq=True)
    return f"{reverse('measure_records', args=[name])}?{query}"


def measure_text(value: MeasureValue) -> str:
    """The value formatted by its unit ("—" when there is nothing to measure)."""
    return FORMATS.get(value.unit, formatting.integer)(value.value)


@register.simple_tag
def measure_value(value: MeasureValue, period: str = "", filters: Mapping[str, list[str]] | None = None,
                  model: str | None = None) -> SafeString:
    """A MeasureValue as a link to its records, with its name, unrounded value and definition."""
    data_value = "" if value.value is None else repr(float(value.value))
    title = value.definition + (f" ({value.note})" if value.note else "")
    return format_html('<a class="measure" href="{}" data-measure="{}" data-value="{}" title="{}">{}</a>',
                       measure_href(value.name, period, filters, model), value.name, data_value, title, measure_text(value))


@register.simple_tag
def measure(result: MetricsResult, name: str) -> SafeString:
    """The measure `name` of a MetricsResult as a link to its records (period and filters of the result)."""
    return measure_value(result.get(name), result.period, result.filters, result.model)


@register.filter
def measure_of(result: MetricsResult, name: str) -> Any:
    """The MeasureValue called `name` (for `{% with v=result|measure_of:"win_rate" %}`)."""
    return result.get(name)
