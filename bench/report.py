"""Rows per second of `sessionlog report`, against validate and DuckDB.

    python bench/report.py [LOG] [--rows 1000000] [--repeat 2]

On the same file in one run: the report command (writing its page), the
validate command (the same decoding, no aggregation), and DuckDB's
``SELECT final_verdict, count(*) ... GROUP BY`` over ``read_json`` of the
file. Also prints the report's peak memory (ru_maxrss of a child process),
since a ten-million-row log must report within 1 GB. Target: report at
least half the throughput of validate.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import arguments, prepare


def main() -> None:
    args = arguments(__doc__)
    with tempfile.TemporaryDirectory() as folder:
        log, env, rows = prepare(args, folder)
        print(f"{rows:,} rows, {os.path.getsize(log) / rows:,.0f} bytes a row, best of {args.repeat} runs")

        def command(*words: str) -> tuple[float, float]:
            """Seconds and peak MB of one child process."""
            before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            start = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "django", *words], env=env, check=False, capture_output=True
            )
            elapsed = time.perf_counter() - start
            peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            return elapsed, max(peak, before) / 1024

        def duckdb_group_by() -> float:
            import duckdb

            start = time.perf_counter()
            duckdb.connect().sql(
                f"SELECT final_verdict, count(*) FROM read_json('{log}', format = 'newline_delimited') GROUP BY 1"
            ).fetchall()
            return time.perf_counter() - start

        page = os.path.join(folder, "report.html")
        best = {"report": float("inf"), "validate": float("inf"), "duckdb": float("inf")}
        peak_mb = 0.0
        for _ in range(args.repeat):
            seconds, peak_mb = command("sessionlog", "report", log, "-o", page)
            best["report"] = min(best["report"], seconds)
            best["validate"] = min(best["validate"], command("sessionlog", "validate", log)[0])
            best["duckdb"] = min(best["duckdb"], duckdb_group_by())
        base = rows / best["validate"]
        for name, label in [
            ("report", "sessionlog report"),
            ("validate", "sessionlog validate"),
            ("duckdb", "duckdb read_json GROUP BY"),
        ]:
            rate = rows / best[name]
            print(f"{label:<28} {rate:>10,.0f} rows/s  {rate / base:5.2f}x validate")
        print(f"report peak memory (largest child so far): {peak_mb:,.0f} MB")


if __name__ == "__main__":
    main()
