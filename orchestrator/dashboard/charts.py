"""Draw the dashboard's charts as inline SVG, on the server: bars, lines and steps over time, bars
by category; axes with labels, and a <title> on every bar and point for its hover text.

Written by hand rather than with a charting library: the four shapes take about 200 lines, and
the page stays a single file with no script at all (pygal, the one well-kept pure-SVG library,
adds its tooltips with JavaScript and brings lxml-sized dependencies for little we need). Every
text drawn is redacted and escaped here, so a chart is safe to mark up as is. Each SVG scales to
its container (`viewBox`, width 100%), so a chart fits a phone's width.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from markupsafe import Markup, escape

from orchestrator.core.redact import redact
from orchestrator.dashboard.series import Series, Share

W, H = 520, 210  # the drawing's units; the browser scales it to the page
LEFT, RIGHT, TOP, BOTTOM = 58, 16, 14, 30
ROW = 28  # a category's row in a chart by category
INK, FAINT, GRID = "#3b4048", "#6b717c", "#e2e5e9"
COLOURS = {
    "throughput": "#2f855a",
    "lead_time": "#6b46c1",
    "cost": "#c05621",
    "queue": "#2b6cb0",
    "agents": "#2c7a7b",
}
FONT = 'font-family="system-ui, sans-serif" font-size="12"'


def timeline(series: Series, shape: str = "bars") -> Markup:
    """Draw a series over time as `bars`, a `line` with a dot per point, or `steps`."""
    if not series.points:
        return _empty(series.key, series.title, series.empty)
    scale, unit = _unit(series)
    values = [p.value / scale for p in series.points]
    top, ticks = _axis(max(values), integers=series.unit in ("merged", "tasks"))
    colour = COLOURS.get(series.key, INK)
    parts = [_open(series.key, series.title, H), *_y_axis(ticks, top, unit)]
    parts += _x_axis(series)
    span = (series.end - series.start).total_seconds() or 1.0
    width = W - LEFT - RIGHT
    slot = series.step.total_seconds() / span * width

    def x(at: datetime) -> float:
        return LEFT + (at - series.start).total_seconds() / span * width

    def y(value: float) -> float:
        return TOP + (1 - value / top) * (H - TOP - BOTTOM)

    if shape == "bars":
        gap = slot * 0.15 if slot > 3 else 0.0
        for point, value in zip(series.points, values, strict=True):
            parts.append(
                f'<rect class="bar" x="{x(point.at) + gap / 2:.2f}" y="{y(value):.2f}" '
                f'width="{max(slot - gap, 0.8):.2f}" height="{y(0) - y(value):.2f}" '
                f'fill="{colour}">{_title(point.title)}</rect>'
            )
    else:
        spots = [(x(p.at) + slot / 2, y(v)) for p, v in zip(series.points, values, strict=True)]
        parts.append(_path(spots, steps=shape == "steps", colour=colour))
        for (cx, cy), point in zip(spots, series.points, strict=True):
            parts.append(
                f'<circle class="point" cx="{cx:.2f}" cy="{cy:.2f}" r="3.5" fill="{colour}">'
                f"{_title(point.title)}</circle>"
            )
    return Markup("".join(parts) + "</svg>")


def shares(key: str, title: str, found: tuple[Share, ...], empty: str) -> Markup:
    """Draw shares (0 to 1) as one horizontal bar per category, labelled, with its percent."""
    if not found:
        return _empty(key, title, empty)
    height = TOP + ROW * len(found) + BOTTOM
    label_w = 110
    width = W - label_w - RIGHT - 44
    colour = COLOURS.get(key, INK)
    parts = [_open(key, title, height)]
    for i, tick in enumerate((0.0, 0.5, 1.0)):
        gx = label_w + tick * width
        parts.append(
            f'<line x1="{gx:.2f}" x2="{gx:.2f}" y1="{TOP}" y2="{height - BOTTOM}" '
            f'stroke="{GRID}"/><text x="{gx:.2f}" y="{height - BOTTOM + 16}" fill="{FAINT}" '
            f'{FONT} text-anchor="{("start", "middle", "end")[i]}">{tick:.0%}</text>'
        )
    for row, share in enumerate(found):
        top = TOP + row * ROW
        name = _text(share.label if len(share.label) <= 18 else share.label[:17] + "…")
        parts.append(
            f'<text x="{label_w - 8}" y="{top + ROW / 2 + 4:.1f}" fill="{INK}" {FONT} '
            f'text-anchor="end">{name}</text>'
            f'<rect class="bar" x="{label_w}" y="{top + 5}" width="{share.value * width:.2f}" '
            f'height="{ROW - 10}" fill="{colour}">{_title(share.title)}</rect>'
            f'<text x="{label_w + share.value * width + 6:.2f}" y="{top + ROW / 2 + 4:.1f}" '
            f'fill="{INK}" {FONT}>{share.value:.0%}</text>'
        )
    return Markup("".join(parts) + "</svg>")


def _open(key: str, title: str, height: int) -> str:
    ident = _text(f"chart-{key}")
    return (
        f'<svg class="chart" id="{ident}" viewBox="0 0 {W} {height}" width="100%" role="img" '
        f'aria-label="{_text(title)}" xmlns="http://www.w3.org/2000/svg">'
    )


def _empty(key: str, title: str, empty: str) -> Markup:
    """The empty state: the chart's frame with a sentence, never a broken drawing."""
    height = 90
    return Markup(
        _open(key, title, height)
        + f'<rect x="1" y="1" width="{W - 2}" height="{height - 2}" fill="none" '
        f'stroke="{GRID}" stroke-dasharray="4 4"/>'
        f'<text class="empty" x="{W / 2}" y="{height / 2 + 5}" fill="{FAINT}" {FONT} '
        f'text-anchor="middle">{_text(empty)}</text></svg>'
    )


