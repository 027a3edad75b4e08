"""Roster checks and redactors that the tests point settings at."""

from __future__ import annotations

import dataclasses
from typing import Any

from django_sessionlog import SessionRecord

ROSTER = {"W-1001", "W-1002"}


def grounded(artifact: dict[str, Any] | None) -> bool | None:
    if not artifact or "workers" not in artifact:
        return None
    return all(worker in ROSTER for worker in artifact["workers"])


def exploding(artifact: dict[str, Any] | None) -> bool:
    raise RuntimeError("roster service is down")


def scrub_prompt(record: SessionRecord) -> SessionRecord:
    return dataclasses.replace(record, prompt="[scrubbed]")


def exploding_redactor(record: SessionRecord) -> SessionRecord:
    raise ValueError("redactor bug")


def returns_nothing(record: SessionRecord) -> None:
    return None


NOT_CALLABLE = 42


#: What ``remember_what_it_saw`` was given, for the tests of the policies' order.
SEEN: list[SessionRecord] = []


def remember_what_it_saw(record: SessionRecord) -> SessionRecord:
    SEEN.append(record)
    return record
