"""The figures of the HTML report, gathered in one pass over the rows.

Everything is kept as counts, never as a list of rows, so memory depends on
how many days, kinds, models, distinct durations and error groups there
are, not on how many sessions: a ten-million-row log reports in well under
a gigabyte. The page itself is drawn by ``report_page``.
"""

from __future__ import annotations

import datetime
import heapq
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, TypeVar

from ..sources import parallel
from ..sources.rows import Tally
from ..sources.rules import DecodedRow
from ..sources.window import Window
from .errors import ErrorGroups
from .stats import PERCENTILES, Summary, add_tables, floats, percentile

UTC = datetime.timezone.utc

Entry = TypeVar("Entry", bound=tuple[object, ...])


class Brief(NamedTuple):
    """What the report shows of one session in its top lists."""

    session_id: str
    timestamp: datetime.datetime
    kind: str
    model: str
    verdict: str
    iterations: int
    max_iterations: int
    duration_ms: int


@dataclass
class ReportData:
    """Counts for every chart and table of the report: the summary ``stats`` prints, and more."""

    first_row_number: int = 0  # rows are numbered in reading order, so ties rank as in one pass
    top: int = 10
    summary: Summary = field(default_factory=Summary)
    errors: ErrorGroups = field(default_factory=ErrorGroups)
    by_day: defaultdict[datetime.date, defaultdict[str, float]] = field(
        default_factory=lambda: defaultdict(floats)
    )
    by_model: defaultdict[str, defaultdict[str, float]] = field(default_factory=lambda: defaultdict(floats))
    most_retried: list[tuple[int, int, int, Brief]] = field(default_factory=list)
    slowest: list[tuple[int, int, Brief]] = field(default_factory=list)
    _ranked: int = 0
    _retried_floor: int = -1
    _slowest_floor: int = -1

    def add(self, row: DecodedRow, weight: float = 1.0) -> None:
        self.summary.add(row, weight)
        self.errors.add(row, weight)
        verdict = row.final_verdict
        moment = row.timestamp
        if moment.tzinfo is not UTC:
            moment = moment.astimezone(UTC)
        self.by_day[moment.date()][verdict] += weight
        self.by_model[row.model][verdict] += weight
        # The top lists only change for a row that beats their smallest entry.
        if row.iterations >= self._retried_floor or row.duration_ms >= self._slowest_floor:
            self._rank(row, moment)

    def merge(self, other: ReportData) -> None:
        """Add the figures of ``other``, gathered from a later part of the log."""
        self.summary.merge(other.summary)
        self.errors.merge(other.errors)
        add_tables(self.by_day, other.by_day)
        add_tables(self.by_model, other.by_model)
        for retried in other.most_retried:
            _push(self.most_retried, retried, self.top)
        for slow in other.slowest:
            _push(self.slowest, slow, self.top)

    def _rank(self, row: DecodedRow, moment: datetime.datetime) -> None:
        order = -(self.first_row_number + self._ranked)
        self._ranked += 1
        brief = Brief(
            row.session_id,
            moment,
            row.kind,
            row.model,
            row.final_verdict,
            row.iterations,
            row.max_iterations,
            row.duration_ms,
        )
        _push(self.most_retried, (row.iterations, row.duration_ms, order, brief), self.top)
        _push(self.slowest, (row.duration_ms, order, brief), self.top)
        if len(self.most_retried) == self.top:
            self._retried_floor = self.most_retried[0][0]
        if len(self.slowest) == self.top:
            self._slowest_floor = self.slowest[0][0]

    # --- what the page shows -----------------------------------------------

    def days(self) -> list[tuple[str, dict[str, float]]]:
        """Every day from the first to the last, gaps included, so the bars keep time."""
        by_day = self.by_day
        if not by_day:
            return []
        first, last = min(by_day), max(by_day)
        out = []
        for offset in range((last - first).days + 1):
            day = first + datetime.timedelta(days=offset)
            out.append((day.isoformat(), dict(by_day.get(day, {}))))
        return out

    def durations_table(self) -> list[tuple[str, float, dict[str, int | None]]]:
        rows = []
        for kind, durations in sorted(self.summary.durations_by_kind.items()):
            rows.append(
                (kind, sum(durations.values()), {f"p{q}": percentile(durations, q) for q in PERCENTILES})
            )
        return rows

    def most_retried_sessions(self) -> list[Brief]:
        return [entry[-1] for entry in sorted(self.most_retried, reverse=True)]

    def slowest_sessions(self) -> list[Brief]:
        return [entry[-1] for entry in sorted(self.slowest, reverse=True)]


def _push(heap: list[Entry], entry: Entry, size: int) -> None:
    if len(heap) < size:
        heapq.heappush(heap, entry)
    else:
        heapq.heappushpop(heap, entry)


def gather(
    names: Sequence[str],
    window: Window = Window(),
    *,
    workers: int | None = None,
    parallel_from: int = parallel.PARALLEL_FROM,
    start_method: str | None = None,
) -> tuple[ReportData, Tally]:
    """The report's figures over ``names``, big plain logs read on every core (``parallel``)."""
    return parallel.gather(
        names,
        window,
        ReportData,
        workers=workers,
        parallel_from=parallel_from,
        start_method=start_method,
    )
