"""The period picker's hidden fields and the comparison with the previous period.

`{% scope_hidden %}` carries a page's other parameters (and the filters) through the picker's forms;
`{% measure_change result "mqls_entered" %}` shows a measure's change against the previous period: the direction
in words and an arrow, the difference and the percentage, and the previous value as a link to its records (so it
carries `data-measure` like every figure). The change itself comes from the metrics layer (`metrics.compare`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from smarketing.web import formatting
from smarketing.web.periods import SCOPE_KEYS
from smarketing.web.templatetags.measures import measure_value

if TYPE_CHECKING:  # the metrics' query types (NumPy, pydantic) load with the first figure, not with a page
    from smarketing.analytics.metrics import Change, MetricsResult

register = template.Library()

_NOT_CARRIED = {*SCOPE_KEYS, "format", "table", "offset"}
ARROWS = {"up": "▲", "down": "▼", "same": "■"}


@register.simple_tag(takes_context=True)
def scope_hidden(context: Any, period: bool = True, form: str = "") -> SafeString:
    """Hidden inputs for a picker form (`form`: the id of the form they belong to, when outside it): the page's
    own parameters, the scope's filters, and (unless it is the form that picks it) the period."""
    request, scope = context["request"], context.get("scope")
    pairs = [(k, v) for k, values in request.GET.lists() if k not in _NOT_CARRIED for v in values]
    if scope is not None:
        pairs += [(k, v) for k, values in scope.filters.items() for v in values]
        if period:
            pairs.append(("period", scope.period.key))
    if form:
        return format_html_join("", '<input type="hidden" form="{}" name="{}" value="{}">',
                                [(form, k, v) for k, v in pairs])
    return format_html_join("", '<input type="hidden" name="{}" value="{}">', pairs)


def delta_text(unit: str, delta: float) -> str:
    """The size of a difference in the measure's unit (points for rates and percentages)."""
    size = abs(delta)
    if unit == "ratio":
        return f"{size * 100:.1f} pts"
    if unit == "percent":
        return f"{size:,.1f} pts"
    if unit == "money":
        return formatting.money(size)
    if unit == "days":
        return f"{size:,.1f} d"
    if unit == "number":
        return f"{size:,.2f}"
    return formatting.integer(size)


def change_html(c: Change | None, unit: str, previous_html: str, previous_label: str, of: str = "") -> SafeString:
    """A change as words and an arrow (never colour alone), with the previous value; `of` names the measure."""
    if c is None:
        return SafeString("")
    if c.delta is None or c.direction is None:
        return format_html('<span class="delta" data-delta-of="{}" data-delta="">no comparison ({} in {})</span>',
                           of, previous_html, previous_label)
    words = "no change" if c.direction == "same" else (
        f"{c.direction} {'+' if c.delta > 0 else '−'}{delta_text(unit, c.delta)}"
        + (f" ({'+' if c.delta > 0 else '−'}{abs(c.delta_percent):,.1f} %)" if c.delta_percent is not None else ""))
    # Coloured by meaning (good/bad news by the measure's direction), worded by direction: a fall in lost deals is
    # green and still says "down".
    news = "neutral" if c.good is None else ("good" if c.good else "bad")
    return format_html('<span class="delta delta-{} news-{}" data-delta-of="{}" data-delta="{}" data-delta-percent="{}"'
                       ' data-good="{}"><span aria-hidden="true">{}</span> {} <span class="from">from {} in {}</span>'
                       '</span>',
                       c.direction, news, of, repr(float(c.delta)),
                       "" if c.delta_percent is None else repr(float(c.delta_percent)),
                       "" if c.good is None else str(c.good).lower(), ARROWS[c.direction], words, previous_html,
                       previous_label)


@register.simple_tag
def measure_change(result: MetricsResult | None, name: str) -> SafeString:
    """The change of measure `name` against the previous period, if the result was compared."""
    if result is None or result.previous is None:
        return SafeString("")
    value = result.get(name)
    if value.change is None:
        return SafeString("")
    before = value.model_copy(update={"value": value.change.previous, "change": None})
    previous_html = measure_value(before, result.previous.key, result.filters, result.model)
    return change_html(value.change, value.unit, previous_html, result.previous.label, of=name)


@register.simple_tag
def figure_change(c: Change | None, unit: str, previous_label: str) -> SafeString:
    """The change of a figure that is not a measure (the funnel query's conversion and velocity)."""
    if c is None:
        return SafeString("")
    shown = {"ratio": formatting.pct, "days": formatting.days, "money": formatting.money}.get(unit,
                                                                                              formatting.integer)
    return change_html(c, unit, shown(c.previous), previous_label)
