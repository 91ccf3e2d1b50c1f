"""Number formatting with units and labels in words, shared by templates, tables, charts and CSV headers.

One money rule everywhere (tables, cards, chart axes and tooltips): below $1,000 the exact dollars ($980), then
thousands with one decimal ($9.7k, $445.2k), then millions and billions with two ($1.23M, $4.50B); the exact amount
($9,741) is in the cell's hover title, the chart tooltip and the CSV.
"""

from __future__ import annotations

import re
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
    """$1.23M, $45.6k, $9.7k, $980 — compact money with its currency symbol (the one rule above)."""
    x = _num(v)
    if x is None:
        return "—"
    sym = SYMBOLS.get(currency, currency + " ")
    sign = "−" if x < 0 else ""
    a = abs(x)
    # Thresholds sit where rounding would carry into the next unit ($999,960 is $1.00M, not $1000.0k).
    if a >= 999_995_000:
        return f"{sign}{sym}{a / 1e9:,.2f}B"
    if a >= 999_950:
        return f"{sign}{sym}{a / 1e6:.2f}M"
    if a >= 999.5:
        return f"{sign}{sym}{a / 1e3:.1f}k"
    return f"{sign}{sym}{a:,.0f}"


def money_exact(v: Any, currency: str = "USD") -> str:
    """$9,741 — whole units with thousands separators, for hover titles and tooltips beside the compact figure."""
    x = _num(v)
    if x is None:
        return "—"
    sym = SYMBOLS.get(currency, currency + " ")
    return f"{'−' if x < 0 else ''}{sym}{abs(x):,.0f}"


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


# Words that are abbreviations in the revenue team's language: written in capitals, plurals as "MQLs".
ACRONYMS = frozenset({"mql", "sql", "sal", "pql", "roi", "arr", "mrr", "sla", "id", "crm", "csv", "api", "url", "utm",
                      "abm", "b2b", "cac", "ltv", "seo", "ppc", "ceo", "cto", "cfo", "vp", "ui", "ux", "qbr"})
_WORD = re.compile(r"[A-Za-z0-9]+|[^A-Za-z0-9]+")


def label(v: Any) -> str:
    """A key or name in words: `paid_social` -> "Paid social", `feature_request` -> "Feature request", "Mqls" ->
    "MQLs", `sla_breaches` -> "SLA breaches". Other words keep their own capitals ("Acme Corp" stays)."""
    text = re.sub(r"[_]+", " ", str(v if v is not None else "")).strip()
    if not text:
        return "—"
    words = []
    for part in _WORD.findall(text):
        low = part.lower()
        if low in ACRONYMS:
            part = low.upper()
        elif low.endswith("s") and low[:-1] in ACRONYMS and len(low) > 2:
            part = low[:-1].upper() + "s"
        words.append(part)
    out = "".join(words)
    first = words[0]
    if any(ch.isupper() for ch in first[1:]) and first.upper() != first:
        return out  # a name with its own capitals ("iPhone launch") is already written as its owner wants
    at = next((i for i, ch in enumerate(out) if ch.isalpha()), 0)  # "▸ lead" -> "▸ Lead"
    return out[:at] + out[at].upper() + out[at + 1:]


_KEY = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)+")


def text(v: Any) -> str:
    """A text cell: as written, except a raw key (`paid_social`, `list_import`) which is shown in words."""
    if v is None or v == "":
        return "—"
    s = str(v)
    return label(s) if _KEY.fullmatch(s) else s


FORMATTERS = {"label": label, "money": money, "int": integer, "pct": pct, "days": days, "hours": hours, "ratio": ratio,
              "score": score, "text": text}


def format_value(kind: str, v: Any) -> str:
    return FORMATTERS.get(kind, FORMATTERS["text"])(v)
