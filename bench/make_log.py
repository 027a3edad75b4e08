"""Write a realistic session log for the benchmarks.

    python bench/make_log.py OUT.jsonl [--rows 1000000] [--seed 1]

Rows go through the app's own build and encoding, so they are the rows a
service writes: every kind and verdict, 1 to 4 attempts with errors and span
ids, artifacts and prompts of realistic sizes (about 2.3 KB a row on
average), timestamps spread over 30 days.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from django_sessionlog import (
    AttemptStatus,
    IterateAttempt,
    IterateFailure,
    IterateRequest,
    IterateResponse,
    build_session_record,
)
from django_sessionlog.jsonl import encode_line
from django_sessionlog.write.encoding import as_row, format_timestamp

WORDS = [
    "fill",
    "the",
    "saturday",
    "night",
    "shift",
    "at",
    "harbour",
    "street",
    "depot",
    "with",
    "three",
    "forklift",
    "certified",
    "workers",
    "who",
    "have",
    "not",
    "worked",
    "more",
    "than",
    "forty",
    "hours",
    "this",
    "week",
    "and",
    "prefer",
    "early",
    "starts",
    "near",
    "the",
    "docks",
]
ERRORS = [
    "worker W-{n} is not on the roster",
    "no JSON object in the answer",
    "steps[{m}] is empty",
    "missing key 'subject'",
    "worker W-{n} lacks the forklift skill",
]
START_NS = 1_761_955_200_000_000_000  # 2025-11-01T00:00:00Z


def make_line(rng: random.Random, index: int, rows: int) -> bytes:
    kind = rng.choice(["fill", "fill", "email", "playbook"])
    max_iterations = rng.choice([3, 3, 4, 5])
    outcome = rng.random()
    iterations = rng.randint(1, max_iterations)
    history = []
    for i in range(1, iterations + 1):
        last = i == iterations
        if last and outcome < 0.8:
            status = AttemptStatus("accepted")
        else:
            template = rng.choice(ERRORS)
            kind_of = "no_json" if template.startswith("no JSON") else "validation_failed"
            status = AttemptStatus(kind_of, template.format(n=rng.randint(1000, 9999), m=rng.randint(0, 6)))
        history.append(IterateAttempt(i, status, f"{rng.getrandbits(64):016x}"))
    trace = f"{rng.getrandbits(128):032x}"
    prompt = " ".join(rng.choice(WORDS) for _ in range(rng.randint(200, 400)))
    request = IterateRequest(
        trace,
        kind,
        rng.choice(["qwen2.5-coder:14b", "llama3.1:8b", "gpt-4o-mini"]),
        rng.choice(["ollama", "openai"]),
        prompt,
        max_iterations,
    )
    response = failure = error = None
    if outcome < 0.8:
        artifact = {"shift": "sat-night", "workers": [f"W-{rng.randint(1001, 1040)}" for _ in range(3)]}
        response = IterateResponse(trace, iterations, history, artifact)
    elif outcome < 0.95:
        failure = IterateFailure(trace, max_iterations, history)
    else:
        error = ConnectionError("provider refused the connection")
    record = build_session_record(
        request,
        response,
        failure,
        error,
        roster_check=(lambda a: rng.random() < 0.9) if kind == "fill" else None,
        duration_ms=int(rng.lognormvariate(7.5, 0.8)),
    )
    # In time order, as a log is: spread evenly over 30 days.
    record.timestamp = format_timestamp(
        START_NS + index * (30 * 86_400 * 10**9 // rows) + rng.getrandbits(20)
    )
    return encode_line(as_row(record))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with open(args.out, "wb", buffering=1 << 20) as out:
        for index in range(args.rows):
            out.write(make_line(rng, index, args.rows))


if __name__ == "__main__":
    main()
