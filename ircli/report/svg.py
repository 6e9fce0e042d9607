"""Inline SVG charts, hand-written: no script, no external resource, every label escaped.

* ``actions_chart``: target actions per minute, stacked by action, over the incident's phases.
* ``containment_chart``: malicious live streams over time (see ``ircli.report.series``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from ircli.report.model import Charts
from ircli.report.series import parse_utc
from ircli.report.text import html_text

__all__ = ["PALETTE", "actions_chart", "containment_chart"]

WIDTH, HEIGHT = 900, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 28, 44
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf")
PHASE_FILLS = ("#f8d7da", "#ffe8cc", "#fff3bf", "#d3f9d8")


class _Axes:
    """Maps times and values to pixels inside the plot area."""

    def __init__(self, charts: Charts, top_value: int) -> None:
        self.start = parse_utc(charts.window_start_at) or datetime(1970, 1, 1, tzinfo=UTC)
        end = parse_utc(charts.window_end_at) or self.start + timedelta(minutes=1)
        self.seconds = max((end - self.start).total_seconds(), 60.0)
        self.top_value = max(top_value, 1)

    def x(self, moment: datetime | None) -> float:
        offset = (moment - self.start).total_seconds() if moment else 0.0
        offset = min(max(offset, 0.0), self.seconds)
        return LEFT + offset / self.seconds * (WIDTH - LEFT - RIGHT)

    def y(self, value: float) -> float:
        return HEIGHT - BOTTOM - value / self.top_value * (HEIGHT - TOP - BOTTOM)


def _open(chart_id: str, title: str, description: str) -> list[str]:
    return [
        f'<svg id="{chart_id}" class="chart" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="{chart_id}-title '
        f'{chart_id}-desc">',
        f'<title id="{chart_id}-title">{html_text(title)}</title>',
        f'<desc id="{chart_id}-desc">{html_text(description)}</desc>',
    ]


def _frame(axes: _Axes, y_label: str) -> list[str]:
    bottom, right = HEIGHT - BOTTOM, WIDTH - RIGHT
    parts = [
        f'<line class="axis" x1="{LEFT}" y1="{bottom}" x2="{right}" y2="{bottom}"/>',
        f'<line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{bottom}"/>',
        f'<text class="label" x="12" y="{TOP - 12}">{html_text(y_label)}</text>',
    ]
    for value in sorted({0, axes.top_value // 2, axes.top_value}):
        y = axes.y(value)
        parts.append(
            f'<text class="tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{value}</text>'
        )
        parts.append(f'<line class="grid" x1="{LEFT}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}"/>')
    minutes = axes.seconds / 60
    step = next(
        s for s in (1, 2, 5, 10, 15, 30, 60, 120, 240, 720, 1440, 10**9) if minutes / s <= 10
    )
    tick = axes.start.replace(second=0, microsecond=0)
    while tick <= axes.start + timedelta(seconds=axes.seconds):
        if tick >= axes.start and (tick.hour * 60 + tick.minute) % step == 0:
            x = axes.x(tick)
            parts.append(
                f'<line class="axis" x1="{x:.1f}" y1="{bottom}" x2="{x:.1f}" y2="{bottom + 4}"/>'
            )
            parts.append(
                f'<text class="tick" x="{x:.1f}" y="{bottom + 16}" '
                f'text-anchor="middle">{tick:%H:%M}</text>'
            )
        tick += timedelta(minutes=1)
    parts.append(f'<text class="label" x="{right}" y="{HEIGHT - 6}" text-anchor="end">UTC</text>')
    return parts


def _phases(charts: Charts, axes: _Axes) -> list[str]:
    parts = []
    for index, phase in enumerate(charts.phases):
        x1, x2 = axes.x(parse_utc(phase.start_at)), axes.x(parse_utc(phase.end_at))
        fill = PHASE_FILLS[index % len(PHASE_FILLS)]
        parts.append(
            f'<rect class="phase" x="{x1:.1f}" y="{TOP}" width="{max(x2 - x1, 0.5):.1f}" '
            f'height="{HEIGHT - TOP - BOTTOM}" fill="{fill}"><title>{html_text(phase.name)}'
            "</title></rect>"
        )
        if x2 - x1 >= 6 * len(phase.name) + 6:  # label only bands wide enough to hold it
            parts.append(
                f'<text class="phase-label" x="{x1 + 3:.1f}" y="{TOP + 11}">'
                f"{html_text(phase.name)}</text>"
            )
    return parts


def _legend(names: Sequence[str]) -> list[str]:
    parts, x = [], LEFT + 120.0
    for index, name in enumerate(names):
        colour = PALETTE[index % len(PALETTE)]
        parts.append(f'<rect x="{x:.1f}" y="{TOP - 22}" width="10" height="10" fill="{colour}"/>')
        parts.append(
            f'<text class="legend" x="{x + 14:.1f}" y="{TOP - 13}">{html_text(name)}</text>'
        )
        x += 24 + 7 * min(len(name), 40)
    return parts


def _empty(message: str) -> str:
    return (
        f'<text class="empty" x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle">'
        f"{html_text(message)}</text>"
    )


def actions_chart(charts: Charts) -> str:
    """Stacked bars: target actions per minute by action, phases shaded behind."""
    names = sorted({name for bucket in charts.actions_per_minute for name in bucket.counts})
    peak = max((sum(b.counts.values()) for b in charts.actions_per_minute), default=0)
    axes = _Axes(charts, peak)
    parts = _open(
        "chart-actions",
        "Target actions per minute, by action",
        "Stacked bars per UTC minute; shaded bands are the incident phases between milestones.",
    )
    parts += _phases(charts, axes) + _frame(axes, "actions / min")
    bar = max((WIDTH - LEFT - RIGHT) / (axes.seconds / 60) * 0.8, 1.0)
    for bucket in charts.actions_per_minute:
        x = axes.x(parse_utc(bucket.at))
        base = 0
        for name in names:
            count = bucket.counts.get(name, 0)
            if not count:
                continue
            colour = PALETTE[names.index(name) % len(PALETTE)]
            y_top, y_base = axes.y(base + count), axes.y(base)
            parts.append(
                f'<rect class="bar" x="{x:.1f}" y="{y_top:.1f}" width="{bar:.1f}" '
                f'height="{y_base - y_top:.1f}" fill="{colour}"><title>{html_text(bucket.at)} '
                f"{html_text(name)}: {count}</title></rect>"
            )
            base += count
    if not charts.actions_per_minute:
        parts.append(_empty("no target actions recorded"))
    parts += _legend(names)
    return "\n".join([*parts, "</svg>"])


def containment_chart(charts: Charts) -> str:
    """Step line: malicious live streams over time; dots are observations."""
    points = charts.containment
    axes = _Axes(charts, max((p.live for p in points), default=0))
    parts = _open(
        "chart-containment",
        "Malicious live streams over time",
        "Observed by stream queries (dots) and lowered by each streams.suspend done outcome.",
    )
    parts += _phases(charts, axes) + _frame(axes, "malicious live streams")
    if points:
        path = []
        for index, point in enumerate(points):
            x, y = axes.x(parse_utc(point.at)), axes.y(point.live)
            path.append(f"M{x:.1f},{y:.1f}" if index == 0 else f"H{x:.1f} V{y:.1f}")
        path.append(f"H{axes.x(parse_utc(charts.window_end_at)):.1f}")
        parts.append(f'<path class="curve" d="{" ".join(path)}"/>')
        for point in points:
            if point.source != "suspended":
                x, y = axes.x(parse_utc(point.at)), axes.y(point.live)
                parts.append(
                    f'<circle class="observed" cx="{x:.1f}" cy="{y:.1f}" r="3.5"><title>'
                    f"{html_text(point.at)}: {point.live} ({html_text(point.source)})"
                    "</title></circle>"
                )
    else:
        parts.append(_empty("no stream observations recorded"))
    return "\n".join([*parts, "</svg>"])
