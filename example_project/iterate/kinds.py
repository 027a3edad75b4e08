"""What each kind of artifact must look like, checked with precise errors.

The error text goes back to the model as its next instruction and into the
row's attempts, so it names exactly what is wrong.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import roster


class ValidationFailed(Exception):
    pass


def _fill(artifact: dict[str, Any]) -> None:
    shift = artifact.get("shift")
    if not isinstance(shift, str) or not shift.strip():
        raise ValidationFailed("missing key 'shift' (a shift name such as 'sat-night')")
    workers = artifact.get("workers")
    if not isinstance(workers, list) or not workers:
        raise ValidationFailed("'workers' must be a non-empty list of worker ids")
    known = roster.workers()
    seen: set[str] = set()
    for worker in workers:
        if not isinstance(worker, str):
            raise ValidationFailed(f"worker {worker!r} is not a worker id")
        if worker not in known:
            raise ValidationFailed(f"worker {worker} is not on the roster")
        if worker in seen:
            raise ValidationFailed(f"worker {worker} is listed twice")
        seen.add(worker)


def _email(artifact: dict[str, Any]) -> None:
    for key in ("to", "subject", "body"):
        value = artifact.get(key)
        if not isinstance(value, str) or not value.strip():
            raise ValidationFailed(f"missing key '{key}'")
    if "@" not in artifact["to"]:
        raise ValidationFailed(f"'to' is not an email address: {artifact['to']!r}")


def _playbook(artifact: dict[str, Any]) -> None:
    steps = artifact.get("steps")
    if not isinstance(steps, list) or not steps:
        raise ValidationFailed("'steps' must be a non-empty list of strings")
    for index, step in enumerate(steps):
        if not isinstance(step, str) or not step.strip():
            raise ValidationFailed(f"steps[{index}] is empty")


VALIDATORS: dict[str, Callable[[dict[str, Any]], None]] = {
    "fill": _fill,
    "email": _email,
    "playbook": _playbook,
}
KINDS = list(VALIDATORS)

INSTRUCTIONS = {
    "fill": 'Answer with one JSON object {"shift": "<shift>", "workers": ["W-1001", ...]} using only worker ids from the roster.',
    "email": 'Answer with one JSON object {"to": "<address>", "subject": "<subject>", "body": "<text>"}.',
    "playbook": 'Answer with one JSON object {"steps": ["<step>", ...]} with every step a non-empty sentence.',
}


def validate(kind: str, artifact: dict[str, Any]) -> None:
    VALIDATORS[kind](artifact)
