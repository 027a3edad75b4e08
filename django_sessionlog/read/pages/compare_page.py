"""The comparison as one self-contained page: a forest plot of each kind's accept-rate change, the
two retry curves side by side, and the tables of every metric.

What every page shares (nothing from the network, escaping, the CSP,
trace links) is in ``shared``.
"""

from __future__ import annotations

from typing import Any

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from ...row import trim
from ..figures.compare import Comparison, Result
from ..formatting import count, duration, plural, usd, utc
from ..sources.rows import Tally
from . import shared
from .shared import f as _f
from .shared import trace_link

VERDICT_COLOURS = {"worse": "#d0453b", "better": "#2f9e5b", "unchanged": "#667085", "too_few": "#b8bec9"}
SIDE_COLOURS = {"baseline": "#8a94a6", "candidate": "#4a78c2"}


def render(result: Result, tally: Tally, *, trace_url: str = "", sources: list[str] | None = None) -> str:
    data = result.data
    sides = []
    for which, side in (("baseline", data.baseline), ("candidate", data.candidate)):
        sides.append(
            {
                "which": which,
                "text": result.side_text(which),
                "sessions": plural(side.overall.sessions, "session"),
                "rows": side.overall.rows,
                "first": utc(side.first),
                "last": utc(side.last),
                "colour": SIDE_COLOURS[which],
            }
        )
    context = {
        "sides": sides,
        "sources": sources or [],
        "tally": tally,
        "regressions": result.regressions(),
        "forest": forest_plot(result),
        "curves": [retry_curve(result, which) for which in ("baseline", "candidate")],
        "tables": [("All kinds", _rows(result.overall))]
        + [(f"Kind {kind}", _rows(comparisons)) for kind, comparisons in result.kinds.items()],
        "errors": [
            {
                "text": change.group.text,
                "verdict_kind": change.group.verdict_kind,
                "baseline": f"{change.baseline_share:.1%}",
                "candidate": f"{change.candidate_share:.1%}",
                "new": change.new,
                "examples": [(sid, trace_link(trace_url, sid)) for sid in change.group.examples],
            }
            for change in result.errors
        ],
        "min_change": f"{result.min_change * 100:g} points",
        "min_sessions": f"{result.min_sessions:g}",
        "methods": [(c.metric.label, c.metric.method) for c in result.overall],
    }
    return shared.render("compare.html", context)


def _rows(comparisons: list[Comparison]) -> list[dict[str, Any]]:
    rows = []
    for c in comparisons:
        name = c.metric.name
        rows.append(
            {
                "label": c.metric.label,
                "baseline": _value(name, c.baseline),
                "candidate": _value(name, c.candidate),
                "difference": "-" if c.difference is None else _change(name, c.difference),
                "interval": "-" if c.interval is None else " to ".join(_change(name, v) for v in c.interval),
                "verdict": c.verdict,
                "colour": VERDICT_COLOURS[c.verdict],
            }
        )
    return rows


def _value(name: str, value: float | None) -> str:
    if value is None:
        return "-"
    if name.endswith("_rate"):
        return f"{value:.1%}"
    if name == "mean_iterations":
        return f"{value:.2f}"
    if name == "tokens_per_session":
        return count(value)
    if name.endswith("_usd"):
        return usd(value)
    return duration(value)


def _change(name: str, value: float) -> str:
    if name.endswith("_rate"):
        return f"{value * 100:+.1f} pt"
    if name == "mean_iterations":
        return f"{value:+.2f}"
    sign = "-" if value < 0 else "+"
    if name == "tokens_per_session":
        return sign + count(abs(value))
    if name.endswith("_usd"):
        return sign + usd(abs(value))
    return sign + duration(abs(value))


# --- charts ----------------------------------------------------------------


