from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from django_sessionlog.read.figures.report import gather
from django_sessionlog.read.sources import parallel
from django_sessionlog.read.sources.parallel import start_method_for_workers

from ..logs import REPO
from .test_report import figures, varied_log

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
from django_sessionlog.read.figures.report import gather
stop = threading.Event()
threading.Thread(target=stop.wait).start()   # a web worker's other threads
data, tally = gather([sys.argv[1]], workers=2, parallel_from=0)
stop.set()
print(data.summary.rows, tally.lines)
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


# --- a pool only for work big enough to pay for it ----------------------------


class _PoolStarted(Exception):
    pass


@pytest.fixture
def pools(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The worker counts of the pools ``gather`` starts (none is: each stops the read)."""
    started: list[int] = []

    def refuse(max_workers: int, mp_context: object) -> None:
        started.append(max_workers)
        raise _PoolStarted

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", refuse)
    return started


@pytest.mark.parametrize("method", ["forkserver", "spawn", "fork"])
def test_two_small_files_are_read_in_one_process_with_no_pool(
    tmp_path: Path, pools: list[int], method: str
) -> None:
    names = [str(varied_log(tmp_path / f"{n}.jsonl", count=50)) for n in range(2)]
    data, tally = gather(names, workers=2, start_method=method)
    assert pools == []
    assert figures(data, tally) == figures(*gather(names, workers=1))


def test_files_that_are_big_together_start_a_pool_though_each_is_small(
    tmp_path: Path, pools: list[int]
) -> None:
    names = [str(varied_log(tmp_path / f"{n}.jsonl", count=50)) for n in range(3)]
    each = os.path.getsize(names[0])
    with pytest.raises(_PoolStarted):
        gather(names, workers=2, parallel_from=2 * each, start_method="spawn")
    assert pools == [2]


def test_fork_starts_a_pool_from_a_smaller_input_than_forkserver(
    tmp_path: Path, pools: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    names = [str(varied_log(tmp_path / f"{n}.jsonl", count=50)) for n in range(2)]
    monkeypatch.setattr(parallel, "FORK_PARALLEL_FROM", 1)
    gather(names, workers=2, start_method="forkserver")
    assert pools == []
    with pytest.raises(_PoolStarted):
        gather(names, workers=2, start_method="fork")


def test_a_compressed_file_counts_at_several_times_its_size(tmp_path: Path, pools: list[int]) -> None:
    import gzip

    plain = varied_log(tmp_path / "s.jsonl", count=50)
    packed = tmp_path / "s.jsonl.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    size = packed.stat().st_size
    gather([str(packed), str(packed)], workers=2, parallel_from=2 * size * parallel.GZIP_RATIO + 1)
    assert pools == []
    with pytest.raises(_PoolStarted):
        gather(
            [str(packed), str(packed)],
            workers=2,
            parallel_from=2 * size * parallel.GZIP_RATIO,
            start_method="spawn",
        )
    assert pools == [2]  # a part per file: a compressed file is never cut
