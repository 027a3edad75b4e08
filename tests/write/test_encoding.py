from __future__ import annotations

import datetime
from typing import Any

import orjson
import pytest

from django_sessionlog import SessionAttemptRecord, SessionRecord, Usage
from django_sessionlog.jsonl import encode_line
from django_sessionlog.write.encoding import as_row, format_timestamp, now_timestamp

from ..logs import KEY_NAMES
from ..test_jsonl import artifact_line, strict_loads


def test_row_keys_come_in_the_spec_order_with_every_optional_key() -> None:
    record = SessionRecord(
        attempts=[], artifact={"a": 1}, grounded_in_roster=False, usage=Usage(1, 2), sample_rate=0.5
    )
    assert list(as_row(record)) == list(KEY_NAMES)


def test_empty_artifact_and_unanswered_roster_check_are_omitted() -> None:
    empty: list[dict[str, Any] | None] = [None, {}]
    for artifact in empty:
        row = as_row(SessionRecord(artifact=artifact))
        assert "artifact" not in row
        assert "grounded_in_roster" not in row


def test_attempt_keys_in_order_with_empty_error_and_span_omitted() -> None:
    record = SessionRecord(
        attempts=[SessionAttemptRecord(1, "accepted"), SessionAttemptRecord(2, "no_json", "e", "s")]
    )
    assert as_row(record)["attempts"] == [
        {"iteration": 1, "verdict_kind": "accepted"},
        {"iteration": 2, "verdict_kind": "no_json", "error": "e", "span_id": "s"},
    ]
    assert list(as_row(record)["attempts"][1]) == ["iteration", "verdict_kind", "error", "span_id"]


def test_null_attempts_are_written_as_null() -> None:
    assert strict_loads(encode_line(as_row(SessionRecord())))["attempts"] is None


def test_schema_timestamp_and_daemon_are_filled_without_changing_the_record() -> None:
    record = SessionRecord()
    row = as_row(record, daemon="coordinatord")
    assert row["schema"] == "session.iterate.v1"
    assert row["daemon"] == "coordinatord"
    assert row["timestamp"].endswith("Z")
    assert (record.schema, record.timestamp, record.daemon) == ("", "", "")


def test_given_schema_timestamp_and_daemon_are_kept() -> None:
    record = SessionRecord(schema="x", timestamp="2026-01-02T03:04:05Z", daemon="d")
    row = as_row(record)
    assert (row["schema"], row["timestamp"], row["daemon"]) == ("x", "2026-01-02T03:04:05Z", "d")


@pytest.mark.parametrize(
    ("ns", "expected"),
    [
        (1_764_000_000_000_000_000, "2025-11-24T16:00:00Z"),
        (1_764_000_000_100_000_000, "2025-11-24T16:00:00.1Z"),
        (1_764_000_000_344_793_000, "2025-11-24T16:00:00.344793Z"),
        (1_764_000_000_000_000_001, "2025-11-24T16:00:00.000000001Z"),
    ],
)
def test_timestamp_is_rfc3339_utc_with_fraction_trimmed(ns: int, expected: str) -> None:
    assert format_timestamp(ns) == expected


def test_now_timestamp_parses_as_utc_now() -> None:
    stamp = datetime.datetime.fromisoformat(now_timestamp().replace("Z", "+00:00"))
    assert abs(stamp - datetime.datetime.now(datetime.timezone.utc)) < datetime.timedelta(seconds=5)


def test_a_plain_row_is_written_by_orjson_as_is() -> None:
    row = as_row(
        SessionRecord(session_id="s", prompt="<b>&\u2028", attempts=[], artifact={"z": 1, "a": [1.5]})
    )
    assert encode_line(row) == orjson.dumps(row, option=orjson.OPT_APPEND_NEWLINE)


def test_artifact_keys_keep_the_hosts_order() -> None:
    _, row = artifact_line({"z": 1, "a": 2, "m": 3})
    assert list(row["artifact"]) == ["z", "a", "m"]
