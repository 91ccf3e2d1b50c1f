"""Template filters for numbers with units, and the table/CSV component."""

from __future__ import annotations

from typing import Any

from django import template
from django.http import QueryDict

from smarketing.web import formatting
from smarketing.web.tables import Table

register = template.Library()

register.filter("money", formatting.money)
register.filter("pct", formatting.pct)
register.filter("days", formatting.days)
register.filter("hours", formatting.hours)
register.filter("integer", formatting.integer)
register.filter("ratio", formatting.ratio)
register.filter("score", formatting.score)
register.filter("money_exact", formatting.money_exact)
# One way to write a key in words ("paid_social" -> "Paid social", "mqls" -> "MQLs") for tables, charts, headings.
register.filter("label", formatting.label)


@register.filter
def fmt(value: Any, kind: str) -> str:
    return formatting.format_value(kind, value)


@register.filter
def humanise(value: Any) -> str:
    """A key in lower-case words for the middle of a sentence ("paid social"); `label` starts a heading or cell."""
    return str(value or "").replace("_", " ")


@register.filter
def get(mapping: Any, key: Any) -> Any:
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.simple_tag(takes_context=True)
def query(context: dict[str, Any], **changes: Any) -> str:
    """The current query string with some parameters changed (None or '' removes them)."""
    request = context["request"]
    q: QueryDict = request.GET.copy()
    for k, v in changes.items():
        if v in (None, ""):
            q.pop(k, None)
        else:
            q[k] = str(v)
    q.pop("format", None)
    q.pop("table", None)
    encoded = q.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.inclusion_tag("web/_table.html", takes_context=True)
def data_table(context: dict[str, Any], table: Table, caption: str = "", open_: bool = False) -> dict[str, Any]:
    request = context["request"]
    q = request.GET.copy()
    q["format"] = "csv"
    q["table"] = table.key
    return {"table": table, "caption": caption or table.title, "csv_url": f"?{q.urlencode()}", "open": open_,
            "rows": table.display_rows()}
