"""Compare two sets of sessions: did a change make them better or worse, or is it noise?

A SIDE is one or more terms joined by commas: a window SINCE..UNTIL (either
end may be empty; UNTIL is exclusive and a date means its start, as
--until) and FIELD=VALUE terms with FIELD one of model, provider, daemon,
kind (several values of one field: either of them).

  sessionlog compare --baseline ..2026-11-15 --candidate 2026-11-15..
  sessionlog compare --baseline model=gpt-4o --candidate model=qwen2.5 --json
  sessionlog compare --baseline daemon=web1 --candidate daemon=web2,kind=fill -o compare.html
  sessionlog compare --baseline 7d..1d --candidate 1d.. --fail-on-regression   # a CI or cron gate

For the whole of each side and for each kind: the accept rate, the
first-try accept rate, the infra-error rate, mean iterations and the p50
and p95 durations, each with both values, the difference, its 95%
interval and a verdict: better, worse, unchanged, or too_few (a side with
fewer than --min-sessions sessions; with sampled rows, effective
sessions). A rate is worse when its interval lies
wholly on the bad side of 0 and it moved by at least --min-change; for
iterations and durations the change must be at least 10% of the baseline.
Also: the retry curve of each side, and the error groups whose share of
sessions grew most. Sampled rows count 1/sample_rate sessions each.
"""

from __future__ import annotations

import argparse
import textwrap
from typing import Any

from django.core.management import BaseCommand, CommandError

from ..conf import conf
from ..read.figures import compare
from ..read.figures.sides import BadSide, parse_side
from ..read.formatting import count, plural, utc
from ..read.outfiles import write_atomically
from . import INVALID, USAGE
from .arguments import add_files_argument, parse_when, prices, resolve_files, whole_number
from .output import report_unreadable, safe, skipped_lines, unreadable_error, write_json

HELP = "compare two sets of sessions (before/after, model A/B): intervals and verdicts"

_STYLE = {"worse": "ERROR", "better": "SUCCESS", "too_few": "WARNING", "unchanged": "NOTICE"}


