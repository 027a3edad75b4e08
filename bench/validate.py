"""Rows per second of `sessionlog validate` against the obvious alternatives.

    python bench/validate.py [LOG] [--rows 200000] [--jsonschema-rows 20000]

On the same file in one run: validate as the command runs it, the floor (a
bare ``for line in file: orjson.loads(line)`` loop, which checks nothing),
``jsonschema`` with the schema ``sessionlog schema`` prints (on the first
--jsonschema-rows rows: it is slow), and DuckDB counting the rows with
``read_json``. Without LOG, a log of --rows rows is made with
bench/make_log.py. Compare ratios: these machines are noisy.
"""

from __future__ import annotations

import argparse
import io
import itertools
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import django  # noqa: E402
from django.conf import settings  # noqa: E402

settings.configure(INSTALLED_APPS=["django_sessionlog"], SESSIONLOG={"PATH": ""})
django.setup()

from django.core.management import call_command  # noqa: E402

from django_sessionlog.read.sources.rules import json_schema  # noqa: E402


def timed(rows: int, work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return rows / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("log", nargs="?")
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--jsonschema-rows", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        log = args.log
        if log is None:
            import make_log

            log = os.path.join(folder, "bench.jsonl")
            sys.argv = ["make_log", log, "--rows", str(args.rows)]
            make_log.main()
        with open(log, "rb") as source:
            rows = sum(1 for _ in source)
        size = os.path.getsize(log)
        print(f"{rows:,} rows, {size / rows:,.0f} bytes a row, best of {args.repeat} runs")

        def floor() -> None:
            with open(log, "rb") as source:
                for line in source:
                    orjson.loads(line)

        def validate() -> None:
            call_command("sessionlog", "validate", log, stdout=io.StringIO(), stderr=io.StringIO())

        def duckdb_count() -> None:
            import duckdb

            duckdb.connect().sql(
                f"SELECT count(*) FROM read_json('{log}', format='newline_delimited')"
            ).fetchall()

        import jsonschema

        validator = jsonschema.Draft202012Validator(json_schema(), format_checker=jsonschema.FormatChecker())

        def with_jsonschema() -> None:
            with open(log, "rb") as source:
                for line in itertools.islice(source, args.jsonschema_rows):
                    validator.validate(orjson.loads(line))

        best: dict[str, float] = {}
        contenders = [
            ("floor: orjson.loads loop", rows, floor),
            ("sessionlog validate", rows, validate),
            ("duckdb read_json count(*)", rows, duckdb_count),
            ("jsonschema (draft 2020-12)", min(rows, args.jsonschema_rows), with_jsonschema),
        ]
        for _ in range(args.repeat):
            for name, count, work in contenders:
                best[name] = max(best.get(name, 0.0), timed(count, work))
        base = best["floor: orjson.loads loop"]
        for name, _, _ in contenders:
            print(f"{name:<30} {best[name]:>10,.0f} rows/s  {best[name] / base:5.2f}x floor")


if __name__ == "__main__":
    main()
