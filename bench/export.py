"""Time of `sessionlog export` against a bare DuckDB COPY to Parquet.

    python bench/export.py [LOG] [--rows 1000000] [--repeat 2]

The bare COPY is what a user would type without the app:
``COPY (SELECT * FROM read_json(LOG, ignore_errors = true)) TO 'x.parquet'
(FORMAT parquet)``: no validation, guessed types, one file. Export
validates every line, fixes the types and writes one file per day. Target:
within 1.5x of the bare COPY.

Both on the log as it is (clean) and on a dirty copy of it: a row with a
wrong type every 10,000 rows and a torn last line, which export must leave
out (a second, checked write).
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


def dirty_copy(log: str, folder: str) -> str:
    dirty = os.path.join(folder, "dirty.jsonl")
    with open(log, "rb") as source, open(dirty, "wb") as out:
        for number, line in enumerate(source):
            out.write(line)
            if number % 10_000 == 5_000:
                out.write(b'{"schema":"session.iterate.v1","iterations":true}\n')
        out.write(b'{"schema":"session.iterate.v1","sess')
    return dirty


def main() -> None:
    args = arguments(__doc__)
    with tempfile.TemporaryDirectory() as folder:
        log, env, rows = prepare(args, folder)
        print(f"{rows:,} rows, {os.path.getsize(log) / 1e6:,.0f} MB, best of {args.repeat} runs")
        out = os.path.join(folder, "out")

        def export(source: str) -> float:
            shutil.rmtree(out, ignore_errors=True)
            start = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "django", "sessionlog", "export", source, "--to", out],
                env=env,
                check=False,
                capture_output=True,
            )
            return time.perf_counter() - start

        def bare_copy(source: str) -> float:
            import duckdb

            target = os.path.join(folder, "bare.parquet")
            start = time.perf_counter()
            duckdb.connect().execute(
                f"COPY (SELECT * FROM read_json('{source}', ignore_errors = true)) TO '{target}' (FORMAT parquet)"
            )
            return time.perf_counter() - start

        for label, source in (("clean", log), ("dirty", dirty_copy(log, folder))):
            best_export = best_copy = float("inf")
            for _ in range(args.repeat):  # interleaved, so drift hits both alike
                best_export = min(best_export, export(source))
                best_copy = min(best_copy, bare_copy(source))
            print(
                f"{label}: {'sessionlog export':<20} {best_export:7.2f} s  {best_export / best_copy:5.2f}x bare COPY"
            )
            print(f"{label}: {'bare duckdb COPY':<20} {best_copy:7.2f} s  {1.0:5.2f}x bare COPY")


if __name__ == "__main__":
    main()
