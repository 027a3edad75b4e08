"""The log as a DuckDB table, with column types fixed by the v1 rules.

DuckDB's own ``read_json`` guesses types from the first rows and, told to
ignore errors, quietly turns ``true`` into 1 and ``1.5`` into 2. So local
files are first read by the same decoder ``validate`` uses, and only the
lines it accepts are handed to DuckDB (as a staged copy), with the column
types below, derived from ``rules.Row``. What is left out is counted, never
silently dropped, and DuckDB never sees a line that could fail a query.

Paths only DuckDB can reach (``s3://``, ``https://``) are read by DuckDB
directly with the same column types; their lines are not checked one by
one (rows missing a required column are left out).
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import msgspec

from . import reader
from .records import SCHEMA_VERSION
from .rules import Row

#: Where DuckDB refuses a line by default (16 MB); our limit follows the
#: longest line actually staged, so any row the app wrote loads.
DEFAULT_MAXIMUM_OBJECT_SIZE = 16 << 20

EXTRA_NAME = "duckdb"


class MissingDuckDB(Exception):
    def __init__(self) -> None:
        super().__init__("this needs DuckDB, an optional extra: pip install 'django-sessionlog[duckdb]'")


def require() -> ModuleType:
    try:
        import duckdb
    except ImportError:
        raise MissingDuckDB from None
    return duckdb


def _sql_type(info: msgspec.inspect.Type) -> str:
    if isinstance(info, msgspec.inspect.UnionType):
        (member,) = [t for t in info.types if not isinstance(t, msgspec.inspect.NoneType)]
        return _sql_type(member)
    if isinstance(info, msgspec.inspect.ListType):
        return _sql_type(info.item_type) + "[]"
    if isinstance(info, msgspec.inspect.StructType):
        members = ", ".join(f'"{f.encode_name}" {_sql_type(f.type)}' for f in info.fields)
        return f"STRUCT({members})"
    simple = {
        msgspec.inspect.StrType: "VARCHAR",
        msgspec.inspect.LiteralType: "VARCHAR",
        msgspec.inspect.IntType: "BIGINT",
        msgspec.inspect.FloatType: "DOUBLE",
        msgspec.inspect.BoolType: "BOOLEAN",
        msgspec.inspect.DateTimeType: "TIMESTAMPTZ",
        msgspec.inspect.DictType: "JSON",
    }
    return simple[type(info)]


def column_types() -> dict[str, str]:
    """The row's columns and their DuckDB types, in the row's key order."""
    info = msgspec.inspect.type_info(Row)
    assert isinstance(info, msgspec.inspect.StructType)
    return {f.encode_name: _sql_type(f.type) for f in info.fields}


COLUMNS = column_types()
REQUIRED = [f.encode_name for f in msgspec.structs.fields(Row) if f.required]


def sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _columns_literal() -> str:
    return (
        "{" + ", ".join(f"{sql_literal(name)}: {sql_literal(kind)}" for name, kind in COLUMNS.items()) + "}"
    )


def read_json_sql(files: Sequence[str], maximum_object_size: int, *, checked: bool) -> str:
    """A ``SELECT`` of the rows of ``files`` with the fixed column types.

    ``checked`` files hold only valid v1 lines (staged); others get DuckDB's
    lenient reading and a filter on the schema and the required columns.
    """
    listed = "[" + ", ".join(sql_literal(f) for f in files) + "]"
    select = (
        f"SELECT * FROM read_json({listed}, format = 'newline_delimited', columns = {_columns_literal()}, "
        f"maximum_object_size = {maximum_object_size}"
    )
    if checked:
        return select + ")"
    required = " AND ".join(f'"{name}" IS NOT NULL' for name in REQUIRED)
    return select + f", ignore_errors = true) WHERE schema = {sql_literal(SCHEMA_VERSION)} AND {required}"


def is_remote(name: str) -> bool:
    return "://" in name


@dataclass
class Staged:
    """Valid v1 lines of local logs, copied where DuckDB can read them."""

    folder: str
    tally: reader.Tally = field(default_factory=reader.Tally)
    longest: int = 0
    files: list[str] = field(default_factory=list)
    rows: int = 0

    @property
    def maximum_object_size(self) -> int:
        return max(DEFAULT_MAXIMUM_OBJECT_SIZE, self.longest + 1)


def stage(
    names: Sequence[str],
    folder: str,
    *,
    since: datetime.datetime | None = None,
    until: datetime.datetime | None = None,
) -> Staged:
    """Copy the valid v1 rows of ``names`` (in the time window) into ``folder``.

    The raw bytes of each accepted line are copied as they are: DuckDB
    parses exactly what the log holds.
    """
    staged = Staged(folder)
    path = os.path.join(folder, "staged.jsonl")
    with open(path, "wb", buffering=1 << 20) as out:
        for _, _, line, row in reader.iter_rows(names, staged.tally):
            if (since is not None and row.timestamp < since) or (
                until is not None and row.timestamp >= until
            ):
                continue
            out.write(line if line.endswith(b"\n") else line + b"\n")
            staged.rows += 1
            staged.longest = max(staged.longest, len(line))
    if staged.rows:
        staged.files.append(path)
    return staged


def connect(duckdb: ModuleType) -> Any:
    """A DuckDB connection that shows times in UTC, as the log keeps them."""
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    return connection


def skipped_message(tally: reader.Tally) -> str:
    """What was left out, for stderr; empty when nothing was."""
    parts = []
    if tally.invalid:
        torn = f" ({tally.torn} torn)" if tally.torn else ""
        parts.append(f"{tally.invalid} invalid line{'s' * (tally.invalid != 1)}{torn}")
    if tally.skipped:
        parts.append(f"{tally.skipped} row{'s' * (tally.skipped != 1)} of another schema")
    return "left out " + " and ".join(parts) + " (run `sessionlog validate` to see them)" if parts else ""
