"""Charts drawn on the server side as inline SVG: no script, no library, nothing fetched.

Every text that reaches a chart (package names, release names) is escaped here; the functions
return `Markup`, so the page's template inserts them as they are.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from rebuildx.report.timeline import Bar

COLOURS = {"MATCH": "#2e7d32", "MISMATCH": "#c62828", "UNSTABLE": "#8e24aa", "FAILED": "#ef6c00",
           "NOT_BUILT": "#9e9e9e", "UNPUBLISHED": "#1e88e5"}
OTHER = "#607d8b"
PALETTE = ("#1565c0", "#00897b", "#6d4c41", "#5e35b1", "#9e9d24", "#d81b60", "#546e7a", "#f4511e")
WIDTH, LABEL, ROW = 1000, 70, 16


def colour(verdict: str) -> str:
    return COLOURS.get(verdict, OTHER)


def duration(seconds: float) -> str:
    """`4.2 s`, `12 min 5 s`, `3 h 02 min`: what a person reads at a glance."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min {int(seconds % 60)} s"
    return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60):02d} min"


def day(when: float) -> str:
    try:
        return time.strftime("%Y-%m-%d %H:%M", time.gmtime(when))
    except (OverflowError, OSError, ValueError):  # no date a clock gives
        return "?"


def timeline(rows: Sequence[str], bars: Sequence[Bar], critical: frozenset[str] = frozenset()) -> Markup:
    """One row per builder slot, one bar per build coloured by its verdict, its duration on hover;
    builds on the critical path are outlined."""
    if not bars:
        return Markup("")
    t0 = min(b.span.started for b in bars)
    total = max(max(b.span.ended for b in bars) - t0, 1e-3)
    plot = WIDTH - LABEL - 10
    height = ROW * len(rows) + 24
    index = {r: i for i, r in enumerate(rows)}
    parts = [f'<svg class="chart timeline" viewBox="0 0 {WIDTH} {height}" role="img" '
             f'aria-label="build timeline" xmlns="http://www.w3.org/2000/svg">']
    for r, label in enumerate(rows):
        y = r * ROW
        parts.append(f'<text x="{LABEL - 6}" y="{y + ROW - 4}" text-anchor="end">{escape(label)}</text>'
                     f'<line x1="{LABEL}" x2="{WIDTH - 10}" y1="{y + ROW}" y2="{y + ROW}" class="grid"/>')
    for tick in _ticks(total):
        x = LABEL + plot * tick / total
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="0" y2="{ROW * len(rows)}" class="grid"/>'
                     f'<text x="{x:.1f}" y="{height - 8}" text-anchor="middle">{escape(_tick_label(tick))}</text>')
    for b in bars:
        s = b.span
        x = LABEL + plot * (s.started - t0) / total
        w = max(plot * s.seconds / total, 1.0)
        y = index[b.row] * ROW + 2
        crit = ' class="crit"' if s.package in critical else ""
        parts.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{ROW - 4}" fill="{colour(s.verdict)}"'
                     f'{crit}><title>{escape(s.package)} · {escape(s.verdict)} · {escape(duration(s.seconds))}'
                     f'</title></rect>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _tick_label(seconds: float) -> str:
    """Ticks fall on whole seconds, minutes or hours: `30 s`, `5 min`, `2 h`, `1 h 30 min`."""
    if seconds < 60:
        return f"{seconds:.0f} s"
    hours, minutes = int(seconds // 3600), int(seconds % 3600 // 60)
    return " ".join(x for x in (f"{hours} h" if hours else "", f"{minutes} min" if minutes else "") if x)


def _ticks(total: float, count: int = 8) -> list[float]:
    steps = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)
    step = next((float(s) for s in steps if total / s <= count), 86400.0 * math.ceil(total / 86400 / count))
    return [i * step for i in range(int(total // step) + 1)]


@dataclass(frozen=True)
class Point:
    label: str  # under the bar
    value: float | None  # percent; None: nothing compared
    title: str  # on hover
    group: str  # bars of one group share a colour (a release)


def share_bars(points: Sequence[Point], caption: str) -> Markup:
    """Share reproduced (0–100 %) as one bar per point, the newest on the right."""
    if not points:
        return Markup("")
    groups = {g: PALETTE[i % len(PALETTE)] for i, g in enumerate(sorted({p.group for p in points}))}  # same in every chart
    top, plot_h, left, width = 10, 120, 40, 480
    step = min(90.0, (width - left - 10) / len(points))
    parts = [f'<svg class="chart share" viewBox="0 0 {width:.0f} {top + plot_h + 24}" role="img" '
             f'aria-label="{escape(caption)}" xmlns="http://www.w3.org/2000/svg">']
    for pct in (0, 50, 100):
        y = top + plot_h * (1 - pct / 100)
        parts.append(f'<line x1="{left}" x2="{width - 10:.0f}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
                     f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{pct}%</text>')
    for i, p in enumerate(points):
        x, w = left + step * i + step * 0.15, step * 0.7
        h = plot_h * (p.value or 0.0) / 100
        parts.append(f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{w:.1f}" height="{max(h, 0.5):.1f}" '
                     f'fill="{groups[p.group]}"><title>{escape(p.title)}</title></rect>')
        if len(points) <= 8:
            parts.append(f'<text x="{x + w / 2:.1f}" y="{top + plot_h + 14}" text-anchor="middle">'
                         f'{escape(p.label)}</text>')
    if len(points) > 8:  # too many to label: a legend of the groups' colours instead
        x = float(left)
        for group, fill in list(groups.items())[-6:]:
            parts.append(f'<rect x="{x:.0f}" y="{top + plot_h + 6}" width="9" height="9" fill="{fill}"/>'
                         f'<text x="{x + 12:.0f}" y="{top + plot_h + 14}">{escape(group)}</text>')
            x += 16 + 6.5 * len(group)
    parts.append("</svg>")
    return Markup("".join(parts))
