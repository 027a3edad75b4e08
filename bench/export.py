"""Time of `sessionlog export` against a bare DuckDB COPY to Parquet.

    python bench/export.py [LOG] [--rows 1000000] [--repeat 2]

The bare COPY is what a user would type without the app:
``COPY (SELECT * FROM read_json(LOG)) TO 'x.parquet' (FORMAT parquet)``:
no validation, guessed types, one file. Export validates every line, fixes
the types and writes one file per day. Target: within 1.5x of the bare
COPY.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = """SECRET_KEY = "bench"
INSTALLED_APPS = ["django_sessionlog"]
SESSIONLOG = {"PATH": ""}
"""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("log", nargs="?")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        log = args.log
        if log is None:
            log = os.path.join(folder, "bench.jsonl")
            subprocess.run(
                [sys.executable, str(ROOT / "bench" / "make_log.py"), log, "--rows", str(args.rows)],
                check=True,
            )
        Path(folder, "bench_settings.py").write_text(SETTINGS)
        env = {
            **os.environ,
            "PYTHONPATH": f"{ROOT}{os.pathsep}{folder}",
            "DJANGO_SETTINGS_MODULE": "bench_settings",
        }
        with open(log, "rb") as source:
            rows = sum(1 for _ in source)
        print(f"{rows:,} rows, {os.path.getsize(log) / 1e6:,.0f} MB, best of {args.repeat} runs")
        out = os.path.join(folder, "out")

        def export() -> float:
            shutil.rmtree(out, ignore_errors=True)
            start = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "django", "sessionlog", "export", log, "--to", out],
                env=env,
                check=True,
                capture_output=True,
            )
            return time.perf_counter() - start

        def bare_copy() -> float:
            import duckdb

            target = os.path.join(folder, "bare.parquet")
            start = time.perf_counter()
            duckdb.connect().execute(
                f"COPY (SELECT * FROM read_json('{log}')) TO '{target}' (FORMAT parquet)"
            )
            return time.perf_counter() - start

        best_export = min(export() for _ in range(args.repeat))
        best_copy = min(bare_copy() for _ in range(args.repeat))
        print(f"{'sessionlog export':<28} {best_export:7.2f} s  {best_export / best_copy:5.2f}x bare COPY")
        print(f"{'bare duckdb COPY':<28} {best_copy:7.2f} s  {1.0:5.2f}x bare COPY")


if __name__ == "__main__":
    main()
