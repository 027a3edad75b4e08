"""What a reader accepts as a ``session.iterate.v1`` row.

``DecodedRow`` (a row as a reader decodes it; the writer's plain dict is
``write.encoding.Row``) states the row's keys (``..row.KEYS``: the same
names, order and optionality, which a test checks) with the Python types a
reader checks.
``validate`` decodes lines into it and ``schema`` prints the JSON Schema
generated from it, so the two cannot disagree.

Decoding with msgspec checks every type while it parses, about as fast as
``orjson.loads`` only parses (a ``bool`` is not an integer and a float is
not an integer: JSON's ``true`` and ``1.0`` are no row's integers). Only a row it rejects is looked at again,
field by field, to say precisely what is wrong with it.
"""

from __future__ import annotations

import datetime
import json
import typing
from collections.abc import Iterator
from typing import Annotated, Any, Literal

import msgspec

from ...row import (
    ATTEMPT_KEYS,
    INFRA_ERROR,
    INT64_MAX,
    INT64_MIN,
    KEYS,
    MIN_SAMPLE_RATE,
    PROMPT_LIMIT,
    SCHEMA_VERSION,
    USAGE_KEYS,
    VERDICT_KINDS,
    VERDICTS,
    usage_problem,
)

# Literal types need literal strings; a test checks them against row.VERDICTS.
Verdict = Literal["accepted", "max_iter_exhausted", "infra_error"]
VerdictKind = Literal["no_json", "validation_failed", "accepted", "infra_error"]
Timestamp = Annotated[datetime.datetime, msgspec.Meta(tz=True)]
#: Integers are 64-bit: what DuckDB, Parquet and every warehouse store.
Int64 = Annotated[int, msgspec.Meta(ge=INT64_MIN, le=INT64_MAX)]


Count = Annotated[int, msgspec.Meta(ge=0, le=INT64_MAX)]

#: ``row.MIN_SAMPLE_RATE`` (2**-64) is the least a reader accepts: no real row
#: carries less, and 1e-310 made the weight infinite. ``validate``, ``schema``
#: and the DuckDB view all use this bound.
SampleRate = Annotated[float, msgspec.Meta(ge=MIN_SAMPLE_RATE, le=1.0)]


class TokenUsage(msgspec.Struct, frozen=True, gc=False):
    """The tokens of a row or an attempt; a part (cached, reasoning) never exceeds its whole."""

    input_tokens: Count
    output_tokens: Count
    cache_read_tokens: Count = 0
    cache_write_tokens: Count = 0
    reasoning_tokens: Count = 0

    def __post_init__(self) -> None:
        # Only rows that carry usage pay for this check; the sums first (a
        # tenth of a microsecond), the shared wording only for a bad row.
        if (
            self.cache_read_tokens + self.cache_write_tokens > self.input_tokens
            or self.reasoning_tokens > self.output_tokens
        ):
            raise ValueError(usage_problem(msgspec.structs.asdict(self)))


class Attempt(msgspec.Struct, frozen=True, gc=False):
    """One attempt of a row; ``error``, ``span_id`` and ``usage`` may be left out."""

    iteration: Int64
    verdict_kind: VerdictKind
    error: str = ""
    span_id: str = ""
    usage: TokenUsage | msgspec.UnsetType = msgspec.UNSET


