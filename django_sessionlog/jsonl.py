"""Any value to one strict-JSON line, whatever the host put in it.

orjson writes almost every row. It refuses a few values a host can hand us
(a lone surrogate from a JSON body like ``"\\ud800"``, an integer beyond 64
bits, a non-string key, nesting deeper than 254 levels, a cycle), and for
those rows alone a slower writer runs that keeps the row whole instead of
losing it. Both produce strict JSON (NaN and infinities become ``null``) so
DuckDB and ``jq`` read every line. The sink writes rows with it; the
commands write their ``--json`` output with it.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import json
import math
import uuid
from collections.abc import Mapping, Sequence, Set
from typing import Any

import orjson


def encode_line(row: Any) -> bytes:
    """One JSON line ending in ``\\n``; never raises for odd values."""
    try:
        return orjson.dumps(row, default=orjson_default, option=orjson.OPT_APPEND_NEWLINE)
    except orjson.JSONEncodeError:
        return encode_line_slowly(row)


def encode_line_slowly(row: Any) -> bytes:
    """The line of a row orjson refused (``encode_line`` past its fast path)."""
    return _encode_slow(row).encode("utf-8") + b"\n"


def orjson_default(value: Any) -> Any:
    """orjson's ``default``: a JSON value for a type orjson does not know."""
    if isinstance(value, decimal.Decimal):
        # A Decimal is exact; writing its digits keeps it exact.
        return orjson.Fragment(str(value)) if value.is_finite() else None
    return plain(value)


def plain(value: Any) -> Any:
    """A value JSON can hold, for anything that is not one already.

    What the writer makes of a value orjson does not know, and so what the
    scrubber looks at (``scrubbing``): a dataclass as a dict, bytes as text.
    """
    if isinstance(value, float):  # a subclass orjson will not write (numpy.float64)
        return float(value)
    if isinstance(value, int) and not isinstance(value, enum.Enum):
        return int(value)
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if type(value).__module__ == "numpy" and hasattr(value, "tolist"):
        return value.tolist()  # numpy scalars and arrays, without importing numpy
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, Set):
        items = list(value)
        try:
            return sorted(items)  # a set has no order; sorted rows diff cleanly
        except TypeError:
            return items
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", "backslashreplace")
    if isinstance(value, Sequence) and not isinstance(value, str):
        return list(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    try:
        return str(value)
    except Exception:
        return f"<unprintable {type(value).__qualname__}>"


class _Close:
    """A closing bracket on the slow writer's stack; leaving the container.

    It holds the container itself, not only its id: a list made from a set
    by ``plain`` lives only as long as something refers to it, and a freed
    one's id could be reused by the next, which would look like a cycle.
    """

    __slots__ = ("container", "text")

    def __init__(self, container: Any, text: str) -> None:
        self.container = container
        self.text = text


def _encode_slow(root: Any) -> str:
    """Write any value as strict JSON without recursion.

    An explicit stack instead of recursion, so no depth is too deep; the
    containers open on the current path are remembered, so a cycle is cut
    (written as a string) instead of looping forever.
    """
    out: list[str] = []
    open_ids: set[int] = set()
    todo: list[Any] = [_Value(root)]
    while todo:
        item = todo.pop()
        if type(item) is str:  # punctuation and keys pushed below
            out.append(item)
            continue
        if type(item) is _Close:
            open_ids.discard(id(item.container))
            out.append(item.text)
            continue
        value = item.value
        if not isinstance(value, (dict, list)):
            scalar = _scalar(value)
            if scalar is not None:
                out.append(scalar)
                continue
            value = plain(value)
            if not isinstance(value, (dict, list)):
                out.append(_scalar(value) or _string(str(value)))
                continue
        if id(value) in open_ids:
            out.append(_string("<cycle>"))
            continue
        open_ids.add(id(value))
        if isinstance(value, dict):
            out.append("{")
            todo.append(_Close(value, "}"))
            entries = list(value.items())
            for index in range(len(entries) - 1, -1, -1):
                key, child = entries[index]
                todo.append(_Value(child))
                todo.append(("," if index else "") + _string(_key(key)) + ":")
        else:
            out.append("[")
            todo.append(_Close(value, "]"))
            for index in range(len(value) - 1, -1, -1):
                todo.append(_Value(value[index]))
                if index:
                    todo.append(",")
    return "".join(out)


class _Value:
    """A value still to write (keeps values apart from pushed punctuation)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


def _scalar(value: Any) -> str | None:
    """JSON text of a scalar, or None when ``value`` is not one."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, int) and not isinstance(value, enum.Enum):
        try:
            return int.__repr__(value)
        except ValueError:
            # Beyond Python's int-to-str digit limit; Decimal has none and
            # still gives every digit.
            return str(decimal.Decimal(value))
    if isinstance(value, float):
        return float.__repr__(value) if math.isfinite(value) else "null"
    if isinstance(value, decimal.Decimal):
        return str(value) if value.is_finite() else "null"
    if isinstance(value, uuid.UUID):
        return _string(str(value))
    return None


def _key(key: Any) -> str:
    # JSON keys are strings; other keys are written the way json.dumps does.
    if isinstance(key, str):
        return key
    scalar = _scalar(key)
    if scalar is not None and not scalar.startswith('"'):
        return scalar
    return str(plain(key))


def _string(text: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # Lone surrogates: pairs join into their character, the rest become
        # U+FFFD, so the line stays valid UTF-8.
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return json.encoder.encode_basestring(text)
