"""Counts by verdict and kind, iterations, roster grounding and durations.

Rows kept at a sample_rate below 1 stand for 1/sample_rate sessions each;
the figures then are estimates, and the output says so.
"""

from __future__ import annotations

import argparse
import datetime
from typing import Any

from django.core.management import BaseCommand

from .. import reader
from ..rules import VERDICTS
from ..summary import Summary, share
from .common import (
    add_files_argument,
    add_time_window,
    plural,
    report_unreadable,
    resolve_files,
    safe,
    time_window,
    unreadable_error,
    write_json,
)

HELP = "counts by verdict and kind, iterations, roster share, duration percentiles"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_files_argument(parser)
    add_time_window(parser)
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")


def run(command: BaseCommand, options: dict[str, Any]) -> None:
    files = resolve_files(options)
    tally = reader.Tally()
    summary = Summary()
    inside = reader.in_window(*time_window(options))
    for _, _, _, row in reader.iter_rows(files, tally):
        if inside is None or inside(row):
            summary.add(row, row.weight)
    if tally.unreadable:  # nothing on stdout: half the figures would pass for all of them
        report_unreadable(command, tally)
        raise unreadable_error(tally)
    if options["json"]:
        figures = summary.as_dict()
        figures["skipped_lines"] = {
            "invalid": tally.invalid,
            "torn": tally.torn,
            "other_schema": tally.skipped,
        }
        write_json(command, figures)
    else:
        command.stdout.write(render(summary, tally))


def _n(value: float) -> str:
    return f"{value:,.0f}" if abs(value - round(value)) < 0.05 or value >= 100 else f"{value:,.1f}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _ms(value: int | None) -> str:
    return "-" if value is None else f"{value:,} ms"


def render(summary: Summary, tally: reader.Tally) -> str:
    lines = []
    estimate = " (estimated: sampled rows weighted by 1/sample_rate)" if summary.estimated else ""
    lines.append(f"sessions  {_n(summary.sessions)} from {plural(summary.rows, 'row')}{estimate}")
    if summary.first and summary.last:
        first, last = (moment.astimezone(datetime.timezone.utc) for moment in (summary.first, summary.last))
        lines.append(f"span      {first:%Y-%m-%d %H:%M:%S} to {last:%Y-%m-%d %H:%M:%S} UTC")
    if tally.invalid or tally.skipped:
        lines.append(
            f"skipped   {plural(tally.invalid, 'invalid line')} ({tally.torn:,} torn), "
            f"{plural(tally.skipped, 'row')} of another schema"
        )
    lines += ["", f"{'verdict':<20}{'sessions':>10}{'share':>9}"]
    by_verdict = summary.by_verdict
    for verdict in VERDICTS:
        count = by_verdict[verdict]
        lines.append(f"{verdict:<20}{_n(count):>10}{_pct(share(count, summary.sessions)):>9}")
    lines += [
        "",
        f"{'kind':<20}{'sessions':>10}{'accepted':>10}{'exhausted':>11}{'infra':>8}{'accept rate':>13}",
    ]
    for kind, counts in sorted(summary.by_kind.items(), key=lambda item: -sum(item[1].values())):
        total = sum(counts.values())
        lines.append(
            f"{safe(kind)[:19]:<20}{_n(total):>10}{_n(counts.get('accepted', 0)):>10}"
            f"{_n(counts.get('max_iter_exhausted', 0)):>11}{_n(counts.get('infra_error', 0)):>8}"
            f"{_pct(share(counts.get('accepted', 0), total)):>13}"
        )
    lines += ["", "iterations"]
    iteration_counts = summary.iterations
    peak = max(iteration_counts.values(), default=0.0)
    for iterations, count in sorted(iteration_counts.items()):
        bar = "#" * max(1, round(30 * count / peak)) if peak else ""
        lines.append(f"{iterations:>10}  {_n(count):>9}  {_pct(share(count, summary.sessions)):>6}  {bar}")
    lines.append("")
    accepted, checked, grounded_count = summary.roster()
    grounded = share(grounded_count, checked)
    lines.append(
        f"roster    {_pct(grounded)} of accepted fills grounded "
        f"({_n(grounded_count)} of {_n(checked)} checked, "
        f"{_n(accepted)} accepted fills)"
    )
    p = summary.duration_percentiles()
    lines.append(f"duration  p50 {_ms(p['p50'])}   p95 {_ms(p['p95'])}   p99 {_ms(p['p99'])}")
    return "\n".join(lines)
