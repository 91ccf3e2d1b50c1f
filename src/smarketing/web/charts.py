"""Charts as Apache ECharts specs: pure functions from plain numbers to a container the page's charts.js draws.

Each function returns a <figure data-chart> holding the chart's option as JSON (escaped by json_script), a text
alternative (title and every value in words) and, when there is nothing to draw, a plain "No data yet". Every value a
reader sees (bar labels, tooltips, axis ticks) is formatted here with the same functions as the tables, so a chart
never shows a number the table beside it writes differently; charts.js only turns these strings into a picture.
A data item's `href` is the records behind it (a measure's drill-down): a click on the bar, point or stage opens it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

from django.utils.html import format_html, json_script
from django.utils.safestring import SafeString

from smarketing.web import formatting

PALETTE = ["#1f5fae", "#c2571a", "#2e7d4f", "#7a3e9d", "#a61e4d", "#5c6b00", "#00727a", "#6b4f2a"]
INK = "#1d2433"
MUTED = "#5b6475"
GRID = "#d9dde5"
TARGET = "#b3261e"
GAIN = "#2e7d4f"

Fmt = Callable[[float], str]


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None  # None: nothing measured, so no bar (the table shows "—" too)
    target: float | None = None
    href: str = ""  # the records behind the bar (a measure's drill-down), when it has them


def _fmt_default(v: float) -> str:
    return f"{v:,.0f}"


def _exact_for(fmt: Fmt) -> Fmt | None:
    """Compact money ($445.2k) gets its exact amount beside it in the tooltip; other formats are exact already."""
    return formatting.money_exact if fmt is formatting.money else None


def _text(v: float | None, fmt: Fmt) -> str:
    return "—" if v is None else fmt(v)


def _item(v: float | None, label: str, fmt: Fmt, exact: Fmt | None, href: str = "", **extra: Any) -> dict[str, Any]:
    item: dict[str, Any] = {"value": v, "full": label, "text": _text(v, fmt), **extra}
    if exact is not None and v is not None:
        item["exact"] = exact(v)
    if href:
        item["href"] = href
    return item


def _ticks(values: Sequence[float | None], fmt: Fmt, *, steps: int = 4) -> dict[str, Any]:
    """A value axis with round ticks whose labels are formatted here (charts.js looks each tick up by position)."""
    seen = [v for v in values if v is not None]
    lo, hi = min([0.0, *seen]), max([0.0, *seen])
    if hi == lo:
        hi = lo + 1
    raw = (hi - lo) / steps
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw * (1 - 1e-9))
    if all(float(v).is_integer() for v in seen):
        step = max(step, 1.0)  # counts: no "0.5 contacts" tick
    first, last = math.floor(lo / step) * step, math.ceil(hi / step) * step
    count = round((last - first) / step)
    return {"type": "value", "min": first, "max": last, "interval": step,
            "axisLabel": {"color": MUTED, "hideOverlap": True,
                          "smkTicks": [fmt(first + i * step) for i in range(count + 1)]},
            "splitLine": {"lineStyle": {"color": GRID}}}


def _tick_room(axis: dict[str, Any]) -> int:
    """Pixels the value axis's longest tick label needs at 12 px (about 7 px a character)."""
    return 12 + 7 * max((len(t) for t in axis["axisLabel"]["smkTicks"]), default=1)


def _labels(values: Sequence[str]) -> list[str]:
    return [formatting.label(v) for v in values]


def _figure(option: dict[str, Any], *, title: str, desc: str, height: int, max_width: int,
            note: str = "", fixed: bool = False) -> SafeString:
    uid = f"chart-{uuid4().hex[:10]}"
    option = {"animationDuration": 300, "textStyle": {"color": INK}, **option}
    note_html = format_html('<figcaption class="help">{}</figcaption>', note) if note else ""
    return format_html(
        # A sparkline keeps its own width (in a table cell a fluid chart would shrink to nothing).
        '<figure class="chart" data-chart style="{}:{}px">'
        '<div class="chart-canvas" role="img" aria-label="{}" aria-describedby="{}-desc" style="height:{}px"></div>'
        '<p id="{}-desc" class="visually-hidden">{}</p>{}{}</figure>',
        "width" if fixed else "max-width", max_width, title, uid, height, uid, desc, note_html, json_script(option))


