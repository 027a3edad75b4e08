"""What token usage costs the readers: stats, report and compare with usage against the same log without.

    python bench/usage.py [--rows 300000] [--repeat 3]

Two logs of the same sessions in one run: one as bench/make_log.py writes
it, one where every row and attempt also carries usage (as a provider
reports it, a fifth of them with cached tokens). Targets: stats and report
over the log with usage at >= 0.9x their speed without it; compare with its
two usage metrics (tokens per session, cost per accepted session, priced
from genai-prices) at >= 0.5x validate's rows per second on the same log.
The commands run interleaved, best of --repeat runs each.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import arguments, prepare
from compare import middle_day


def with_usage(source: str, target: str) -> None:
    rng = random.Random(1)
    models = ["gpt-4o-mini", "gpt-4o", "claude-sonnet-4-5", "qwen2.5"]
    with open(source, "rb") as lines, open(target, "wb") as out:
        for line in lines:
            row = orjson.loads(line)
            row["model"] = rng.choice(models)
            total = [0, 0, 0]
            for attempt in row.get("attempts") or ():
                counts = {"input_tokens": rng.randint(500, 4_000), "output_tokens": rng.randint(50, 600)}
                if rng.random() < 0.2:
                    counts["cache_read_tokens"] = counts["input_tokens"] // 2
                attempt["usage"] = counts
                total[0] += counts["input_tokens"]
                total[1] += counts["output_tokens"]
                total[2] += counts.get("cache_read_tokens", 0)
            if row.get("attempts"):
                usage = {"input_tokens": total[0], "output_tokens": total[1]}
                if total[2]:
                    usage["cache_read_tokens"] = total[2]
                # The row's usage comes right after duration_ms, before sample_rate.
                rate = row.pop("sample_rate", None)
                row["usage"] = usage
                if rate is not None:
                    row["sample_rate"] = rate
            out.write(orjson.dumps(row) + b"\n")


def main() -> None:
    args = arguments(__doc__)
    with tempfile.TemporaryDirectory() as folder:
        log, env, rows = prepare(args, folder)
        used = os.path.join(folder, "usage.jsonl")
        with_usage(log, used)
        # Sides that split the log's own days (bench/make_log.py's log is of 2025-11):
        # a date outside it would put every row on one side and leave the other empty.
        day = middle_day(log)
        print(f"{rows:,} rows, best of {args.repeat} interleaved runs; compare sides ..{day} and {day}..")
        page = os.path.join(folder, "page.html")
        runs: dict[str, Any] = {
            "stats": lambda f: ["sessionlog", "stats", f],
            "report": lambda f: ["sessionlog", "report", f, "-o", page],
            "validate": lambda f: ["sessionlog", "validate", f],
            "compare": lambda f: [
                "sessionlog",
                "compare",
                f,
                "--baseline",
                f"..{day}",
                "--candidate",
                f"{day}..",
                "--json",
            ],
        }
        best: dict[tuple[str, str], float] = {}
        for _ in range(args.repeat):
            for name, words in runs.items():
                for label, file in (("without usage", log), ("with usage", used)):
                    start = time.perf_counter()
                    subprocess.run(
                        [sys.executable, "-m", "django", *words(file)],
                        env=env,
                        check=False,
                        capture_output=True,
                    )
                    elapsed = time.perf_counter() - start
                    key = (name, label)
                    best[key] = min(best.get(key, elapsed), elapsed)
        for (name, label), seconds in best.items():
            print(f"{name:<9} {label:<14} {seconds:6.2f} s  {rows / seconds:>10,.0f} rows/s")
        for name in ("stats", "report"):
            ratio = best[(name, "without usage")] / best[(name, "with usage")]
            print(f"{name} with usage: {ratio:.2f}x its speed without (target >= 0.9x)")
        # validate only decodes and checks: its ratio is what reading the usage
        # objects alone costs, before stats or report count anything.
        floor = best[("validate", "without usage")] / best[("validate", "with usage")]
        print(f"validate with usage (decoding the usage objects alone): {floor:.2f}x its speed without")
        ratio = best[("validate", "with usage")] / best[("compare", "with usage")]
        print(
            f"compare with the usage metrics: {ratio:.2f}x validate's rows/s on the same log (target >= 0.5x)"
        )


if __name__ == "__main__":
    main()
