"""The figures of the HTML report, gathered in one pass over the rows.

Everything is kept as counts, never as a list of rows, so memory depends on
how many days, kinds, models, distinct durations and error groups there
are, not on how many sessions: a ten-million-row log reports in well under
a gigabyte. The page itself is drawn by ``report_html``.
"""

from __future__ import annotations

import concurrent.futures
import datetime
import heapq
import multiprocessing
import os
import re
import threading
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, TypeVar

from . import reader
from .rules import Row
from .summary import PERCENTILES, Summary, add_tables, floats, percentile

#: Numbers and hex ids vary between errors that are the same error
#: ("worker W-9123 is not on the roster"); they are folded to ``#``.
UTC = datetime.timezone.utc
_VARIABLE = re.compile(r"[0-9a-fA-F]{8,}|\d+(?:\.\d+)?")
ERROR_TEXT_LIMIT = 300


Entry = TypeVar("Entry", bound=tuple[object, ...])


def error_group(text: str) -> str:
    """The group an error message belongs to."""
    return _VARIABLE.sub("#", text[:ERROR_TEXT_LIMIT])


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
class ErrorGroup:
    text: str  # the folded message, as shown
    verdict_kind: str
    count: float
    examples: list[str]  # session ids


@dataclass
class ReportData(Summary):
    """Counts for every chart and table of the report (the summary's and more)."""

    top: int = 10
    examples: int = 3
    max_error_groups: int = 10_000
    by_day: defaultdict[datetime.date, defaultdict[str, float]] = field(
        default_factory=lambda: defaultdict(floats)
    )
    by_model: defaultdict[str, defaultdict[str, float]] = field(default_factory=lambda: defaultdict(floats))
    most_retried: list[tuple[int, int, int, Brief]] = field(default_factory=list)
    slowest: list[tuple[int, int, Brief]] = field(default_factory=list)
    # Error groups live in parallel lists indexed by group number: a list
    # slot is cheaper to bump than an object's attribute, and a row has
    # one or two errors. Group 0 collects what overflows max_error_groups.
    error_labels: list[tuple[str, str]] = field(default_factory=lambda: [("", "")])
    error_counts: list[float] = field(default_factory=lambda: [0.0])
    error_examples: list[list[str]] = field(default_factory=lambda: [[]])
    error_wanted: list[int] = field(default_factory=lambda: [0])
    _group_of_label: dict[tuple[str, str], int] = field(default_factory=dict)
    _group_of_message: dict[tuple[str, str], int] = field(default_factory=dict)
    # Rows are numbered in reading order so ties rank as in one pass; a part
    # read in another process starts its numbers where the parts before end.
    first_order: int = 0
    _read: int = 0
    _retried_floor: int = -1
    _slowest_floor: int = -1

    def add(self, row: Row, weight: float = 1.0) -> None:
        Summary.add(self, row, weight)
        verdict = row.final_verdict
        moment = row.timestamp
        if moment.tzinfo is not UTC:
            moment = moment.astimezone(UTC)
        self.by_day[moment.date()][verdict] += weight
        self.by_model[row.model][verdict] += weight
        groups, counts, wanted = self._group_of_message, self.error_counts, self.error_wanted
        for attempt in row.attempts or ():
            error = attempt.error
            if error:
                number = groups.get((attempt.verdict_kind, error))
                if number is None:
                    number = self._group(attempt.verdict_kind, error)
                counts[number] += weight
                if wanted[number] and row.session_id not in self.error_examples[number]:
                    self.error_examples[number].append(row.session_id)
                    wanted[number] -= 1
        # The top lists only change for a row that beats their smallest entry.
        if row.iterations >= self._retried_floor or row.duration_ms >= self._slowest_floor:
            self._rank(row, moment)

    def _group(self, verdict_kind: str, error: str) -> int:
        """The group number of a message not seen before (numbers and ids folded)."""
        if len(self._group_of_message) > 200_000:  # a cache of raw messages: keep it bounded
            self._group_of_message.clear()
        label = (verdict_kind, error_group(error))
        number = self._group_of_label.get(label)
        if number is None:
            if len(self.error_labels) > self.max_error_groups:
                number = 0
            else:
                number = self._group_of_label[label] = len(self.error_labels)
                self.error_labels.append(label)
                self.error_counts.append(0.0)
                self.error_examples.append([])
                self.error_wanted.append(self.examples)
        self._group_of_message[(verdict_kind, error)] = number
        return number

    def merge(self, other: ReportData) -> None:  # type: ignore[override]
        """Add the figures of ``other``, gathered from a later part of the log."""
        Summary.merge(self, other)
        add_tables(self.by_day, other.by_day)
        add_tables(self.by_model, other.by_model)
        self.error_counts[0] += other.error_counts[0]
        for number, label in enumerate(other.error_labels):
            if not number:
                continue
            mine = self._group_of_label.get(label)
            if mine is None:
                if len(self.error_labels) > self.max_error_groups:
                    self.error_counts[0] += other.error_counts[number]
                    continue
                mine = self._group_of_label[label] = len(self.error_labels)
                self.error_labels.append(label)
                self.error_counts.append(0.0)
                self.error_examples.append([])
                self.error_wanted.append(self.examples)
            self.error_counts[mine] += other.error_counts[number]
            for session_id in other.error_examples[number]:
                if self.error_wanted[mine] and session_id not in self.error_examples[mine]:
                    self.error_examples[mine].append(session_id)
                    self.error_wanted[mine] -= 1
        for retried in other.most_retried:
            _push(self.most_retried, retried, self.top)
        for slow in other.slowest:
            _push(self.slowest, slow, self.top)

    @property
    def other_errors(self) -> float:
        """Errors in groups past ``max_error_groups``, counted but not shown."""
        return self.error_counts[0]

    def _rank(self, row: Row, moment: datetime.datetime) -> None:
        order = -(self.first_order + self._read)
        self._read += 1
        brief = _brief(row, moment)
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

    def top_errors(self, count: int = 15) -> list[ErrorGroup]:
        groups = [
            ErrorGroup(text, verdict_kind, self.error_counts[number], self.error_examples[number])
            for number, (verdict_kind, text) in enumerate(self.error_labels)
            if number
        ]
        return sorted(groups, key=lambda g: (-g.count, g.text))[:count]

    def durations_table(self) -> list[tuple[str, float, dict[str, int | None]]]:
        rows = []
        for kind, durations in sorted(self.durations_by_kind.items()):
            rows.append(
                (kind, sum(durations.values()), {f"p{q}": percentile(durations, q) for q in PERCENTILES})
            )
        return rows

    def most_retried_sessions(self) -> list[Brief]:
        return [entry[-1] for entry in sorted(self.most_retried, reverse=True)]

    def slowest_sessions(self) -> list[Brief]:
        return [entry[-1] for entry in sorted(self.slowest, reverse=True)]


