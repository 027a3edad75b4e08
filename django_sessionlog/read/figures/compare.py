"""Did a change make sessions better or worse? Two sides' figures, their differences and verdicts.

One pass over the logs fills both sides at once (``CompareData``, read on
every core by ``parallel``); ``compare`` then gives, for each side as a
whole and for each kind, six metrics (and two over the rows that carry
token usage: tokens per session, cost per accepted session) with the two values, the difference
(candidate minus baseline), a 95% interval of it (``intervals``) and a
verdict:

- ``worse``/``better``: the interval lies wholly on the bad/good side of 0
  and the change is big enough to matter (``min_change`` absolute for
  rates, 10% of the baseline for iterations and durations);
- ``unchanged``: otherwise;
- ``too_few``: a side has fewer than ``min_sessions`` (effective) sessions,
  or, for the usage metrics, fewer rows that carry usage (and a price).
"""

from __future__ import annotations

import datetime
import math
import zlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec

from ...row import ACCEPTED, INFRA_ERROR
from ..sources import parallel
from ..sources.rows import Tally
from ..sources.rules import DecodedRow
from ..sources.window import Window
from . import intervals
from .cost import Prices, utc_day
from .errors import ErrorGroup, ErrorGroups
from .sides import Side
from .stats import floats, percentile

#: Iterations and durations: a change smaller than this share of the baseline is no change.
RELATIVE_CHANGE = 0.10

#: Error groups listed: those whose share of sessions grew most (new ones among them).
ERROR_GROUPS = 10

#: The retry curves go to the last attempt a session was accepted at, and no further than this.
RETRY_CURVE = 20


@dataclass(frozen=True)
class Metric:
    name: str
    label: str  # for people
    higher_is_better: bool
    rate: bool  # a proportion: its minimum change is absolute
    method: str


METRICS = (
    Metric("accept_rate", "accept rate", True, True, "Newcombe hybrid score (Wilson)"),
    Metric("first_try_accept_rate", "first-try accepts", True, True, "Newcombe hybrid score (Wilson)"),
    Metric("infra_error_rate", "infra error rate", False, True, "Newcombe hybrid score (Wilson)"),
    Metric("mean_iterations", "mean iterations", False, False, "Welch t (Satterthwaite df)"),
    Metric("p50_duration_ms", "p50 duration", False, False, "percentile bootstrap (2,000 replicates)"),
    Metric("p95_duration_ms", "p95 duration", False, False, "percentile bootstrap (2,000 replicates)"),
    Metric("tokens_per_session", "tokens per session", False, False, "Welch t (Satterthwaite df)"),
    Metric(
        "cost_per_accepted_usd",
        "cost per accepted",
        False,
        False,
        "Welch t on the linearized ratio estimator (Cochran 1977, 6.3)",
    ),
)

#: The metrics only rows carrying usage (and, for cost, a price) count towards.
USAGE_METRICS = {"tokens_per_session": "usage", "cost_per_accepted_usd": "priced"}


