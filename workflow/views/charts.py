"""Small server-rendered SVG charts that read on a phone: drawn 360 units wide (one unit ≈ one CSS pixel on a
360–420 px screen), 11–12 px labels, every value written on its mark. No script, no style element (the pages' CSP
allows none): presentation attributes only. Each function returns the SVG markup as a string.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

W = 360  # the drawing's width: the page scales it to the screen (width="100%")
PAD = 8
FONT = 'font-family="PingFang SC, Noto Sans CJK SC, Microsoft YaHei, sans-serif"'
INK, MUTED, GRID = "#1f2329", "#646a73", "#e5e6eb"
COLOURS = ("#1456f0", "#f08a00", "#1a7f37", "#d83931", "#7b43d6", "#0f9bb5", "#b8860b", "#8f959e")


def _text(
    x: float, y: float, s: str, size: int = 12, anchor: str = "middle", fill: str = INK, bold: bool = False
) -> str:
    weight = ' font-weight="600"' if bold else ""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" fill="{fill}"{weight}>'
        f"{escape(s)}</text>"
    )


def _svg(height: float, title: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {height:.0f}" width="100%" role="img" '
        f'aria-label="{escape(title)}" {FONT}><title>{escape(title)}</title>' + "".join(body) + "</svg>"
    )


def _months(labels: Sequence[str], years: Sequence[str], x: Callable[[int], float], y: float) -> list[str]:
    """Month labels under the axis, with the year under its first month shown and under each January."""
    out = []
    for i, label in enumerate(labels):
        out.append(_text(x(i), y, label, 11, fill=MUTED))
        if years[i]:
            out.append(_text(x(i), y + 13, years[i], 10, fill=MUTED))
    return out


def stacked(
    title: str, labels: Sequence[str], years: Sequence[str], series: Sequence[tuple[str, Sequence[int]]]
) -> str:
    """Counts per month stacked by series, the month's total written on top, a legend underneath."""
    n = len(labels)
    totals = [sum(v[i] for _, v in series) for i in range(n)]
    top = max(totals, default=0) or 1
    plot_top, plot_h = 18.0, 96.0
    slot = (W - 2 * PAD) / max(n, 1)

    def x(i: int) -> float:
        return PAD + slot * (i + 0.5)

    base = plot_top + plot_h
    body = [f'<line x1="{PAD}" y1="{base}" x2="{W - PAD}" y2="{base}" stroke="{GRID}"/>']
    for i in range(n):
        y = base
        for k, (_name, values) in enumerate(series):
            h = plot_h * values[i] / top
            if h > 0:
                y -= h
                body.append(
                    f'<rect x="{x(i) - slot * 0.32:.1f}" y="{y:.1f}" width="{slot * 0.64:.1f}" height="{h:.1f}" '
                    f'fill="{COLOURS[k % len(COLOURS)]}"/>'
                )
        body.append(_text(x(i), y - 4, str(totals[i]) if totals[i] else "0", 11, fill=INK if totals[i] else MUTED))
    body += _months(labels, years, x, base + 15)
    legend_y = base + 44
    lx: float = PAD
    for k, (name, values) in enumerate(series):
        label = f"{name} {sum(values)}"
        width = 16 + 12 * len(label) * 0.8
        if lx + width > W - PAD:
            lx, legend_y = PAD, legend_y + 18
        body.append(
            f'<rect x="{lx:.1f}" y="{legend_y - 9:.1f}" width="10" height="10" fill="{COLOURS[k % len(COLOURS)]}"/>'
        )
        body.append(_text(lx + 14, legend_y, label, 12, "start"))
        lx += width + 8
    return _svg(legend_y + 8, title, body)


def line(
    title: str,
    labels: Sequence[str],
    years: Sequence[str],
    values: Sequence[float | None],
    fmt: Callable[[float], str],
    lo: float,
    hi: float,
    colour: str = COLOURS[0],
) -> str:
    """One value per month as a line with dots, each value written above its dot; None (no data) is a gap with —."""
    n = len(labels)
    plot_top, plot_h = 16.0, 64.0
    slot = (W - 2 * PAD) / max(n, 1)

    def x(i: int) -> float:
        return PAD + slot * (i + 0.5)

    span = (hi - lo) or 1.0

    def y(v: float) -> float:
        return plot_top + plot_h * (hi - v) / span

    base = plot_top + plot_h + 6
    body = [f'<line x1="{PAD}" y1="{base}" x2="{W - PAD}" y2="{base}" stroke="{GRID}"/>']
    run: list[str] = []
    for i, v in enumerate([*values, None]):
        if v is not None:
            run.append(f"{x(i):.1f},{y(v):.1f}")
            continue
        if len(run) > 1:
            body.append(f'<polyline points="{" ".join(run)}" fill="none" stroke="{colour}" stroke-width="2"/>')
        run = []
    for i, v in enumerate(values):
        if v is None:
            body.append(_text(x(i), base - 4, "—", 11, fill=MUTED))
            continue
        body.append(f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="3" fill="{colour}"/>')
        body.append(_text(x(i), y(v) - 6, fmt(v), 11))
    body += _months(labels, years, x, base + 14)
    return _svg(base + 14 + (14 if any(years) else 4), title, body)


def bars(
    title: str, rows: Sequence[tuple[str, Sequence[float | None]]], names: Sequence[str], fmt: Callable[[float], str]
) -> str:
    """Horizontal bars: a label line per row, then one bar per value (named in the legend), its value at its end."""
    top = max((v for _, vs in rows for v in vs if v is not None), default=0) or 1
    label_w, bar_h, gap = 0.0, 12.0, 4.0
    room = W - 2 * PAD - 56  # the value's words after the longest bar
    y = 14.0
    body = []
    lx: float = PAD
    for k, name in enumerate(names):
        body.append(f'<rect x="{lx:.1f}" y="{y - 9:.1f}" width="10" height="10" fill="{COLOURS[k % len(COLOURS)]}"/>')
        body.append(_text(lx + 14, y, name, 12, "start"))
        lx += 14 + 12 * len(name) + 14
    y += 10
    for label, values in rows:
        y += 16
        body.append(_text(PAD, y, label, 12, "start", bold=True))
        y += 4
        for k, v in enumerate(values):
            w = 0.0 if v is None else max(1.5, room * v / top)
            body.append(
                f'<rect x="{PAD + label_w:.1f}" y="{y:.1f}" width="{w:.1f}" height="{bar_h}" '
                f'fill="{COLOURS[k % len(COLOURS)]}"/>'
            )
            words = "—" if v is None else fmt(v)
            body.append(_text(PAD + label_w + w + 4, y + bar_h - 2, words, 11, "start", fill=INK if v else MUTED))
            y += bar_h + gap
    return _svg(y + 4, title, body)
