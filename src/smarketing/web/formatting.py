"""Number formatting with units, shared by templates, charts and CSV headers."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "BRL": "R$"}


def _num(v: Any) -> float | None:
    if v is None or v == "":
        return None
    if isinstance(v, Decimal):
        return float(v)
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def money(v: Any, currency: str = "USD") -> str:
    """$1.23M, $45.6k, $980 — compact money with its currency symbol."""
    x = _num(v)
    if x is None:
        return "—"
    sym = SYMBOLS.get(currency, currency + " ")
    sign = "−" if x < 0 else ""
    a = abs(x)
    if a >= 1e9:
        return f"{sign}{sym}{a / 1e9:.2f}B"
    if a >= 1e6:
        return f"{sign}{sym}{a / 1e6:.2f}M"
    if a >= 1e4:
        return f"{sign}{sym}{a / 1e3:.1f}k"
    return f"{sign}{sym}{a:,.0f}"


def integer(v: Any) -> str:
    x = _num(v)
    return "—" if x is None else f"{x:,.0f}"


def pct(v: Any, digits: int = 1) -> str:
    """A ratio (0.25) as '25.0 %'."""
    x = _num(v)
    return "—" if x is None else f"{x * 100:.{digits}f} %"


def days(v: Any) -> str:
    x = _num(v)
    return "—" if x is None else f"{x:,.1f} d"


def hours(v: Any) -> str:
    x = _num(v)
    if x is None:
        return "—"
    if abs(x) >= 48:
        return f"{x / 24:,.1f} d"
    return f"{x:,.1f} h"


def ratio(v: Any) -> str:
    """ROI-style multiple: 3.2×."""
    x = _num(v)
    return "—" if x is None else f"{x:,.2f}×"


def score(v: Any) -> str:
    x = _num(v)
    return "—" if x is None else f"{x:,.0f} pts"


FORMATTERS = {"money": money, "int": integer, "pct": pct, "days": days, "hours": hours, "ratio": ratio,
              "score": score, "text": lambda v: "—" if v is None or v == "" else str(v)}


def format_value(kind: str, v: Any) -> str:
    return FORMATTERS.get(kind, FORMATTERS["text"])(v)
