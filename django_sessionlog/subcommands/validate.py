"""Check every row of the log against session.iterate.v1.

Each problem is printed as FILE:LINE: message, naming the key; a summary
follows. Exit status: 0 every row valid, 1 any invalid, 2 a file could not
be read (or bad arguments). Rows of another schema are skipped and counted
(--strict makes them errors). Streams: a 10 GB log validates in constant
memory.
"""

from __future__ import annotations

import argparse
from typing import Any

from django.core.management import BaseCommand, CommandError

from ..read.formatting import plural
from ..read.sources import files as log_files
from ..read.sources.rows import Problem, Tally, iter_rows
from ..row import SCHEMA_VERSION
from . import INVALID
from .arguments import add_files_argument, resolve_files
from .output import Progress, report_unreadable, unreadable_error, write_json

HELP = "check every row against session.iterate.v1"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_files_argument(parser)
    parser.add_argument(
        "--json", action="store_true", help="one JSON object per problem, then a summary object"
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help=f"rows whose schema is not {SCHEMA_VERSION} are errors, not skipped",
    )


def run(command: BaseCommand, options: dict[str, Any]) -> None:
    files = resolve_files(options, readable=False)
    as_json = options["json"]
    tally = Tally()

    def on_problem(problem: Problem) -> None:
        for message in problem.messages:
            if as_json:
                write_json(
                    command,
                    {"type": "problem", "file": problem.file, "line": problem.number, "message": message},
                )
            else:
                command.stdout.write(f"{problem.file}:{problem.number}: {message}")

    progress = Progress(log_files.total_size(files), "validate")
    rows = iter_rows(
        files,
        tally,
        on_problem,
        on_line=progress.advance if progress.active else None,
        strict=options["strict"],
    )
    for _ in rows:
        pass
    progress.finish()
    report_unreadable(command, tally)
    if as_json:
        write_json(
            command,
            {
                "type": "summary",
                "files": len(files),
                "rows": tally.lines,
                "valid": tally.valid,
                "invalid": tally.invalid,
                "torn": tally.torn,
                "skipped": tally.skipped,
                "unreadable": [{"file": name, "error": reason} for name, reason in tally.unreadable],
            },
        )
    else:
        torn = f" ({plural(tally.torn, 'torn write')})" if tally.torn else ""
        style = command.style.ERROR if tally.invalid or tally.unreadable else command.style.SUCCESS
        command.stdout.write(
            style(
                f"{plural(tally.lines, 'line')} in {plural(len(files), 'file')}: "
                f"{tally.valid:,} valid, {tally.invalid:,} invalid{torn}, "
                f"{tally.skipped:,} skipped (other schema)"
            )
        )
    if tally.unreadable:
        raise unreadable_error(tally)
    if tally.invalid:
        raise CommandError(f"{plural(tally.invalid, 'invalid row')}", returncode=INVALID)
