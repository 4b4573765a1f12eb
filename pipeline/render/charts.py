"""Trend charts as inline SVG, generated in Python: no JavaScript, no chart library, no network.

Contract: ``trend_chart(timeline, labs, describe)`` returns one self-contained ``<svg>`` (``Markup``) for
one analyte: dates to scale on the x axis, the value in the timeline's canonical unit on the y axis, each
report's OWN printed reference range drawn as a band around its point (ranges differ between labs, so the
band steps where they change), points shaped and coloured by lab, a ring on values outside their printed
range, lines only within a comparable segment (a dotted divider where the engine refused a comparison),
and a ``<title>`` on every point saying what it is and where it came from. ``LabStyles`` keeps one
shape and colour per lab across all charts of a report; ``legend`` draws the key as HTML.

Every piece of text is escaped here: the template inserts the returned Markup as is.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from markupsafe import Markup, escape

from pipeline.interpret.models import Timeline, TimelinePoint

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 56, 18, 26, 36

# Okabe-Ito: distinguishable with the common colour-vision deficiencies, and paired with a shape anyway.
PALETTE = ("#0072B2", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#D55E00", "#000000")
SHAPES = ("circle", "square", "triangle", "diamond", "triangle-down", "cross")
UNKNOWN_LAB = "Laboratory not printed"
OUT_OF_RANGE = "#B42318"
BAND_FILL = "#DCEFE3"
BAND_EDGE = "#8CC5A0"


@dataclass(frozen=True, slots=True)
class LabStyle:
    name: str
    colour: str
    shape: str


@dataclass
class LabStyles:
    """One marker per lab, assigned in order of first appearance, stable across every chart of a report."""

    styles: dict[str, LabStyle] = field(default_factory=dict)

    @classmethod
    def for_timelines(cls, timelines: Iterable[Timeline]) -> LabStyles:
        styles = cls()
        ordered = sorted((p.collected_at, p.lab or UNKNOWN_LAB) for t in timelines for p in t.points)
        for _, lab in ordered:
            styles.get(lab)
        return styles

    def get(self, lab: str | None) -> LabStyle:
        name = lab or UNKNOWN_LAB
        if name not in self.styles:
            i = len(self.styles)
            self.styles[name] = LabStyle(name, PALETTE[i % len(PALETTE)], SHAPES[i % len(SHAPES)])
        return self.styles[name]


def marker(shape: str, x: float, y: float, r: float = 4.5) -> str:
    """SVG path data of one marker centred on (x, y)."""
    if shape == "circle":
        return f"M{x - r:.1f},{y:.1f}a{r},{r} 0 1,0 {2 * r},0a{r},{r} 0 1,0 {-2 * r},0Z"
    if shape == "square":
        s = r * 0.9
        return f"M{x - s:.1f},{y - s:.1f}h{2 * s:.1f}v{2 * s:.1f}h{-2 * s:.1f}Z"
    if shape == "triangle":
        return f"M{x:.1f},{y - r * 1.15:.1f}L{x + r:.1f},{y + r * 0.75:.1f}L{x - r:.1f},{y + r * 0.75:.1f}Z"
    if shape == "triangle-down":
        return f"M{x:.1f},{y + r * 1.15:.1f}L{x + r:.1f},{y - r * 0.75:.1f}L{x - r:.1f},{y - r * 0.75:.1f}Z"
    if shape == "diamond":
        d = r * 1.2
        return f"M{x:.1f},{y - d:.1f}L{x + d:.1f},{y:.1f}L{x:.1f},{y + d:.1f}L{x - d:.1f},{y:.1f}Z"
    w = r * 0.4  # cross
    return (
        f"M{x - w:.1f},{y - r:.1f}h{2 * w:.1f}v{r - w:.1f}h{r - w:.1f}v{2 * w:.1f}h{w - r:.1f}v{r - w:.1f}"
        f"h{-2 * w:.1f}v{w - r:.1f}h{w - r:.1f}v{-2 * w:.1f}h{r - w:.1f}Z"
    )


def nice_ticks(lo: float, hi: float, target: int = 5) -> list[float]:
    """Round tick values (1, 2, 2.5, 5 x 10^k) covering [lo, hi]."""
    if hi <= lo:
        hi = lo + (abs(lo) or 1.0)
    raw = (hi - lo) / max(1, target)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first, last = math.floor(lo / step + 1e-9), math.ceil(hi / step - 1e-9)
    return [round(i * step, 10) for i in range(first, last + 1)]


def tick_decimals(step: float) -> int:
    """Decimals that show every tick of a 1/2/2.5/5 x 10^k step exactly (2.5 needs one more)."""
    k = math.floor(math.log10(step) + 1e-9)
    mantissa = round(step / 10**k, 6)
    return max(0, -k + (1 if mantissa == 2.5 else 0))


def _month_add(d: dt.date, months: int) -> dt.date:
    m = d.month - 1 + months
    return dt.date(d.year + m // 12, m % 12 + 1, 1)


def date_ticks(start: dt.date, end: dt.date, max_ticks: int = 7) -> list[tuple[dt.date, str]]:
    """Tick dates and labels: every 1, 2, 3, 7 or 14 days for short spans, else 1-60 months."""
    span = (end - start).days
    for step in (1, 2, 3, 7, 14):
        if span // step + 1 <= max_ticks:
            first = start + dt.timedelta(days=(7 - start.weekday()) % 7) if step == 7 else start
            days = [first + dt.timedelta(days=i) for i in range(0, span + 1, step)]
            days = [d for d in days if d <= end] or [start]
            return [(d, d.strftime("%d %b")) for d in days]
    for months in (1, 2, 3, 6, 12, 24, 60):
        d = _month_add(start.replace(day=1), 1 if start.day > 1 else 0)
        while (d.month - 1) % min(months, 12) or (months > 12 and d.year % (months // 12)):
            d = _month_add(d, 1)
        ticks: list[dt.date] = []
        while d <= end:
            ticks.append(d)
            d = _month_add(d, months)
        if 1 <= len(ticks) <= max_ticks:
            fmt = "%Y" if months >= 12 else "%b %Y"
            return [(t, t.strftime(fmt)) for t in ticks]
    return [(start, start.strftime("%Y"))]


def fmt_number(v: float, printed: str | None = None) -> str:
    """The printed text when it states this very number ('0.90' stays '0.90'); else 3 significant
    digits (converted values must not look more precise than the printed ones), no trailing zeros."""
    if printed is not None:
        try:
            if float(printed) == v:
                return printed.strip()
        except ValueError:
            pass
    if v == 0 or not math.isfinite(v):
        return "0" if v == 0 else str(v)
    digits = max(0, 2 - math.floor(math.log10(abs(v))))
    text = f"{v:.{min(digits, 4)}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def plot_value(p: TimelinePoint) -> float | None:
    """The y position of a point: its canonical value, or a censored value at its printed bound."""
    if p.value is not None:
        return p.value
    if p.comparator is not None and p.original_value is not None:
        return p.original_value * p.factor + p.offset
    return None


def _when(p: TimelinePoint) -> float:
    """Days since the epoch, with the time of day when printed, so same-day repeats do not overlap."""
    days = float(p.collected_at.toordinal())
    if p.collected_time is not None:
        days += (p.collected_time.hour * 60 + p.collected_time.minute) / 1440
    return days


def trend_chart(
    timeline: Timeline,
    labs: LabStyles,
    describe: Callable[[TimelinePoint], str],
    *,
    chart_id: str,
    unit_label: str | None = None,
) -> Markup:
    """One analyte's trend as an accessible inline SVG (see module docstring)."""
    points = [p for p in timeline.points if plot_value(p) is not None]
    unit = unit_label if unit_label is not None else timeline.unit or ""
    title = f"{timeline.label} over time"
    if not points:
        return Markup("")
    xs = [_when(p) for p in points]
    x0, x1 = min(xs), max(xs)
    pad_x = max(10.0, (x1 - x0) * 0.04)
    x0, x1 = x0 - pad_x, x1 + pad_x
    values = [v for p in points if (v := plot_value(p)) is not None]
    limits = [v for p in points for v in (p.ref_low, p.ref_high) if v is not None]
    lo, hi = min(values + limits), max(values + limits)
    pad_y = (hi - lo) * 0.08 or abs(hi) * 0.1 or 1.0
    lo = 0.0 if lo >= 0 and lo - pad_y < 0 else lo - pad_y
    ticks = nice_ticks(lo, hi + pad_y)
    y0, y1 = min(ticks[0], lo), max(ticks[-1], hi + pad_y)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def sx(days: float) -> float:
        return LEFT + (days - x0) / (x1 - x0) * plot_w

    def sy(v: float) -> float:
        return TOP + (1 - (v - y0) / (y1 - y0)) * plot_h

    out: list[str] = [
        f'<svg class="chart" id="{escape(chart_id)}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{escape(chart_id)}-t {escape(chart_id)}-d" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{escape(chart_id)}-t">{escape(title)}</title>',
        f'<desc id="{escape(chart_id)}-d">{escape(_description(timeline, points, unit))}</desc>',
    ]
    # Grid and y axis.
    decimals = tick_decimals(ticks[1] - ticks[0] if len(ticks) > 1 else 1.0)
    for t in ticks:
        y = sy(t)
        out.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>')
        out.append(
            f'<text class="tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{t:.{decimals}f}</text>'
        )
    out.append(f'<text class="unit" x="{LEFT - 6}" y="{TOP - 10}" text-anchor="start">{escape(unit)}</text>')
    # x axis: dates to scale.
    first, last = dt.date.fromordinal(math.ceil(x0)), dt.date.fromordinal(math.floor(x1))
    for day, text in date_ticks(first, last):
        x = sx(day.toordinal())
        out.append(
            f'<line class="xtick" x1="{x:.1f}" x2="{x:.1f}" y1="{TOP + plot_h}" y2="{TOP + plot_h + 4}"/>'
        )
        out.append(
            f'<text class="tick" x="{x:.1f}" y="{TOP + plot_h + 19}" text-anchor="middle">{text}</text>'
        )
    out.append(
        f'<line class="axis" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{TOP + plot_h}" y2="{TOP + plot_h}"/>'
    )
    out.extend(_bands(points, xs, sx, sy, (x0, x1), (y0, y1)))
    out.extend(_lines(points, xs, sx, sy))
    out.extend(_markers(points, xs, sx, sy, labs, describe))
    out.append("</svg>")
    return Markup("".join(out))


