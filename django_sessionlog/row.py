"""The ``session.iterate.v1`` row, stated once: one JSON object a line, one line a session.

Its keys in the order the file writes them, which may be left out and
when, which may be null, the limits and the sets of verdicts. Everything
else takes these facts from here: the writer's key order and omissions
(``write/encoding.py``), the reader's rules (``read/sources/rules.py``, whose Struct
is checked against this table), the DuckDB and Parquet columns
(``read/sql/columns.py``), the JSON Schema and the tests' key order. Pure data:
no Django, no files.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

SCHEMA_VERSION = "session.iterate.v1"

#: The prompt is trimmed to this many characters, an infra error's text to the other.
PROMPT_LIMIT = 4000
ERROR_LIMIT = 800

# How a session ended.
ACCEPTED = "accepted"
MAX_ITER_EXHAUSTED = "max_iter_exhausted"
INFRA_ERROR = "infra_error"
VERDICTS = (ACCEPTED, MAX_ITER_EXHAUSTED, INFRA_ERROR)

# How an attempt ended: ACCEPTED too, and INFRA_ERROR for the one synthetic
# attempt of a crashed loop.
NO_JSON = "no_json"
VALIDATION_FAILED = "validation_failed"
VERDICT_KINDS = (NO_JSON, VALIDATION_FAILED, ACCEPTED, INFRA_ERROR)

#: What a value is, for the reader's types and the SQL columns.
Kind = Literal[
    "string",
    "timestamp",
    "integer",
    "boolean",
    "object",
    "attempts",
    "rate",
    "verdict",
    "verdict_kind",
    "usage",
]

#: When the writer leaves a key out: ``never``; when the value is ``empty``
#: (``None``, ``{}``, ``""``, ``0``); or only when it is ``none`` (``false`` is written).
Omit = Literal["never", "empty", "none"]


@dataclass(frozen=True)
class Key:
    name: str
    kind: Kind
    omit: Omit = "never"
    nullable: bool = False  # null is a value; else a reader refuses it
    note: str = ""  # what the JSON Schema says of it

    @property
    def required(self) -> bool:
        """Whether every row has the key (the writer never leaves it out)."""
        return self.omit == "never"


KEYS: tuple[Key, ...] = (
    Key("schema", "string", note=f"always {SCHEMA_VERSION}"),
    Key("session_id", "string", note="the trace id of the session in the tracing tool; may be empty"),
    Key("timestamp", "timestamp", note="RFC 3339 in UTC with Z, to the nanosecond, trailing zeros trimmed"),
    Key("daemon", "string"),
    Key("kind", "string"),
    Key("model", "string"),
    Key("provider", "string"),
    Key("prompt", "string", note=f"trimmed to {PROMPT_LIMIT} characters, ending in … when cut"),
    Key("iterations", "integer"),
    Key("max_iterations", "integer"),
    Key("final_verdict", "verdict"),
    Key("attempts", "attempts", nullable=True, note="null only on an infra_error row"),
    Key("artifact", "object", omit="empty", note="left out when absent or empty"),
    Key("grounded_in_roster", "boolean", omit="none", note="left out when no roster check answered"),
    Key("duration_ms", "integer"),
    Key("usage", "usage", omit="none", note="the session's tokens; left out when no usage was given"),
    Key("sample_rate", "rate", omit="none", note="present only on a row kept by sampling at a rate below 1"),
)

ATTEMPT_KEYS: tuple[Key, ...] = (
    Key("iteration", "integer"),
    Key("verdict_kind", "verdict_kind"),
    Key(
        "error",
        "string",
        omit="empty",
        note=f"left out when empty; an infra error's text is trimmed to {ERROR_LIMIT}",
    ),
    Key("span_id", "string", omit="empty", note="left out when empty"),
    Key("usage", "usage", omit="none", note="the attempt's tokens; left out when no usage was given"),
)

#: Token counts, on a row and on an attempt: the two totals always, each part only when not 0.
USAGE_KEYS: tuple[Key, ...] = (
    Key("input_tokens", "integer", note="all input tokens, cached ones included"),
    Key("output_tokens", "integer", note="all output tokens, reasoning included"),
    Key("cache_read_tokens", "integer", omit="empty", note="part of input_tokens; left out when 0"),
    Key("cache_write_tokens", "integer", omit="empty", note="part of input_tokens; left out when 0"),
    Key("reasoning_tokens", "integer", omit="empty", note="part of output_tokens; left out when 0"),
)
USAGE_KEY_NAMES = tuple(key.name for key in USAGE_KEYS)

#: Each whole and its parts: cached tokens are counted in the input, reasoning in the output.
USAGE_PARTS: dict[str, tuple[str, ...]] = {
    "input_tokens": ("cache_read_tokens", "cache_write_tokens"),
    "output_tokens": ("reasoning_tokens",),
}

#: Integers are 64-bit: what DuckDB, Parquet and every warehouse store.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

#: The smallest ``sample_rate``: 2**-64. The sampler keeps a session when its
#: 64-bit hash, as a share of 2**64, is below the rate (``write.sampling``), so
#: no smaller rate keeps any session but the one whose hash is 0, and the
#: weight ``1 / rate`` stays at most 2**64, finite and summable.
MIN_SAMPLE_RATE = 2.0**-64


def usage_problem(counts: Mapping[str, object]) -> str | None:
    """What is wrong with token counts (``None`` when nothing): the writer and the reader share the rule.

    Each count is a non-negative 64-bit integer (a ``bool`` or a float is
    not), and the parts of a whole add up to no more than it.
    """
    get = counts.get
    return counts_problem(*[get(name, 0) for name in USAGE_KEY_NAMES])


def counts_problem(
    input_tokens: object,
    output_tokens: object,
    cache_read_tokens: object = 0,
    cache_write_tokens: object = 0,
    reasoning_tokens: object = 0,
) -> str | None:
    """``usage_problem`` of the five counts given in ``USAGE_KEY_NAMES``' order.

    Valid counts, the usual case, cost one type test each and three
    comparisons (the writer runs this per attempt, inside the request);
    the message is looked for only when they fail.
    """
    if (
        type(input_tokens) is int
        and type(output_tokens) is int
        and type(cache_read_tokens) is int
        and type(cache_write_tokens) is int
        and type(reasoning_tokens) is int
        and cache_read_tokens >= 0
        and cache_write_tokens >= 0
        and reasoning_tokens >= 0
        and cache_read_tokens + cache_write_tokens <= input_tokens <= INT64_MAX
        and reasoning_tokens <= output_tokens <= INT64_MAX
    ):
        return None
    given = (input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens)
    values: dict[str, int] = {}
    for name, value in zip(USAGE_KEY_NAMES, given, strict=True):
        if isinstance(value, bool) or not isinstance(value, int):
            return f"{name}: {value!r} is not an integer"
        if not 0 <= value <= INT64_MAX:
            return f"{name}: {value} is not between 0 and {INT64_MAX}"
        values[name] = int(value)
    for whole, parts in USAGE_PARTS.items():
        total = sum(values[part] for part in parts)
        if total > values[whole]:
            return f"{' + '.join(parts)} = {total}, more than {whole} = {values[whole]}"
    return None  # an int subclass with valid values


def trim(s: str, n: int) -> str:
    """Cut ``s`` to at most ``n`` code points, ending in ``…`` when cut.

    The ellipsis takes the last place, so a reader can tell a cut prompt
    from one that happened to be exactly ``n`` characters long.
    """
    if len(s) <= n:
        return s
    return s[: n - 1] + "…"