@dataclass
class Bucket:
    """The sums one side's sessions (or one kind's) need for every metric, weighted.

    Each sum of ``w * y`` has its sum of ``w * w * y`` beside it: with
    sampled rows the weights depend on the outcome, and the intervals need
    the linearized variance (``intervals``), which those sums give.
    """

    rows: int = 0
    sessions: float = 0.0  # sum of weights
    squares: float = 0.0  # sum of squared weights
    accepted: float = 0.0
    accepted_squares: float = 0.0
    first_try: float = 0.0
    first_try_squares: float = 0.0
    infra: float = 0.0
    infra_squares: float = 0.0
    iterations: float = 0.0  # sum of w * x
    iterations_squared: float = 0.0  # sum of w * x^2
    iterations_squares: float = 0.0  # sum of w^2 * x
    iterations_squared_squares: float = 0.0  # sum of w^2 * x^2
    # Rows carrying usage: their weights and tokens (input + output), as for iterations.
    usage_rows: int = 0
    usage_sessions: float = 0.0
    usage_squares: float = 0.0
    tokens: float = 0.0
    tokens_squared: float = 0.0
    tokens_squares: float = 0.0
    tokens_squared_squares: float = 0.0
    # Rows carrying usage of a priced model: cost c and accepted a, for the ratio sum(wc) / sum(wa).
    priced_rows: int = 0
    priced_sessions: float = 0.0
    priced_squares: float = 0.0
    priced_accepted: float = 0.0
    priced_accepted_squares: float = 0.0
    cost: float = 0.0
    cost_squared_squares: float = 0.0  # sum of w^2 c^2
    cost_accepted_squares: float = 0.0  # sum of w^2 c a
    durations: defaultdict[int, float] = field(default_factory=floats)
    # Accepted sessions by the iterations they took.
    accepted_at: defaultdict[int, float] = field(default_factory=floats)

    def add(self, row: DecodedRow, weight: float) -> None:
        self.rows += 1
        square = weight * weight
        self.sessions += weight
        self.squares += square
        iterations = row.iterations
        verdict = row.final_verdict
        if verdict == ACCEPTED:
            self.accepted += weight
            self.accepted_squares += square
            self.accepted_at[iterations] += weight
            if iterations == 1:
                self.first_try += weight
                self.first_try_squares += square
        elif verdict == INFRA_ERROR:
            self.infra += weight
            self.infra_squares += square
        self.iterations += weight * iterations
        self.iterations_squared += weight * iterations * iterations
        self.iterations_squares += square * iterations
        self.iterations_squared_squares += square * iterations * iterations
        self.durations[row.duration_ms] += weight

    def add_usage(self, accepted: bool, tokens: int, weight: float, cost: float | None) -> None:
        """Count a row that carries usage: its tokens, and its cost when its model has a price."""
        square = weight * weight
        self.usage_rows += 1
        self.usage_sessions += weight
        self.usage_squares += square
        self.tokens += weight * tokens
        self.tokens_squared += weight * tokens * tokens
        self.tokens_squares += square * tokens
        self.tokens_squared_squares += square * tokens * tokens
        if cost is None:
            return
        self.priced_rows += 1
        self.priced_sessions += weight
        self.priced_squares += square
        self.cost += weight * cost
        self.cost_squared_squares += square * cost * cost
        if accepted:
            self.priced_accepted += weight
            self.priced_accepted_squares += square
            self.cost_accepted_squares += square * cost

    def usage_effective(self, which: str) -> float:
        """Kish's effective size of the rows with usage (``"usage"``) or with a priced model (``"priced"``)."""
        sessions, squares = (
            (self.usage_sessions, self.usage_squares)
            if which == "usage"
            else (self.priced_sessions, self.priced_squares)
        )
        if not squares:
            return 0.0
        found = sessions * sessions / squares
        return (
            found
            if math.isfinite(found)
            else float(self.usage_rows if which == "usage" else self.priced_rows)
        )

    def tokens_per_session(self) -> float | None:
        return self.tokens / self.usage_sessions if self.usage_sessions else None

    def tokens_squared_error(self) -> float:
        """The variance of the weighted mean of tokens (linearized, as for iterations)."""
        n = self.usage_effective("usage")
        if not self.usage_sessions or n <= 1:
            return 0.0
        mean = self.tokens / self.usage_sessions
        spread = (
            self.tokens_squared_squares - 2 * mean * self.tokens_squares + mean * mean * self.usage_squares
        )
        found = max(0.0, spread) / (self.usage_sessions * self.usage_sessions) * n / (n - 1)
        return found if math.isfinite(found) else 0.0

    def cost_per_accepted(self) -> float | None:
        return self.cost / self.priced_accepted if self.priced_accepted else None

    def cost_squared_error(self) -> float:
        """The variance of ``sum(wc) / sum(wa)`` by linearization: sum w^2 (c - R a)^2 / (sum wa)^2."""
        n = self.usage_effective("priced")
        if not self.priced_accepted or n <= 1:
            return 0.0
        ratio = self.cost / self.priced_accepted
        spread = (
            self.cost_squared_squares
            - 2 * ratio * self.cost_accepted_squares
            + ratio * ratio * self.priced_accepted_squares
        )
        found = max(0.0, spread) / (self.priced_accepted * self.priced_accepted) * n / (n - 1)
        return found if math.isfinite(found) else 0.0

    def merge(self, other: Bucket) -> None:
        for name in _SUMS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for value, weight in other.durations.items():
            self.durations[value] += weight
        for value, weight in other.accepted_at.items():
            self.accepted_at[value] += weight

    @property
    def effective(self) -> float:
        """Kish's effective sample size: what the weighted rows are worth for a percentile.

        A weight so large (a sample rate so small) that its square overflows
        leaves only the rows themselves to go by.
        """
        if not self.squares:
            return 0.0
        found = self.sessions * self.sessions / self.squares
        return found if math.isfinite(found) else float(self.rows)

    def share(self, part: float) -> float | None:
        return part / self.sessions if self.sessions else None

    def rate(self, part: float, part_squares: float) -> tuple[float, float]:
        """A rate and the effective size its interval is taken at (the linearized variance's)."""
        p = part / self.sessions
        variance = (part_squares * (1 - 2 * p) + p * p * self.squares) / (self.sessions * self.sessions)
        if not math.isfinite(variance) or variance <= 0 or not 0 < p < 1:
            return p, self.effective
        return p, p * (1 - p) / variance

    def mean_iterations(self) -> float | None:
        return self.iterations / self.sessions if self.sessions else None

    def mean_iterations_squared_error(self) -> float:
        """The variance of the weighted mean of iterations (linearized; s^2/n for plain rows)."""
        n = self.effective
        if not self.sessions or n <= 1:
            return 0.0
        mean = self.iterations / self.sessions
        spread = (
            self.iterations_squared_squares - 2 * mean * self.iterations_squares + mean * mean * self.squares
        )
        # n / (n - 1): the unbiased sample variance's correction, as in s^2 / n.
        found = max(0.0, spread) / (self.sessions * self.sessions) * n / (n - 1)
        if math.isfinite(found):
            return found
        variance = max(0.0, self.iterations_squared / self.sessions - mean * mean)
        return variance / (n - 1)  # overflowing weights: the plain s^2 / n

    def retry_curve(self, longest: int) -> list[float | None]:
        """The share of sessions accepted by attempt 1, 2, ..., ``longest``."""
        curve: list[float | None] = []
        running = 0.0
        for attempt in range(1, longest + 1):
            running += self.accepted_at.get(attempt, 0.0)
            curve.append(self.share(running))
        return curve


