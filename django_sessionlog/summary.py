"""Figures over many rows: counts, shares and percentiles, weighted.

A row kept at ``sample_rate`` r stands for 1/r sessions, so every count
here is a sum of weights, and the summary says when it holds estimates.
Durations are kept as a count per distinct value rather than a list: exact
percentiles in memory bounded by how many distinct durations there are,
not by how many rows (ten million rows of millisecond durations fit in a
few megabytes).

Per row only what cannot be derived later is counted: the verdict counts,
the overall durations and the mean iterations all come from the per-kind
tables when asked for. ``stats`` and ``report`` (which extends this) read
millions of rows, so the per-row work is kept to a few dictionary updates.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Mapping
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


def floats() -> defaultdict[Any, float]:
    return defaultdict(float)


@dataclass
class Summary:
    """What ``stats`` prints; ``report.ReportData`` builds on it.

    Per row, the categorical fields are counted together under one key,
    ``(kind, verdict, iterations, grounded_in_roster, *detail)``: one
    dictionary update instead of one per table, and every table (by kind,
    by verdict, iterations, roster grounding, and the report's by day and by
    model) is a sum over these keys, of which there are few.
    """

    rows: int = 0
    sessions: float = 0.0
    sampled_rows: int = 0
    first: datetime.datetime | None = None
    last: datetime.datetime | None = None
    combos: defaultdict[tuple[Any, ...], float] = field(default_factory=floats)
    durations_by_kind: defaultdict[str, defaultdict[int, float]] = field(
        default_factory=lambda: defaultdict(floats)
    )

    def add(self, row: Row, weight: float = 1.0, detail: tuple[Any, ...] = ()) -> None:
        """Count one row; ``weight`` is ``row.weight`` (passed in: it is asked once per row)."""
        self.rows += 1
        self.sessions += weight
        if weight != 1.0:
            self.sampled_rows += 1
        moment = row.timestamp
        if self.first is None or moment < self.first:
            self.first = moment
        if self.last is None or moment > self.last:
            self.last = moment
        kind = row.kind
        self.combos[(kind, row.final_verdict, row.iterations, row.grounded_in_roster, *detail)] += weight
        self.durations_by_kind[kind][row.duration_ms] += weight

    def table(self, *positions: int) -> defaultdict[Any, defaultdict[str, float]]:
        """Sessions by the key fields at ``positions``, then by verdict."""
        out: defaultdict[Any, defaultdict[str, float]] = defaultdict(floats)
        for key, count in self.combos.items():
            label = key[positions[0]] if len(positions) == 1 else tuple(key[p] for p in positions)
            out[label][key[1]] += count
        return out

    @property
    def by_kind(self) -> defaultdict[Any, defaultdict[str, float]]:
        return self.table(0)

    @property
    def iterations(self) -> defaultdict[int, float]:
        out: defaultdict[int, float] = defaultdict(float)
        for key, count in self.combos.items():
            out[key[2]] += count
        return out

    def roster(self) -> tuple[float, float, float]:
        """(accepted fills, of them checked by the roster check, of them grounded)."""
        accepted = checked = grounded = 0.0
        for (kind, verdict, _, answer, *_), count in self.combos.items():
            if kind == "fill" and verdict == "accepted":
                accepted += count
                if answer is True or answer is False:
                    checked += count
                    if answer:
                        grounded += count
        return accepted, checked, grounded

    @property
    def estimated(self) -> bool:
        """Whether figures are estimates (some rows stand for sampled-out sessions)."""
        return self.sampled_rows > 0

    @property
    def by_verdict(self) -> dict[str, float]:
        totals = dict.fromkeys(VERDICTS, 0.0)
        for key, count in self.combos.items():
            totals[key[1]] = totals.get(key[1], 0.0) + count
        return totals

    @property
    def durations(self) -> dict[int, float]:
        merged: defaultdict[int, float] = defaultdict(float)
        for counts in self.durations_by_kind.values():
            for duration, count in counts.items():
                merged[duration] += count
        return merged

    @property
    def mean_iterations(self) -> float | None:
        if not self.sessions:
            return None
        return float(sum(key[2] * count for key, count in self.combos.items())) / self.sessions

    def duration_percentiles(self, counts: Mapping[int, float] | None = None) -> dict[str, int | None]:
        counts = self.durations if counts is None else counts
        return {f"p{q}": percentile(counts, q) for q in PERCENTILES}

    def as_dict(self) -> dict[str, Any]:
        """The summary for machines (``stats --json``)."""
        by_verdict = self.by_verdict
        accepted, checked, grounded = self.roster()
        return {
            "rows": self.rows,
            "sessions": round(self.sessions, 3),
            "estimated": self.estimated,
            "first": self.first.isoformat() if self.first else None,
            "last": self.last.isoformat() if self.last else None,
            "by_verdict": {v: round(by_verdict[v], 3) for v in VERDICTS},
            "by_kind": {
                kind: {v: round(counts.get(v, 0.0), 3) for v in VERDICTS}
                for kind, counts in sorted(self.by_kind.items())
            },
            "iterations": {str(n): round(w, 3) for n, w in sorted(self.iterations.items())},
            "mean_iterations": self.mean_iterations,
            "roster": {
                "accepted_fills": round(accepted, 3),
                "checked": round(checked, 3),
                "grounded": round(grounded, 3),
                "grounded_share": share(grounded, checked),
            },
            "duration_ms": self.duration_percentiles(),
        }
