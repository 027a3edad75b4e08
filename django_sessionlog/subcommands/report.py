"""Write one self-contained HTML page about the sessions of the log.

Headline figures, sessions per day by verdict, accept rate by kind and by
model, iterations, durations by kind, the most common errors (numbers and
ids folded so one mistake is one line), roster grounding, and the most
retried and slowest sessions (linked to their live trace when TRACE_URL is
set). The page loads nothing from the network. Rows kept by sampling count
1/sample_rate sessions each, and the page says its figures are estimates.
"""

from __future__ import annotations

import argparse
from typing import Any

from django.core.management import BaseCommand, CommandError

from ..conf import conf
from ..read.figures.report import gather
from ..read.formatting import plural
from ..read.outfiles import write_atomically
from ..read.pages.report_page import render
from . import USAGE
from .arguments import add_files_argument, add_time_window, prices, resolve_files, time_window
from .output import report_unreadable, unreadable_error

HELP = "write a self-contained HTML report of the sessions"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_files_argument(parser)
    parser.add_argument(
        "-o",
        "--output",
        default="sessionlog-report.html",
        metavar="PATH",
        help="where to write the page (default sessionlog-report.html; - for standard output)",
    )
    add_time_window(parser)


def run(command: BaseCommand, options: dict[str, Any]) -> None:
    files = resolve_files(options)
    priced = prices()
    window = time_window(options)
    data, tally = gather(files, window)
    if tally.unreadable:  # the last good page stays: a partial one would pass for the whole
        report_unreadable(command, tally)
        raise unreadable_error(tally)
    page = render(data, tally, trace_url=conf.TRACE_URL, window=window, sources=files, prices=priced)
    output = options["output"]
    if output == "-":
        command.stdout.write(page, ending="")
    else:
        try:
            write_atomically(output, page.encode("utf-8"), conf.FILE_MODE)
        except OSError as exc:
            raise CommandError(
                f"{output}: cannot write the report: {exc.strerror or exc}", returncode=USAGE
            ) from None
        command.stderr.write(
            f"wrote {output}: {plural(data.summary.rows, 'session')} from {plural(len(files), 'file')}"
        )
