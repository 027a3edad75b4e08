"""Export the log to Parquet, partitioned by day, for the warehouse.

  sessionlog export --to /srv/exports/sessions
  # -> /srv/exports/sessions/date=2026-11-24/web1--sessions-web1-2026-11-24-3f2a9c01de.parquet

Each source file's rows of a day land in one Parquet file named after this
host and the source: exporting the same file again replaces exactly what it
exported before, and other files and other hosts exporting into the same
folder are never touched. The column types are the ones `query` uses.
Lines validate rejects (bad, torn, other schema) are skipped and counted
on stderr. --since/--until select whole UTC days. Needs the duckdb extra.
Read it back with DuckDB:

  SELECT date, count(*) FROM read_parquet('/srv/exports/sessions/*/*.parquet', hive_partitioning = true) GROUP BY ALL
"""

from __future__ import annotations

import argparse
import errno
import os
from typing import Any

from django.core.management import BaseCommand, CommandError

from ..conf import conf
from ..read.formatting import plural
from ..read.sql import duckdb_sql
from ..read.sql.export import export
from . import USAGE
from .arguments import add_files_argument, add_time_window, resolve_files, time_window
from .output import report_unreadable, skipped_lines, unreadable_error

HELP = "export to Parquet partitioned by day (DIR/date=YYYY-MM-DD/)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_files_argument(parser)
    parser.add_argument(
        "--to", required=True, metavar="DIR", help="the folder of the date=YYYY-MM-DD partitions"
    )
    add_time_window(parser)


def run(command: BaseCommand, options: dict[str, Any]) -> None:
    try:
        duckdb = duckdb_sql.require()
    except duckdb_sql.MissingDuckDB as exc:
        raise CommandError(str(exc), returncode=USAGE) from None
    files = resolve_files(options)
    if "-" in files:
        raise CommandError(
            "export needs named files: standard input has no name to export under", returncode=USAGE
        )
    window = time_window(options)
    to = options["to"]
    try:
        os.makedirs(to, exist_ok=True)
        if not os.access(to, os.W_OK | os.X_OK):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))
    except OSError as exc:
        raise CommandError(
            f"--to {to}: cannot export into it: {exc.strerror or exc}", returncode=USAGE
        ) from None
    try:
        result = export(duckdb, files, to, window=window, file_mode=conf.FILE_MODE)
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        raise CommandError(f"export failed: {where}{exc.strerror or exc}", returncode=USAGE) from None
    except duckdb.Error as exc:
        raise CommandError(f"export failed: DuckDB: {duckdb_sql.message(exc)}", returncode=USAGE) from None
    report_unreadable(command, result.tally)
    if not result.tally.unreadable:  # the list is the result: only whole
        for path in result.files:
            command.stdout.write(path)
    command.stderr.write(
        f"exported {plural(result.rows, 'row')} from {plural(len(files), 'file')} "
        f"into {plural(len(result.files), 'Parquet file')}"
    )
    skipped = skipped_lines(result.tally)
    if skipped:
        command.stderr.write(skipped)
    if result.unread:
        command.stderr.write(f"DuckDB could not read {plural(result.unread, 'row')} that validate accepts")
    if result.tally.unreadable:
        raise unreadable_error(result.tally)
