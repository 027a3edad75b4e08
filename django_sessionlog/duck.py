"""The log as a DuckDB table, with column types fixed by the v1 rules.

DuckDB's own ``read_json`` guesses types from the first rows and, told to
ignore errors, quietly turns ``true`` into 1 and ``1.5`` into 2. So every
line of a local log is first read by the decoder ``validate`` uses: a log
that is all valid v1 rows goes to DuckDB as it is, one with other lines is
copied without them (``stage``). Either way DuckDB reads with the column
types below, derived from ``rules.Row``, and what is left out is counted,
never silently dropped.

Paths only DuckDB can reach (``s3://``, ``https://``) are read by DuckDB
directly with the same column types; their lines are not checked one by
one (rows missing a required column are left out).
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import IO, Any

import msgspec

from . import reader
from .records import SCHEMA_VERSION
from .rules import Row

#: Where DuckDB refuses a line by default (16 MB); our limit follows the
#: longest line actually staged, so any row the app wrote loads.
DEFAULT_MAXIMUM_OBJECT_SIZE = 16 << 20


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


def _never_null() -> list[str]:
    """Columns every v1 row has a value in (``attempts`` may be null: infra_error)."""
    info = msgspec.inspect.type_info(Row)
    assert isinstance(info, msgspec.inspect.StructType)
    return [
        f.encode_name
        for f in info.fields
        if f.required
        and not (
            isinstance(f.type, msgspec.inspect.UnionType)
            and any(isinstance(t, msgspec.inspect.NoneType) for t in f.type.types)
        )
    ]


COLUMNS = column_types()
NEVER_NULL = _never_null()


def sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def read_json_sql(
    files: Sequence[str],
    maximum_object_size: int,
    *,
    since: datetime.datetime | None = None,
    until: datetime.datetime | None = None,
) -> str:
    """A ``SELECT`` of the v1 rows of ``files`` with the fixed column types.

    Local files come from ``stage``, so every line was checked; a live log
    can still grow while DuckDB reads it, and a row being written as DuckDB
    reaches the end must not fail the query, hence ``ignore_errors`` and the
    filter on the schema and the never-null columns (a line DuckDB cannot
    parse comes back with every column null). The same reading serves paths
    only DuckDB can reach. ``since``/``until`` keep a time window.

    The timestamp is read as text and cast after ``upper()``: RFC 3339
    allows ``t`` and ``z`` in lower case, which ``validate`` accepts and
    DuckDB's parser does not.
    """
    listed = ", ".join(sql_literal(f) for f in files)
    columns = {**COLUMNS, "timestamp": "VARCHAR"}
    literal = ",\n".join(f"      {sql_literal(name)}: {sql_literal(kind)}" for name, kind in columns.items())
    conditions = [
        f"schema = {sql_literal(SCHEMA_VERSION)}",
        *(f'"{name}" IS NOT NULL' for name in NEVER_NULL),
    ]
    if since is not None:
        conditions.append(f"timestamp >= {sql_literal(since.isoformat())}::TIMESTAMPTZ")
    if until is not None:
        conditions.append(f"timestamp < {sql_literal(until.isoformat())}::TIMESTAMPTZ")
    # Laid out for a person: `schema --duckdb` prints this for pasting.
    return (
        "SELECT * FROM (\n"
        "  SELECT * REPLACE (TRY_CAST(upper(timestamp) AS TIMESTAMPTZ) AS timestamp)\n"
        f"  FROM read_json(\n    [{listed}],\n"
        "    format = 'newline_delimited',\n"
        f"    columns = {{\n{literal}\n    }},\n"
        f"    maximum_object_size = {maximum_object_size},\n"
        "    ignore_errors = true\n  )\n"
        ")\nWHERE " + "\n  AND ".join(conditions)
    )


def view_sql(files: Sequence[str]) -> str:
    """``CREATE OR REPLACE VIEW sessions`` over ``files``, for the DuckDB CLI (SPEC section 7).

    The same columns and types as ``sessionlog query``, whatever the first
    rows hold (DuckDB would guess them from a sample, and a key the writer
    omits when empty makes the guess fail), and a torn or garbage line
    leaves the query working. Unlike ``query``, nothing reads the lines
    first, so a line DuckDB would misread stays unchecked: run
    ``sessionlog validate`` for that.
    """
    select = read_json_sql(files, DEFAULT_MAXIMUM_OBJECT_SIZE)
    return f"CREATE OR REPLACE VIEW sessions AS\n{select};"


def is_remote(name: str) -> bool:
    return "://" in name


@dataclass
class Staged:
    """What DuckDB should read for a set of local logs, and what was left out."""

    folder: str
    tally: reader.Tally = field(default_factory=reader.Tally)
    longest: int = 0
    files: list[str] = field(default_factory=list)
    rows: int = 0  # valid rows in the time window

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
    """The files DuckDB should read for ``names``, every line checked first.

    A log whose every line is a valid v1 row (the usual case) is handed to
    DuckDB as it is: no copy. A log with any other line (a torn last row,
    garbage, another schema) is copied to ``folder`` with only its valid
    lines, their raw bytes as they are, so DuckDB parses exactly what the
    log holds. Standard input, which cannot be read twice, is always copied.
    The time window only counts rows here; ``read_json_sql`` applies it.
    """
    staged = Staged(folder)
    tally = staged.tally
    inside = reader.in_window(since, until)
    for number, name in enumerate(names):
        copy = os.path.join(folder, f"{number}.jsonl")
        if name == "-":
            with open(copy, "wb", buffering=1 << 20) as out:
                _read(name, staged, tally, inside, out)
            staged.files.append(copy)
            continue
        before = (tally.invalid, tally.skipped, len(tally.unreadable))
        rows = staged.rows
        _read(name, staged, tally, inside)
        if (tally.invalid, tally.skipped, len(tally.unreadable)) == before:
            if staged.rows > rows:
                staged.files.append(name)
        elif len(tally.unreadable) == before[2]:
            # Copy pass: the rows were counted above, so count into throwaways.
            with open(copy, "wb", buffering=1 << 20) as out:
                _read(name, Staged(folder), reader.Tally(), inside, out)
            staged.files.append(copy)
    return staged


def _read(
    name: str,
    staged: Staged,
    tally: reader.Tally,
    inside: Callable[[Row], bool] | None,
    out: IO[bytes] | None = None,
) -> None:
    """Count one log's valid rows into ``staged``; copy their lines to ``out`` when given."""
    for _, _, line, row in reader.iter_rows([name], tally):
        if out is not None:
            out.write(line if line.endswith(b"\n") else line + b"\n")
        staged.longest = max(staged.longest, len(line))
        if inside is None or inside(row):
            staged.rows += 1


def connect(duckdb: ModuleType) -> Any:
    """A DuckDB connection that shows times in UTC, as the log keeps them."""
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    return connection


def message(exc: Exception) -> str:
    """DuckDB's message on one line, without the SQL it quotes after a blank line."""
    text = str(exc).strip().split("\n\n")[0]
    return " ".join(text.split()) or type(exc).__name__