class DecodedRow(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A ``session.iterate.v1`` row as readers accept it, its fields in the file's order.

    Not tracked by the garbage collector (``gc=False``), nor are its
    attempts and usage: what JSON decodes to cannot hold a cycle, and a pass
    over millions of rows then never pays for collections of them.

    Unknown keys are allowed (an additive change stays compatible), the keys
    may come in any order, and the optional keys may be missing, but none
    may be ``null`` unless this says so. (``kw_only`` lets a required field
    follow an optional one, so ``duration_ms`` stays after ``artifact``.)
    """

    schema: str
    session_id: str
    timestamp: Timestamp
    daemon: str
    kind: str
    model: str
    provider: str
    prompt: Annotated[str, msgspec.Meta(max_length=PROMPT_LIMIT)]
    iterations: Int64
    max_iterations: Int64
    final_verdict: Verdict
    attempts: list[Attempt] | None
    artifact: dict[str, Any] = {}
    grounded_in_roster: bool | msgspec.UnsetType = msgspec.UNSET
    duration_ms: Int64
    usage: TokenUsage | msgspec.UnsetType = msgspec.UNSET
    sample_rate: SampleRate | msgspec.UnsetType = msgspec.UNSET

    @property
    def weight(self) -> float:
        """How many sessions this row stands for (``1 / sample_rate``), never more than 2**64.

        The decoder refuses a smaller rate; the bound here also holds for a
        row built in code, which msgspec does not check, so no figure gets an
        infinite weight.
        """
        rate = self.sample_rate
        return 1.0 if rate is msgspec.UNSET else 1.0 / max(rate, MIN_SAMPLE_RATE)


ROW_FIELDS: dict[str, Any] = typing.get_type_hints(DecodedRow, include_extras=True)
REQUIRED_KEYS = tuple(f.name for f in msgspec.structs.fields(DecodedRow) if f.required)

_decoder = msgspec.json.Decoder(DecodedRow)

#: What a full disk leaves in the middle of a file: the first part of a row.
CUT_SHORT = "not JSON: the line ends before its JSON does (the start of a row cut short?)"
_NULL_ATTEMPTS = "attempts: null is only allowed on an infra_error row, not on {}"


class OtherSchema(Exception):
    """The line is a row of another schema: skipped, not an error."""

    def __init__(self, schema: object) -> None:
        super().__init__(schema)
        self.schema = schema


class InvalidRow(Exception):
    """The line is not a valid v1 row; ``problems`` says why, key by key."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


_force_setattr = msgspec.structs.force_setattr


def decode_row(line: bytes) -> DecodedRow:
    """The row on one line, or ``OtherSchema`` or ``InvalidRow``.

    The fast path is one msgspec decode plus the one rule a type cannot
    hold; everything else only runs for lines that fail it.

    A timestamp's fraction beyond the microsecond is truncated, as DuckDB
    casts it and as the row's day means it (the writer writes nanoseconds),
    wherever that changes which day or whole second a row falls in:
    msgspec's rounding put ``23:59:59.9999996`` on the next day. Elsewhere
    the timestamp may be a microsecond above DuckDB's (a fraction of a
    second's 5 to 9 in its seventh digit): checking every row for that cost
    a fifth of the decode, and it moves a row only across a window bound
    given to the microsecond.
    """
    try:
        row = _decoder.decode(line)
    except msgspec.DecodeError as exc:
        raise InvalidRow(explain(line, str(exc))) from None
    except RecursionError:
        return decode_row(without_deep_values(line))
    if row.schema != SCHEMA_VERSION:
        raise OtherSchema(row.schema)
    if row.attempts is None and row.final_verdict != INFRA_ERROR:
        raise InvalidRow([_NULL_ATTEMPTS.format(row.final_verdict)])
    # msgspec rounds the fraction to the microsecond; DuckDB (and the row's
    # day) truncate it. The two differ by one microsecond, which matters only
    # where it moves a row across a boundary: a day, or a window given to the
    # second. Rounding up onto such a boundary leaves a microsecond of 0 from a
    # fraction of .9999995 or more, so only those rows are read again.
    if row.timestamp.microsecond == 0 and b".999999" in line:
        return _truncated_slowly(row, line)
    return row


class _TimestampText(msgspec.Struct):
    timestamp: str


_timestamp_text = msgspec.json.Decoder(_TimestampText)
_timestamp = msgspec.json.Decoder(Timestamp)


def _truncated_slowly(row: DecodedRow, line: bytes) -> DecodedRow:
    """``row`` with its timestamp truncated to the microsecond, for a row msgspec may have rounded up.

    Reads the timestamp's own text (msgspec skips the rest), so an artifact
    holding a "timestamp" of its own, or keys in another order, cannot mislead it.
    """
    text = _timestamp_text.decode(line).timestamp
    head, dot, rest = text.partition(".")
    digits = len(rest) - len(rest.lstrip("0123456789"))
    if not dot or digits <= 6:
        return row
    exact = _timestamp.decode(msgspec.json.encode(f"{head}.{rest[:6]}{rest[digits:]}"))
    _force_setattr(row, "timestamp", exact)
    return row


#: Top-level values nested deeper than this are checked by the scanner below.
DEEP = 200


def without_deep_values(line: bytes) -> bytes:
    """The line with each deeply nested top-level value replaced by an empty one.

    msgspec and ``json`` both recurse, so an artifact thousands of levels
    deep (which the writer keeps whole) would exhaust the stack. Such a
    value is checked here, without recursion, for brackets that balance
    outside strings, and then stands in as ``{}`` or ``[]`` so the rest of
    the row is checked as usual; what is inside it is not looked at (no
    reader uses an artifact's contents). A line that is deep and does not
    balance raises ``InvalidRow``; a shallow line comes back as it is.
    """
    spans, deepest, balanced = _scan(line)
    if deepest > DEEP and not balanced:
        raise InvalidRow([f"not JSON: brackets do not balance (nested {deepest} levels deep)"])
    out = bytearray()
    position = 0
    for begin, end in spans:
        out += line[position:begin] + (b"{}" if line[begin] == 0x7B else b"[]")
        position = end
    return bytes(out + line[position:])


def deep_values(line: bytes, deeper_than: int = DEEP) -> list[str]:
    """The text of each top-level value of ``line`` nested more than ``deeper_than`` levels.

    For ``scan``, which looks for secrets in such a value as text, since
    neither a decoder nor a walk over the decoded value reaches its depths.
    """
    if line.count(b"{") + line.count(b"[") <= deeper_than:
        return []  # too few brackets to nest that deep: the byte-by-byte scan is not needed
    spans, _, _ = _scan(line, deeper_than)
    return [line[begin:end].decode("utf-8", "replace") for begin, end in spans]


def _scan(line: bytes, deep: int = DEEP) -> tuple[list[tuple[int, int]], int, bool]:
    """(spans of top-level values deeper than ``deep``, the deepest level, whether brackets balance)."""
    spans: list[tuple[int, int]] = []
    depth = deepest = value_deepest = 0
    start = -1
    in_string = escaped = False
    for index, byte in enumerate(line):
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x7B, 0x5B):  # { [
            depth += 1
            if depth == 2:
                start, value_deepest = index, 2
            value_deepest = max(value_deepest, depth)
            deepest = max(deepest, depth)
        elif byte in (0x7D, 0x5D):  # } ]
            if depth == 2 and value_deepest > deep:
                spans.append((start, index + 1))
            depth -= 1
            if depth < 0:
                break
    return spans, deepest, depth == 0 and not in_string


