"""The staffing roster: who exists, what they can do, what each shift needs.

Shipped as data (``roster.json``) so the demo needs no database.
``grounded`` is the ``fill`` entry of ``SESSIONLOG["ROSTER_CHECKS"]``.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any, TypedDict


class Worker(TypedDict):
    id: str
    name: str
    skills: list[str]


@functools.cache
def _data() -> dict[str, Any]:
    with open(Path(__file__).with_name("roster.json"), encoding="utf-8") as source:
        return json.load(source)  # type: ignore[no-any-return]


def workers() -> dict[str, Worker]:
    return {worker["id"]: worker for worker in _data()["workers"]}


def shifts() -> dict[str, str]:
    """Each shift and the skill it needs."""
    return dict(_data()["shifts"])


def grounded(artifact: dict[str, Any] | None) -> bool | None:
    """Whether every worker of a fill exists and has the skill its shift needs.

    Stricter than the validator (which only checks that workers exist), so
    the row says how often accepted fills would hold up on the floor. No
    answer (None) when the artifact names no known shift.
    """
    if not artifact or artifact.get("shift") not in shifts() or not isinstance(artifact.get("workers"), list):
        return None
    needed = shifts()[artifact["shift"]]
    roster = workers()
    return all(
        isinstance(w, str) and w in roster and needed in roster[w]["skills"] for w in artifact["workers"]
    )
