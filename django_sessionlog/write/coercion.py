"""What a host's odd value becomes when it hands a session over: text, a count, an object.

The inputs of a session (``IterateRequest`` and the rest, in ``records``)
are the host's data, and a host has bugs: ``None`` where a string belongs,
a float count, a list as the artifact, an exception whose ``str`` raises.
Each such value is turned into one the row can hold when the object is
made, so it never costs the row and never makes a row the readers refuse
(what they accept is ``read/sources/rules.py``). ``None`` is taken as "not
given" without a word; any other odd value is said once per field and type
on the ``django_sessionlog`` logger, so a host calling in a loop is told
without the log being flooded.
"""

from __future__ import annotations

import logging
import math
import operator
import re
from collections.abc import Mapping
from typing import Any

from ..locks import ForkSafeLock
from ..row import INT64_MAX, INT64_MIN

logger = logging.getLogger("django_sessionlog")

_said: set[tuple[str, str]] = set()
_said_lock = ForkSafeLock()


def say_once(field: str, value: object, becomes: str) -> None:
    """Warn that ``field`` held an odd value, once per field and type of value in this process."""
    key = (field, type(value).__name__)
    with _said_lock:
        if key in _said:
            return
        _said.add(key)
    logger.warning(
        "django_sessionlog: %s was %s (%s), %s; said once per process",
        field,
        f"a {type(value).__name__}",
        _shown(value),
        becomes,
    )


def _shown(value: object) -> str:
    try:
        text = repr(value)
    except Exception:
        return f"<{type(value).__name__} whose repr raised>"
    return text if len(text) <= 80 else text[:77] + "..."


def text(value: object, field: str) -> str:
    """A string field's value as text: ``None`` is "", bytes are decoded, anything else is its ``str``."""
    if type(value) is str:
        return value
    if value is None:
        return ""
    if isinstance(value, str):
        return str.__str__(value)  # a subclass: its plain text
    if isinstance(value, (bytes, bytearray, memoryview)):
        say_once(field, value, "written as its UTF-8 text")
        return bytes(value).decode("utf-8", "replace")
    say_once(field, value, "written as its str()")
    return safe_str(value)


def safe_str(value: object) -> str:
    """``str(value)``, or the type's name when its ``__str__`` raises (a host's broken exception)."""
    try:
        shown = str(value)
    except Exception:
        return f"<{type(value).__name__} whose str() raised>"
    return shown if type(shown) is str else str.__str__(shown)


def count(value: object, field: str) -> int:
    """An integer field's value as a 64-bit integer: ``None`` is 0, a whole number of any type or digits are read.

    What cannot be read as one (a fraction, NaN, other text, a number past
    64 bits, a bool) is 0 and said: the readers, DuckDB and Parquet hold
    64-bit integers.
    """
    if type(value) is int and INT64_MIN <= value <= INT64_MAX:
        return value
    if value is None:
        return 0
    number = _whole(value)
    if number is not None and INT64_MIN <= number <= INT64_MAX:
        if type(value) is not int:
            say_once(field, value, f"written as {number}")
        return number
    say_once(field, value, "written as 0")
    return 0


_DIGITS = re.compile(r"[+-]?[0-9]+\Z")


def _whole(value: object) -> int | None:
    """The whole number ``value`` stands for (an int subclass, numpy's, a whole float or Decimal, digits), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        return int(text) if _DIGITS.match(text) else None
    try:
        return operator.index(value)  # type: ignore[arg-type]  # int subclasses, numpy integers
    except Exception:
        pass
    try:
        number = float(value)  # type: ignore[arg-type]  # floats, Decimal, numpy floats
    except Exception:
        return None
    return int(number) if math.isfinite(number) and number.is_integer() else None


def milliseconds(value: object, field: str) -> int:
    """A duration as whole milliseconds: a finite float is cut to its whole part, anything else as ``count``."""
    if isinstance(value, float) and math.isfinite(value) and INT64_MIN <= value <= INT64_MAX:
        return int(value)
    return count(value, field)


def artifact(value: object, field: str) -> dict[str, Any] | None:
    """The artifact as a JSON object: a mapping as a dict, any other value under ``"value"``.

    The row's artifact is an object; a list or a number from a host is kept
    whole under ``"value"``, as the library adapters keep a result that is
    not an object.
    """
    if value is None or type(value) is dict:
        return value
    if isinstance(value, Mapping):
        return dict(value)
    say_once(field, value, 'kept under "value" (the row\'s artifact is a JSON object)')
    return {"value": value}
