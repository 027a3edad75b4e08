"""Figures over many rows: counts, shares and percentiles, weighted.

A row kept at ``sample_rate`` r stands for 1/r sessions, so every count
here is a sum of weights, and the summary says when it holds estimates.
Durations are kept as a count per distinct value rather than a list: exact
percentiles in memory bounded by how many distinct durations there are,
not by how many rows (ten million rows of millisecond durations fit in a
few megabytes).

Per row only what cannot be derived later is counted: the verdict counts,
the overall durations and the mean iterations all come from the per-kind
tables when asked for. ``stats`` and ``report`` (whose figures hold one of
these) read millions of rows, so the per-row work is kept to a few
dictionary updates.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec

from ...row import ACCEPTED, VERDICTS
from ..sources.rules import DecodedRow
from .cost import Prices
from .usage import UsageFigures, usage_json

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


def _three() -> list[float]:
    return [0.0, 0.0, 0.0]


def floats() -> defaultdict[Any, float]:
    return defaultdict(float)


def add_tables(into: Mapping[Any, defaultdict[Any, float]], other: Mapping[Any, Mapping[Any, float]]) -> None:
    """Add counts table to table: ``into[a][b] += other[a][b]``."""
    for key, counts in other.items():
        target = into[key]
        for inner, count in counts.items():
            target[inner] += count


@dataclass
class Summary:
    """What ``stats`` prints; ``report.ReportData`` holds one.

    Per row, only what cannot be derived later is counted: verdict totals,
    the overall durations and the mean iterations come from these tables
    when asked for. (One counter keyed by a tuple of all the categorical
    fields was tried: hashing and comparing the tuples cost more than the
    separate updates, 6.7 against 4.2 us a row in the report.)
    """

    rows: int = 0
    sessions: float = 0.0
    sampled_rows: int = 0
    first: datetime.datetime | None = None
    last: datetime.datetime | None = None
    by_kind: defaultdict[str, defaultdict[str, float]] = field(default_factory=lambda: defaultdict(floats))
    iterations: defaultdict[int, float] = field(default_factory=floats)
    durations_by_kind: defaultdict[str, defaultdict[int, float]] = field(
        default_factory=lambda: defaultdict(floats)
    )
    #: kind -> [accepted, of them checked by a roster check, of them grounded]
    roster_by_kind: defaultdict[str, list[float]] = field(default_factory=lambda: defaultdict(_three))
    usage: UsageFigures = field(default_factory=UsageFigures)

    def add(self, row: DecodedRow, weight: float = 1.0) -> None:
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
        verdict = row.final_verdict
        self.by_kind[kind][verdict] += weight
        self.iterations[row.iterations] += weight
        self.durations_by_kind[kind][row.duration_ms] += weight
        if verdict == ACCEPTED:
            roster = self.roster_by_kind[kind]
            roster[0] += weight
            grounded = row.grounded_in_roster
            if grounded is True or grounded is False:
                roster[1] += weight
                if grounded:
                    roster[2] += weight
        if row.usage is not msgspec.UNSET:
            self.usage.add(row, weight)

    def merge(self, other: Summary) -> None:
        """Add the counts of ``other``: the same figures over another part of the rows."""
        self.rows += other.rows
        self.sessions += other.sessions
        self.sampled_rows += other.sampled_rows
        firsts = [m for m in (self.first, other.first) if m is not None]
        lasts = [m for m in (self.last, other.last) if m is not None]
        self.first = min(firsts) if firsts else None
        self.last = max(lasts) if lasts else None
        add_tables(self.by_kind, other.by_kind)
        add_tables(self.durations_by_kind, other.durations_by_kind)
        for value, count in other.iterations.items():
            self.iterations[value] += count
        for kind, counts in other.roster_by_kind.items():
            mine = self.roster_by_kind[kind]
            for index, part in enumerate(counts):
                mine[index] += part
        self.usage.merge(other.usage)

    def roster(self, kind: str | None = None) -> tuple[float, float, float]:
        """(accepted sessions, of them checked by a roster check, of them grounded), of one kind or all.

        Over all kinds, only the kinds a roster check answered for count:
        kinds without one have nothing to be grounded in.
        """
        if kind is not None:
            accepted, checked, grounded = self.roster_by_kind.get(kind, (0.0, 0.0, 0.0))
            return accepted, checked, grounded
        totals = [0.0, 0.0, 0.0]
        for counts in self.roster_checked().values():
            for index, value in enumerate(counts):
                totals[index] += value
        return totals[0], totals[1], totals[2]

    def roster_checked(self) -> dict[str, list[float]]:
        """The kinds with accepted rows a roster check answered for, largest first."""
        found = {kind: counts for kind, counts in self.roster_by_kind.items() if counts[1]}
        return dict(sorted(found.items(), key=lambda item: (-item[1][1], item[0])))

    @property
    def estimated(self) -> bool:
        """Whether figures are estimates (some rows stand for sampled-out sessions)."""
        return self.sampled_rows > 0

    @property
    def by_verdict(self) -> dict[str, float]:
        totals = dict.fromkeys(VERDICTS, 0.0)
        for counts in self.by_kind.values():
            for verdict, count in counts.items():
                totals[verdict] = totals.get(verdict, 0.0) + count
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
        return sum(n * w for n, w in self.iterations.items()) / self.sessions

    def duration_percentiles(self, counts: Mapping[int, float] | None = None) -> dict[str, int | None]:
        counts = self.durations if counts is None else counts
        return {f"p{q}": percentile(counts, q) for q in PERCENTILES}

    def as_dict(self, prices: Prices | None = None) -> dict[str, Any]:
        """The summary for machines (``stats --json``).

        Counts of sessions are integers; only when sampled rows stand for
        more sessions than they are (``estimated``) are they estimates,
        written with three decimals, and ``weighting`` says how.
        """
        by_verdict = self.by_verdict
        accepted, checked, grounded = self.roster()

        def n(value: float) -> float | int:
            return round(value, 3) if self.estimated else round(value)

        figures: dict[str, Any] = {
            "rows": self.rows,
            "sessions": n(self.sessions),
            "estimated": self.estimated,
        }
        if self.estimated:
            figures["weighting"] = (
                f"{self.sampled_rows} sampled rows count 1/sample_rate sessions each; counts are estimates"
            )
        figures = figures | {
            "first": self.first.isoformat() if self.first else None,
            "last": self.last.isoformat() if self.last else None,
            "by_verdict": {v: n(by_verdict[v]) for v in VERDICTS},
            "by_kind": {
                kind: {v: n(counts.get(v, 0.0)) for v in VERDICTS}
                for kind, counts in sorted(self.by_kind.items())
            },
            "iterations": {str(k): n(w) for k, w in sorted(self.iterations.items())},
            "mean_iterations": self.mean_iterations,
            "roster": {
                "accepted": n(accepted),
                "checked": n(checked),
                "grounded": n(grounded),
                "grounded_share": share(grounded, checked),
                "by_kind": {
                    kind: {
                        "accepted": n(a),
                        "checked": n(c),
                        "grounded": n(g),
                        "grounded_share": share(g, c),
                    }
                    for kind, (a, c, g) in self.roster_checked().items()
                },
            },
            "duration_ms": self.duration_percentiles(),
        }
        if self.usage:
            figures |= usage_json(self.usage, prices or Prices(), n)
        return figures
