"""The report as one self-contained HTML page: its figures, tables and inline SVG charts.

What every page shares (nothing from the network, escaping, the CSP,
trace links) is in ``shared``.
"""

from __future__ import annotations

from typing import Any

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from ...row import ACCEPTED, VERDICTS, trim
from ..figures.cost import Prices, library_installed
from ..figures.report import Brief, ReportData
from ..figures.stats import share
from ..figures.usage import UsageFigures
from ..formatting import count, duration, percent, usd, utc
from ..sources.rows import Tally
from ..sources.window import Window
from . import shared
from .shared import COLOURS, LABELS, trace_link
from .shared import f as _f

#: Characters of a kind or model shown beside its bar (the label column is 150 px).
LABEL_LIMIT = 18

#: Error groups the page lists.
TOP_ERRORS = 15


def render(
    data: ReportData,
    tally: Tally,
    *,
    trace_url: str = "",
    window: Window = Window(),
    sources: list[str] | None = None,
    prices: Prices | None = None,
) -> str:
    summary = data.summary
    by_verdict = summary.by_verdict
    p = summary.duration_percentiles()
    headline = [
        ("sessions", count(summary.sessions)),
        *[
            (LABELS[v], f"{count(by_verdict[v])} · {percent(share(by_verdict[v], summary.sessions))}")
            for v in VERDICTS
        ],
        ("mean iterations", "-" if summary.mean_iterations is None else f"{summary.mean_iterations:.2f}"),
        ("duration p50", duration(p["p50"])),
        ("duration p95", duration(p["p95"])),
    ]
    context = {
        "sources": sources or [],
        "since": utc(window.since),
        "until": utc(window.until),
        "first": utc(summary.first),
        "last": utc(summary.last),
        "first_day": utc(summary.first, "%Y-%m-%d"),
        "last_day": utc(summary.last, "%Y-%m-%d"),
        "estimated": summary.estimated,
        "sampled_rows": summary.sampled_rows,
        "rows": summary.rows,
        "tally": tally,
        "headline": headline,
        "verdict_legend": [(LABELS[v], COLOURS[v]) for v in VERDICTS],
        "days_chart": days_chart(data.days()),
        "kind_rates": rate_bars(summary.by_kind),
        "model_rates": rate_bars(data.by_model),
        "iterations_chart": iterations_chart(summary.iterations, summary.sessions),
        "durations": [
            {"kind": kind, "sessions": count(sessions), **{k: duration(v) for k, v in values.items()}}
            for kind, sessions, values in data.durations_table()
        ],
        "errors": [
            {
                "text": group.text,
                "verdict_kind": group.verdict_kind,
                "count": count(group.errors),
                "examples": [(sid, trace_link(trace_url, sid)) for sid in group.examples],
            }
            for group in data.errors.groups()[:TOP_ERRORS]
        ],
        "other_errors": count(data.errors.overflow) if data.errors.overflow else "",
        "roster": [
            {
                "kind": kind,
                "share": percent(share(grounded, checked)),
                "grounded": count(grounded),
                "checked": count(checked),
                "accepted": count(accepted),
            }
            for kind, (accepted, checked, grounded) in summary.roster_checked().items()
        ],
        "cost": cost_section(summary.usage, prices or Prices()) if summary.usage else None,
        "most_retried": [_brief(b, trace_url) for b in data.most_retried_sessions()],
        "slowest": [_brief(b, trace_url) for b in data.slowest_sessions()],
    }
    return shared.render("report.html", context)


def cost_section(usage: UsageFigures, prices: Prices) -> dict[str, Any]:
    """Which models and kinds spend most, and how much of it on retries."""
    overall = usage.figures(prices)
    tokens, cost = overall["usage"], overall["cost"]
    tables = []
    for by in ("model", "kind"):
        rows = [
            {
                "name": name or "-",
                "sessions": count(part["usage"]["sessions"]),
                "tokens": count(part["usage"]["tokens_per_session"] or 0),
                "retry_share": percent(part["usage"]["retry_share"]),
                "cost": usd(part["cost"]["total_usd"]),
                "retry_cost": usd(part["cost"]["retry_usd"]),
                "per_accepted": usd(part["cost"]["per_accepted_usd"]),
            }
            for name, part in usage.figures(prices, by=by).items()
        ]
        tables.append({"by": by, "rows": rows})
    return {
        "sessions": count(tokens["sessions"]),
        "unpriced": count(cost["unpriced_sessions"]) if cost["unpriced_sessions"] else "",
        "unpriced_models": ", ".join(cost["unpriced_models"]),
        "cost_extra_missing": bool(cost["unpriced_sessions"]) and not library_installed(),
        "headline": [
            ("cost", usd(cost["total_usd"])),
            ("per accepted session", usd(cost["per_accepted_usd"])),
            ("spent on retries", usd(cost["retry_usd"])),
            ("tokens on retries", percent(tokens["retry_share"])),
            ("tokens per session", count(tokens["tokens_per_session"] or 0)),
            ("tokens per accepted", count(tokens["tokens_per_accepted"] or 0)),
        ],
        "tables": tables,
    }


def _brief(brief: Brief, trace_url: str) -> dict[str, Any]:
    return {
        "session_id": brief.session_id,
        "link": trace_link(trace_url, brief.session_id),
        "when": utc(brief.timestamp, "%Y-%m-%d %H:%M:%S"),
        "kind": brief.kind,
        "model": brief.model,
        "verdict": LABELS[brief.verdict],
        "colour": COLOURS[brief.verdict],
        "iterations": f"{brief.iterations}/{brief.max_iterations}",
        "iteration_count": brief.iterations,
        "duration": duration(brief.duration_ms),
        "duration_ms": brief.duration_ms,
    }


