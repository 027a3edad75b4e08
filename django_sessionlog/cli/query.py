"""Run SQL (DuckDB) over a `sessions` view of the log.

The view's column types are fixed by the v1 rules (timestamp TIMESTAMPTZ,
attempts a list of structs, artifact JSON, ...), not guessed from the first
rows. Lines that are not valid v1 rows are left out and counted on stderr,
so one torn line never fails the query. Needs the duckdb extra:
pip install 'django-sessionlog[duckdb]'.

  sessionlog query "SELECT final_verdict, count(*) FROM sessions GROUP BY ALL"
  sessionlog query "SELECT session_id, a.error FROM sessions, unnest(attempts) t(a)
                    WHERE a.error LIKE '%not on the roster%'" 'logs/*.jsonl.gz'
"""

from __future__ import annotations

import argparse
import csv
import io
import tempfile
from typing import Any

from django.core.management import BaseCommand, CommandError

from .. import duck
from .common import USAGE, add_files_argument, report_unreadable, resolve_files, to_terminal, write_json

HELP = "run SQL (DuckDB) over a `sessions` view of the log"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("sql", metavar="SQL", help="the query; the log is the view `sessions`")
    add_files_argument(parser)
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="one JSON object per result row")
    output.add_argument("--csv", action="store_true", help="CSV with a header line")


def run(command: BaseCommand, options: dict[str, Any]) -> None:
    try:
        duckdb = duck.require()
    except duck.MissingDuckDB as exc:
        raise CommandError(str(exc), returncode=USAGE) from None
    names = [n for n in options["files"] if duck.is_remote(n)]
    local_options = {**options, "files": [n for n in options["files"] if not duck.is_remote(n)]}
    local = resolve_files(local_options) if local_options["files"] or not names else []
    with tempfile.TemporaryDirectory(prefix="sessionlog-query-") as folder:
        staged = duck.stage(local, folder)
        report_unreadable(command, staged.tally)
        connection = duck.connect(duckdb)
        selects = []
        if staged.files or not names:
            # An empty staged file still gives the view its columns.
            files = staged.files or [_empty_file(folder)]
            selects.append(duck.read_json_sql(files, staged.maximum_object_size))
        if names:
            selects.append(duck.read_json_sql(names, duck.DEFAULT_MAXIMUM_OBJECT_SIZE))
        connection.execute("CREATE VIEW sessions AS " + " UNION ALL ".join(selects))
        skipped = duck.skipped_message(staged.tally)
        if skipped:
            command.stderr.write(skipped)
        try:
            result = connection.sql(options["sql"])
        except duckdb.Error as exc:
            raise CommandError(f"SQL error: {exc}", returncode=USAGE) from None
        if result is None:
            return  # a statement without rows
        _print(command, result, options)
    if staged.tally.unreadable:
        raise CommandError(f"{len(staged.tally.unreadable)} file(s) could not be read", returncode=USAGE)


def _empty_file(folder: str) -> str:
    path = f"{folder}/empty.jsonl"
    open(path, "wb").close()
    return path


def _print(command: BaseCommand, result: Any, options: dict[str, Any]) -> None:
    columns = result.columns
    if options["json"]:
        for values in result.fetchall():
            write_json(command, dict(zip(columns, (_plain(v) for v in values), strict=True)))
    elif options["csv"]:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(result.fetchall())
        command.stdout.write(to_terminal(command, buffer.getvalue()), ending="")
    else:
        command.stdout.write(to_terminal(command, str(result)), ending="")


def _plain(value: Any) -> Any:
    """A DuckDB value orjson can write (timestamps as RFC 3339, the rest as is)."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value
