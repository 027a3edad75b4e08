"""What the integrations' tests share: the model the answers must fit, and the scripted server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel, field_validator

from ..scripted_openai import PROSE, Json, ScriptedServer, Slow, Status

ROSTER = {"W-1001", "W-1002", "W-1003"}
GOOD = {"shift": "sat-night", "workers": ["W-1001", "W-1002"]}
PHANTOM = {"shift": "sat-night", "workers": ["W-1001", "W-9999"]}
PROMPT = "Cover Saturday night at the Harbour Street depot"


class Fill(BaseModel):
    shift: str
    workers: list[str]

    @field_validator("workers")
    @classmethod
    def on_the_roster(cls, workers: list[str]) -> list[str]:
        for worker in workers:
            if worker not in ROSTER:
                raise ValueError(f"worker {worker} is not on the roster")
        return workers


class Exploding(BaseModel):
    """A model whose own validator has a bug: not a validation error, a crash."""

    shift: str

    @field_validator("shift")
    @classmethod
    def lookup(cls, shift: str) -> str:
        raise RuntimeError("the shift calendar is down")


SCRIPTS: dict[str, list[Any]] = {
    "fix": [PROSE, Json(PHANTOM), Json(GOOD)],  # prose, then a phantom worker, then a valid answer
    "good": [Json(GOOD)],
    "phantom": [Json(PHANTOM)],  # always fails the validator
    "prose": [PROSE],  # never any JSON
    "missing": [Json({"shift": "sat-night"})],
    "down": [Status(500)],
    "slow": [Slow(0.5, Json(GOOD))],
    "cut": [Json(GOOD, finish_reason="length")],
    "odd-usage": [Json(GOOD, usage={"prompt_tokens": "lots", "completion_tokens": -1})],
    "no-usage": [Json(GOOD, usage={})],
}


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer(SCRIPTS) as running:
        yield running


def user_messages(prompt: str = PROMPT) -> list[dict[str, Any]]:
    return [
        {"role": "system", "content": "You staff shifts. Answer with the fill."},
        {"role": "user", "content": prompt},
    ]
