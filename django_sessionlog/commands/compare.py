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
fewer than --min-sessions sessions). A rate is worse when its interval lies
wholly on the bad side of 0 and it moved by at least --min-change; for
iterations and durations the change must be at least 10% of the baseline.
Also: the retry curve of each side, and the error groups whose share of
sessions grew most. Sampled rows count 1/sample_rate sessions each.
"""

from __future__ import annotations

import argparse
import math
import textwrap
from typing import Any

from django.core.management import BaseCommand, CommandError

from ..conf import conf
from ..read import compare
from ..read.formatting import count, duration, plural, utc
from ..read.outfiles import write_atomically
from ..read.sides import BadSide, parse_side
from . import INVALID, USAGE
from .arguments import add_files_argument, parse_when, resolve_files, whole_number
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
        help="fewer sessions on a side than this is too_few (default 30)",
    )
    parser.add_argument(
        "--fail-on-regression", action="store_true", help="exit status 1 when any metric is worse"
    )
    parser.add_argument("--json", action="store_true", help="print the comparison as one JSON object")
    parser.add_argument("-o", "--output", metavar="PATH", help="also write the comparison as a page")


def run(command: BaseCommand, options: dict[str, Any]) -> None:
    try:
        baseline = parse_side(options["baseline"], _when)
        candidate = parse_side(options["candidate"], _when)
    except BadSide as exc:
        raise CommandError(f"bad side: {exc}", returncode=USAGE) from None
    files = resolve_files(options)
    data, tally = compare.gather(files, baseline, candidate)
    if tally.unreadable:
        report_unreadable(command, tally)
        raise unreadable_error(tally)
    result = compare.compare(data, min_change=options["min_change"], min_sessions=options["min_sessions"])
    if options["output"]:
        from ..read.compare_page import render

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
    else:
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


def table(result: compare.Result, command: BaseCommand) -> str:
    lines = []
    for which in ("baseline", "candidate"):
        side = result.data.sides[0 if which == "baseline" else 1]
        figures = getattr(result.data, which)
        span = (
            f"{utc(figures.first, '%Y-%m-%d')} to {utc(figures.last, '%Y-%m-%d')}"
            if figures.first
            else "no sessions"
        )
        sessions = count(figures.overall.sessions)
        lines.append(f"{which:<10} {safe(side.text)[:24]:<24} {sessions:>9} sessions  {span}")
    lines.append("")
    lines += _metrics("all kinds", result.overall, command)
    for kind, comparisons in result.kinds.items():
        lines += ["", *_metrics(f"kind {safe(kind)[:40]}", comparisons, command)]
    lines += ["", "accepted by attempt   " + "  ".join(f"{n:>6}" for n in range(1, result.longest + 1))]
    for which in ("baseline", "candidate"):
        curve = getattr(result.data, which).overall.retry_curve(result.longest)
        lines.append(f"  {which:<20}" + "  ".join(f"{_rate(share):>6}" for share in curve))
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


def _metrics(title: str, comparisons: list[compare.Comparison], command: BaseCommand) -> list[str]:
    lines = [f"{title:<22}{'baseline':>9}{'candidate':>10}{'change':>10}  {'95% interval':<17} verdict"]
    for c in comparisons:
        show = _show(c.metric.name)
        change = "-" if c.difference is None else _change(c.metric.name, c.difference)
        interval = (
            "-"
            if c.interval is None
            else "[" + ", ".join(_change(c.metric.name, v) for v in c.interval) + "]"
        )
        verdict = getattr(command.style, _STYLE[c.verdict])(c.verdict)
        lines.append(
            f"  {c.metric.label:<20}{show(c.baseline):>9}{show(c.candidate):>10}{change:>10}  {interval:<17} {verdict}"
        )
    return lines


def _show(name: str) -> Any:
    if name.endswith("_rate"):
        return _rate
    if name == "mean_iterations":
        return lambda v: "-" if v is None else f"{v:.2f}"
    return lambda v: "-" if v is None else duration(v)


def _rate(share: float | None) -> str:
    return "-" if share is None else f"{share:.1%}"


def _change(name: str, value: float) -> str:
    """A difference with its sign: percentage points for rates, the unit otherwise."""
    if name.endswith("_rate"):
        return f"{value * 100:+.1f}pt"
    if name == "mean_iterations":
        return f"{value:+.2f}"
    sign = "-" if value < 0 else "+"
    return sign + duration(abs(value)).replace(" ", "") if not math.isclose(value, 0) else "0"