def _empty(title: str) -> SafeString:
    return format_html('<figure class="chart chart-empty"><p class="muted" role="img" aria-label="{}: no data yet">'
                       'No data yet</p></figure>', title)


def _legend(names: Sequence[str]) -> dict[str, Any]:
    return {"legend": {"show": True, "top": 0, "left": 0, "data": list(names), "itemWidth": 18,
                       "textStyle": {"color": INK}}} if len(names) > 1 else {}


def _category_bars(rows: Sequence[Bar], *, title: str, fmt: Fmt, exact: Fmt | None, value_name: str,
                   target_name: str, row: int, colours: Sequence[str] | None) -> tuple[dict[str, Any], int]:
    """Horizontal bars, first row on top, with targets drawn as dashed outlines over them."""
    labels = _labels([b.label for b in rows])
    has_target = any(b.target is not None for b in rows)
    values = [b.value for b in rows] + [b.target for b in rows]
    data = []
    for i, (b, lab) in enumerate(zip(rows, labels, strict=True)):
        extra = {"itemStyle": {"color": colours[i % len(colours)]}} if colours else {}
        data.append(_item(b.value, lab, fmt, exact, b.href, **extra))
    series: list[dict[str, Any]] = [{
        "type": "bar", "name": value_name, "data": data, "barMaxWidth": 28, "itemStyle": {"color": PALETTE[0]},
        "label": {"show": True, "position": "right", "color": INK}, "cursor": "pointer" if any(
            b.href for b in rows) else "default"}]
    if has_target:
        series.append({
            "type": "bar", "name": target_name, "barGap": "-100%", "barMaxWidth": 28, "z": 3,
            "itemStyle": {"color": "rgba(0,0,0,0)", "borderColor": TARGET, "borderType": "dashed", "borderWidth": 2},
            "data": [_item(b.target, lab, fmt, exact, b.href) for b, lab in zip(rows, labels, strict=True)]})
    legend = _legend([s["name"] for s in series])
    option = {
        **legend,
        # Explicit margins (charts.js sets `left` to the width the category labels get on this screen).
        "grid": {"left": 208, "right": 72, "top": 32 if legend else 8, "bottom": 28, "smkLabelAxis": "y"},
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}, "confine": True},
        "xAxis": _ticks(values, fmt),
        "yAxis": {"type": "category", "inverse": True, "data": labels,
                  "axisLabel": {"color": INK, "width": 200, "overflow": "truncate", "smkShare": 0.4},
                  "axisTick": {"show": False}},
        "series": series,
    }
    height = len(rows) * row + (40 if legend else 16) + 24
    return option, max(height, 110)


def _bars_desc(rows: Sequence[Bar], fmt: Fmt, target_word: str) -> str:
    return "; ".join(f"{formatting.label(b.label)} {_text(b.value, fmt)}"
                     + (f" ({target_word} {fmt(b.target)})" if b.target is not None else "") for b in rows)


def bar_chart(bars: Sequence[Bar], *, title: str, fmt: Fmt = _fmt_default, width: int = 640, bar_height: int = 26,
              value_name: str = "Value", target_name: str = "Target", exact: Fmt | None = None) -> SafeString:
    """Horizontal bars with an optional target outline per bar; a bar with no value (None) draws nothing."""
    if not bars:
        return _empty(title)
    option, height = _category_bars(bars, title=title, fmt=fmt, exact=exact or _exact_for(fmt), value_name=value_name,
                                    target_name=target_name, row=bar_height + 8, colours=None)
    return _figure(option, title=title, desc=_bars_desc(bars, fmt, "target"), height=height,
                   max_width=round(width * 1.25))


def funnel_chart(stages: Sequence[Bar], *, title: str, fmt: Fmt = _fmt_default, width: int = 640, row: int = 34,
                 value_name: str = "Reached", target_name: str = "Target", exact: Fmt | None = None) -> SafeString:
    """One bar per stage in funnel order, each its own colour, with its target as a dashed outline."""
    if not stages:
        return _empty(title)
    option, height = _category_bars(stages, title=title, fmt=fmt, exact=exact or _exact_for(fmt),
                                    value_name=value_name, target_name=target_name, row=row + 4, colours=PALETTE)
    return _figure(option, title=title, desc=_bars_desc(stages, fmt, "of target"), height=height,
                   max_width=round(width * 1.25))


