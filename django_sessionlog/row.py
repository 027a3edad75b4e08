"""The ``session.iterate.v1`` row, stated once: one JSON object a line, one line a session.

Its keys in the order the file writes them, which may be left out and
when, which may be null, the limits and the sets of verdicts. Everything
else takes these facts from here: the writer's key order and omissions
(``write/encoding.py``), the reader's rules (``read/rules.py``, whose Struct
is checked against this table), the DuckDB and Parquet columns
(``read/columns.py``), the JSON Schema and the tests' key order. Pure data:
no Django, no files.
"""

from __future__ import annotations

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
    "string", "timestamp", "integer", "boolean", "object", "attempts", "rate", "verdict", "verdict_kind"
]

#: When the writer leaves a key out: ``never``; when the value is ``empty``
#: (``None``, ``{}``, ``""``); or only when it is ``none`` (``false`` is written).
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
)

#: Integers are 64-bit: what DuckDB, Parquet and every warehouse store.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def trim(s: str, n: int) -> str:
    """Cut ``s`` to at most ``n`` code points, ending in ``…`` when cut.

    The ellipsis takes the last place, so a reader can tell a cut prompt
    from one that happened to be exactly ``n`` characters long.
    """
    if len(s) <= n:
        return s
    return s[: n - 1] + "…"
