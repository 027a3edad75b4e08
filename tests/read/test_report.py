from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from django_sessionlog.read.parts import split
from django_sessionlog.read.report import ReportData, gather
from django_sessionlog.read.rows import Tally

from ..logs import DROP, row, write_log

VERDICTS = ["accepted", "max_iter_exhausted", "infra_error"]


def varied_log(path: Path, count: int = 3000) -> Path:
    """Rows of every kind, verdict, model and day, with bad lines among them and a torn end."""
    rng = random.Random(5)
    items: list[dict[str, Any] | bytes] = []
    for n in range(count):
        verdict = rng.choice(VERDICTS)
        attempts: Any = [
            {
                "iteration": i,
                "verdict_kind": "validation_failed",
                "error": f"worker W-{rng.randint(1000, 9999)} is not on the roster",
            }
            for i in range(1, rng.randint(1, 4))
        ]
        items.append(
            row(
                session_id=f"s{n:05d}",
                timestamp=f"2026-11-{rng.randint(10, 20)}T{rng.randint(0, 23):02d}:00:00Z",
                kind=rng.choice(["fill", "email", "playbook"]),
                model=rng.choice(["a", "b"]),
                final_verdict=verdict,
                iterations=rng.randint(0, 5),
                duration_ms=rng.choice([100, 200, 300, rng.randint(1, 99_999)]),
                attempts=None if verdict == "infra_error" else attempts,
                artifact={"x": 1} if verdict == "accepted" else DROP,
                grounded_in_roster=rng.choice([True, False, DROP]) if verdict == "accepted" else DROP,
            )
        )
        if n % 97 == 0:
            items.append(b"garbage\n")
    items.append(json.dumps(row()).encode()[:30])
    return write_log(path, *items)


def figures(data: ReportData, tally: Tally) -> dict[str, Any]:
    summary = data.summary
    return {
        "rows": summary.rows,
        "sessions": summary.sessions,
        "span": (summary.first, summary.last),
        "by_kind": {k: dict(v) for k, v in summary.by_kind.items()},
        "iterations": dict(summary.iterations),
        "durations": {k: dict(v) for k, v in summary.durations_by_kind.items()},
        "by_day": {k: dict(v) for k, v in data.by_day.items()},
        "by_model": {k: dict(v) for k, v in data.by_model.items()},
        "roster": summary.roster(),
        "errors": [(g.text, g.verdict_kind, g.errors, g.sessions, g.examples) for g in data.errors.groups()],
        "overflow": data.errors.overflow,
        "most_retried": data.most_retried_sessions(),
        "slowest": data.slowest_sessions(),
        "tally": (tally.lines, tally.valid, tally.invalid, tally.torn, tally.skipped),
    }


@pytest.mark.parametrize("workers", [2, 3])
def test_reading_a_log_on_several_cores_gives_the_same_report_as_one_pass(
    tmp_path: Path, workers: int
) -> None:
    log = varied_log(tmp_path / "s.jsonl")
    one_pass = figures(*gather([str(log)], workers=1))
    parallel = figures(*gather([str(log)], workers=workers, parallel_from=0))
    assert parallel == one_pass
    assert one_pass["tally"][3] == 1  # the torn last line, counted once


def test_parts_whose_error_groups_and_examples_differ_add_up_to_one_pass(tmp_path: Path) -> None:
    # The first half's errors and example sessions appear only there, the
    # second half's only there: a merge that drops later examples or sends
    # later groups to the overflow group gives a different report.
    def erring(n: int, text: str) -> dict[str, Any]:
        error = {"iteration": 1, "verdict_kind": "validation_failed", "error": f"{text} {n}"}
        return row(session_id=f"{text}-{n}", final_verdict="max_iter_exhausted", attempts=[error, error])

    first = [erring(n, "worker W-#### is not on the roster") for n in range(4)]
    second = [erring(n, "steps[#] is empty") for n in range(4)]
    log = write_log(tmp_path / "s.jsonl", *first, *second)
    halfway = len(b"".join(json.dumps(r).encode() + b"\n" for r in first))
    parts_read = gather([str(log)], workers=2, parallel_from=0)
    assert reader_parts(log) == [(0, halfway), (halfway, log.stat().st_size)]
    assert figures(*parts_read) == figures(*gather([str(log)], workers=1))
    groups = parts_read[0].errors.groups()
    assert [(g.text, g.errors, g.sessions, len(g.examples)) for g in groups] == [
        ("steps[#] is empty #", 8.0, 4.0, 3),
        ("worker W-#### is not on the roster #", 8.0, 4.0, 3),
    ]
    assert parts_read[0].errors.overflow == 0


def reader_parts(log: Path) -> list[tuple[int, int | None]]:
    return [(p.start, p.end) for p in split(str(log), 2)]