def explain(line: bytes, first_error: str) -> list[str]:
    """Every problem of a rejected line, each naming its key.

    ``first_error`` is msgspec's own message, kept as the answer when the
    field-by-field look finds nothing more precise.
    """
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.reason == "unexpected end of data":
            # Cut inside a character: what a write cut short leaves.
            return ["not JSON: the line ends inside a UTF-8 character"]
        return [f"invalid UTF-8 at byte {exc.start + 1}: {line[exc.start : exc.start + 4]!r}"]
    if not text.strip():
        return ["blank line"]
    try:
        text = without_deep_values(line).decode("utf-8")
    except InvalidRow as exc:
        return exc.problems
    try:
        value = json.loads(text)
    except RecursionError:
        return [_from_msgspec(first_error)]
    except json.JSONDecodeError as exc:
        if exc.pos >= len(text.rstrip("\r\n")):
            # What a full disk leaves in the middle of a file: the first part
            # of a row, ended by the newline the next row started with.
            return [CUT_SHORT]
        return [f"not JSON: {exc.msg} (column {exc.colno})"]
    if not isinstance(value, dict):
        return [f"not a JSON object but {_json_type(value)}"]
    if "schema" in value and isinstance(value["schema"], str) and value["schema"] != SCHEMA_VERSION:
        raise OtherSchema(value["schema"])
    problems = list(_field_problems(value))
    return problems or [_from_msgspec(first_error)]