def line_chart(points: Sequence[tuple[str, float | None]], *, title: str, fmt: Fmt = _fmt_default,
               target: Sequence[tuple[str, float]] | None = None, width: int = 640, height: int = 220,
               area: bool = True, hrefs: Sequence[str] | None = None, value_name: str = "Value",
               target_name: str = "Target", exact: Fmt | None = None) -> SafeString:
    """A line (optionally filled as an area) over labelled x positions, with an optional dashed target line.

    A small chart (under 120 px high) is a sparkline: no value axis, only its first and last dates labelled."""
    if not points:
        return _empty(title)
    exact = exact or _exact_for(fmt)
    spark = height < 120
    labels = [lab for lab, _ in (points if len(points) >= len(target or []) else (target or []))]
    data = [_item(v, lab, fmt, exact, (hrefs or [""] * len(points))[i] if hrefs else "")
            for i, (lab, v) in enumerate(points)]
    series: list[dict[str, Any]] = [{
        "type": "line", "name": value_name, "data": data, "symbolSize": 6 if spark else 7, "showSymbol": True,
        "lineStyle": {"width": 2.5, "color": PALETTE[0]}, "itemStyle": {"color": PALETTE[0]},
        **({"areaStyle": {"color": PALETTE[0], "opacity": 0.15}} if area else {})}]
    if target:
        series.append({"type": "line", "name": target_name, "data": [_item(v, lab, fmt, exact) for lab, v in target],
                       "symbol": "none", "lineStyle": {"type": "dashed", "width": 2, "color": TARGET},
                       "itemStyle": {"color": TARGET}})
    legend = {} if spark else _legend([s["name"] for s in series])
    values = [v for _, v in points] + [v for _, v in (target or [])]
    value_axis = _ticks(values, fmt)
    room = _tick_room(value_axis)
    if spark:
        value_axis = {**value_axis, "show": False}
    option = {
        **legend,
        "grid": ({"left": 10, "right": 10, "top": 6, "bottom": 20} if spark else
                 {"left": room, "right": 24, "top": 36 if legend else 12, "bottom": 28}),
        "tooltip": {"trigger": "axis", "confine": True},
        "xAxis": {"type": "category", "data": labels, "boundaryGap": False,
                  "axisLabel": ({"color": MUTED, "fontSize": 10, "interval": max(len(labels) - 2, 0),
                                 "showMinLabel": True, "showMaxLabel": True, "alignMinLabel": "left",
                                 "alignMaxLabel": "right"} if spark else
                                {"color": MUTED, "hideOverlap": True, "alignMinLabel": "left",
                                 "alignMaxLabel": "right"}),
                  "axisTick": {"show": not spark}, "axisLine": {"lineStyle": {"color": GRID}}},
        "yAxis": value_axis,
        "series": series,
    }
    desc = "; ".join(f"{lab} {_text(v, fmt)}" for lab, v in points)
    return _figure(option, title=title, desc=desc, height=height, max_width=width if spark else round(width * 1.25),
                   fixed=spark)