def _brief(row: Row, moment: datetime.datetime) -> Brief:
    return Brief(
        row.session_id,
        moment,
        row.kind,
        row.model,
        row.final_verdict,
        row.iterations,
        row.max_iterations,
        row.duration_ms,
    )


def _push(heap: list[Entry], entry: Entry, size: int) -> None:
    if len(heap) < size:
        heapq.heappush(heap, entry)
    else:
        heapq.heappushpop(heap, entry)


# --- reading a log on every core ---------------------------------------------

#: Below this a log is read in one process: forking costs more than it saves.
PARALLEL_FROM = 64 << 20


def gather(
    names: Sequence[str],
    since: datetime.datetime | None = None,
    until: datetime.datetime | None = None,
    workers: int | None = None,
    parallel_from: int = PARALLEL_FROM,
    start_method: str | None = None,
) -> tuple[ReportData, reader.Tally]:
    """The report's figures over ``names``, big plain logs read on every core.

    Decoding is most of the cost and Python runs it on one core, so a big
    log is cut at line boundaries and each part counted in a process of its
    own; the parts' figures add up to the same report (each part numbers
    its rows after the previous part's, so ties in the top lists and the
    example sessions come out as in one pass). ``start_method`` is for
    tests; see ``start_method_for_workers``.
    """
    workers = workers or os.cpu_count() or 1
    parts: list[reader.Part] = []
    for name in names:
        big = name != "-" and not name.endswith(".gz") and _size(name) >= parallel_from
        parts.extend(reader.split(name, workers) if big else [reader.Part(name)])
    if workers < 2 or len(parts) < 2:
        return _gather_parts(parts, since, until, 0)
    context = multiprocessing.get_context(start_method or start_method_for_workers())
    count = len(parts)
    with concurrent.futures.ProcessPoolExecutor(max_workers=min(workers, count), mp_context=context) as pool:
        # Row numbers of a part start past any number of rows the parts before can hold.
        firsts = [index << 40 for index in range(count)]
        results = list(
            pool.map(_gather_parts, [[p] for p in parts], [since] * count, [until] * count, firsts)
        )
    data, tally = results[0]
    for more, more_tally in results[1:]:
        data.merge(more)
        tally.add(more_tally)
    return data, tally


def start_method_for_workers() -> str:
    """How to start the worker processes: Python's default, but never a fork of a threaded process.

    Forking copies one thread of a process that may run others (a web
    worker, Celery, a host's own threads); a lock another thread held stays
    held in the child forever, which Python 3.12 warns of. Then the workers
    come from the fork server (a clean single-threaded process), as they do
    by default from Python 3.14 on, or are spawned where there is none.
    """
    method = (
        multiprocessing.get_start_method(allow_none=True) or multiprocessing.get_context().get_start_method()
    )
    if method == "fork" and threading.active_count() > 1:
        return "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    return method


def _gather_parts(
    parts: Sequence[reader.Part],
    since: datetime.datetime | None,
    until: datetime.datetime | None,
    first_order: int,
) -> tuple[ReportData, reader.Tally]:
    inside = reader.in_window(since, until)
    tally = reader.Tally()
    data = ReportData(first_order=first_order)
    add = data.add
    for _, _, _, row in reader.iter_rows(parts, tally):
        if inside is None or inside(row):
            add(row, row.weight)
    return data, tally


def _size(name: str) -> int:
    try:
        return os.path.getsize(name)
    except OSError:
        return 0
