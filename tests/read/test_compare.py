"""compare's figures and verdicts on logs with known rates."""

from __future__ import annotations

import datetime
import json
import math
import random
from pathlib import Path
from typing import Any

import pytest

from django_sessionlog.read.figures import compare
from django_sessionlog.read.figures.compare import Bucket, CompareData, compare_buckets
from django_sessionlog.read.figures.sides import BadSide, Side, parse_side
from django_sessionlog.read.sources.window import Window
from django_sessionlog.row import MIN_SAMPLE_RATE

from ..logs import DROP, row, write_log

UTC = datetime.timezone.utc


def when(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text).replace(tzinfo=UTC)


def sessions(
    rng: random.Random,
    count: int,
    accept: float,
    *,
    infra: float = 0.02,
    day: str = "2026-11-10",
    kind: str = "fill",
    model: str = "a",
    sample_rate: float = 1.0,
    prefix: str = "s",
) -> list[dict[str, Any]]:
    """``count`` sessions accepted at rate ``accept``; accepted ones kept at ``sample_rate`` (weighted)."""
    found = []
    for n in range(count):
        u = rng.random()
        verdict = "accepted" if u < accept else "infra_error" if u < accept + infra else "max_iter_exhausted"
        if verdict == "accepted" and sample_rate < 1 and rng.random() >= sample_rate:
            continue
        iterations = (
            rng.choice([1, 1, 2, 3]) if verdict == "accepted" else (0 if verdict == "infra_error" else 3)
        )
        found.append(
            row(
                session_id=f"{prefix}{n}",
                timestamp=f"{day}T{n % 24:02d}:00:00Z",
                kind=kind,
                model=model,
                final_verdict=verdict,
                iterations=iterations,
                max_iterations=3,
                attempts=None if verdict == "infra_error" else [],
                artifact={"x": 1} if verdict == "accepted" else DROP,
                duration_ms=round(rng.lognormvariate(6.5, 0.5)),
                **({"sample_rate": sample_rate} if verdict == "accepted" and sample_rate < 1 else {}),
            )
        )
    return found


def compared(
    tmp_path: Path, rows: list[dict[str, Any]], baseline: str, candidate: str, **options: Any
) -> Any:
    log = write_log(tmp_path / "s.jsonl", *rows)
    data, _ = compare.gather([str(log)], parse_side(baseline, when), parse_side(candidate, when))
    return compare.compare(data, **options)


def metric(result: Any, name: str, kind: str | None = None) -> Any:
    found = result.overall if kind is None else result.kinds[kind]
    return next(c for c in found if c.metric.name == name)


def test_a_10_point_regression_on_3000_sessions_a_side_is_worse(tmp_path: Path) -> None:
    rng = random.Random(1)
    rows = sessions(rng, 3000, 0.85, model="a") + sessions(rng, 3000, 0.75, model="b", prefix="t")
    result = compared(tmp_path, rows, "model=a", "model=b")
    accept = metric(result, "accept_rate")
    assert accept.verdict == "worse"
    assert accept.difference == pytest.approx(-0.10, abs=0.03)
    assert accept.interval[1] < 0
    assert "overall.accept_rate" in result.regressions()
    assert "fill.accept_rate" in result.regressions()


def test_a_1_point_change_on_300_sessions_is_unchanged_with_0_inside_the_interval(tmp_path: Path) -> None:
    rng = random.Random(2)
    base = [
        row(session_id=f"b{n}", model="a", final_verdict="accepted" if n < 240 else "max_iter_exhausted")
        for n in range(300)
    ]
    cand = [
        row(session_id=f"c{n}", model="b", final_verdict="accepted" if n < 243 else "max_iter_exhausted")
        for n in range(300)
    ]
    rng.shuffle(base)
    result = compared(tmp_path, base + cand, "model=a", "model=b")
    accept = metric(result, "accept_rate")
    assert accept.difference == pytest.approx(0.01)
    low, high = accept.interval
    assert low < 0 < high
    assert accept.verdict == "unchanged"


def test_a_12_point_gain_is_better(tmp_path: Path) -> None:
    rng = random.Random(3)
    rows = sessions(rng, 1000, 0.70, day="2026-11-10") + sessions(
        rng, 1000, 0.82, day="2026-11-20", prefix="t"
    )
    result = compared(tmp_path, rows, "..2026-11-15", "2026-11-15..")
    assert metric(result, "accept_rate").verdict == "better"
    assert result.regressions() == [] or all("accept" not in r for r in result.regressions())


def test_a_side_below_min_sessions_is_too_few(tmp_path: Path) -> None:
    rng = random.Random(4)
    rows = sessions(rng, 25, 0.5, model="a") + sessions(rng, 500, 0.9, model="b", prefix="t")
    result = compared(tmp_path, rows, "model=a", "model=b", min_sessions=30)
    assert {c.verdict for c in result.overall} == {"too_few"}
    assert result.regressions() == []
    assert (
        metric(compared(tmp_path, rows, "model=a", "model=b", min_sessions=20), "accept_rate").verdict
        == "better"
    )


