"""Server-side SVG charts: pure functions from plain numbers to accessible SVG markup (no JS, no CDN).

Every chart carries a <title> and <desc> and is paired in the page with a table of the same numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from django.utils.safestring import SafeString, mark_safe

PALETTE = ["#1f5fae", "#c2571a", "#2e7d4f", "#7a3e9d", "#a61e4d", "#5c6b00", "#00727a", "#6b4f2a"]
INK = "#1d2433"
MUTED = "#5b6475"
GRID = "#d9dde5"
TARGET = "#b3261e"


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    target: float | None = None
    href: str = ""  # the records behind the bar (a measure's drill-down), when it has them


def _fmt_default(v: float) -> str:
    return f"{v:,.0f}"


def _fit(label: str, px: int, char_px: float = 7.8) -> str:
    """Shorten a label to the pixels it has (13 px sans: about 7 px a character), marking the cut with an ellipsis."""
    room = max(4, int(px / char_px))
    return label if len(label) <= room else label[: room - 1].rstrip() + "…"


def _svg(width: int, height: int, title: str, desc: str, body: list[str]) -> SafeString:
    uid = abs(hash((title, desc, width, height))) % 10**8
    head = (f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
            f'aria-labelledby="t{uid} d{uid}" xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMinYMin meet" '
            f'style="max-width:{width * 1.25:.0f}px">'
            f'<title id="t{uid}">{escape(title)}</title><desc id="d{uid}">{escape(desc)}</desc>')
    return mark_safe(head + "".join(body) + "</svg>")  # noqa: S308 - every interpolated text is escaped


def _empty(width: int, height: int, title: str) -> SafeString:
    return _svg(width, height, title, "no data", [
        f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" fill="{MUTED}" font-size="14">No data yet</text>'])


def bar_chart(bars: Sequence[Bar], *, title: str, fmt: Callable[[float], str] = _fmt_default,
              width: int = 640, bar_height: int = 26) -> SafeString:
    """Horizontal bars with an optional target tick per bar."""
    if not bars:
        return _empty(width, 80, title)
    label_w, value_w, pad = 200, 90, 6
    plot_w = width - label_w - value_w
    top = max([b.value for b in bars] + [b.target or 0 for b in bars]) or 1.0
    height = len(bars) * (bar_height + pad) + pad
    body: list[str] = []
    for i, b in enumerate(bars):
        y = pad + i * (bar_height + pad)
        w = max(0.0, b.value) / top * plot_w
        body.append(f'<text x="{label_w - 8}" y="{y + bar_height * 0.68:.1f}" text-anchor="end" fill="{INK}" '
                    f'font-size="13">{escape(_fit(b.label, label_w - 12))}<title>{escape(b.label)}</title></text>')
        body.append(f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_height}" rx="3" '
                    f'fill="{PALETTE[0]}"><title>{escape(b.label)}: {escape(fmt(b.value))}</title></rect>')
        body.append(f'<text x="{label_w + w + 6:.1f}" y="{y + bar_height * 0.68:.1f}" fill="{INK}" '
                    f'font-size="12">{escape(fmt(b.value))}</text>')
        if b.target is not None:
            tx = label_w + max(0.0, b.target) / top * plot_w
            body.append(f'<line x1="{tx:.1f}" x2="{tx:.1f}" y1="{y - 2}" y2="{y + bar_height + 2}" stroke="{TARGET}" '
                        f'stroke-width="3"><title>target {escape(fmt(b.target))}</title></line>')
    desc = "; ".join(f"{b.label} {fmt(b.value)}" + (f" (target {fmt(b.target)})" if b.target is not None else "")
                     for b in bars)
    return _svg(width, height, title, desc, body)


def line_chart(points: Sequence[tuple[str, float]], *, title: str, fmt: Callable[[float], str] = _fmt_default,
               target: Sequence[tuple[str, float]] | None = None, width: int = 640, height: int = 220,
               area: bool = True) -> SafeString:
    """A line (optionally filled as an area) over labelled x positions, with an optional dashed target line."""
    if not points:
        return _empty(width, height, title)
    left, right, top_pad, bottom = 70, 16, 14, 34
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    values = [v for _, v in points] + [v for _, v in (target or [])]
    top = max(values + [0]) or 1.0
    n = max(len(points), len(target or []))
    step = plot_w / max(n - 1, 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return left + i * step, top_pad + plot_h - max(v, 0) / top * plot_h

    body: list[str] = []
    for frac in (0, 0.5, 1):
        gy = top_pad + plot_h - frac * plot_h
        body.append(f'<line x1="{left}" x2="{width - right}" y1="{gy:.1f}" y2="{gy:.1f}" stroke="{GRID}"/>')
        body.append(f'<text x="{left - 6}" y="{gy + 4:.1f}" text-anchor="end" font-size="11" fill="{MUTED}">'
                    f'{escape(fmt(top * frac))}</text>')
    coords = [xy(i, v) for i, (_, v) in enumerate(points)]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    if area:
        base = top_pad + plot_h
        body.append(f'<polygon points="{coords[0][0]:.1f},{base} {path} {coords[-1][0]:.1f},{base}" '
                    f'fill="{PALETTE[0]}" fill-opacity="0.15"/>')
    body.append(f'<polyline points="{path}" fill="none" stroke="{PALETTE[0]}" stroke-width="2.5"/>')
    for (x, y), (label, v) in zip(coords, points, strict=True):
        body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{PALETTE[0]}"><title>{escape(label)}: '
                    f'{escape(fmt(v))}</title></circle>')
    if target:
        tpath = " ".join(f"{xy(i, v)[0]:.1f},{xy(i, v)[1]:.1f}" for i, (_, v) in enumerate(target))
        body.append(f'<polyline points="{tpath}" fill="none" stroke="{TARGET}" stroke-width="2" '
                    f'stroke-dasharray="6 4"><title>target</title></polyline>')
    every = max(1, n // 8)
    labels = [lab for lab, _ in (points if len(points) >= len(target or []) else (target or []))]
    for i, lab in enumerate(labels):
        if i % every == 0 or i == len(labels) - 1:
            body.append(f'<text x="{left + i * step:.1f}" y="{height - 12}" text-anchor="middle" font-size="11" '
                        f'fill="{MUTED}">{escape(lab)}</text>')
    desc = "; ".join(f"{lab} {fmt(v)}" for lab, v in points)
    return _svg(width, height, title, desc, body)


def waterfall_chart(steps: Sequence[tuple[str, float]], *, title: str, fmt: Callable[[float], str] = _fmt_default,
                    width: int = 640, height: int = 240, end_label: str = "End") -> SafeString:
    """A waterfall: the first step is a total, the following are signed changes, the last bar is the running end."""
    if not steps:
        return _empty(width, height, title)
    left, right, top_pad, bottom = 70, 16, 14, 46
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    running, spans = 0.0, []
    for i, (label, v) in enumerate(steps):
        start = 0.0 if i == 0 else running
        running = v if i == 0 else running + v
        spans.append((label, start, running, v))
    spans.append((end_label, 0.0, running, running))
    top = max(max(s[1], s[2]) for s in spans) or 1.0
    slot = plot_w / len(spans)
    bw = slot * 0.62
    body: list[str] = [f'<line x1="{left}" x2="{width - right}" y1="{top_pad + plot_h}" y2="{top_pad + plot_h}" '
                       f'stroke="{GRID}"/>']
    for i, (label, a, b, v) in enumerate(spans):
        y0 = top_pad + plot_h - max(a, b) / top * plot_h
        h = max(abs(b - a) / top * plot_h, 1)
        colour = PALETTE[0] if i in (0, len(spans) - 1) else (PALETTE[2] if v >= 0 else TARGET)
        x = left + i * slot + (slot - bw) / 2
        body.append(f'<rect x="{x:.1f}" y="{y0:.1f}" width="{bw:.1f}" height="{h:.1f}" fill="{colour}">'
                    f'<title>{escape(label)}: {escape(fmt(v))}</title></rect>')
        body.append(f'<text x="{x + bw / 2:.1f}" y="{y0 - 4:.1f}" text-anchor="middle" font-size="11" '
                    f'fill="{INK}">{escape(fmt(v))}</text>')
        body.append(f'<text x="{x + bw / 2:.1f}" y="{height - 26}" text-anchor="middle" font-size="10.5" '
                    f'fill="{MUTED}">{escape(label[:12])}</text>')
    desc = "; ".join(f"{s[0]} {fmt(s[3])}" for s in spans)
    return _svg(width, height, title, desc, body)


def funnel_chart(stages: Sequence[Bar], *, title: str, fmt: Callable[[float], str] = _fmt_default,
                 width: int = 640, row: int = 34) -> SafeString:
    """A centred funnel: one trapezoid-like bar per stage, its width proportional to volume; target as outline."""
    if not stages:
        return _empty(width, 80, title)
    label_w, value_w = 150, 150
    plot_w = width - label_w - value_w
    top = max([s.value for s in stages] + [s.target or 0 for s in stages]) or 1.0
    height = len(stages) * (row + 4) + 4
    cx = label_w + plot_w / 2
    body: list[str] = []
    for i, s in enumerate(stages):
        y = 4 + i * (row + 4)
        w = max(s.value / top * plot_w, 2)
        body.append(f'<text x="{label_w - 8}" y="{y + row * 0.64:.1f}" text-anchor="end" font-size="13" '
                    f'fill="{INK}">{escape(s.label)}</text>')
        bar = (f'<rect x="{cx - w / 2:.1f}" y="{y}" width="{w:.1f}" height="{row}" rx="4" '
               f'fill="{PALETTE[i % len(PALETTE)]}"><title>{escape(s.label)}: {escape(fmt(s.value))}</title></rect>')
        body.append(f'<a href="{escape(s.href)}">{bar}</a>' if s.href else bar)
        if s.target is not None and s.target > 0:
            tw = s.target / top * plot_w
            body.append(f'<rect x="{cx - tw / 2:.1f}" y="{y}" width="{tw:.1f}" height="{row}" rx="4" fill="none" '
                        f'stroke="{TARGET}" stroke-width="2" stroke-dasharray="5 3"><title>target '
                        f'{escape(fmt(s.target))}</title></rect>')
        text = fmt(s.value) + (f" / {fmt(s.target)}" if s.target is not None else "")
        body.append(f'<text x="{width - value_w + 8}" y="{y + row * 0.64:.1f}" font-size="12" fill="{INK}">'
                    f'{escape(text)}</text>')
    desc = "; ".join(f"{s.label} {fmt(s.value)}" + (f" of target {fmt(s.target)}" if s.target is not None else "")
                     for s in stages)
    return _svg(width, height, title, desc, body)


def flow_chart(edges: Sequence[tuple[str, str, float]], *, title: str, order: Sequence[str] | None = None,
               width: int = 720, height: int = 320) -> SafeString:
    """A directly-follows / Sankey-style diagram: nodes in columns by first position, ribbons sized by count."""
    if not edges:
        return _empty(width, height, title)
    nodes: list[str] = list(order or [])
    for a, b, _ in edges:
        for n in (a, b):
            if n not in nodes:
                nodes.append(n)
    # Columns: longest-path depth from sources, ignoring back edges (a node appearing earlier in `nodes`).
    depth = {n: 0 for n in nodes}
    pos = {n: i for i, n in enumerate(nodes)}
    for _ in range(len(nodes)):
        for a, b, _w in edges:
            if pos[b] > pos[a] and depth[b] < depth[a] + 1:
                depth[b] = depth[a] + 1
    ncols = max(depth.values()) + 1
    cols: dict[int, list[str]] = {}
    for n in nodes:
        cols.setdefault(depth[n], []).append(n)
    node_w, pad_x, pad_y = 12, 100, 16
    colx = {c: pad_x / 2 + c * (width - pad_x - node_w) / max(ncols - 1, 1) for c in range(ncols)}
    flow = {n: 0.0 for n in nodes}
    for a, b, _w in edges:
        flow[a] = max(flow[a], sum(x for s, _t, x in edges if s == a))
        flow[b] = max(flow[b], sum(x for _s, t, x in edges if t == b))
    scale_base = max(sum(flow[n] for n in col) for col in cols.values()) or 1.0
    usable = height - 40 - pad_y * max(len(c) for c in cols.values())
    k = max(usable, 40) / scale_base
    box: dict[str, tuple[float, float, float]] = {}
    for c, col in cols.items():
        y = 20.0
        for n in col:
            h = max(flow[n] * k, 4)
            box[n] = (colx[c], y, h)
            y += h + pad_y
    out_off = {n: 0.0 for n in nodes}
    in_off = {n: 0.0 for n in nodes}
    body: list[str] = []
    skipped = 0
    for i, (a, b, w) in enumerate(sorted(edges, key=lambda e: -e[2])):
        ax, ay, _ = box[a]
        bx, by, _ = box[b]
        t = max(w * k, 1.5)
        y1 = ay + out_off[a] + t / 2
        y2 = by + in_off[b] + t / 2
        out_off[a] += t
        in_off[b] += t
        x1, x2 = ax + node_w, bx
        if x2 <= x1:
            # Back-and-forth relations (loops) would knot the picture; they stay in the table under the chart.
            skipped += 1
            continue
        cx = (x1 + x2) / 2
        d = f"M{x1:.1f},{y1:.1f} C{cx:.1f},{y1:.1f} {cx:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"
        body.append(f'<path d="{d}" fill="none" stroke="{PALETTE[i % len(PALETTE)]}" stroke-opacity="0.35" '
                    f'stroke-width="{t:.1f}"><title>{escape(a)} → {escape(b)}: {w:,.0f}</title></path>')
    for n, (x, y, h) in box.items():
        body.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{node_w}" height="{h:.1f}" fill="{INK}"/>')
        anchor, tx = ("start", x + node_w + 4) if x < width / 2 else ("end", x - 4)
        body.append(f'<text x="{tx:.1f}" y="{y + h / 2 + 4:.1f}" text-anchor="{anchor}" font-size="11" '
                    f'fill="{INK}">{escape(n)}</text>')
    if skipped:
        body.append(f'<text x="{width - 4}" y="{height - 6}" text-anchor="end" font-size="11" fill="{MUTED}">'
                    f'{skipped} back-and-forth relation{"s" if skipped > 1 else ""} listed in the table</text>')
    desc = "; ".join(f"{a} to {b}: {w:,.0f}" for a, b, w in edges[:40])
    return _svg(width, height, title, desc, body)
