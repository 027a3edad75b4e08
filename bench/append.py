"""Microseconds per row to build and append a typical accepted session.

    python bench/append.py [--rows 20000] [--repeat 5]

Every contender writes the same 20,000 rows of about 2.3 KB to a fresh file
in the same run; the best of --repeat runs is kept (the machine is noisy,
so compare ratios, not absolutes). The floor is the least any JSONL writer
can do: ``orjson.dumps`` of the finished row dict and one ``os.write`` on a
descriptor that is already open.

The receiver path (build, scrub, append) is measured on its own rows: a
realistic 4,000-character prompt with no secret in it (instructions, a JSON
answer format, a roster of ids, names, hours and timestamps, a UUID and a
trace id), with the default scrubbing (SCRUB's defaults), with every kind of
personal data on as well, without scrubbing, and with the obvious
alternative, one regex alternating every pattern. Its own lines below
compare them: scrubbing may cost at most 2x the path without it.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import strings_in

from django_sessionlog import (
    AttemptStatus,
    IterateAttempt,
    IterateRequest,
    IterateResponse,
    SessionLogger,
    build_session_record,
    scrubbing,
)
from django_sessionlog.jsonl import encode_line
from django_sessionlog.write.encoding import as_row
from django_sessionlog.write.scrub_policy import scrub_record
from django_sessionlog.write.sink import _OPEN_FLAGS

PROMPT = (
    "Fill the Saturday night shift at the Harbour Street depot with three forklift-certified "
    "workers who have not worked more than 40 hours this week. "
) * 11
REQUEST = IterateRequest(
    trace_id="4bf92f3577b34da6a3ce929d0e0e4736",
    kind="fill",
    model="qwen2.5-coder:14b",
    provider="ollama",
    prompt=PROMPT[:1500],
    max_iterations=3,
)
RESPONSE = IterateResponse(
    trace_id="4bf92f3577b34da6a3ce929d0e0e4736",
    iterations=3,
    history=[
        IterateAttempt(1, AttemptStatus("no_json", "no JSON object in the answer"), "00f067aa0ba902b7"),
        IterateAttempt(
            2,
            AttemptStatus("validation_failed", "worker W-9999 is not on the roster"),
            "53995c3f42cd8ad8",
        ),
        IterateAttempt(3, AttemptStatus("accepted"), "e457b5a2e4d86bd1"),
    ],
    artifact={"shift": "sat-night", "workers": ["W-1001", "W-1017", "W-1033"]},
)


def roster_check(artifact: dict[str, Any] | None) -> bool:
    return True


def realistic_prompt() -> str:
    """A 4,000-character fill prompt as a host sends it, with every look-alike of a secret and none."""
    head = (
        "You are the staffing assistant of Harbour Logistics. Fill the shift below with workers "
        "from the roster only, and answer with one JSON object and nothing else:\n"
        '{"shift": "<shift id>", "workers": ["W-1001", ...], "reason": "<one sentence>"}\n\n'
        "Shift: sat-night, Saturday 2026-11-28 from 22:00 to 06:00 (UTC+01:00) at the Harbour Street "
        "depot, dock 4. Needs 3 workers, forklift certified, at most 40 hours this week including "
        "this shift. Request 123e4567-e89b-12d3-a456-426614174000, trace 4bf92f3577b34da6a3ce929d0e0e4736.\n"
        "Rules: no worker twice; no one who worked the Friday late shift (ending after 23:00); prefer "
        "workers who asked for nights; a task-force member counts once; max_hours_per_week = 40.\n\n"
        "Roster (id | name | skills | hours this week | last shift ended):\n"
    )
    names = ["Ana Costa", "Ben Okafor", "Chloe Martin", "Dara Singh", "Emil Novak", "Fatima Zahra"]
    names += ["Goran Petrov", "Hana Sato", "Ivan Horvat", "Jonas Berg", "Kiri Walker", "Lena Fischer"]
    skills = ["forklift, first-aid", "reach truck", "forklift", "picking, packing", "forklift, nights"]
    lines: list[str] = []
    while len(head) + sum(len(line) for line in lines) < 4100:
        i = len(lines)
        lines.append(
            f"W-{1001 + i} | {names[i % len(names)]} | {skills[i % len(skills)]} | "
            f"{(i * 7) % 41}h | 2026-11-{20 + i % 7}T{(6 + i) % 24:02d}:00:00Z\n"
        )
    return (head + "".join(lines))[:4000]


LONG_REQUEST = dataclasses.replace(REQUEST, prompt=realistic_prompt())
LONG_RESPONSE = dataclasses.replace(
    RESPONSE,
    artifact={
        "shift": "sat-night",
        "workers": ["W-1001", "W-1017", "W-1033"],
        "reason": "All three are forklift certified, under 40 hours and asked for nights.",
    },
)
DEFAULT_SCRUBBER = scrubbing.build()
PII_SCRUBBER = scrubbing.build(pii=scrubbing.PII_NAMES)
GITLEAKS_SCRUBBER = scrubbing.build(rules="gitleaks")
# The obvious alternative: every pattern in one alternation, searched in each string.
NAIVE = re.compile(
    "|".join(f"(?:{d.pattern.pattern})" for d in PII_SCRUBBER.detectors)
    .replace("(?P<", "(?P<g")
    .replace("(?P<gsecret>", "(?:"),
    re.DOTALL,
)


def build_long() -> Any:
    return build_session_record(LONG_REQUEST, LONG_RESPONSE, roster_check=roster_check, duration_ms=1834)


def build() -> Any:
    return build_session_record(REQUEST, RESPONSE, roster_check=roster_check, duration_ms=1834)


def timed(rows: int, setup: Callable[[str], Callable[[], None]], directory: str) -> float:
    path = os.path.join(directory, f"bench-{time.perf_counter_ns()}.jsonl")
    write_one = setup(path)
    start = time.perf_counter()
    for _ in range(rows):
        write_one()
    elapsed = time.perf_counter() - start
    size = os.path.getsize(path)
    os.remove(path)
    assert size > rows * 2000, f"{setup.__name__} wrote {size} bytes"
    return elapsed / rows * 1e6


# --- the contenders -------------------------------------------------------


def floor(path: str) -> Callable[[], None]:
    row = as_row(build())
    fd = os.open(path, _OPEN_FLAGS, 0o640)

    def write_one() -> None:
        os.write(fd, orjson.dumps(row, option=orjson.OPT_APPEND_NEWLINE))

    return write_one


def floor_with_stat(path: str) -> Callable[[], None]:
    """The floor plus the one ``stat`` per row that noticing logrotate needs."""
    row = as_row(build())
    fd = os.open(path, _OPEN_FLAGS, 0o640)

    def write_one() -> None:
        os.stat(path)
        os.write(fd, orjson.dumps(row, option=orjson.OPT_APPEND_NEWLINE))

    return write_one


def sessionlog(path: str) -> Callable[[], None]:
    sink = SessionLogger(path)
    return lambda: sink.append(build())


def build_only(path: str) -> Callable[[], None]:
    fd = os.open(path, _OPEN_FLAGS, 0o640)
    line = encode_line(as_row(build()))

    def write_one() -> None:
        build()
        os.write(fd, line)

    return write_one


def build_and_encode(path: str) -> Callable[[], None]:
    fd = os.open(path, _OPEN_FLAGS, 0o640)
    line = encode_line(as_row(build()))

    def write_one() -> None:
        encode_line(as_row(build()))
        os.write(fd, line)

    return write_one


def receiver_path(path: str) -> Callable[[], None]:
    """The receiver's work on a row with a 4,000-character prompt: build and append."""
    sink = SessionLogger(path)
    return lambda: sink.append(build_long())


