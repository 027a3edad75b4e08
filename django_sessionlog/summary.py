"""Figures over many rows: counts, shares and percentiles, weighted.

A row kept at ``sample_rate`` r stands for 1/r sessions, so every count
here is a sum of weights, and the summary says when it holds estimates.
Durations are kept as a count per distinct value rather than a list: exact
percentiles in memory bounded by how many distinct durations there are,
not by how many rows (ten million rows of millisecond durations fit in a
few megabytes).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .rules import VERDICTS, Row

PERCENTILES = (50, 95, 99)


def percentile(counts: Mapping[int, float], q: float) -> int | None:
    """The weighted nearest-rank ``q``-th percentile (0 < q <= 100) of counted values."""
    total = sum(counts.values())
    if total <= 0:
        return None
    rank = total * q / 100.0
    running = 0.0
    for value in sorted(counts):
        running += counts[value]
        if running >= rank - 1e-9:
            return value
    return max(counts)


def share(part: float, whole: float) -> float | None:
    return part / whole if whole else None


@dataclass
class Summary:
    """What ``stats`` prints; ``report`` builds on it."""

    rows: int = 0
    sessions: float = 0.0
    sampled_rows: int = 0
    first: datetime.datetime | None = None
    last: datetime.datetime | None = None
    by_verdict: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    by_kind: dict[str, defaultdict[str, float]] = field(default_factory=dict)
    iterations: defaultdict[int, float] = field(default_factory=lambda: defaultdict(float))
    durations: defaultdict[int, float] = field(default_factory=lambda: defaultdict(float))
    fills_accepted: float = 0.0
    fills_checked: float = 0.0
    fills_grounded: float = 0.0

    def add(self, row: Row) -> None:
        weight = row.weight
        self.rows += 1
        self.sessions += weight
        if weight != 1.0:
            self.sampled_rows += 1
        moment = row.timestamp
        if self.first is None or moment < self.first:
            self.first = moment
        if self.last is None or moment > self.last:
            self.last = moment
        verdict = row.final_verdict
        self.by_verdict[verdict] += weight
        kind_counts = self.by_kind.get(row.kind)
        if kind_counts is None:
            kind_counts = self.by_kind[row.kind] = defaultdict(float)
        kind_counts[verdict] += weight
        self.iterations[row.iterations] += weight
        self.durations[row.duration_ms] += weight
        if verdict == "accepted" and row.kind == "fill":
            self.fills_accepted += weight
            grounded = row.grounded_in_roster
            if grounded is True or grounded is False:
                self.fills_checked += weight
                if grounded:
                    self.fills_grounded += weight

    def add_all(self, rows: Iterable[Row]) -> Summary:
        for row in rows:
            self.add(row)
        return self

    @property
    def estimated(self) -> bool:
        """Whether figures are estimates (some rows stand for sampled-out sessions)."""
        return self.sampled_rows > 0

    def duration_percentiles(self) -> dict[str, int | None]:
        return {f"p{q}": percentile(self.durations, q) for q in PERCENTILES}

    def as_dict(self) -> dict[str, Any]:
        """The summary for machines (``stats --json``)."""
        return {
            "rows": self.rows,
            "sessions": round(self.sessions, 3),
            "estimated": self.estimated,
            "first": self.first.isoformat() if self.first else None,
            "last": self.last.isoformat() if self.last else None,
            "by_verdict": {v: round(self.by_verdict.get(v, 0.0), 3) for v in VERDICTS},
            "by_kind": {
                kind: {v: round(counts.get(v, 0.0), 3) for v in VERDICTS}
                for kind, counts in sorted(self.by_kind.items())
            },
            "iterations": {str(n): round(w, 3) for n, w in sorted(self.iterations.items())},
            "roster": {
                "accepted_fills": round(self.fills_accepted, 3),
                "checked": round(self.fills_checked, 3),
                "grounded": round(self.fills_grounded, 3),
                "grounded_share": share(self.fills_grounded, self.fills_checked),
            },
            "duration_ms": self.duration_percentiles(),
        }
