"""Counts by verdict and kind, iterations, roster grounding and durations.

Rows kept at a sample_rate below 1 stand for 1/sample_rate sessions each;
the figures then are estimates, and the output says so.
"""

from __future__ import annotations

import argparse
from typing import Any

from django.core.management import BaseCommand

from ..read.figures.cost import Prices, unpriced_hint
from ..read.figures.stats import Summary, share
from ..read.figures.usage import UsageFigures
from ..read.formatting import count, duration, percent, plural, usd, utc
from ..read.sources.rows import Tally, iter_rows
from ..row import ACCEPTED, INFRA_ERROR, MAX_ITER_EXHAUSTED, VERDICTS
from .arguments import add_files_argument, add_time_window, prices, resolve_files, time_window
from .output import report_unreadable, safe, unreadable_error, write_json

HELP = "counts by verdict and kind, iterations, roster share, duration percentiles"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_files_argument(parser)
    add_time_window(parser)
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")


def run(command: BaseCommand, options: dict[str, Any]) -> None:
    files = resolve_files(options)
    priced = prices()
    tally = Tally()
    summary = Summary()
    inside = time_window(options).test()
    for _, _, _, row in iter_rows(files, tally):
        if inside is None or inside(row):
            summary.add(row, row.weight)
    if tally.unreadable:  # nothing on stdout: half the figures would pass for all of them
        report_unreadable(command, tally)
        raise unreadable_error(tally)
    if options["json"]:
        figures = summary.as_dict(priced)
        figures["skipped_lines"] = {
            "invalid": tally.invalid,
            "torn": tally.torn,
            "other_schema": tally.skipped,
        }
        write_json(command, figures)
    else:
        command.stdout.write(render(summary, tally, priced))


def render(summary: Summary, tally: Tally, priced: Prices | None = None) -> str:
    lines = []
    estimate = " (estimated: sampled rows weighted by 1/sample_rate)" if summary.estimated else ""
    lines.append(f"sessions  {count(summary.sessions)} from {plural(summary.rows, 'row')}{estimate}")
    if summary.first and summary.last:
        layout = "%Y-%m-%d %H:%M:%S"
        lines.append(f"span      {utc(summary.first, layout)} to {utc(summary.last, layout)} UTC")
    if tally.invalid or tally.skipped:
        lines.append(
            f"skipped   {plural(tally.invalid, 'invalid line')} ({tally.torn:,} torn), "
            f"{plural(tally.skipped, 'row')} of another schema"
        )
    lines += ["", f"{'verdict':<20}{'sessions':>10}{'share':>9}"]
    by_verdict = summary.by_verdict
    for verdict in VERDICTS:
        sessions = by_verdict[verdict]
        lines.append(f"{verdict:<20}{count(sessions):>10}{percent(share(sessions, summary.sessions)):>9}")
    lines += [
        "",
        f"{'kind':<20}{'sessions':>10}{'accepted':>10}{'exhausted':>11}{'infra':>8}{'accept rate':>13}",
    ]
    for kind, counts in sorted(summary.by_kind.items(), key=lambda item: -sum(item[1].values())):
        total = sum(counts.values())
        lines.append(
            f"{safe(kind)[:19]:<20}{count(total):>10}{count(counts.get(ACCEPTED, 0)):>10}"
            f"{count(counts.get(MAX_ITER_EXHAUSTED, 0)):>11}{count(counts.get(INFRA_ERROR, 0)):>8}"
            f"{percent(share(counts.get(ACCEPTED, 0), total)):>13}"
        )
    lines += ["", "iterations"]
    iteration_counts = summary.iterations
    peak = max(iteration_counts.values(), default=0.0)
    for iterations, sessions in sorted(iteration_counts.items()):
        bar = "#" * max(1, round(30 * sessions / peak)) if peak else ""
        lines.append(
            f"{iterations:>10}  {count(sessions):>9}  {percent(share(sessions, summary.sessions)):>6}  {bar}"
        )
    lines.append("")
    checked_kinds = summary.roster_checked()
    if not checked_kinds:
        lines.append("roster    no accepted session was checked against a roster")
    for kind, (accepted, checked, grounded_count) in checked_kinds.items():
        lines.append(
            f"roster    {percent(share(grounded_count, checked))} of accepted {safe(kind)[:19]} grounded "
            f"({count(grounded_count)} of {count(checked)} checked, {count(accepted)} accepted)"
        )
    p = summary.duration_percentiles()
    lines.append(f"duration  p50 {duration(p['p50'])}   p95 {duration(p['p95'])}   p99 {duration(p['p99'])}")
    if summary.usage:
        lines += ["", *usage_lines(summary.usage, priced or Prices())]
    return "\n".join(lines)


def usage_lines(usage: UsageFigures, priced: Prices) -> list[str]:
    """Tokens and cost: overall, then by model and by kind (most expensive first)."""
    overall = usage.figures(priced)
    tokens, cost = overall["usage"], overall["cost"]
    lines = [
        f"tokens    {count(tokens['input_tokens'])} in, {count(tokens['output_tokens'])} out "
        f"over {plural(tokens['sessions'], 'session')} with usage; "
        f"{count(tokens['tokens_per_session'] or 0)} a session, "
        f"{count(tokens['tokens_per_accepted'] or 0)} per accepted session",
        f"retries   {percent(tokens['retry_share'])} of tokens spent outside an accepted attempt",
        f"cost      {usd(cost['total_usd'])} in all, {usd(cost['per_accepted_usd'])} per accepted session, "
        f"{usd(cost['retry_usd'])} on retries",
    ]
    if cost["unpriced_sessions"]:
        lines.append(
            f"unpriced  {plural(cost['unpriced_sessions'], 'session')} of models without a price "
            f"({', '.join(safe(m) for m in cost['unpriced_models'])}): {unpriced_hint()}"
        )
    for by in ("model", "kind"):
        lines += [
            "",
            f"{by:<20}{'sessions':>10}{'tokens/session':>16}{'retry share':>13}{'cost':>12}{'per accepted':>14}",
        ]
        for name, part in usage.figures(priced, by=by).items():
            t, c = part["usage"], part["cost"]
            lines.append(
                f"{safe(name or '-')[:19]:<20}{count(t['sessions']):>10}{count(t['tokens_per_session'] or 0):>16}"
                f"{percent(t['retry_share']):>13}{usd(c['total_usd']):>12}{usd(c['per_accepted_usd']):>14}"
            )
    return lines