def forest_plot(result: Result) -> SafeString:
    """Each kind's accept-rate change with its 95% interval, in percentage points, 0 marked."""
    entries: list[tuple[str, float, float, float, str]] = []
    for label, comparisons in [("all kinds", result.overall), *result.kinds.items()]:
        c = next(c for c in comparisons if c.metric.name == "accept_rate")
        if c.interval is not None and c.difference is not None:
            entries.append((label, c.difference * 100, c.interval[0] * 100, c.interval[1] * 100, c.verdict))
    if not entries:
        return format_html('<p class="empty">{}</p>', "No side has sessions to compare.")
    reach = max(5.0, *(max(abs(low), abs(high)) for _, _, low, high, _ in entries))
    width, label_w, value_w, row_h = 860, 170, 250, 30
    plot_left, plot_right = label_w + 10, width - value_w - 10
    height = row_h * len(entries) + 40

    def x(points: float) -> str:
        return _f(plot_left + (points + reach) / (2 * reach) * (plot_right - plot_left))

    parts = [
        format_html(
            '<line x1="{}" y1="10" x2="{}" y2="{}" class="zero"/>'
            '<text x="{}" y="{}" class="tick" text-anchor="middle">0</text>'
            '<text x="{}" y="{}" class="tick" text-anchor="start">{}</text>'
            '<text x="{}" y="{}" class="tick" text-anchor="end">{}</text>',
            x(0),
            x(0),
            height - 22,
            x(0),
            height - 8,
            plot_left,
            height - 8,
            f"{-reach:+.0f} pt",
            plot_right,
            height - 8,
            f"{reach:+.0f} pt",
        )
    ]
    for index, (label, difference, low, high, verdict) in enumerate(entries):
        y = 20 + index * row_h
        colour = VERDICT_COLOURS[verdict]
        shown = f"{difference:+.1f} pt [{low:+.1f}, {high:+.1f}] {verdict}"
        parts.append(
            format_html(
                '<g class="entry" data-verdict="{}">'
                '<text x="{}" y="{}" class="label" text-anchor="end">{}</text>'
                '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="2"/>'
                '<circle cx="{}" cy="{}" r="5" fill="{}"><title>{}: {}</title></circle>'
                '<text x="{}" y="{}" class="value">{}</text></g>',
                verdict,
                label_w,
                y + 4,
                trim(label, 24),
                x(low),
                y,
                x(high),
                y,
                colour,
                x(difference),
                y,
                colour,
                label,
                shown,
                plot_right + 12,
                y + 4,
                shown,
            )
        )
    return format_html(
        '<svg class="chart forest" viewBox="0 0 {} {}" role="img" aria-label="{}">{}</svg>',
        width,
        height,
        "Accept-rate change by kind, with 95% intervals",
        mark_safe("".join(parts)),
    )


def retry_curve(result: Result, which: str) -> SafeString:
    """The share of sessions accepted by each attempt, for one side."""
    curve = getattr(result.data, which).overall.retry_curve(result.longest)
    if not curve or curve[0] is None:
        return format_html('<p class="empty">{}</p>', "No sessions.")
    width, height, left, bottom, top = 420, 220, 44, 30, 22
    plot_w, plot_h = width - left - 32, height - bottom - top
    step = plot_w / max(1, len(curve) - 1)
    points = [(left + index * step, top + plot_h * (1 - (share or 0.0))) for index, share in enumerate(curve)]
    colour = SIDE_COLOURS[which]
    parts = [
        format_html(
            '<line x1="{}" y1="{}" x2="{}" y2="{}" class="axis"/>'
            '<text x="{}" y="{}" class="tick" text-anchor="end">100%</text>'
            '<text x="{}" y="{}" class="tick" text-anchor="end">0%</text>',
            left,
            top + plot_h,
            left + plot_w,
            top + plot_h,
            left - 6,
            top + 4,
            left - 6,
            top + plot_h,
        ),
        format_html(
            '<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>',
            " ".join(f"{_f(px)},{_f(py)}" for px, py in points),
            colour,
        ),
    ]
    for attempt, ((px, py), share) in enumerate(zip(points, curve, strict=True), 1):
        shown = "-" if share is None else f"{share:.1%}"
        parts.append(
            format_html(
                '<circle cx="{}" cy="{}" r="3.5" fill="{}"><title>by attempt {}: {}</title></circle>'
                '<text x="{}" y="{}" class="value" text-anchor="middle">{}</text>'
                '<text x="{}" y="{}" class="tick" text-anchor="middle">{}</text>',
                _f(px),
                _f(py),
                colour,
                attempt,
                shown,
                _f(px),
                _f(py - 8),
                shown,
                _f(px),
                height - bottom + 16,
                attempt,
            )
        )
    return format_html(
        '<svg class="chart curve" viewBox="0 0 {} {}" role="img" aria-label="{}">{}</svg>',
        width,
        height,
        f"Accepted by attempt, {which}",
        mark_safe("".join(parts)),
    )
