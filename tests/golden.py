"""The reference's 400 golden cases, read from the repository's copy (``tests/golden``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django_sessionlog import AttemptStatus, IterateAttempt, IterateFailure, IterateRequest, IterateResponse

GOLDEN = Path(__file__).resolve().parent / "golden"
#: Where the copy came from: the steering repository's shared folder, beside a clone.
SHARED = Path(__file__).resolve().parents[2] / "shared" / "golden"


def _history(raw: list[dict[str, Any]] | None) -> list[IterateAttempt]:
    return [
        IterateAttempt(
            iteration=a["iteration"],
            status=AttemptStatus(a["status"]["kind"], a["status"].get("error", "")),
            span_id=a.get("span_id", ""),
        )
        for a in raw or []
    ]


def cases() -> Iterator[tuple[int, dict[str, Any], bytes]]:
    """(line number, decoded case, the reference's expected line) of each case."""
    with (
        open(GOLDEN / "cases.jsonl", "rb") as cases_file,
        open(GOLDEN / "expected.jsonl", "rb") as expected_file,
    ):
        for number, (case, expected) in enumerate(zip(cases_file, expected_file, strict=True), 1):
            yield number, json.loads(case), expected


def build_arguments(case: dict[str, Any]) -> dict[str, Any]:
    """``build_session_record`` keyword arguments for one golden case."""
    req = IterateRequest(**case["req"])
    resp = fail = None
    if "resp" in case:
        r = case["resp"]
        resp = IterateResponse(r["trace_id"], r["iterations"], _history(r["history"]), r["artifact"])
    if "fail" in case:
        f = case["fail"]
        fail = IterateFailure(f["trace_id"], f["iterations"], _history(f["history"]))
    roster = case.get("roster")
    return {
        "request": req,
        "response": resp,
        "failure": fail,
        "infra_error": case.get("infra_err"),
        "roster_check": (lambda artifact: roster) if case.get("roster_check") else None,
        "duration_ms": case["duration_ms"],
    }