def _field_problems(value: dict[str, Any]) -> Iterator[str]:
    for key in REQUIRED_KEYS:
        if key not in value:
            yield f"{key}: missing"
    for key, annotation in ROW_FIELDS.items():
        if key not in value:
            continue
        if key == "attempts" and isinstance(value[key], list):
            for index, attempt in enumerate(value[key]):
                yield from _convert_problems(attempt, Attempt, f"attempts[{index}]")
            continue
        problems = list(_convert_problems(value[key], annotation, key))
        yield from problems
        if not problems and key == "attempts" and value.get("final_verdict") != INFRA_ERROR:
            yield _NULL_ATTEMPTS.format(value.get("final_verdict"))


def _convert_problems(value: Any, annotation: Any, key: str) -> Iterator[str]:
    """msgspec's verdict on one value, as ``key[.inner]: why`` (nothing when it fits)."""
    try:
        msgspec.convert(value, annotation)
    except msgspec.ValidationError as exc:
        message, _, where = str(exc).partition(" - at `$")
        path = key + where.rstrip("`")
        if message.startswith("Object missing required field `"):
            yield f"{path}.{message.split('`')[1]}: missing"
        else:
            yield f"{path}: {_plain_message(message, value if not where else None, path)}"


_ALLOWED = {"final_verdict": VERDICTS, "verdict_kind": VERDICT_KINDS}


def _plain_message(message: str, value: Any, where: str) -> str:
    """msgspec's message, reworded for a person and naming what is allowed."""
    message = message.replace("`", "")
    if message[1:2].islower():  # "Expected ..." reads "expected ..."; an acronym ("JSON is ...") stays
        message = message[0].lower() + message[1:]
    if message.startswith("expected str of length <="):
        return f"{len(value)} characters, more than {PROMPT_LIMIT}" if isinstance(value, str) else message
    if message.startswith("invalid enum value"):
        allowed = next((v for k, v in _ALLOWED.items() if where.endswith(k)), ())
        shown = message[len("invalid enum value ") :]
        return f"{shown} is not one of {', '.join(allowed)}" if allowed else message
    if message.endswith("got null"):
        return f"null is not allowed ({message})"
    return message


def _from_msgspec(message: str) -> str:
    if " - at `$." in message:
        text, where = message.rsplit(" - at `$.", 1)
        where = where.rstrip("`")
        return f"{where}: {_plain_message(text, None, where)}"
    return _plain_message(message, None, "")


def _json_type(value: Any) -> str:
    return {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a row, generated from ``DecodedRow``, its notes from ``row.KEYS``."""
    generated = msgspec.json.schema(DecodedRow)
    definitions = generated["$defs"]
    row = definitions.pop("DecodedRow")
    row["properties"]["schema"]["const"] = SCHEMA_VERSION
    described = (
        (KEYS, row["properties"]),
        (ATTEMPT_KEYS, definitions["Attempt"]["properties"]),
        (USAGE_KEYS, definitions["TokenUsage"]["properties"]),
    )
    definitions["TokenUsage"]["description"] = (
        "Token counts; cache_read_tokens + cache_write_tokens <= input_tokens, "
        "reasoning_tokens <= output_tokens"
    )
    for keys, properties in described:
        for key in keys:
            notes = [key.note] if key.note else []
            if key.kind == "integer":
                # JSON Schema's integer also admits 2.0; the app does not.
                notes.append("a JSON integer, written without a fraction or exponent")
            if notes:
                properties[key.name]["description"] = "; ".join(notes)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://github.com/django-sessionlog/django-sessionlog/schema/session.iterate.v1.json",
        **row,
        "title": SCHEMA_VERSION,
        "description": "One finished LLM iterate session (django-sessionlog). Unknown keys are allowed; "
        "optional keys may be missing but not null.",
        "allOf": [
            {
                "if": {"properties": {"final_verdict": {"not": {"const": INFRA_ERROR}}}},
                "then": {"properties": {"attempts": {"type": "array"}}},
            }
        ],
        "$defs": definitions,
    }