def _description(timeline: Timeline, points: Sequence[TimelinePoint], unit: str) -> str:
    first, last = points[0], points[-1]
    latest = plot_value(last)
    shown = fmt_number(latest) if latest is not None else last.value_text
    return (
        f"{len(points)} results of {timeline.label} from {first.collected_at.isoformat()} to "
        f"{last.collected_at.isoformat()}; latest {last.comparator or ''}{shown} {unit} "
        f"({last.range_status.replace('unknown', 'range not printed')}). Shaded bands are the reference "
        "range printed on each report."
    )


def _bands(
    points: Sequence[TimelinePoint],
    xs: Sequence[float],
    sx: Callable[[float], float],
    sy: Callable[[float], float],
    xdom: tuple[float, float],
    ydom: tuple[float, float],
) -> list[str]:
    """Each point's printed range as a band reaching halfway to its neighbours; equal neighbours merge."""
    out: list[str] = []
    runs: list[tuple[int, int]] = []
    for i, p in enumerate(points):
        if runs and (points[runs[-1][1]].ref_low, points[runs[-1][1]].ref_high) == (p.ref_low, p.ref_high):
            runs[-1] = (runs[-1][0], i)
        else:
            runs.append((i, i))
    for first, last in runs:
        p = points[first]
        if p.ref_low is None and p.ref_high is None:
            continue
        left = xdom[0] if first == 0 else (xs[first - 1] + xs[first]) / 2
        right = xdom[1] if last == len(points) - 1 else (xs[last] + xs[last + 1]) / 2
        low = max(ydom[0], p.ref_low if p.ref_low is not None else ydom[0])
        high = min(ydom[1], p.ref_high if p.ref_high is not None else ydom[1])
        if high <= low:
            continue
        xa, xb, ya, yb = sx(left), sx(right), sy(high), sy(low)
        out.append(
            f'<rect class="band" x="{xa:.1f}" y="{ya:.1f}" width="{xb - xa:.1f}" height="{yb - ya:.1f}"/>'
        )
        for edge, limit in ((ya, p.ref_high), (yb, p.ref_low)):
            if limit is not None:
                out.append(
                    f'<line class="band-edge" x1="{xa:.1f}" x2="{xb:.1f}" y1="{edge:.1f}" y2="{edge:.1f}"/>'
                )
    return out


