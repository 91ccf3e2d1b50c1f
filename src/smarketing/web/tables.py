"""Tables behind every chart: rendered as HTML (sortable and filterable in place by tables.js) and downloadable as
CSV with `?format=csv&table=<key>`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest, HttpResponse

from smarketing.core.csvsafe import SafeWriter
from smarketing.web.formatting import format_value, money_exact

NUMERIC = frozenset({"money", "int", "pct", "days", "hours", "ratio", "score"})
UNITS = {"money": "USD", "pct": "%", "days": "days", "hours": "hours", "ratio": "×", "score": "points", "int": "count"}


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "text"

    @property
    def header(self) -> str:
        unit = UNITS.get(self.kind)
        return f"{self.label} ({unit})" if unit and self.kind != "int" else self.label


@dataclass(frozen=True)
class Cell:
    text: str
    num: bool
    sort: str = ""  # the raw number as text, so sorting is by value ("$9.7k" < "$120.0k"); "" when there is none
    title: str = ""  # the exact amount behind a compact one
    href: str = ""


@dataclass
class Table:
    key: str
    title: str
    columns: Sequence[Column]
    rows: Sequence[Mapping[str, Any]]
    period: str = ""
    note: str = ""
    links: Mapping[int, str] = field(default_factory=dict)

    def display_rows(self) -> list[list[Cell]]:
        """Each cell formatted, with the raw number it sorts by; a column of kind "row" takes each row's own "kind".
        The first cell of a row with a link (`links[row index]`) opens that row's records."""
        out = []
        for i, r in enumerate(self.rows):
            cells = []
            for j, c in enumerate(self.columns):
                kind = str(r.get("kind", "text")) if c.kind == "row" else c.kind
                raw = r.get(c.key)
                number = kind in NUMERIC
                sort = ""
                if number and raw is not None and raw != "":
                    try:
                        sort = repr(float(raw))
                    except (TypeError, ValueError):
                        sort = ""
                title = money_exact(raw) if kind == "money" and sort else ""
                cells.append(Cell(format_value(kind, raw), number, sort, title,
                                  self.links.get(i, "") if j == 0 else ""))
            out.append(cells)
        return out

    def csv_value(self, col: Column, row: Mapping[str, Any]) -> Any:
        """Raw numbers for spreadsheets; ratios shown as percent on the page are written as percent too."""
        v = row.get(col.key)
        if v is None:
            return ""
        kind = str(row.get("kind", "text")) if col.kind == "row" else col.kind
        if kind == "pct":
            return f"{float(v) * 100:.2f}"
        return v


def wants_csv(request: HttpRequest) -> bool:
    return request.GET.get("format") == "csv"


def csv_response(tables: Mapping[str, Table], request: HttpRequest) -> HttpResponse:
    """The table named by ?table= (or the first) as a CSV attachment; 404 for an unknown name."""
    name = request.GET.get("table") or next(iter(tables), "")
    table = tables.get(name)
    if table is None:
        return HttpResponse(f"no table {name!r} on this page; tables: {', '.join(tables)}", status=404,
                            content_type="text/plain")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{table.key}.csv"'
    writer = SafeWriter(response)
    if table.period:
        writer.writerow([f"# {table.title} — {table.period}"])
    writer.writerow([c.header for c in table.columns])
    for r in table.rows:
        writer.writerow([table.csv_value(c, r) for c in table.columns])
    return response
