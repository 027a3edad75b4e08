from __future__ import annotations

from typing import Any

import pytest

from django_sessionlog import SessionRecord
from django_sessionlog.jsonl import encode_line
from django_sessionlog.read.sources.rules import InvalidRow, decode_row, without_deep_values
from django_sessionlog.write.encoding import as_row


def deep(depth: int) -> dict[str, Any]:
    root: dict[str, Any] = {}
    node = root
    for _ in range(depth):
        node["k"] = {"s": "a } ] \\" + '" {'}
        node = node["k"]
    return root


def line(**fields: Any) -> bytes:
    record = SessionRecord(
        session_id="s", timestamp="2026-11-24T00:00:00Z", final_verdict="accepted", attempts=[], **fields
    )
    return encode_line(as_row(record))


@pytest.mark.parametrize("depth", [150, 1_500, 20_000])
def test_a_row_with_an_artifact_of_any_depth_the_writer_wrote_is_valid(depth: int) -> None:
    row = decode_row(line(artifact=deep(depth)))
    assert row.session_id == "s"


def test_a_deep_row_with_another_problem_is_still_reported() -> None:
    raw = line(artifact=deep(2_000)).replace(b'"iterations":0', b'"iterations":true')
    with pytest.raises(InvalidRow, match="iterations: expected int, got bool"):
        decode_row(raw)


def test_unbalanced_deep_json_is_invalid() -> None:
    raw = line(artifact=deep(2_000))
    with pytest.raises(InvalidRow, match=r"not JSON: brackets do not balance \(nested \d+ levels deep\)"):
        decode_row(raw[:-3] + b"\n")


def test_shallow_values_are_left_as_they_are() -> None:
    raw = line(artifact={"a": [1, {"b": 2}]})
    assert without_deep_values(raw) == raw
