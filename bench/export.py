"""Time of `sessionlog export` against a bare DuckDB COPY to Parquet.

    python bench/export.py [LOG] [--rows 1000000] [--repeat 2]

The bare COPY is what a user would type without the app:
``COPY (SELECT * FROM read_json(LOG)) TO 'x.parquet' (FORMAT parquet)``:
no validation, guessed types, one file. Export validates every line, fixes
the types and writes one file per day. Target: within 1.5x of the bare
COPY.
"""

from __future__ import annotations

import os
import shutil
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