def _lines(
    points: Sequence[TimelinePoint],
    xs: Sequence[float],
    sx: Callable[[float], float],
    sy: Callable[[float], float],
) -> list[str]:
    """A line through each comparable segment; a dotted divider where a comparison was refused."""
    out: list[str] = []
    run: list[str] = []
    prev: TimelinePoint | None = None
    for i, p in enumerate(points):
        if p.value is None:
            continue
        if prev is not None and p.segment != prev.segment:
            if len(run) > 1:
                out.append(f'<polyline class="trend" points="{" ".join(run)}"/>')
            run = []
            x = sx((xs[points.index(prev)] + xs[i]) / 2)
            out.append(f'<line class="divider" x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{HEIGHT - BOTTOM}"/>')
            out.append(f'<text class="divider-label" x="{x + 3:.1f}" y="{TOP + 9}">not comparable</text>')
        run.append(f"{sx(xs[i]):.1f},{sy(p.value):.1f}")
        prev = p
    if len(run) > 1:
        out.append(f'<polyline class="trend" points="{" ".join(run)}"/>')
    return out


def _markers(
    points: Sequence[TimelinePoint],
    xs: Sequence[float],
    sx: Callable[[float], float],
    sy: Callable[[float], float],
    labs: LabStyles,
    describe: Callable[[TimelinePoint], str],
) -> list[str]:
    out: list[str] = []
    for i, p in enumerate(points):
        v = plot_value(p)
        if v is None:
            continue
        x, y = sx(xs[i]), sy(v)
        style = labs.get(p.lab)
        classes = ["point"]
        ring = ""
        if p.range_status in ("above", "below"):
            classes.append("out")
            ring = f'<circle class="ring" cx="{x:.1f}" cy="{y:.1f}" r="8"/>'
        fill = "none" if p.value is None else style.colour
        out.append(
            f'<g class="{" ".join(classes)}" data-lab="{escape(style.name)}">'
            f"<title>{escape(describe(p))}</title>"
            f'{ring}<path d="{marker(style.shape, x, y)}" fill="{fill}" stroke="{style.colour}" '
            f'stroke-width="1.5"/></g>'
        )
    return out