def receiver_path_scrubbed(path: str) -> Callable[[], None]:
    """The same with SCRUB's defaults (the built-in secrets and KEYS)."""
    sink = SessionLogger(path)
    return lambda: sink.append(scrub_record(build_long(), DEFAULT_SCRUBBER))


def receiver_path_scrubbed_pii(path: str) -> Callable[[], None]:
    """The same with every kind of personal data as well (email, phone, card, iban)."""
    sink = SessionLogger(path)
    return lambda: sink.append(scrub_record(build_long(), PII_SCRUBBER))


def receiver_path_scrubbed_gitleaks(path: str) -> Callable[[], None]:
    """The same with SCRUB['RULES'] = "gitleaks" (gitleaks' rules after the built-in secrets)."""
    sink = SessionLogger(path)
    return lambda: sink.append(scrub_record(build_long(), GITLEAKS_SCRUBBER))


def receiver_path_naive(path: str) -> Callable[[], None]:
    """The same with one alternation of every pattern searched in the prompt, each error and each string."""
    sink = SessionLogger(path)

    def write_one() -> None:
        record = build_long()
        strings = [record.prompt, *(a.error for a in record.attempts or ())]
        strings_in(record.artifact, strings)
        for text in strings:
            NAIVE.search(text)
        sink.append(record)

    return write_one


