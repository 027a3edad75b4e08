"""A record to the row's dict: its keys in the table's order, its timestamp.

The dict becomes one line in ``..jsonl``.
"""

from __future__ import annotations

import operator
import time
from typing import Any

from ..row import ATTEMPT_KEY_NAMES, ATTEMPT_KEYS, KEY_NAMES, KEYS, SCHEMA_VERSION
from .records import SessionAttemptRecord, SessionRecord

DEFAULT_DAEMON = "validatord"

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

_VALUES = operator.attrgetter(*KEY_NAMES)
_EMPTY_LEFT_OUT = tuple(key.name for key in KEYS if key.omit == "empty")
_NONE_LEFT_OUT = tuple(key.name for key in KEYS if key.omit == "none")
_ATTEMPT_VALUES = operator.attrgetter(*ATTEMPT_KEY_NAMES)
_ATTEMPT_EMPTY_LEFT_OUT = tuple(key.name for key in ATTEMPT_KEYS if key.omit == "empty")


def as_row(record: SessionRecord, daemon: str = DEFAULT_DAEMON) -> Row:
    """The dict a record encodes to: the keys of ``row.KEYS`` in their order, less those it leaves out.

    Fills ``schema``, ``timestamp`` and ``daemon`` when empty without
    touching the caller's record. A loop over the table for every row
    would cost a tenth of an append; taking all the values in one
    ``attrgetter`` call and then removing what the table omits costs little
    more than a hand-written dict.
    """
    row: Row = dict(zip(KEY_NAMES, _VALUES(record), strict=True))
    if not row["schema"]:
        row["schema"] = SCHEMA_VERSION
    if not row["timestamp"]:
        row["timestamp"] = now_timestamp()
    if not row["daemon"]:
        row["daemon"] = daemon
    attempts = row["attempts"]
    if attempts is not None:
        row["attempts"] = [_attempt_row(a) for a in attempts]
    for name in _EMPTY_LEFT_OUT:
        if not row[name]:
            del row[name]
    for name in _NONE_LEFT_OUT:
        if row[name] is None:
            del row[name]
    return row


def _attempt_row(attempt: SessionAttemptRecord) -> Row:
    row: Row = dict(zip(ATTEMPT_KEY_NAMES, _ATTEMPT_VALUES(attempt), strict=True))
    for name in _ATTEMPT_EMPTY_LEFT_OUT:
        if not row[name]:
            del row[name]
    return row