_SUMS = (
    "rows",
    "sessions",
    "squares",
    "accepted",
    "accepted_squares",
    "first_try",
    "first_try_squares",
    "infra",
    "infra_squares",
    "iterations",
    "iterations_squared",
    "iterations_squares",
    "iterations_squared_squares",
    "usage_rows",
    "usage_sessions",
    "usage_squares",
    "tokens",
    "tokens_squared",
    "tokens_squares",
    "tokens_squared_squares",
    "priced_rows",
    "priced_sessions",
    "priced_squares",
    "priced_accepted",
    "priced_accepted_squares",
    "cost",
    "cost_squared_squares",
    "cost_accepted_squares",
)


@dataclass
class SideData:
    """One side's figures: all its sessions, each kind's, and its error groups."""

    overall: Bucket = field(default_factory=Bucket)
    kinds: dict[str, Bucket] = field(default_factory=dict)
    errors: ErrorGroups = field(default_factory=ErrorGroups)
    first: datetime.datetime | None = None
    last: datetime.datetime | None = None

    def add(self, row: DecodedRow, weight: float, prices: Prices | None = None) -> None:
        self.overall.add(row, weight)
        bucket = self.kinds.get(row.kind)
        if bucket is None:
            bucket = self.kinds[row.kind] = Bucket()
        bucket.add(row, weight)
        usage = row.usage
        if usage is not msgspec.UNSET:
            price = None if prices is None else prices.price(row.model, row.provider, utc_day(row.timestamp))
            cost = (
                None
                if price is None
                else price.cost(
                    usage.input_tokens, usage.output_tokens, usage.cache_read_tokens, usage.cache_write_tokens
                )
            )
            accepted = row.final_verdict == ACCEPTED
            tokens = usage.input_tokens + usage.output_tokens
            self.overall.add_usage(accepted, tokens, weight, cost)
            bucket.add_usage(accepted, tokens, weight, cost)
        if row.attempts:
            self.errors.add(row, weight)
        moment = row.timestamp
        if self.first is None or moment < self.first:
            self.first = moment
        if self.last is None or moment > self.last:
            self.last = moment

    def merge(self, other: SideData) -> None:
        self.overall.merge(other.overall)
        for kind, bucket in other.kinds.items():
            self.kinds.setdefault(kind, Bucket()).merge(bucket)
        self.errors.merge(other.errors)
        moments = [m for m in (self.first, self.last, other.first, other.last) if m is not None]
        self.first, self.last = (min(moments), max(moments)) if moments else (None, None)