def reference_port(path: str) -> Callable[[], None]:
    """What the Go reference does per row: marshal, mkdir, open, write, close."""

    def write_one() -> None:
        body = orjson.dumps(as_row(build()), option=orjson.OPT_APPEND_NEWLINE)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, body)
        finally:
            os.close(fd)

    return write_one


def json_dumps_file(path: str) -> Callable[[], None]:
    handle = open(path, "a", encoding="utf-8")  # noqa: SIM115

    def write_one() -> None:
        handle.write(json.dumps(as_row(build()), ensure_ascii=False) + "\n")
        handle.flush()

    return write_one


def stdlib_logging_json(path: str) -> Callable[[], None]:
    class JsonFormatter(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            return json.dumps(record.msg, ensure_ascii=False)

    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(JsonFormatter())
    log = logging.getLogger(f"bench.{path}")
    log.propagate = False
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    return lambda: log.info(as_row(build()))


CONTENDERS: list[tuple[str, Callable[[str], Callable[[], None]]]] = [
    ("floor: orjson.dumps(row) + os.write", floor),
    ("rotation-aware floor: + os.stat per row", floor_with_stat),
    ("sessionlog: build + append", sessionlog),
    ("  part: build_session_record + write", build_only),
    ("  part: build + as_row + encode + write", build_and_encode),
    ("reference port: open/write/close per row", reference_port),
    ("json.dumps + file write + flush", json_dumps_file),
    ("logging.FileHandler + json formatter", stdlib_logging_json),
    ("receiver path, 4,000-char prompt", receiver_path),
    ("  + default scrubbing", receiver_path_scrubbed),
    ("  + scrubbing with PII too", receiver_path_scrubbed_pii),
    ("  + scrubbing with gitleaks' rules too", receiver_path_scrubbed_gitleaks),
    ("  + naive alternation of every pattern", receiver_path_naive),
]
#: Contenders slow enough to measure on a share of the rows (1/N).
FEWER = {"  + naive alternation of every pattern": 20}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    row_bytes = len(encode_line(as_row(build())))
    print(
        f"{args.rows} rows of {row_bytes} bytes, best of {args.repeat} runs, Python {sys.version.split()[0]}"
    )
    best: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as directory:
        for _ in range(args.repeat):
            for name, setup in CONTENDERS:  # interleaved, so drift hits all alike
                us = timed(max(args.rows // FEWER.get(name, 1), 100), setup, directory)
                best[name] = min(best.get(name, us), us)
    base, rotation_aware = best[CONTENDERS[0][0]], best[CONTENDERS[1][0]]
    for name, _ in CONTENDERS:
        print(
            f"{name:<44} {best[name]:7.2f} us/row  {best[name] / base:5.2f}x floor"
            f"  {best[name] / rotation_aware:5.2f}x rotation-aware floor"
        )
    path = best["receiver path, 4,000-char prompt"]
    for name in (
        "  + default scrubbing",
        "  + scrubbing with PII too",
        "  + scrubbing with gitleaks' rules too",
        "  + naive alternation of every pattern",
    ):
        print(
            f"receiver path {name.strip():<36} {best[name] / path:5.2f}x the receiver path without scrubbing"
        )


if __name__ == "__main__":
    main()
