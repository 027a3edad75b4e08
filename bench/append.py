"""Microseconds per row to build and append a typical accepted session.

    python bench/append.py [--rows 20000] [--repeat 5]

Every contender writes the same 20,000 rows of about 2.3 KB to a fresh file
in the same run; the best of --repeat runs is kept (the machine is noisy,
so compare ratios, not absolutes). The floor is the least any JSONL writer
can do: ``orjson.dumps`` of the finished row dict and one ``os.write`` on a
descriptor that is already open.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from django_sessionlog import (
    AttemptStatus,
    IterateAttempt,
    IterateRequest,
    IterateResponse,
    SessionLogger,
    build_session_record,
)
from django_sessionlog.jsonl import encode_line
from django_sessionlog.write.encoding import as_row
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


class _NoRotationCheck(SessionLogger):
    """The sink without its per-row stat: what noticing logrotate costs."""

    def _current_fd(self, path: str) -> tuple[int, int]:
        return (self._fd, 0) if self._fd is not None else self._open(path)


def sessionlog_without_stat(path: str) -> Callable[[], None]:
    sink = _NoRotationCheck(path)
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
    ("sessionlog without the per-row stat", sessionlog_without_stat),
    ("  part: build_session_record + write", build_only),
    ("  part: build + as_row + encode + write", build_and_encode),
    ("reference port: open/write/close per row", reference_port),
    ("json.dumps + file write + flush", json_dumps_file),
    ("logging.FileHandler + json formatter", stdlib_logging_json),
]


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
                us = timed(args.rows, setup, directory)
                best[name] = min(best.get(name, us), us)
    base, rotation_aware = best[CONTENDERS[0][0]], best[CONTENDERS[1][0]]
    for name, _ in CONTENDERS:
        print(
            f"{name:<44} {best[name]:7.2f} us/row  {best[name] / base:5.2f}x floor"
            f"  {best[name] / rotation_aware:5.2f}x rotation-aware floor"
        )


if __name__ == "__main__":
    main()