def _unit(series: Series) -> tuple[float, str]:
    """What a value is divided by on the axis, and the axis's unit: hours shown as they read."""
    if series.unit == "hours":
        top = max(p.value for p in series.points)
        for limit, scale, unit in ((1 / 60, 1 / 3600, "s"), (1.5, 1 / 60, "min"), (72, 1, "h")):
            if top < limit:
                return scale, unit
        return 24.0, "d"
    return 1.0, {"USD": "$"}.get(series.unit, "")


def _axis(most: float, *, integers: bool) -> tuple[float, list[float]]:
    """A round top for the axis at or above `most`, and its ticks (at most six)."""
    if most <= 0:
        return 1.0, [0.0, 1.0]
    step = 10 ** math.floor(math.log10(most / 5))
    for factor in (1, 2, 2.5, 5, 10):
        if most / (step * factor) <= 5:
            step *= factor
            break
    if integers:
        step = max(1.0, math.ceil(step))
    top = math.ceil(most / step - 1e-9) * step
    return top, [i * step for i in range(round(top / step) + 1)]


def _y_axis(ticks: list[float], top: float, unit: str) -> list[str]:
    parts = []
    for tick in ticks:
        gy = TOP + (1 - tick / top) * (H - TOP - BOTTOM)
        label = f"${tick:,.2f}" if unit == "$" else f"{tick:,.6g}{' ' + unit if unit else ''}"
        parts.append(
            f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{gy:.2f}" y2="{gy:.2f}" stroke="{GRID}"/>'
            f'<text x="{LEFT - 6}" y="{gy + 4:.2f}" fill="{FAINT}" {FONT} '
            f'text-anchor="end">{_text(label)}</text>'
        )
    return parts


def _x_axis(series: Series) -> list[str]:
    """The baseline and up to five labels, each at the middle of its slot."""
    slots = max(1, round((series.end - series.start) / series.step))
    span = (series.end - series.start).total_seconds() or 1.0
    parts = [
        f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{H - BOTTOM}" y2="{H - BOTTOM}" stroke="{FAINT}"/>'
    ]
    chosen = sorted({round(i * (slots - 1) / 4) for i in range(5)})
    for i, k in enumerate(chosen):
        at = series.start + series.step * k
        middle = (at - series.start).total_seconds() + series.step.total_seconds() / 2
        gx = LEFT + middle / span * (W - LEFT - RIGHT)
        anchor = "start" if k == 0 and len(chosen) > 1 else "end" if k == chosen[-1] else "middle"
        minor = ' class="minor"' if len(chosen) == 5 and i % 2 else ""  # hidden on a phone
        parts.append(
            f'<text{minor} x="{gx:.2f}" y="{H - BOTTOM + 18}" fill="{FAINT}" {FONT} '
            f'text-anchor="{anchor}">{_text(_when(at, series.step))}</text>'
        )
    return parts


def _when(at: datetime, step: timedelta) -> str:
    if step >= timedelta(days=1):
        return f"{at:%b} {at.day}"
    return f"{at:%H:%M}" if step >= timedelta(minutes=1) else f"{at:%H:%M:%S}"


def _path(spots: list[tuple[float, float]], *, steps: bool, colour: str) -> str:
    moves = [f"M{spots[0][0]:.2f},{spots[0][1]:.2f}"]
    for px, py in spots[1:]:  # steps: along at the last value, then up or down to this one
        moves += [f"H{px:.2f}", f"V{py:.2f}"] if steps else [f"L{px:.2f},{py:.2f}"]
    return (
        f'<path class="line" d="{" ".join(moves)}" fill="none" stroke="{colour}" '
        'stroke-width="2" stroke-linejoin="round"/>'
    )


def _title(text: str) -> str:
    return f"<title>{_text(text)}</title>"


def _text(text: str) -> str:
    """Escape a text; one that escaping changes is redacted first, since the page's last pass
    (render.py) finds a secret only in the form it was registered in."""
    escaped = str(escape(text))
    return escaped if escaped == text else str(escape(redact(text)))