def legend(labs: Sequence[LabStyle], *, out_of_range: bool, band: bool) -> Markup:
    """The key of a chart as HTML: one entry per lab shown, the band and the out-of-range ring."""
    items: list[str] = []
    for style in labs:
        icon = (
            f'<svg class="key" viewBox="0 0 16 16" aria-hidden="true"><path d="{marker(style.shape, 8, 8)}" '
            f'fill="{style.colour}" stroke="{style.colour}"/></svg>'
        )
        items.append(f"<li>{icon}{escape(style.name)}</li>")
    if band:
        items.append(
            '<li><svg class="key" viewBox="0 0 16 16" aria-hidden="true"><rect x="1" y="4" width="14" '
            f'height="8" fill="{BAND_FILL}" stroke="{BAND_EDGE}"/></svg>'
            "reference range printed on each report</li>"
        )
    if out_of_range:
        items.append(
            '<li><svg class="key" viewBox="0 0 16 16" aria-hidden="true"><circle cx="8" cy="8" r="6" '
            f'fill="none" stroke="{OUT_OF_RANGE}" stroke-width="2"/></svg>outside its printed range</li>'
        )
    return Markup('<ul class="legend">' + "".join(items) + "</ul>")


def labs_in(timeline: Timeline, labs: LabStyles) -> list[LabStyle]:
    """The lab styles a chart uses, in legend order."""
    seen: dict[str, LabStyle] = {}
    for p in timeline.points:
        style = labs.get(p.lab)
        seen.setdefault(style.name, style)
    order = list(labs.styles)
    return sorted(seen.values(), key=lambda s: order.index(s.name))