def waterfall_chart(steps: Sequence[tuple[str, float]], *, title: str, fmt: Fmt = _fmt_default, width: int = 640,
                    height: int = 240, end_label: str = "End", hrefs: Sequence[str] | None = None,
                    exact: Fmt | None = None) -> SafeString:
    """A waterfall: the first step is a total, the following are signed changes, the last bar is the running end."""
    if not steps:
        return _empty(title)
    exact = exact or _exact_for(fmt)
    running = 0.0
    spans: list[tuple[str, float, float, float]] = []
    for i, (lab, v) in enumerate(steps):
        start = 0.0 if i == 0 else running
        running = v if i == 0 else running + v
        spans.append((lab, start, running, v))
    spans.append((end_label, 0.0, running, running))
    labels = _labels([s[0] for s in spans])
    links = list(hrefs or []) + [""] * (len(spans) - len(hrefs or []))
    base, bars = [], []
    for i, ((_lab, a, b, v), lab) in enumerate(zip(spans, labels, strict=True)):
        total = i in (0, len(spans) - 1)
        colour = PALETTE[0] if total else (GAIN if v >= 0 else TARGET)
        base.append(min(a, b))
        bars.append(_item(abs(b - a), lab, fmt, exact, links[i], itemStyle={"color": colour}) | {"text": fmt(v)}
                    | ({"exact": exact(v)} if exact else {}))
    value_axis = _ticks([max(a, b) for _, a, b, _ in spans], fmt)
    option = {
        "grid": {"left": _tick_room(value_axis), "right": 12, "top": 24, "bottom": 44},
        "tooltip": {"trigger": "item", "confine": True},
        "xAxis": {"type": "category", "data": labels,
                  "axisLabel": {"color": INK, "interval": 0, "overflow": "break", "width": 80, "lineHeight": 14,
                                "smkSlot": True},
                  "axisTick": {"show": False}},
        "yAxis": value_axis,
        "series": [
            {"type": "bar", "stack": "w", "name": "base", "data": base, "silent": True, "tooltip": {"show": False},
             "itemStyle": {"color": "rgba(0,0,0,0)"}},
            {"type": "bar", "stack": "w", "name": title, "data": bars, "barMaxWidth": 56,
             "label": {"show": True, "position": "top", "color": INK},
             "cursor": "pointer" if any(links) else "default"},
        ],
    }
    desc = "; ".join(f"{formatting.label(s[0])} {fmt(s[3])}" for s in spans)
    return _figure(option, title=title, desc=desc, height=height + 40, max_width=round(width * 1.25))


def flow_chart(edges: Sequence[tuple[str, str, float]], *, title: str, order: Sequence[str] | None = None,
               width: int = 720, height: int = 320, fmt: Fmt = _fmt_default) -> SafeString:
    """A directly-follows (Sankey) diagram: steps in columns, ribbons sized by count. Relations that go back to an
    earlier step (loops) would knot the picture, so they are counted under it and listed in the table."""
    if not edges:
        return _empty(title)
    nodes: list[str] = list(order or [])
    for a, b, _ in edges:
        for n in (a, b):
            if n not in nodes:
                nodes.append(n)
    pos = {n: i for i, n in enumerate(nodes)}
    forward = [(a, b, w) for a, b, w in edges if pos[b] > pos[a]]
    skipped = len(edges) - len(forward)
    used = [n for n in nodes if any(n in (a, b) for a, b, _ in forward)]
    inflow = {n: sum(w for _a, b, w in forward if b == n) for n in used}
    outflow = {n: sum(w for a, _b, w in forward if a == n) for n in used}
    words = {n: formatting.label(n) for n in used}
    option = {
        "tooltip": {"trigger": "item", "confine": True},
        "series": [{
            "type": "sankey", "left": 8, "right": 120, "top": 8, "bottom": 8, "nodeWidth": 12, "nodeGap": 12,
            "layoutIterations": 32, "emphasis": {"focus": "adjacency"},
            "lineStyle": {"color": "gradient", "opacity": 0.35, "curveness": 0.5},
            "label": {"color": INK, "width": 110, "overflow": "truncate", "smkShare": 0.22},
            "data": [{"name": n, "full": words[n], "text": fmt(max(inflow[n], outflow[n])),
                      "itemStyle": {"color": PALETTE[i % len(PALETTE)]}} for i, n in enumerate(used)],
            "links": [{"source": a, "target": b, "value": w, "full": f"{words[a]} → {words[b]}", "text": fmt(w)}
                      for a, b, w in forward],
        }],
    }
    note = (f"{skipped} back-and-forth relation{'s' if skipped > 1 else ''} listed in the table" if skipped else "")
    desc = "; ".join(f"{formatting.label(a)} to {formatting.label(b)}: {fmt(w)}" for a, b, w in edges[:40])
    if not forward:
        return _empty(title)
    return _figure(option, title=title, desc=desc, height=height, max_width=round(width * 1.25), note=note)
