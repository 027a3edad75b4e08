from __future__ import annotations

import csv
import gzip
import io
import json
from pathlib import Path
from typing import Any

from django_sessionlog.read.sql import columns

from ..logs import DROP, KEY_NAMES, row, sessionlog, write_log


def query(sql: str, *files: Path | str, fmt: str = "--json") -> tuple[list[dict[str, Any]], str, int]:
    out, err, status = sessionlog("query", fmt, sql, *map(str, files))
    return [json.loads(text) for text in out.splitlines()], err, status


USAGE = (
    'STRUCT("input_tokens" BIGINT, "output_tokens" BIGINT, "cache_read_tokens" BIGINT, '
    '"cache_write_tokens" BIGINT, "reasoning_tokens" BIGINT)'
)
USAGE_SHOWN = (
    "STRUCT(input_tokens BIGINT, output_tokens BIGINT, cache_read_tokens BIGINT, "
    "cache_write_tokens BIGINT, reasoning_tokens BIGINT)"
)


def test_sessions_view_has_the_fixed_column_types() -> None:
    assert {
        "schema": "VARCHAR",
        "session_id": "VARCHAR",
        "timestamp": "TIMESTAMPTZ",
        "daemon": "VARCHAR",
        "kind": "VARCHAR",
        "model": "VARCHAR",
        "provider": "VARCHAR",
        "prompt": "VARCHAR",
        "iterations": "BIGINT",
        "max_iterations": "BIGINT",
        "final_verdict": "VARCHAR",
        "attempts": 'STRUCT("iteration" BIGINT, "verdict_kind" VARCHAR, "error" VARCHAR, "span_id" VARCHAR, '
        f'"usage" {USAGE})[]',
        "artifact": "JSON",
        "grounded_in_roster": "BOOLEAN",
        "duration_ms": "BIGINT",
        "usage": USAGE,
        "sample_rate": "DOUBLE",
    } == columns.COLUMNS


def test_column_types_do_not_depend_on_the_first_rows(tmp_path: Path) -> None:
    # An all-null first stretch would make DuckDB guess; here types are fixed.
    log = write_log(tmp_path / "s.jsonl", row(final_verdict="infra_error", attempts=None, artifact={}))
    rows, _, status = query(
        "SELECT typeof(attempts) a, typeof(timestamp) t, typeof(artifact) j, typeof(grounded_in_roster) g FROM sessions",
        log,
    )
    assert status == 0
    assert rows == [
        {
            "a": 'STRUCT(iteration BIGINT, verdict_kind VARCHAR, "error" VARCHAR, span_id VARCHAR, '
            f"usage {USAGE_SHOWN})[]",
            "t": "TIMESTAMP WITH TIME ZONE",
            "j": "JSON",
            "g": "BOOLEAN",
        }
    ]


def test_phantom_worker_question_over_attempts(tmp_path: Path) -> None:
    log = write_log(
        tmp_path / "s.jsonl",
        row(session_id="phantom"),
        row(session_id="clean", attempts=[{"iteration": 1, "verdict_kind": "accepted"}]),
    )
    rows, _, _ = query(
        "SELECT DISTINCT session_id FROM sessions, unnest(attempts) t(a) WHERE a.error LIKE '%not on the roster%'",
        log,
    )
    assert rows == [{"session_id": "phantom"}]


def test_bad_and_torn_lines_are_left_out_and_counted_on_stderr(tmp_path: Path) -> None:
    log = write_log(
        tmp_path / "s.jsonl",
        row(session_id="a"),
        b"garbage\n",
        row(session_id="bool", iterations=True),  # DuckDB alone would read this as 1
        {"schema": "session.iterate.v2"},
        row(session_id="b"),
        json.dumps(row()).encode()[:50],
    )
    rows, err, status = query("SELECT session_id FROM sessions ORDER BY 1", log)
    assert status == 0
    assert rows == [{"session_id": "a"}, {"session_id": "b"}]
    assert "left out 3 invalid lines (1 torn) and 1 row of another schema" in err


def test_rows_larger_than_duckdbs_default_object_size_load(tmp_path: Path) -> None:
    big = {"blob": "x" * (20 << 20)}
    log = write_log(tmp_path / "s.jsonl", row(artifact=big))
    rows, _, status = query("SELECT length(artifact->>'blob') n FROM sessions", log)
    assert status == 0
    assert rows == [{"n": 20 << 20}]


def test_globs_and_gzip_files(tmp_path: Path) -> None:
    write_log(tmp_path / "a.jsonl", row(session_id="a"))
    with gzip.open(tmp_path / "b.jsonl.gz", "wb") as packed:
        packed.write(json.dumps(row(session_id="b")).encode() + b"\n")
    rows, _, _ = query("SELECT session_id FROM sessions ORDER BY 1", tmp_path / "*")
    assert rows == [{"session_id": "a"}, {"session_id": "b"}]


def test_a_log_with_no_valid_rows_still_has_the_view(tmp_path: Path) -> None:
    log = write_log(tmp_path / "s.jsonl", b"garbage\n")
    rows, _, status = query("SELECT count(*) n FROM sessions", log)
    assert status == 0
    assert rows == [{"n": 0}]