def test_sampled_rows_weighted_by_their_rate_give_the_unsampled_estimate(tmp_path: Path) -> None:
    full = sessions(random.Random(5), 4000, 0.8)
    sampled = sessions(random.Random(5), 4000, 0.8, sample_rate=0.25)
    assert len(sampled) < 0.45 * len(full)
    every = compared(tmp_path, full, "model=a", "model=a")
    weighted = compared(tmp_path, sampled, "model=a", "model=a")
    assert metric(weighted, "accept_rate").baseline == pytest.approx(
        metric(every, "accept_rate").baseline, abs=0.02
    )
    assert metric(weighted, "mean_iterations").baseline == pytest.approx(
        metric(every, "mean_iterations").baseline, abs=0.06
    )
    assert weighted.side("baseline")["estimated"] is True
    assert weighted.side("baseline")["sessions"] == pytest.approx(4000, rel=0.08)


def test_higher_is_bad_for_infra_errors_iterations_and_durations(tmp_path: Path) -> None:
    base = [row(session_id=f"b{n}", model="a", duration_ms=1000 + n % 50, iterations=1) for n in range(400)]
    cand = [
        row(
            session_id=f"c{n}",
            model="b",
            duration_ms=2000 + n % 50,
            iterations=2,
            final_verdict="infra_error" if n % 5 == 0 else "accepted",
            attempts=None if n % 5 == 0 else [],
        )
        for n in range(400)
    ]
    result = compared(tmp_path, base + cand, "model=a", "model=b")
    for name in ("infra_error_rate", "mean_iterations", "p50_duration_ms", "p95_duration_ms"):
        assert metric(result, name).verdict == "worse", name
    assert metric(result, "p50_duration_ms").baseline == 1024


def test_a_change_smaller_than_10_percent_of_the_baseline_duration_is_unchanged(tmp_path: Path) -> None:
    base = [row(session_id=f"b{n}", model="a", duration_ms=1000 + n % 40) for n in range(2000)]
    cand = [row(session_id=f"c{n}", model="b", duration_ms=1050 + n % 40) for n in range(2000)]
    p50 = metric(compared(tmp_path, base + cand, "model=a", "model=b"), "p50_duration_ms")
    assert p50.interval[0] > 0  # a real change...
    assert p50.verdict == "unchanged"  # ...but smaller than 10% of the baseline


def test_one_pass_fills_both_sides_and_a_row_may_be_on_both(tmp_path: Path) -> None:
    rows = [row(session_id="x", model="a", kind="fill"), row(session_id="y", model="a", kind="email")]
    data, tally = compare.gather(
        [str(write_log(tmp_path / "s.jsonl", *rows))],
        parse_side("model=a", when),
        parse_side("kind=email", when),
    )
    assert (data.baseline.overall.rows, data.candidate.overall.rows, tally.lines) == (2, 1, 2)
    assert set(data.baseline.kinds) == {"fill", "email"}


def test_the_retry_curve_is_the_share_accepted_by_each_attempt(tmp_path: Path) -> None:
    rows = [
        row(session_id="1", iterations=1, max_iterations=3),
        row(session_id="2", iterations=2, max_iterations=3),
        row(session_id="3", iterations=3, max_iterations=3, final_verdict="max_iter_exhausted"),
        row(session_id="4", iterations=3, max_iterations=3),
    ]
    result = compared(tmp_path, rows, "kind=fill", "kind=fill")
    assert result.side("baseline")["retry_curve"] == [0.25, 0.5, 0.75]


def test_error_groups_that_grew_are_listed_new_ones_first(tmp_path: Path) -> None:
    def erring(sid: str, model: str, error: str) -> dict[str, Any]:
        attempt = {"iteration": 1, "verdict_kind": "validation_failed", "error": error}
        return row(
            session_id=sid, model=model, final_verdict="max_iter_exhausted", attempts=[attempt, attempt]
        )

    rows = [erring(f"b{n}", "a", f"worker W-{n} is not on the roster") for n in range(5)]
    rows += [row(session_id=f"bb{n}", model="a", attempts=[]) for n in range(95)]
    rows += [erring(f"c{n}", "b", f"worker W-{n} is not on the roster") for n in range(20)]
    rows += [erring(f"d{n}", "b", "steps[1] is empty") for n in range(3)]
    rows += [row(session_id=f"cc{n}", model="b", attempts=[]) for n in range(77)]
    result = compared(tmp_path, rows, "model=a", "model=b")
    assert [(e.group.text, e.new) for e in result.errors] == [
        ("steps[#] is empty", True),
        ("worker W-# is not on the roster", False),
    ]
    roster = result.errors[1]
    assert (roster.baseline_share, roster.candidate_share) == (0.05, 0.20)  # sessions, not errors
    assert roster.group.examples == ["c0", "c1", "c2"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("colour=red", "unknown field 'colour'"),
        ("2026-13-01..", "2026-13-01"),
        ("2026-11-01..2026-11-02,..2026-11-05", "two windows"),
        ("", "empty term"),
        ("model=a,,kind=fill", "empty term"),
        ("gpt", "neither a window"),
        ("2026-11-05..2026-11-01", "ends before it starts"),
    ],
)
def test_a_bad_side_says_why(text: str, message: str) -> None:
    with pytest.raises(BadSide, match=message.replace("(", r"\(").replace("[", r"\[")):
        parse_side(text, when)


