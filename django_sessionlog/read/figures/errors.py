"""Attempt errors folded into groups: one mistake made with different ids is one group.

"worker W-9123 is not on the roster" and "worker W-4410 is not on the
roster" are the same error: numbers and hex ids are folded to ``#``. The
report lists the biggest groups and ``compare`` the ones that grew, each
with how many errors and how many sessions it holds and a few example
sessions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..sources.rules import DecodedRow

_VARIABLE = re.compile(r"[0-9a-fA-F]{8,}|\d+(?:\.\d+)?")

#: Only the start of a long message decides its group.
TEXT_LIMIT = 300

#: A cache of raw messages to their group, cleared when it grows past this.
MESSAGE_CACHE = 200_000


def error_group(text: str) -> str:
    """The group an error message belongs to."""
    return _VARIABLE.sub("#", text[:TEXT_LIMIT])


@dataclass
class ErrorGroup:
    text: str  # the folded message, as shown
    verdict_kind: str
    errors: float  # attempts with it, weighted
    sessions: float  # sessions with it at least once, weighted
    examples: list[str]  # session ids


@dataclass
class ErrorGroups:
    """Every error group of the rows added, with counts and example sessions.

    The groups live in parallel lists indexed by group number: a list slot
    is cheaper to bump than an object's attribute, and a row has one or two
    errors. Group 0 collects what overflows ``limit`` groups.
    """

    examples: int = 3
    limit: int = 10_000
    labels: list[tuple[str, str]] = field(default_factory=lambda: [("", "")])
    errors: list[float] = field(default_factory=lambda: [0.0])
    sessions: list[float] = field(default_factory=lambda: [0.0])
    example_ids: list[list[str]] = field(default_factory=lambda: [[]])
    _number_of_label: dict[tuple[str, str], int] = field(default_factory=dict)
    _number_of_message: dict[tuple[str, str], int] = field(default_factory=dict)

    def add(self, row: DecodedRow, weight: float) -> None:
        """Count the errors of one row."""
        seen: list[int] = []
        for attempt in row.attempts or ():
            error = attempt.error
            if not error:
                continue
            number = self._number_of_message.get((attempt.verdict_kind, error))
            if number is None:
                number = self._number(attempt.verdict_kind, error)
            self.errors[number] += weight
            if number not in seen:  # a session counts once per group, however often it erred so
                seen.append(number)
                self.sessions[number] += weight
                examples = self.example_ids[number]
                if len(examples) < self.examples and row.session_id not in examples:
                    examples.append(row.session_id)

    def _number(self, verdict_kind: str, error: str) -> int:
        """The group number of a message not seen before."""
        if len(self._number_of_message) > MESSAGE_CACHE:
            self._number_of_message.clear()
        number = self._group(verdict_kind, error_group(error))
        self._number_of_message[(verdict_kind, error)] = number
        return number

    def _group(self, verdict_kind: str, text: str) -> int:
        """The number of a group, made when new (0 once ``limit`` groups exist)."""
        label = (verdict_kind, text)
        number = self._number_of_label.get(label)
        if number is None:
            if len(self.labels) > self.limit:
                return 0
            number = self._number_of_label[label] = len(self.labels)
            self.labels.append(label)
            self.errors.append(0.0)
            self.sessions.append(0.0)
            self.example_ids.append([])
        return number

    def merge(self, other: ErrorGroups) -> None:
        """Add the groups of ``other``, gathered from a later part of the log."""
        for number, (verdict_kind, text) in enumerate(other.labels):
            mine = self._group(verdict_kind, text) if number else 0
            self.errors[mine] += other.errors[number]
            self.sessions[mine] += other.sessions[number]
            examples = self.example_ids[mine]
            for session_id in other.example_ids[number]:
                if len(examples) < self.examples and session_id not in examples:
                    examples.append(session_id)

    @property
    def overflow(self) -> float:
        """Errors in groups past ``limit``, counted but not shown."""
        return self.errors[0]

    def groups(self) -> list[ErrorGroup]:
        """Every group, the most errors first."""
        found = [
            ErrorGroup(
                text, verdict_kind, self.errors[number], self.sessions[number], self.example_ids[number]
            )
            for number, (verdict_kind, text) in enumerate(self.labels)
            if number
        ]
        return sorted(found, key=lambda g: (-g.errors, g.text))