# --- charts ----------------------------------------------------------------


def days_chart(days: list[tuple[str, dict[str, float]]]) -> SafeString:
    """Sessions per day, stacked by verdict."""
    if not days:
        return format_html('<p class="empty">{}</p>', "No sessions.")
    width, height, left, bottom, top = 860, 240, 48, 36, 12
    plot_w, plot_h = width - left - 8, height - bottom - top
    peak = max(sum(counts.values()) for _, counts in days) or 1.0
    step = plot_w / len(days)
    bar = min(48.0, max(1.0, step * 0.8))
    parts: list[SafeString] = []
    for index, (day, counts) in enumerate(days):
        x = left + index * step + (step - bar) / 2
        y = float(top + plot_h)
        for verdict in VERDICTS:
            sessions = counts.get(verdict, 0.0)
            if not sessions:
                continue
            h = plot_h * sessions / peak
            y -= h
            parts.append(
                format_html(
                    '<rect class="bar" x="{}" y="{}" width="{}" height="{}" fill="{}">'
                    "<title>{}: {} {}</title></rect>",
                    _f(x),
                    _f(y),
                    _f(bar),
                    _f(h),
                    COLOURS[verdict],
                    day,
                    count(sessions),
                    LABELS[verdict],
                )
            )
    label_every = max(1, len(days) // 8)
    labels = format_html_join(
        "",
        '<text x="{}" y="{}" class="tick" text-anchor="middle">{}</text>',
        (
            (_f(left + i * step + step / 2), height - bottom + 16, day[5:])
            for i, (day, _) in enumerate(days)
            if i % label_every == 0
        ),
    )
    axis = format_html(
        '<text x="{}" y="{}" class="tick" text-anchor="end">{}</text>'
        '<text x="{}" y="{}" class="tick" text-anchor="end">0</text>'
        '<line x1="{}" y1="{}" x2="{}" y2="{}" class="axis"/>',
        left - 6,
        top + 10,
        count(peak),
        left - 6,
        top + plot_h,
        left,
        top + plot_h,
        width - 8,
        top + plot_h,
    )
    return format_html(
        '<svg class="chart" viewBox="0 0 {} {}" role="img" aria-label="{}">{}{}{}</svg>',
        width,
        height,
        "Sessions per day by verdict",
        axis,
        mark_safe("".join(parts)),
        labels,
    )


def rate_bars(table: dict[str, Any], limit: int = 12) -> SafeString:
    """Accept rate per key (kind or model) as horizontal bars, busiest first."""
    items = sorted(table.items(), key=lambda item: (-sum(item[1].values()), item[0]))[:limit]
    if not items:
        return format_html('<p class="empty">{}</p>', "No sessions.")
    row_h, label_w, bar_w = 26, 150, 250
    height = row_h * len(items) + 8
    rows = []
    for index, (name, counts) in enumerate(items):
        total = sum(counts.values())
        rate = share(counts.get(ACCEPTED, 0.0), total) or 0.0
        y = 4 + index * row_h
        rows.append(
            format_html(
                '<text x="{}" y="{}" class="label" text-anchor="end">{}</text>'
                '<rect x="{}" y="{}" width="{}" height="16" class="track"/>'
                '<rect class="bar" x="{}" y="{}" width="{}" height="16" fill="{}"><title>{}: {} of {}</title></rect>'
                '<text x="{}" y="{}" class="value">{} of {}</text>',
                label_w - 8,
                y + 13,
                trim(name or "(none)", LABEL_LIMIT),
                label_w,
                y,
                bar_w,
                label_w,
                y,
                _f(bar_w * rate),
                COLOURS[ACCEPTED],
                name,
                percent(rate),
                count(total),
                label_w + bar_w + 8,
                y + 13,
                percent(rate),
                count(total),
            )
        )
    return format_html(
        '<svg class="chart" viewBox="0 0 {} {}" role="img" aria-label="{}">{}</svg>',
        label_w + bar_w + 110,
        height,
        "Accept rate",
        mark_safe("".join(rows)),
    )


def iterations_chart(iterations: dict[int, float], sessions: float) -> SafeString:
    """How many iterations sessions took."""
    if not iterations:
        return format_html('<p class="empty">{}</p>', "No sessions.")
    values = sorted(iterations)
    width, height, bottom, top = 520, 210, 30, 22
    plot_h = height - bottom - top
    peak = max(iterations.values()) or 1.0
    step = (width - 16) / len(values)
    bars = []
    for index, value in enumerate(values):
        taking = iterations[value]
        h = plot_h * taking / peak
        x = 8 + index * step + step * 0.15
        bars.append(
            format_html(
                '<rect class="bar" x="{}" y="{}" width="{}" height="{}" fill="#4a78c2">'
                "<title>{} iterations: {} sessions ({})</title></rect>"
                '<text x="{}" y="{}" class="tick" text-anchor="middle">{}</text>'
                '<text x="{}" y="{}" class="value" text-anchor="middle">{}</text>',
                _f(x),
                _f(top + plot_h - h),
                _f(step * 0.7),
                _f(h),
                value,
                count(taking),
                percent(share(taking, sessions)),
                _f(x + step * 0.35),
                height - bottom + 16,
                value,
                _f(x + step * 0.35),
                _f(top + plot_h - h - 4),
                percent(share(taking, sessions)),
            )
        )
    return format_html(
        '<svg class="chart" viewBox="0 0 {} {}" role="img" aria-label="{}">{}</svg>',
        width,
        height,
        "Iterations per session",
        mark_safe("".join(bars)),
    )
