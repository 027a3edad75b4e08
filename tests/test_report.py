from __future__ import annotations

import itertools
import json
import multiprocessing
import os
import random
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from django_sessionlog import reader
from django_sessionlog.report import ReportData, gather, start_method_for_workers

from .logs import DROP, REPO, row, write_log

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


def figures(data: ReportData, tally: reader.Tally) -> dict[str, Any]:
    return {
        "rows": data.rows,
        "sessions": data.sessions,
        "span": (data.first, data.last),
        "by_kind": {k: dict(v) for k, v in data.by_kind.items()},
        "iterations": dict(data.iterations),
        "durations": {k: dict(v) for k, v in data.durations_by_kind.items()},
        "by_day": {k: dict(v) for k, v in data.by_day.items()},
        "by_model": {k: dict(v) for k, v in data.by_model.items()},
        "roster": data.roster(),
        "errors": [(g.text, g.verdict_kind, g.count, g.examples) for g in data.top_errors(50)],
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


def test_parts_of_a_split_log_cover_every_line_once(tmp_path: Path) -> None:
    log = varied_log(tmp_path / "s.jsonl", count=500)
    parts = reader.split(str(log), 4)
    assert len(parts) == 4
    assert parts[0].start == 0
    assert parts[-1].end == log.stat().st_size
    assert all(a.end == b.start for a, b in itertools.pairwise(parts))
    data = log.read_bytes()
    assert all(data[part.start - 1 : part.start] == b"\n" for part in parts[1:])


def test_an_empty_file_is_one_part(tmp_path: Path) -> None:
    assert reader.split(str(write_log(tmp_path / "e.jsonl")), 4) == [reader.Part(str(tmp_path / "e.jsonl"))]


# --- the parallel read under every start method ------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("method", ["fork", "forkserver", "spawn"])
def test_the_parallel_read_gives_the_one_pass_figures_under_every_start_method(
    tmp_path: Path, method: str
) -> None:
    if method not in multiprocessing.get_all_start_methods():
        pytest.skip(f"{method} does not exist on {sys.platform}")  # fork and forkserver: POSIX only
    log = varied_log(tmp_path / "s.jsonl", count=600)
    parallel = gather([str(log)], workers=2, parallel_from=0, start_method=method)
    assert figures(*parallel) == figures(*gather([str(log)], workers=1))


def test_a_process_running_other_threads_is_never_forked() -> None:
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert start_method_for_workers() in {"forkserver", "spawn"}
    finally:
        stop.set()
        thread.join()


def test_a_single_threaded_process_keeps_pythons_default_start_method(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    assert start_method_for_workers() == multiprocessing.get_context().get_start_method()


THREADED_HOST = """
import sys, threading
sys.path.insert(0, sys.argv[2])
from django_sessionlog.report import gather
stop = threading.Event()
threading.Thread(target=stop.wait).start()   # a web worker's other threads
data, tally = gather([sys.argv[1]], workers=2, parallel_from=0)
stop.set()
print(data.rows, tally.lines)
"""


@pytest.mark.slow
def test_a_threaded_host_reads_in_parallel_with_every_warning_an_error(tmp_path: Path) -> None:
    # PYTHONWARNINGS reaches the worker processes (-W error alone does not):
    # pickling an iterator or forking a threaded process would fail here.
    log = varied_log(tmp_path / "s.jsonl", count=400)
    result = subprocess.run(
        [sys.executable, "-c", THREADED_HOST, str(log), str(REPO)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONWARNINGS": "error"},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    rows, lines = map(int, result.stdout.split())
    assert (rows, lines) == (400, 400 + 5 + 1)  # the rows, garbage every 97th, the torn end
