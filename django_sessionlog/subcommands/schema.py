"""Print the JSON Schema (draft 2020-12) of a session.iterate.v1 row.

Generated from the same definition validate uses, so services in other
languages can check rows exactly as this app does.

With --duckdb, print instead the SQL statement that makes a `sessions` view
in DuckDB with the column types `query` uses, over the files named (default:
every file of SESSIONLOG['PATH'], as one glob), for the DuckDB CLI or any
DuckDB client:

  sessionlog schema --duckdb > sessions.sql && duckdb -init sessions.sql
  sessionlog schema --duckdb '/var/log/coordinator/sessions.jsonl*'
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from django.core.management import BaseCommand, CommandError

from .. import paths
from ..conf import conf
from ..read.sources.files import is_remote
from ..read.sources.rules import json_schema
from ..read.sql import duckdb_sql
from . import USAGE
from .arguments import setting_error

HELP = "print the JSON Schema of a row, or with --duckdb a DuckDB view of the log"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--duckdb",
        action="store_true",
        help="print CREATE OR REPLACE VIEW sessions ... for DuckDB, with query's column types",
    )
    parser.add_argument(
        "files",
        nargs="*",
        metavar="FILE",
        help="with --duckdb: the logs the view reads; globs are left for DuckDB to expand "
        "(default: every file of SESSIONLOG['PATH'])",
    )


def run(command: BaseCommand, options: dict[str, Any]) -> None:
    if not options["duckdb"]:
        if options["files"]:
            raise CommandError("FILE names the logs of a DuckDB view: use it with --duckdb", returncode=USAGE)
        command.stdout.write(json.dumps(json_schema(), indent=2, ensure_ascii=False))
        return
    command.stdout.write(duckdb_sql.view_sql(view_files(options["files"])))


def view_files(names: list[str]) -> list[str]:
    """What the view reads, as DuckDB should find it from any folder it runs in."""
    if not names:
        if not conf.PATH:
            raise setting_error("no file named, and SESSIONLOG['PATH'] is not set")
        names = [paths.as_glob(conf.PATH)]
    if "-" in names:
        raise CommandError("a view reads files again at every query: name files, not -", returncode=USAGE)
    return [name if is_remote(name) else os.path.abspath(name) for name in names]
