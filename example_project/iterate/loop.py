"""The iterate loop: ask, take the first JSON object, validate, retry with the error.

Written as a small state machine fed one answer at a time, so the sync view
and the async view drive the same loop and differ only in how they wait
for the model.
"""

from __future__ import annotations

import json
import re
import secrets
from typing import Any

from django_sessionlog import AttemptStatus, IterateAttempt

from . import kinds

_OPENING_BRACE = re.compile(r"\{")


def first_json_object(text: str) -> dict[str, Any] | None:
    """The first JSON object in a model's answer (prose and code fences around it allowed)."""
    decoder = json.JSONDecoder()
    for match in _OPENING_BRACE.finditer(text):
        try:
            value, _ = decoder.raw_decode(text, match.start())
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return None


class Loop:
    """One session's conversation and history, advanced by ``feed(answer)``."""

    def __init__(self, kind: str, prompt: str, max_iterations: int) -> None:
        self.kind = kind
        self.max_iterations = max_iterations
        self.messages: list[dict[str, str]] = [
            {"role": "system", "content": kinds.INSTRUCTIONS[kind]},
            {"role": "user", "content": prompt},
        ]
        self.history: list[IterateAttempt] = []
        self.outputs: list[str] = []
        self.artifact: dict[str, Any] | None = None

    @property
    def accepted(self) -> bool:
        return self.artifact is not None

    @property
    def done(self) -> bool:
        return self.accepted or len(self.history) >= self.max_iterations

    @property
    def iterations(self) -> int:
        return len(self.history)

    @property
    def next_iteration(self) -> int:
        return len(self.history) + 1

    def feed(self, answer: str, span_id: str = "") -> None:
        """Judge one answer; on a rejection, add the error to the conversation.

        ``span_id`` is the attempt's span (``session.attempt``, with
        OpenTelemetry); without one the attempt gets a random id of the same
        form, so the history the service answers with has one either way.
        """
        iteration = self.next_iteration
        span_id = span_id or secrets.token_hex(8)
        candidate = first_json_object(answer)
        if candidate is None:
            status = AttemptStatus("no_json", "no JSON object in the answer")
        else:
            try:
                kinds.validate(self.kind, candidate)
            except kinds.ValidationFailed as exc:
                status = AttemptStatus("validation_failed", str(exc))
            else:
                status = AttemptStatus("accepted")
                self.artifact = candidate
        # The provider's token counts ride on its answer (providers.Answer).
        self.history.append(IterateAttempt(iteration, status, span_id, getattr(answer, "usage", None)))
        self.outputs.append(answer)
        if not self.accepted:
            self.messages += [
                {"role": "assistant", "content": answer},
                {
                    "role": "user",
                    "content": f"That answer was rejected: {status.error}. Reply with one corrected JSON object.",
                },
            ]

    def history_json(self) -> list[dict[str, Any]]:
        """The history for the HTTP answer, with each attempt's raw output."""
        return [
            {
                "iteration": attempt.iteration,
                "status": {"kind": attempt.status.kind, "error": attempt.status.error},
                "span_id": attempt.span_id,
                "output": output,
            }
            for attempt, output in zip(self.history, self.outputs, strict=True)
        ]