def _share(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if not 0 <= number < 1:
        raise argparse.ArgumentTypeError(f"{value!r}: give a share from 0 to below 1, such as 0.02")
    return number


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_files_argument(parser)
    parser.add_argument("--baseline", required=True, metavar="SIDE", help="the sessions to compare against")
    parser.add_argument("--candidate", required=True, metavar="SIDE", help="the sessions to judge")
    parser.add_argument(
        "--min-change",
        type=_share,
        default=0.02,
        metavar="SHARE",
        help="the smallest change of a rate that counts (absolute; default 0.02)",
    )
    parser.add_argument(
        "--min-sessions",
        type=whole_number(1),
        default=30,
        metavar="N",
        help="fewer sessions on a side than this is too_few (default 30; effective sessions when rows are sampled)",
    )
    parser.add_argument(
        "--fail-on-regression", action="store_true", help="exit status 1 when any metric is worse"
    )
    parser.add_argument("--json", action="store_true", help="print the comparison as one JSON object")
    parser.add_argument(
        "-o",
        "--output",
        metavar="PATH",
        help="also write the comparison as a page (- writes only the page, to stdout)",
    )


def run(command: BaseCommand, options: dict[str, Any]) -> None:
    try:
        baseline = parse_side(options["baseline"], _when)
        candidate = parse_side(options["candidate"], _when)
    except BadSide as exc:
        raise CommandError(f"bad side: {exc}", returncode=USAGE) from None
    files = resolve_files(options)
    data, tally = compare.gather(files, baseline, candidate, prices())
    if tally.unreadable:
        report_unreadable(command, tally)
        raise unreadable_error(tally)
    result = compare.compare(data, min_change=options["min_change"], min_sessions=options["min_sessions"])
    if options["output"] == "-":  # the page is the output (as report -o -)
        from ..read.pages.compare_page import render

        if options["json"]:
            raise CommandError("-o - writes the page to standard output: leave out --json", returncode=USAGE)
        command.stdout.write(render(result, tally, trace_url=conf.TRACE_URL, sources=files), ending="")
    elif options["output"]:
        from ..read.pages.compare_page import render

        output = options["output"]
        try:
            write_atomically(
                output,
                render(result, tally, trace_url=conf.TRACE_URL, sources=files).encode(),
                conf.FILE_MODE,
            )
        except OSError as exc:
            raise CommandError(
                f"{output}: cannot write the page: {exc.strerror or exc}", returncode=USAGE
            ) from None
        command.stderr.write(f"wrote {output}")
    skipped = skipped_lines(tally)
    if skipped:
        command.stderr.write(skipped)
    if options["json"]:
        write_json(command, result.as_dict())
    elif options["output"] != "-":
        command.stdout.write(table(result, command))
    if options["fail_on_regression"] and result.regressions():
        raise CommandError(
            f"{plural(len(result.regressions()), 'metric')} got worse: {', '.join(result.regressions())}",
            returncode=INVALID,
        )


def _when(text: str) -> Any:
    try:
        return parse_when(text)
    except argparse.ArgumentTypeError as exc:
        raise ValueError(str(exc)) from None


# --- the table for people (80 columns) --------------------------------------

#: Attempts per line of the retry curves (so a long loop wraps instead of widening the table).
ATTEMPTS_A_LINE = 8


def table(result: compare.Result, command: BaseCommand) -> str:
    lines = []
    for which in ("baseline", "candidate"):
        figures = getattr(result.data, which)
        span = (
            f"{utc(figures.first, '%Y-%m-%d')} to {utc(figures.last, '%Y-%m-%d')}"
            if figures.first
            else "no sessions"
        )
        sessions = count(figures.overall.sessions)
        lines.append(f"{which:<10} {safe(result.side_text(which))[:24]:<24} {sessions:>9} sessions  {span}")
    lines.append("")
    lines += _metrics("all kinds", result.overall, command)
    for kind, comparisons in result.kinds.items():
        lines += ["", *_metrics(f"kind {safe(kind)[:40]}", comparisons, command)]
    curves = {
        which: getattr(result.data, which).overall.retry_curve(result.longest)
        for which in ("baseline", "candidate")
    }
    for first in range(0, result.longest, ATTEMPTS_A_LINE):
        attempts = range(first + 1, min(result.longest, first + ATTEMPTS_A_LINE) + 1)
        lines += ["", "accepted by attempt " + "".join(f"{n:>7}" for n in attempts)]
        for which, curve in curves.items():
            lines.append(f"  {which:<18}" + "".join(f"{_rate(curve[n - 1]):>7}" for n in attempts))
    if result.errors:
        lines += ["", "error groups that grew (share of sessions)"]
        for change in result.errors:
            label = "new " if change.new else ""
            lines.append(
                f"  {_rate(change.baseline_share):>6} -> {_rate(change.candidate_share):>6}  "
                f"{label}{safe(change.group.text)[: 80 - 22 - len(label)]}"
            )
    regressions = result.regressions()
    lines.append("")
    lines += textwrap.wrap(
        f"worse: {', '.join(regressions) if regressions else 'nothing'}", width=80, subsequent_indent="  "
    )
    return "\n".join(lines)


# label, baseline, candidate, change, interval, verdict: 2 + 20 + 9 + 10 + 9 + 2 + 18 + 1 + 9 = 80.
_ROW = "  {:<20}{:>9}{:>10}{:>9}  {:<18} {}"


def _metrics(title: str, comparisons: list[compare.Comparison], command: BaseCommand) -> list[str]:
    lines = [f"{title:<22}{'baseline':>9}{'candidate':>10}{'change':>9}  {'95% interval':<18} verdict"]
    for c in comparisons:
        name = c.metric.name
        interval = "-" if c.interval is None else "[" + ", ".join(_number(name, v) for v in c.interval) + "]"
        lines.append(
            _ROW.format(
                c.metric.label + (" (ms)" if name.endswith("_ms") else ""),
                _value(name, c.baseline),
                _value(name, c.candidate),
                "-"
                if c.difference is None
                else _number(name, c.difference) + ("pt" if name.endswith("_rate") else ""),
                interval,
                getattr(command.style, _STYLE[c.verdict])(c.verdict),
            )
        )
    return lines


def _value(name: str, value: float | None) -> str:
    """A metric's value in its column: a percentage, iterations, or whole milliseconds."""
    if value is None:
        return "-"
    if name.endswith("_rate"):
        return _rate(value)
    if name == "mean_iterations":
        return f"{value:.2f}"
    if name.endswith("_usd"):
        return f"${value:.4f}"
    return f"{value:,.0f}"


def _number(name: str, value: float) -> str:
    """A signed difference: percentage points for rates, iterations, or milliseconds."""
    if name.endswith("_rate"):
        return f"{value * 100:+.1f}"
    if name == "mean_iterations":
        return f"{value:+.2f}"
    if name.endswith("_usd"):
        return f"{value:+.4f}"
    return f"{value:+,.0f}"


def _rate(share: float | None) -> str:
    return "-" if share is None else f"{share:.1%}"
