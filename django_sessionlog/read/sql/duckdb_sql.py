"""SQL over logs with DuckDB (the ``duckdb`` extra): the typed read, the view, the connection.

DuckDB's own ``read_json`` guesses types from the first rows and, told to
ignore errors, quietly turns ``true`` into 1 and ``1.5`` into 2. So DuckDB
always reads with the column types of ``columns``, and local logs are first
checked line by line (``staging``); what is left out is counted, never
silently dropped. Paths only DuckDB can reach (``s3://``, ``https://``) are
read by DuckDB directly with the same types; their lines are not checked
one by one (rows missing a never-null column are left out).
"""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType
from typing import Any

from ...row import ATTEMPT_KEYS, MIN_SAMPLE_RATE, SCHEMA_VERSION, USAGE_KEYS
from ..sources.window import Window
from .columns import COLUMNS, NEVER_NULL

#: Where DuckDB refuses a line by default (16 MB); staging raises it to the
#: longest line it staged, so any row the app wrote loads.
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


def connect(duckdb: ModuleType) -> Any:
    """A DuckDB connection that shows times in UTC, as the log keeps them."""
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    return connection


def message(exc: Exception) -> str:
    """DuckDB's message on one line, without the SQL it quotes after a blank line."""
    text = str(exc).strip().split("\n\n")[0]
    return " ".join(text.split()) or type(exc).__name__


def literal(text: str) -> str:
    """``text`` as an SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def read_json_sql(
    files: Sequence[str], maximum_object_size: int = DEFAULT_MAXIMUM_OBJECT_SIZE, window: Window = Window()
) -> str:
    """A ``SELECT`` of the v1 rows of ``files`` with the fixed column types.

    A live log can grow while DuckDB reads it, and a row being written as
    DuckDB reaches the end must not fail the query, hence
    ``ignore_errors`` and the filter on the schema and the never-null
    columns (a line DuckDB cannot parse comes back with every column null).

    The timestamp is read as text and cast after ``upper()``: RFC 3339
    allows ``t`` and ``z`` in lower case, which ``validate`` accepts and
    DuckDB's parser does not.
    """
    listed = ", ".join(literal(f) for f in files)
    columns = {**COLUMNS, "timestamp": "VARCHAR"}
    typed = ",\n".join(f"      {literal(name)}: {literal(kind)}" for name, kind in columns.items())
    conditions = [
        f"schema = {literal(SCHEMA_VERSION)}",
        *(f'"{name}" IS NOT NULL' for name in NEVER_NULL),
        # The reader's bound (rules.SampleRate): validate refuses such a row.
        f"(sample_rate IS NULL OR sample_rate BETWEEN {MIN_SAMPLE_RATE!r} AND 1.0)",
        *window.sql(),
    ]
    # Laid out for a person: `schema --duckdb` prints this for pasting.
    return (
        "SELECT * FROM (\n"
        "  SELECT * REPLACE (\n"
        "    TRY_CAST(upper(timestamp) AS TIMESTAMPTZ) AS timestamp,\n"
        f"    [{_attempt_sql('a')} FOR a IN attempts] AS attempts,\n"
        f"    {_usage_sql('usage')} AS usage\n"
        "  )\n"
        f"  FROM read_json(\n    [{listed}],\n"
        "    format = 'newline_delimited',\n"
        f"    columns = {{\n{typed}\n    }},\n"
        f"    maximum_object_size = {maximum_object_size},\n"
        "    ignore_errors = true\n  )\n"
        ")\nWHERE " + "\n  AND ".join(conditions)
    )


def _usage_sql(usage: str) -> str:
    """A usage with the parts the writer leaves out when 0 given as 0 (null stays null: no usage at all).

    So ``usage.input_tokens - usage.cache_read_tokens`` is a number on every
    row with usage, as the row means it, not null on most.
    """
    members = ", ".join(
        f"{key.name} := {usage}.{key.name}"
        if key.omit == "never"
        else f"{key.name} := coalesce({usage}.{key.name}, 0)"
        for key in USAGE_KEYS
    )
    return f"CASE WHEN {usage} IS NULL THEN NULL ELSE struct_pack({members}) END"


def _attempt_sql(attempt: str) -> str:
    """An attempt with its usage as ``_usage_sql`` gives it."""
    members = ", ".join(
        f"{key.name} := {_usage_sql(f'{attempt}.usage')}"
        if key.kind == "usage"
        else f"{key.name} := {attempt}.{key.name}"
        for key in ATTEMPT_KEYS
    )
    return f"struct_pack({members})"


def view_sql(files: Sequence[str]) -> str:
    """``CREATE OR REPLACE VIEW sessions`` over ``files``, for DuckDB outside the app (``schema --duckdb``).

    The same columns and types as ``sessionlog query``, whatever the first
    rows hold (DuckDB would guess them from a sample, and a key the writer
    omits when empty makes the guess fail), and a torn or garbage line
    leaves the query working. Unlike ``query``, nothing reads the lines
    first, so a line DuckDB would misread stays unchecked: run
    ``sessionlog validate`` for that.
    """
    return f"CREATE OR REPLACE VIEW sessions AS\n{read_json_sql(files)};"
