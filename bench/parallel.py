"""Where a pool of worker processes starts to pay: the threshold of ``read.parallel``.

    python bench/parallel.py [LOG] [--rows 60000] [--repeat 3]

For a total input of 1 MB to 1 GB (two files of half each, cut from one
realistic log), the report's figures gathered in one process against a
pool of workers started by fork, forkserver (Python 3.14's default) and
spawn. A ratio below 1 means the pool is faster. ``PARALLEL_FROM`` should
sit where forkserver and spawn pass 1: below it the pool's start costs
more than the second core saves.
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import arguments, prepare

from django_sessionlog.read.figures.report import ReportData
from django_sessionlog.read.sources import parallel
from django_sessionlog.read.sources.window import Window

SIZES_MB = (1, 4, 16, 64, 128, 256, 512, 1024)


def _halves(log: str, folder: str, total: int) -> list[str]:
    """Two files of about ``total / 2`` bytes each, whole lines of ``log`` (repeated if it is short)."""
    with open(log, "rb") as source:
        lines = source.readlines()
    names = []
    for half in ("a", "b"):
        name = os.path.join(folder, f"{total}-{half}.jsonl")
        with open(name, "wb") as out:
            written = 0
            while written < total // 2:
                for line in lines:
                    out.write(line)
                    written += len(line)
                    if written >= total // 2:
                        break
        names.append(name)
    return names


def _seconds(names: list[str], repeat: int, method: str | None) -> float:
    """Best time of ``gather`` in a fresh process each run (a fork server is started per process, as per command)."""
    best = float("inf")
    for _ in range(repeat):
        out = subprocess.run(
            [sys.executable, __file__, "--time-one", method or "", *names],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        best = min(best, float(out))
    return best


def _time_one(method: str, names: list[str]) -> None:
    start = time.perf_counter()
    if method:
        parallel.gather(names, Window(), ReportData, parallel_from=0, start_method=method)
    else:
        parallel.gather(names, Window(), ReportData, workers=1)
    print(time.perf_counter() - start)


def main() -> None:
    if sys.argv[1:2] == ["--time-one"]:
        _time_one(sys.argv[2], sys.argv[3:])
        return
    args = arguments(__doc__)
    methods = [m for m in ("fork", "forkserver", "spawn") if m in multiprocessing.get_all_start_methods()]
    workers = os.cpu_count() or 1
    print(f"{workers} cores; best of {args.repeat}; pool time / one process (below 1: the pool is faster)")
    print(f"{'total':>8} {'one process':>12} " + " ".join(f"{m:>11}" for m in methods))
    with tempfile.TemporaryDirectory() as folder:
        log, _, _ = prepare(args, folder)
        for size_mb in SIZES_MB:
            names = _halves(log, folder, size_mb << 20)
            alone = _seconds(names, args.repeat, None)
            ratios = [_seconds(names, args.repeat, method) / alone for method in methods]
            print(f"{size_mb:>6} MB {alone * 1000:>9.0f} ms " + " ".join(f"{r:>10.2f}x" for r in ratios))
            for name in names:
                os.remove(name)


if __name__ == "__main__":
    main()