@dataclass
class CompareData:
    """Both sides' figures, filled in one pass (a row may be on both sides)."""

    first_row_number: int = 0  # part of the parallel reader's contract; ties do not matter here
    sides: tuple[Side, Side] = (Side(""), Side(""))
    prices: Prices | None = None
    baseline: SideData = field(default_factory=SideData)
    candidate: SideData = field(default_factory=SideData)

    def __post_init__(self) -> None:
        self._on_baseline = self.sides[0].test()
        self._on_candidate = self.sides[1].test()

    def __getstate__(self) -> dict[str, Any]:
        # The side tests are closures: made again from the sides after unpickling.
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_on_")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.__post_init__()

    def add(self, row: DecodedRow, weight: float) -> None:
        if self._on_baseline(row):
            self.baseline.add(row, weight, self.prices)
        if self._on_candidate(row):
            self.candidate.add(row, weight, self.prices)

    def merge(self, other: CompareData) -> None:
        self.baseline.merge(other.baseline)
        self.candidate.merge(other.candidate)


def gather(
    names: Sequence[str], baseline: Side, candidate: Side, prices: Prices | None = None, **options: Any
) -> tuple[CompareData, Tally]:
    """Both sides' figures over ``names`` in one pass (big plain logs on every core)."""
    return parallel.gather(names, Window(), _Factory((baseline, candidate), prices), **options)


@dataclass(frozen=True)
class _Factory:
    """Makes the figures of one part; a class, so the worker processes can be given it."""

    sides: tuple[Side, Side]
    prices: Prices | None = None

    def __call__(self, first_row_number: int) -> CompareData:
        return CompareData(first_row_number, self.sides, self.prices)


# --- from figures to verdicts ------------------------------------------------


@dataclass
class Comparison:
    metric: Metric
    baseline: float | None
    candidate: float | None
    difference: float | None
    interval: tuple[float, float] | None
    verdict: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "baseline": self.baseline,
            "candidate": self.candidate,
            "difference": self.difference,
            "interval": list(self.interval) if self.interval else None,
            "verdict": self.verdict,
        }


def compare_buckets(
    baseline: Bucket, candidate: Bucket, *, min_change: float, min_sessions: float, seed: str = ""
) -> list[Comparison]:
    """Every metric of two buckets: values, difference, interval and verdict."""
    enough = min(baseline.effective, candidate.effective) >= min_sessions and baseline.rows and candidate.rows
    found = []
    for metric in METRICS:
        base, cand, interval = _values(metric, baseline, candidate, seed)
        difference = None if base is None or cand is None else cand - base
        counted = USAGE_METRICS.get(metric.name)
        if counted is not None:
            # Only the rows that carry usage (and a price, for cost) count.
            enough = (
                min(baseline.usage_effective(counted), candidate.usage_effective(counted)) >= min_sessions
            )
        if not enough or difference is None or interval is None or base is None:
            verdict = "too_few"
        else:
            verdict = _verdict(metric, base, difference, interval, min_change)
        found.append(Comparison(metric, base, cand, difference, interval, verdict))
    return found


