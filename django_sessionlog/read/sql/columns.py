"""The row's columns as DuckDB and Parquet store them, from the row's table.

``sessionlog query``'s view, ``schema --duckdb`` and ``export`` all use
these types, in the file's key order, so ``SELECT *`` and the Parquet
columns list the keys as a row does.
"""

from __future__ import annotations

from ...row import ATTEMPT_KEYS, KEYS, USAGE_KEYS, Key

_SQL_TYPES = {
    "string": "VARCHAR",
    "verdict": "VARCHAR",
    "verdict_kind": "VARCHAR",
    "timestamp": "TIMESTAMPTZ",
    "integer": "BIGINT",
    "rate": "DOUBLE",
    "boolean": "BOOLEAN",
    "object": "JSON",
}


def sql_type(key: Key) -> str:
    if key.kind == "attempts":
        members = ", ".join(f'"{attempt.name}" {sql_type(attempt)}' for attempt in ATTEMPT_KEYS)
        return f"STRUCT({members})[]"
    if key.kind == "usage":
        members = ", ".join(f'"{count.name}" BIGINT' for count in USAGE_KEYS)
        return f"STRUCT({members})"
    return _SQL_TYPES[key.kind]


#: Column name -> DuckDB type, in the row's key order.
COLUMNS = {key.name: sql_type(key) for key in KEYS}

#: Columns every v1 row has a value in (``attempts`` may be null: an infra_error).
NEVER_NULL = [key.name for key in KEYS if key.required and not key.nullable]
