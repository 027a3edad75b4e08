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
from collections.abc import Callable
from typing import Any

import orjson
from django.core.management import BaseCommand, CommandError

from ..jsonl import encode_line
from ..read.sources.files import is_remote
from ..read.sql import duckdb_sql
from ..read.sql.staging import stage
from . import USAGE
from .arguments import add_files_argument, resolve_files
from .output import report_unreadable, skipped_lines, to_terminal, unreadable_error, write_json

HELP = "run SQL (DuckDB) over a `sessions` view of the log"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    # Optional for argparse, required by run(): argparse would name FILE as
    # missing too ("required: SQL, FILE"), though files are optional.
    parser.add_argument("sql", metavar="SQL", nargs="?", help="the query; the log is the view `sessions`")
    add_files_argument(parser)
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="one JSON object per result row")
    output.add_argument("--csv", action="store_true", help="CSV with a header line")


def run(command: BaseCommand, options: dict[str, Any]) -> None:
    if not options["sql"]:
        raise CommandError(
            'query needs SQL: sessionlog query "SELECT count(*) FROM sessions" [FILE ...]', returncode=USAGE
        )
    try:
        duckdb = duckdb_sql.require()
    except duckdb_sql.MissingDuckDB as exc:
        raise CommandError(str(exc), returncode=USAGE) from None
    remote = [n for n in options["files"] if is_remote(n)]
    named = [n for n in options["files"] if not is_remote(n)]
    local = resolve_files({**options, "files": named}) if named or not remote else []
    with tempfile.TemporaryDirectory(prefix="sessionlog-query-") as folder:
        staged = stage(local, folder)
        if staged.tally.unreadable:
            report_unreadable(command, staged.tally)
            raise unreadable_error(staged.tally)
        selects = []
        if staged.files or not remote:
            # An empty staged file still gives the view its columns.
            files = staged.files or [_empty_file(folder)]
            selects.append(duckdb_sql.read_json_sql(files, staged.maximum_object_size))
        if remote:
            selects.append(duckdb_sql.read_json_sql(remote))
        try:
            connection = duckdb_sql.connect(duckdb)
            connection.execute("CREATE VIEW sessions AS " + " UNION ALL ".join(selects))
        except duckdb.Error as exc:
            raise CommandError(
                f"DuckDB cannot read the logs: {duckdb_sql.message(exc)}", returncode=USAGE
            ) from None
        try:
            result = connection.sql(options["sql"])
            if result is None:
                return  # a statement without rows
            columns, types, rows = result.columns, [str(t) for t in result.types], result.fetchall()
        except duckdb.Error as exc:
            raise CommandError(f"SQL error: {duckdb_sql.message(exc)}", returncode=USAGE) from None
        skipped = skipped_lines(staged.tally)
        if skipped:
            command.stderr.write(skipped)
        if options["json"]:
            _print_json(command, columns, types, rows)
        elif options["csv"]:
            _print_csv(command, columns, types, rows)
        else:
            command.stdout.write(to_terminal(command, str(result)), ending="")


def _empty_file(folder: str) -> str:
    path = f"{folder}/empty.jsonl"
    open(path, "wb").close()
    return path


def _is_json(kind: str) -> bool:
    return kind == "JSON"


def _is_nested(kind: str) -> bool:
    """A list, struct or map column: JSON in CSV, not Python's repr."""
    return kind.endswith("]") or kind.startswith(("STRUCT", "MAP", "UNION"))


def _print_json(
    command: BaseCommand, columns: list[str], types: list[str], rows: list[tuple[Any, ...]]
) -> None:
    # A JSON column (the artifact) comes out of DuckDB as its text: write it
    # as the object it is, not as a string holding JSON.
    readers = [_parse_json if _is_json(kind) else None for kind in types]
    for values in rows:
        write_json(
            command,
            {
                name: value if read is None or value is None else read(value)
                for name, value, read in zip(columns, values, readers, strict=True)
            },
        )


def _parse_json(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return text


def _print_csv(
    command: BaseCommand, columns: list[str], types: list[str], rows: list[tuple[Any, ...]]
) -> None:
    cells: list[Callable[[Any], Any]] = [_csv_cell(kind) for kind in types]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for values in rows:
        writer.writerow([cell(value) for cell, value in zip(cells, values, strict=True)])
    command.stdout.write(to_terminal(command, buffer.getvalue()), ending="")


def _csv_cell(kind: str) -> Callable[[Any], Any]:
    """How a column's values are written in CSV: as the other tools that read CSV expect them."""
    if kind == "BOOLEAN":
        return lambda value: "" if value is None else ("true" if value else "false")
    if _is_json(kind):
        return lambda value: "" if value is None else value  # already JSON text
    if _is_nested(kind):
        return lambda value: "" if value is None else _json_text(value)
    return lambda value: "" if value is None else value.isoformat() if hasattr(value, "isoformat") else value


def _json_text(value: Any) -> str:
    return encode_line(value).decode().removesuffix("\n")