def _values(
    metric: Metric, baseline: Bucket, candidate: Bucket, seed: str
) -> tuple[float | None, float | None, tuple[float, float] | None]:
    name = metric.name
    if name in USAGE_METRICS:
        return _usage_values(name, baseline, candidate)
    if not baseline.sessions or not candidate.sessions:
        return _value(metric, baseline), _value(metric, candidate), None
    if metric.rate:
        part = _RATE_SUMS[name]
        rate_base, n_base = baseline.rate(getattr(baseline, part), getattr(baseline, f"{part}_squares"))
        rate_cand, n_cand = candidate.rate(getattr(candidate, part), getattr(candidate, f"{part}_squares"))
        return rate_base, rate_cand, intervals.newcombe(rate_cand, n_cand, rate_base, n_base)
    if name == "mean_iterations":
        mean_base, mean_cand = (
            baseline.iterations / baseline.sessions,
            candidate.iterations / candidate.sessions,
        )
        interval = intervals.welch(
            mean_cand,
            candidate.mean_iterations_squared_error(),
            candidate.effective,
            mean_base,
            baseline.mean_iterations_squared_error(),
            baseline.effective,
        )
        return mean_base, mean_cand, interval
    q = 0.5 if name == "p50_duration_ms" else 0.95
    counted_base = intervals.Counted(baseline.durations, baseline.effective)
    counted_cand = intervals.Counted(candidate.durations, candidate.effective)
    interval = intervals.bootstrap_quantile_difference(
        counted_cand, counted_base, q, seed=zlib.crc32(f"{seed}:{name}".encode())
    )
    return _value(metric, baseline), _value(metric, candidate), interval


def _usage_values(
    name: str, baseline: Bucket, candidate: Bucket
) -> tuple[float | None, float | None, tuple[float, float] | None]:
    if name == "tokens_per_session":
        base, cand = baseline.tokens_per_session(), candidate.tokens_per_session()
        errors = baseline.tokens_squared_error(), candidate.tokens_squared_error()
        sizes = baseline.usage_effective("usage"), candidate.usage_effective("usage")
    else:
        base, cand = baseline.cost_per_accepted(), candidate.cost_per_accepted()
        errors = baseline.cost_squared_error(), candidate.cost_squared_error()
        sizes = baseline.usage_effective("priced"), candidate.usage_effective("priced")
    if base is None or cand is None:
        return base, cand, None
    return base, cand, intervals.welch(cand, errors[1], sizes[1], base, errors[0], sizes[0])


#: Which of a bucket's sums each rate counts.
_RATE_SUMS = {"accept_rate": "accepted", "first_try_accept_rate": "first_try", "infra_error_rate": "infra"}


def _value(metric: Metric, bucket: Bucket) -> float | None:
    name = metric.name
    if name == "accept_rate":
        return bucket.share(bucket.accepted)
    if name == "first_try_accept_rate":
        return bucket.share(bucket.first_try)
    if name == "infra_error_rate":
        return bucket.share(bucket.infra)
    if name == "mean_iterations":
        return bucket.mean_iterations()
    if name == "tokens_per_session":
        return bucket.tokens_per_session()
    if name == "cost_per_accepted_usd":
        return bucket.cost_per_accepted()
    found = percentile(bucket.durations, 50 if name == "p50_duration_ms" else 95)
    return None if found is None else float(found)


def _verdict(
    metric: Metric, baseline: float, difference: float, interval: tuple[float, float], min_change: float
) -> str:
    threshold = min_change if metric.rate else RELATIVE_CHANGE * abs(baseline)
    # "At least" the minimum change: 0.30 - 0.28 is 0.0199999..., which must count.
    if difference == 0 or abs(difference) < threshold * (1 - 1e-9):
        return "unchanged"
    low, high = interval
    if low > 0:
        return "better" if metric.higher_is_better else "worse"
    if high < 0:
        return "worse" if metric.higher_is_better else "better"
    return "unchanged"


@dataclass
class ErrorChange:
    group: ErrorGroup  # the candidate's (or the baseline's, when gone)
    baseline_share: float
    candidate_share: float

    @property
    def difference(self) -> float:
        return self.candidate_share - self.baseline_share

    @property
    def new(self) -> bool:
        return self.baseline_share == 0 and self.candidate_share > 0


