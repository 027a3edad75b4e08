"""A record to the row's dict: its keys in the table's order, its timestamp.

The dict becomes one line in ``..jsonl``.
"""

from __future__ import annotations

import linecache
import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

from ..conf import DEFAULTS
from ..row import ATTEMPT_KEYS, KEYS, SCHEMA_VERSION, Key, counts_problem
from .records import SessionRecord, Usage, usage_given

logger = logging.getLogger("django_sessionlog")

DEFAULT_DAEMON: str = DEFAULTS["DAEMON"]

Row = dict[str, Any]

# ---------------------------------------------------------------------------
# The timestamp


_second_cache: tuple[int, str] = (-1, "")


def format_timestamp(ns: int) -> str:
    """RFC 3339 in UTC with ``Z``, the fraction trimmed of trailing zeros.

    The same layout as Go's ``time.RFC3339Nano``. Formatting the date and
    time is most of the cost and rows of one second share it, so the
    ``YYYY-MM-DDTHH:MM:SS.`` prefix is cached; ``%`` formats the fraction
    in half the time of a format spec, and one f-string joins the parts
    faster than two ``+``.
    """
    global _second_cache
    seconds = ns // 1_000_000_000
    cached_second, prefix = _second_cache
    if seconds != cached_second:
        prefix = time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(seconds))
        _second_cache = (seconds, prefix)
    fraction = ns % 1_000_000_000
    if fraction:
        return f"{prefix}{('%09d' % fraction).rstrip('0')}Z"  # noqa: UP031 (twice as fast)
    return prefix[:-1] + "Z"


def now_timestamp(_time_ns: Callable[[], int] = time.time_ns) -> str:
    return format_timestamp(_time_ns())


# ---------------------------------------------------------------------------
# Token usage


def usage_row(usage: object, session_id: str) -> dict[str, int] | None:
    """A ``Usage`` (or a mapping of its names) as the row writes it; ``None`` when its counts are not valid.

    A host's odd value (a float, a string, a negative count, a part larger
    than its whole) must not cost the row, nor make a row readers refuse:
    the usage is left out and a warning names the session.
    """
    if type(usage) is not Usage:
        # A mapping of its names or another object (a record made by hand): read as the inputs read it.
        usage = usage_given(usage, f"Session {session_id!r}: its usage")
        if usage is None:
            return None
    counts = [
        usage.input_tokens,
        usage.output_tokens,
        usage.cache_read_tokens,
        usage.cache_write_tokens,
        usage.reasoning_tokens,
    ]
    problem = counts_problem(*counts)
    if problem is not None:
        logger.warning("Session %r: its usage is left out of the row: %s", session_id, problem)
        return None
    input_tokens, output_tokens, cache_read, cache_write, reasoning = counts
    row = {"input_tokens": input_tokens, "output_tokens": output_tokens}
    if cache_read:
        row["cache_read_tokens"] = cache_read
    if cache_write:
        row["cache_write_tokens"] = cache_write
    if reasoning:
        row["reasoning_tokens"] = reasoning
    return row


# ---------------------------------------------------------------------------
# The record as the row's dict

#: What a key's value is when the record leaves it empty (filled, not omitted).
_FILLED = {
    "schema": "record.schema or SCHEMA_VERSION",
    "timestamp": "record.timestamp or format_timestamp(time_ns())",  # now_timestamp(), one call less
    "daemon": "record.daemon or daemon",
    "attempts": "attempts",  # built first, by the loop over the record's attempts
}

#: Keys whose value is computed and may still come out ``None`` (then left out).
_CHECKED = {"usage": "usage_row({argument}.usage, {session_id})"}


def _written_out(keys: tuple[Key, ...], argument: str, row: str, indent: str) -> list[str]:
    """The statements building a row's dict from ``keys``, as one would write them by hand.

    One dict literal for the leading keys every row has, then one line per
    key in the table's order, each key the table lets the writer leave out
    behind its test.
    """
    lead = 0
    while lead < len(keys) and keys[lead].omit == "never":
        lead += 1
    value = {key.name: _FILLED.get(key.name, f"{argument}.{key.name}") for key in keys}
    session_id = "record.session_id" if argument == "record" else "session_id"
    checked = {name: code.format(argument=argument, session_id=session_id) for name, code in _CHECKED.items()}
    body = [f"{row} = {{", *(f"    {key.name!r}: {value[key.name]}," for key in keys[:lead]), "}"]
    for key in keys[lead:]:
        assign = f"{row}[{key.name!r}] = {value[key.name]}"
        if key.name in checked:
            body += [
                f"if {argument}.{key.name} is not None:",
                f"    {key.name} = {checked[key.name]}",
                f"    if {key.name} is not None:",
                f"        {row}[{key.name!r}] = {key.name}",
            ]
        elif key.omit == "never":
            body.append(assign)
        else:
            test = f"{argument}.{key.name}" if key.omit == "empty" else f"{argument}.{key.name} is not None"
            body += [f"if {test}:", f"    {assign}"]
    return [indent + line for line in body]


def _as_row_source() -> str:
    """``as_row`` written out: the attempts' dicts in a loop inside it, then the row's dict.

    The attempt's dict is built inline rather than by a function of its
    own: a call per attempt was a tenth of the row's cost.
    """
    return "\n".join(
        [
            "def as_row(record, daemon=DEFAULT_DAEMON):",
            "    attempts = record.attempts",
            "    if attempts is not None:",
            "        session_id = record.session_id",
            "        attempt_rows = []",
            "        for attempt in attempts:",
            *_written_out(ATTEMPT_KEYS, "attempt", "attempt_row", " " * 12),
            "            attempt_rows.append(attempt_row)",
            "        attempts = attempt_rows",
            *_written_out(KEYS, "record", "row", " " * 4),
            "    return row",
            "",
        ]
    )


#: ``as_row`` written out from the row's table (``row.KEYS``, ``row.ATTEMPT_KEYS``)
#: once at import, as ``dataclasses`` writes ``__init__``: a loop over the
#: table at every row costs three microseconds, a fifth of an append; the
#: written-out function costs what a hand-written one does. The source is
#: kept here for a person to read.
SOURCE = _as_row_source()
_namespace: dict[str, Any] = {
    "__name__": __name__,
    "SCHEMA_VERSION": SCHEMA_VERSION,
    "DEFAULT_DAEMON": DEFAULT_DAEMON,
    "format_timestamp": format_timestamp,
    "time_ns": time.time_ns,
    "usage_row": usage_row,
}
_FILENAME = f"<{__name__}: as_row written out from row.KEYS>"
# Known to linecache, so a traceback through the written-out code shows its lines.
linecache.cache[_FILENAME] = (len(SOURCE), None, SOURCE.splitlines(keepends=True), _FILENAME)
exec(compile(SOURCE, _FILENAME, "exec"), _namespace)


class _AsRow(Protocol):
    def __call__(self, record: SessionRecord, daemon: str = ...) -> Row: ...


#: The written-out function itself, not a wrapper calling it: a call is a
#: twentieth of a microsecond, and the sink calls this once per row.
as_row: _AsRow = _namespace["as_row"]
as_row.__doc__ = """The dict a record encodes to: the keys of ``row.KEYS`` in their order, less those it leaves out.

Fills ``schema``, ``timestamp`` and ``daemon`` when empty without
touching the caller's record. Written out from the table (``SOURCE``).
"""
