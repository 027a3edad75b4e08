"""A record to the row's dict: its keys in the table's order, its timestamp.

The dict becomes one line in ``..jsonl``.
"""

from __future__ import annotations

import linecache
import time
from collections.abc import Callable
from typing import Any

from ..conf import DEFAULTS
from ..row import ATTEMPT_KEYS, KEYS, SCHEMA_VERSION, Key
from .records import SessionRecord

DEFAULT_DAEMON: str = DEFAULTS["DAEMON"]

Row = dict[str, Any]

# ---------------------------------------------------------------------------
# The timestamp


_second_cache: tuple[int, str] = (-1, "")


def format_timestamp(ns: int) -> str:
    """RFC 3339 in UTC with ``Z``, the fraction trimmed of trailing zeros.

    The same layout as Go's ``time.RFC3339Nano``. Formatting the date and
    time is most of the cost and rows of one second share it, so the
    ``YYYY-MM-DDTHH:MM:SS.`` prefix is cached.
    """
    global _second_cache
    seconds = ns // 1_000_000_000
    cached_second, prefix = _second_cache
    if seconds != cached_second:
        prefix = time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(seconds))
        _second_cache = (seconds, prefix)
    fraction = f"{ns - seconds * 1_000_000_000:09d}".rstrip("0")
    return prefix + fraction + "Z" if fraction else prefix[:-1] + "Z"


def now_timestamp() -> str:
    return format_timestamp(time.time_ns())


# ---------------------------------------------------------------------------
# The record as the row's dict

#: What a key's value is when the record leaves it empty (filled, not omitted).
_FILLED = {
    "schema": "record.schema or SCHEMA_VERSION",
    "timestamp": "record.timestamp or now_timestamp()",
    "daemon": "record.daemon or daemon",
    "attempts": "None if record.attempts is None else [attempt_row(a) for a in record.attempts]",
}


def _written_out(name: str, keys: tuple[Key, ...], argument: str, signature: str) -> str:
    """The source of a function building a row's dict from ``keys``, as one would write it by hand.

    One dict literal for the leading keys every row has, then one line per
    key in the table's order, each key the table lets the writer leave out
    behind its test.
    """
    lead = 0
    while lead < len(keys) and keys[lead].omit == "never":
        lead += 1
    value = {key.name: _FILLED.get(key.name, f"{argument}.{key.name}") for key in keys}
    body = ["    row = {", *(f"        {key.name!r}: {value[key.name]}," for key in keys[:lead]), "    }"]
    for key in keys[lead:]:
        assign = f"row[{key.name!r}] = {value[key.name]}"
        if key.omit == "never":
            body.append(f"    {assign}")
        else:
            test = f"{argument}.{key.name}" if key.omit == "empty" else f"{argument}.{key.name} is not None"
            body += [f"    if {test}:", f"        {assign}"]
    return "\n".join([f"def {name}({signature}):", *body, "    return row", ""])


#: ``as_row`` and the attempt's builder, written out from the row's table
#: (``row.KEYS``) once at import, as ``dataclasses`` writes ``__init__``: a
#: loop over the table at every row costs three microseconds, a fifth of an
#: append; the written-out function costs what a hand-written one does.
#: The source is kept here for a person to read.
SOURCE = (
    _written_out("attempt_row", ATTEMPT_KEYS, "attempt", "attempt")
    + "\n"
    + _written_out("as_row", KEYS, "record", "record, daemon=DEFAULT_DAEMON")
)
_namespace: dict[str, Any] = {
    "SCHEMA_VERSION": SCHEMA_VERSION,
    "DEFAULT_DAEMON": DEFAULT_DAEMON,
    "now_timestamp": now_timestamp,
}
_FILENAME = f"<{__name__}: as_row written out from row.KEYS>"
# Known to linecache, so a traceback through the written-out code shows its lines.
linecache.cache[_FILENAME] = (len(SOURCE), None, SOURCE.splitlines(keepends=True), _FILENAME)
exec(compile(SOURCE, _FILENAME, "exec"), _namespace)
_as_row: Callable[[SessionRecord, str], Row] = _namespace["as_row"]


def as_row(record: SessionRecord, daemon: str = DEFAULT_DAEMON) -> Row:
    """The dict a record encodes to: the keys of ``row.KEYS`` in their order, less those it leaves out.

    Fills ``schema``, ``timestamp`` and ``daemon`` when empty without
    touching the caller's record. The work is done by the function written
    out from the table (``SOURCE``).
    """
    return _as_row(record, daemon)