def test_table_and_csv_output(tmp_path: Path) -> None:
    log = write_log(tmp_path / "s.jsonl", row())
    table, _, _ = sessionlog("query", "SELECT kind, iterations FROM sessions", str(log))
    assert "kind" in table
    assert "fill" in table
    csv_out, _, _ = sessionlog("query", "--csv", "SELECT kind, iterations FROM sessions", str(log))
    assert csv_out == "kind,iterations\nfill,2\n"


def test_sql_error_exits_2_with_the_message(tmp_path: Path) -> None:
    log = write_log(tmp_path / "s.jsonl", row())
    _, err, status = sessionlog("query", "SELECT nope FROM sessions", str(log))
    assert status == 2
    assert "SQL error" in err
    assert "nope" in err


def test_without_duckdb_installed_a_clear_message_names_the_extra(tmp_path: Path, no_duckdb: None) -> None:
    _, err, status = sessionlog("query", "SELECT 1", str(write_log(tmp_path / "s.jsonl", row())))
    assert status == 2
    assert "pip install 'django-sessionlog[duckdb]'" in err


def test_every_row_validate_accepts_reaches_the_sessions_view(tmp_path: Path) -> None:
    log = write_log(
        tmp_path / "s.jsonl",
        row(session_id="lower", timestamp="2026-11-24t19:25:55z"),
        row(session_id="offset", timestamp="2026-11-24T21:25:55.123456789+02:00"),
        row(session_id="space", timestamp="2026-11-24 19:25:55Z"),
        row(session_id="int64", duration_ms=2**63 - 1),
    )
    assert sessionlog("validate", str(log))[2] == 0
    rows, err, _ = query("SELECT session_id, CAST(timestamp AS VARCHAR) t FROM sessions ORDER BY 1", log)
    assert rows == [
        {"session_id": "int64", "t": "2026-11-24 19:25:55.344793+00"},
        {"session_id": "lower", "t": "2026-11-24 19:25:55+00"},
        {"session_id": "offset", "t": "2026-11-24 19:25:55.123456+00"},
        {"session_id": "space", "t": "2026-11-24 19:25:55+00"},
    ]
    assert err == ""


def test_an_integer_beyond_64_bits_is_invalid_as_the_warehouse_types_say(tmp_path: Path) -> None:
    log = write_log(tmp_path / "s.jsonl", row(duration_ms=2**70))
    out, _, status = sessionlog("validate", str(log))
    assert status == 1
    assert "duration_ms: expected int <= 9223372036854775807" in out


def test_json_output_writes_decimals_and_intervals(tmp_path: Path) -> None:
    log = write_log(tmp_path / "s.jsonl", row(), row(timestamp="2026-11-24T19:26:55.344793Z"))
    rows, _, status = query(
        "SELECT sum(iterations) * 1.5 AS d, max(timestamp) - min(timestamp) AS span FROM sessions", log
    )
    assert status == 0
    assert rows == [{"d": 6.0, "span": 60.0}]


def test_table_to_a_terminal_escapes_control_characters(tmp_path: Path) -> None:
    from django.core.management import call_command

    from ..logs import Terminal

    log = write_log(tmp_path / "s.jsonl", row(model="x\u202ey"))
    terminal = Terminal()
    call_command("sessionlog", "query", "SELECT model FROM sessions", str(log), stdout=terminal)
    assert "\u202e" not in terminal.buffer.getvalue()
    assert "\\u202e" in terminal.buffer.getvalue()


def test_csv_writes_booleans_lists_structs_and_json_as_other_tools_read_them(tmp_path: Path) -> None:
    log = write_log(tmp_path / "s.jsonl", row(grounded_in_roster=False), row(grounded_in_roster=True))
    out, _, status = sessionlog(
        "query", "--csv", "SELECT grounded_in_roster, attempts, artifact, timestamp FROM sessions", str(log)
    )
    assert status == 0
    header, *records = list(csv.reader(io.StringIO(out)))
    assert header == ["grounded_in_roster", "attempts", "artifact", "timestamp"]
    assert [r[0] for r in records] == ["false", "true"]
    assert json.loads(records[0][1])[0] == {
        "iteration": 1,
        "verdict_kind": "validation_failed",
        "error": "worker W-9999 is not on the roster",
        "span_id": None,
        "usage": None,
    }
    assert json.loads(records[0][2]) == {"shift": "sat-night", "workers": ["W-1001"]}
    assert records[0][3] == "2026-11-24T19:25:55.344793+00:00"
    assert "True" not in out
    assert "'iteration'" not in out


def test_csv_leaves_a_null_empty(tmp_path: Path) -> None:
    log = write_log(tmp_path / "s.jsonl", row(grounded_in_roster=DROP, artifact=DROP))
    out, _, _ = sessionlog("query", "--csv", "SELECT grounded_in_roster, artifact FROM sessions", str(log))
    assert out.splitlines()[1] == ","


def test_json_writes_the_artifact_as_the_object_it_is(tmp_path: Path) -> None:
    log = write_log(tmp_path / "s.jsonl", row(artifact={"shift": "x", "n": [1, 2]}), row(artifact=DROP))
    rows, _, _ = query("SELECT artifact FROM sessions", log)
    assert rows == [{"artifact": {"shift": "x", "n": [1, 2]}}, {"artifact": None}]


def test_describe_sessions_lists_the_columns_in_the_files_key_order(tmp_path: Path) -> None:
    rows, _, _ = query("SELECT column_name FROM (DESCRIBE sessions)", write_log(tmp_path / "s.jsonl", row()))
    assert [r["column_name"] for r in rows] == list(KEY_NAMES)
