"""Rows per second of `sessionlog scan` against `sessionlog validate` on the same log.

    python bench/scan.py [LOG] [--rows 200000] [--repeat 3]

On the same file in one run, interleaved: validate as the command runs it,
scan with the default secrets (SCRUB's defaults), scan with every kind of
personal data too (--pii all), scan with gitleaks' rules too (--rules
gitleaks), and the obvious alternative to scan's fast
path: every row read as validate reads it, then one regex alternating every
pattern searched in each of its strings. Without LOG, a log of --rows rows
with no secret in it is made with bench/make_log.py. scan must keep at
least half of validate's rows per second. Compare ratios: these machines
are noisy.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import django  # noqa: E402
from django.conf import settings  # noqa: E402

settings.configure(INSTALLED_APPS=["django_sessionlog"], SESSIONLOG={"PATH": ""})
django.setup()

from common import strings_in  # noqa: E402
from django.core.management import CommandError, call_command  # noqa: E402

from django_sessionlog import scrubbing  # noqa: E402
from django_sessionlog.read.sources.rows import Tally, iter_rows  # noqa: E402


def timed(rows: int, work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return rows / (time.perf_counter() - start)


def command(*arguments: str) -> Callable[[], None]:
    def run() -> None:
        try:
            call_command("sessionlog", *arguments, stdout=io.StringIO(), stderr=io.StringIO())
        except CommandError as exc:  # a finding is exit 1; the log has none
            raise SystemExit(f"sessionlog {' '.join(arguments)}: {exc}") from None

    return run


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("log", nargs="?")
    parser.add_argument("--rows", type=int, default=200_000)
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

        every = scrubbing.build(pii=scrubbing.PII_NAMES)
        naive_pattern = "|".join(f"(?:{d.pattern.pattern})" for d in every.detectors)
        naive = re.compile(re.sub(r"\(\?P<\w+>", "(?:", naive_pattern), re.DOTALL)

        def naive_scan() -> None:
            for _, _, _, row in iter_rows([log], Tally()):
                strings = [row.prompt, *(a.error for a in row.attempts or ())]
                strings_in(row.artifact, strings)
                for text in strings:
                    naive.search(text)

        contenders = [
            ("sessionlog validate", command("validate", log)),
            ("sessionlog scan", command("scan", log)),
            ("sessionlog scan --pii all", command("scan", "--pii", "all", log)),
            ("sessionlog scan --rules gitleaks", command("scan", "--rules", "gitleaks", log)),
            ("read + naive alternation", naive_scan),
        ]
        best: dict[str, float] = {}
        for _ in range(args.repeat):
            for name, work in contenders:  # interleaved, so drift hits all alike
                best[name] = max(best.get(name, 0.0), timed(rows, work))
        base = best["sessionlog validate"]
        for name, _ in contenders:
            print(f"{name:<34} {best[name]:>10,.0f} rows/s  {best[name] / base:5.2f}x validate")


if __name__ == "__main__":
    main()