def test_terms_of_one_field_are_either_and_different_fields_are_both() -> None:
    side = parse_side("model=a, model=b ,kind=fill,2026-11-01..2026-11-08", when)
    test = side.test()
    from django_sessionlog.read.sources.rules import decode_row

    def as_row(**changes: Any) -> Any:
        return decode_row(json.dumps(row(**{"timestamp": "2026-11-03T00:00:00Z", **changes})).encode())

    assert test(as_row(model="a"))
    assert test(as_row(model="b"))
    assert not test(as_row(model="c"))
    assert not test(as_row(model="a", kind="email"))
    assert not test(as_row(model="a", timestamp="2026-11-08T00:00:00Z"))  # until is exclusive


def test_parts_read_apart_add_up_to_one_pass(tmp_path: Path) -> None:
    rng = random.Random(9)
    rows = sessions(rng, 600, 0.8, model="a") + sessions(rng, 600, 0.7, model="b", prefix="t")
    log = write_log(tmp_path / "s.jsonl", *rows)
    sides = (
        Side("a", values=(("model", frozenset({"a"})),)),
        Side("b", values=(("model", frozenset({"b"})),)),
    )
    one, _ = compare.gather([str(log)], *sides, workers=1)
    parts, _ = compare.gather([str(log)], *sides, workers=2, parallel_from=0)
    assert compare.compare(parts).as_dict() == compare.compare(one).as_dict()


def test_figures_pickle_for_the_worker_processes() -> None:
    import pickle

    data = CompareData(0, (Side("x"), Side("y", Window(when("2026-11-01")))))
    again = pickle.loads(pickle.dumps(data))
    assert again.sides == data.sides
    assert callable(again._on_candidate)


@pytest.mark.slow
def test_rate_intervals_of_sampled_rows_cover_the_true_difference_95_percent_of_the_time() -> None:
    # Sampling keeps accepted sessions only, so weights depend on the outcome;
    # the linearized variance keeps the promise where Kish's n_eff over-covers.
    rng = random.Random(12)
    hits, draws = 0, 300
    for _ in range(draws):
        base, cand = Bucket(), Bucket()
        for bucket, accept in ((base, 0.85), (cand, 0.80)):
            for n in range(800):
                accepted = rng.random() < accept
                if accepted and rng.random() >= 0.3:
                    continue
                stub: Any = _Stub("accepted" if accepted else "max_iter_exhausted", n)
                bucket.add(stub, 1 / 0.3 if accepted else 1.0)
        [accept_rate, *_] = compare_buckets(base, cand, min_change=0.02, min_sessions=30)
        assert accept_rate.interval is not None
        low, high = accept_rate.interval
        hits += low <= -0.05 <= high
    assert 0.91 <= hits / draws <= 0.985, hits


class _Stub:
    """The few fields a Bucket reads."""

    def __init__(self, verdict: str, n: int) -> None:
        self.final_verdict = verdict
        self.iterations = 1 if verdict == "accepted" else 3
        self.duration_ms = 500 + n % 300
        self.max_iterations = 3


def test_a_change_of_exactly_the_minimum_counts(tmp_path: Path) -> None:
    base = [
        row(
            session_id=f"b{n}",
            model="a",
            final_verdict="accepted" if n < 3000 else "max_iter_exhausted",
            attempts=[],
        )
        for n in range(10_000)
    ]
    cand = [
        row(
            session_id=f"c{n}",
            model="b",
            final_verdict="accepted" if n < 2800 else "max_iter_exhausted",
            attempts=[],
        )
        for n in range(10_000)
    ]
    accept = metric(compared(tmp_path, base + cand, "model=a", "model=b"), "accept_rate")
    assert accept.difference == pytest.approx(-0.02)  # 0.30 - 0.28 is 0.0199999... in floats
    assert accept.verdict == "worse"


def test_a_huge_max_iterations_does_not_stretch_the_retry_curve(tmp_path: Path) -> None:
    rows = [row(session_id=f"s{n}", iterations=1 + n % 3, max_iterations=3) for n in range(30)]
    rows.append(row(session_id="odd", iterations=2, max_iterations=10**7))
    result = compared(tmp_path, rows, "kind=fill", "kind=fill")
    assert result.longest == 3
    assert len(result.side("baseline")["retry_curve"]) == 3


def test_the_smallest_sample_rate_so_the_largest_weight_is_still_compared(tmp_path: Path) -> None:
    rows = [row(session_id=f"s{n}", model="a") for n in range(40)] + [
        row(session_id="tiny", model="a", sample_rate=MIN_SAMPLE_RATE)
    ]
    rows += [row(session_id=f"t{n}", model="b") for n in range(40)]
    result = compared(tmp_path, rows, "model=a", "model=b")
    assert {c.verdict for c in result.overall} <= {"unchanged", "too_few", "better", "worse"}
    assert all(c.interval is None or all(math.isfinite(v) for v in c.interval) for c in result.overall)
