"""Rows per second of `sessionlog compare`, against validate on the same log.

    python bench/compare.py [LOG] [--rows 1000000] [--repeat 2]

In one run, as child processes: compare with two sides that split the log
by time (the first and the second half of its days) and write the page,
and validate (the same decoding, no figures). Target: compare at least
half the throughput of validate. Both sides are filled in one pass; a
plain log of 64 MB or more is read on every core.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import arguments, prepare


def middle_day(log: str) -> str:
    """The day that splits the log's time span: its first row's day plus half the span."""
    import datetime

    import orjson

    with open(log, "rb") as source:
        first = orjson.loads(source.readline())["timestamp"]
        source.seek(max(0, os.path.getsize(log) - (1 << 16)))
        last = orjson.loads(source.read().rstrip(b"\n").rsplit(b"\n", 1)[-1])["timestamp"]
    start, end = (datetime.date.fromisoformat(stamp[:10]) for stamp in (first, last))
    return (start + (end - start) / 2).isoformat()


def main() -> None:
    args = arguments(__doc__)
    with tempfile.TemporaryDirectory() as folder:
        log, env, rows = prepare(args, folder)
        day = middle_day(log)
        print(f"{rows:,} rows, {os.path.getsize(log) / rows:,.0f} bytes a row, best of {args.repeat} runs")
        print(f"sides: ..{day} against {day}..")

        def seconds(*words: str) -> float:
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "django", *words], env=env, check=True, capture_output=True)
            return time.perf_counter() - start

        page = os.path.join(folder, "compare.html")
        compare = [
            "sessionlog",
            "compare",
            log,
            "--baseline",
            f"..{day}",
            "--candidate",
            f"{day}..",
            "-o",
            page,
        ]
        best = {"compare": float("inf"), "validate": float("inf")}
        for _ in range(args.repeat):  # interleaved, so drift hits both alike
            best["compare"] = min(best["compare"], seconds(*compare))
            best["validate"] = min(best["validate"], seconds("sessionlog", "validate", log))
        base = rows / best["validate"]
        for name in ("compare", "validate"):
            rate = rows / best[name]
            print(f"sessionlog {name:<18} {rate:>10,.0f} rows/s  {rate / base:5.2f}x validate")


if __name__ == "__main__":
    main()