def error_changes(data: CompareData, limit: int = ERROR_GROUPS) -> list[ErrorChange]:
    """The error groups whose share of sessions grew most, with every group new in the candidate first."""
    base_sessions = data.baseline.overall.sessions
    cand_sessions = data.candidate.overall.sessions
    if not cand_sessions:
        return []
    before = {(g.verdict_kind, g.text): g.sessions for g in data.baseline.errors.groups()}
    changes = []
    for group in data.candidate.errors.groups():
        share_before = (
            before.get((group.verdict_kind, group.text), 0.0) / base_sessions if base_sessions else 0.0
        )
        change = ErrorChange(group, share_before, group.sessions / cand_sessions)
        if change.difference > 0:
            changes.append(change)
    changes.sort(key=lambda c: (not c.new, -c.difference, c.group.text))
    return changes[:limit]


# --- the whole comparison ---------------------------------------------------


@dataclass
class Result:
    """Everything ``compare`` shows: both sides, every metric overall and by kind, error groups."""

    data: CompareData
    min_change: float
    min_sessions: float
    overall: list[Comparison]
    kinds: dict[str, list[Comparison]]
    errors: list[ErrorChange]

    @property
    def longest(self) -> int:
        """The retry curves' length: the last attempt any session was accepted at, at most RETRY_CURVE."""
        accepted = [*self.data.baseline.overall.accepted_at, *self.data.candidate.overall.accepted_at]
        return min(RETRY_CURVE, max([1, *accepted]))

    def regressions(self) -> list[str]:
        """``KIND.METRIC`` of every metric that got worse (``overall.METRIC`` for the whole)."""
        found = [f"overall.{c.metric.name}" for c in self.overall if c.verdict == "worse"]
        for kind, comparisons in self.kinds.items():
            found += [f"{kind}.{c.metric.name}" for c in comparisons if c.verdict == "worse"]
        return found

    def side_text(self, which: str) -> str:
        """The side as it was given (``which`` is ``baseline`` or ``candidate``)."""
        return self.data.sides[0 if which == "baseline" else 1].text

    def side(self, which: str) -> dict[str, Any]:
        side: SideData = getattr(self.data, which)
        overall = side.overall
        return {
            "side": self.side_text(which),
            "rows": overall.rows,
            "sessions": round(overall.sessions, 3),
            "effective_sessions": round(overall.effective, 3),
            "estimated": overall.rows != overall.sessions,
            "first": side.first.isoformat() if side.first else None,
            "last": side.last.isoformat() if side.last else None,
            "retry_curve": overall.retry_curve(self.longest),
        }

    def as_dict(self) -> dict[str, Any]:
        """The comparison for machines, as ``compare --json`` prints it.

        Each side, then each metric overall and by kind.
        """
        return {
            "baseline": self.side("baseline"),
            "candidate": self.side("candidate"),
            "overall": {c.metric.name: c.as_dict() for c in self.overall},
            "kinds": {
                kind: {c.metric.name: c.as_dict() for c in found} for kind, found in self.kinds.items()
            },
            "errors": [
                {
                    "group": change.group.text,
                    "verdict_kind": change.group.verdict_kind,
                    "baseline_share": change.baseline_share,
                    "candidate_share": change.candidate_share,
                    "difference": change.difference,
                    "new": change.new,
                    "examples": change.group.examples,
                }
                for change in self.errors
            ],
            "regressions": self.regressions(),
            "settings": {
                "confidence": intervals.CONFIDENCE,
                "min_change": self.min_change,
                "min_sessions": self.min_sessions,
                "relative_change": RELATIVE_CHANGE,
                "methods": {metric.name: metric.method for metric in METRICS},
            },
        }


def compare(data: CompareData, *, min_change: float = 0.02, min_sessions: float = 30) -> Result:
    """The comparison of the two sides' figures."""
    baseline, candidate = data.baseline, data.candidate
    options = {"min_change": min_change, "min_sessions": min_sessions}
    kinds = {
        kind: compare_buckets(
            baseline.kinds.get(kind, Bucket()), candidate.kinds.get(kind, Bucket()), seed=kind, **options
        )
        for kind in sorted(set(baseline.kinds) | set(candidate.kinds))
    }
    return Result(
        data=data,
        min_change=min_change,
        min_sessions=min_sessions,
        overall=compare_buckets(baseline.overall, candidate.overall, seed="overall", **options),
        kinds=kinds,
        errors=error_changes(data),
    )
