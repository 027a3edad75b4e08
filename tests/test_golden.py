"""Golden parity: every row the reference wrote, byte for byte in value and key order."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from django_sessionlog import SessionLogger, build_session_record

from . import needs
from .golden import GOLDEN, SHARED, build_arguments, cases


def _key_orders(row: dict[str, Any]) -> list[list[str]]:
    """The row's own key orders: the top level and each attempt (not the artifact)."""
    orders = [list(row)]
    for attempt in row.get("attempts") or []:
        orders.append(list(attempt))
    return orders


def test_golden_files_are_present() -> None:
    assert (GOLDEN / "cases.jsonl").is_file(), f"golden cases missing: {GOLDEN}"
    assert (GOLDEN / "expected.jsonl").is_file(), f"golden rows missing: {GOLDEN}"


@pytest.mark.parametrize("name", ["cases.jsonl", "expected.jsonl"])
def test_the_repositorys_copy_equals_the_shared_golden_files(name: str) -> None:
    if not SHARED.is_dir():
        needs.missing(f"{SHARED} is not beside this clone")
    assert (GOLDEN / name).read_bytes() == (SHARED / name).read_bytes()


def test_all_400_golden_rows_match_the_reference_in_value_and_key_order(tmp_path: Path) -> None:
    log = tmp_path / "sessions.jsonl"
    sink = SessionLogger(log, raise_errors=True)
    expected_lines = []
    for _, case, expected in cases():
        record = build_session_record(**build_arguments(case))
        record.timestamp = case["timestamp"]
        sink.append(record)
        expected_lines.append(expected)
    written = log.read_bytes().split(b"\n")
    assert written.pop() == b"", "the file must end with a newline"
    assert len(written) == len(expected_lines) == 400
    mismatches = []
    for number, (ours, theirs) in enumerate(zip(written, expected_lines, strict=True), 1):
        got, want = json.loads(ours), json.loads(theirs)
        if got != want or _key_orders(got) != _key_orders(want):
            mismatches.append(number)
    assert mismatches == [], f"golden cases differing from the reference: {mismatches[:20]}"
