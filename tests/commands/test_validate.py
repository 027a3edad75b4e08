from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from django.test import override_settings

from ..logs import DROP, django_admin, line, row, sessionlog, write_log


def test_a_valid_log_passes_with_status_0(tmp_path: Path) -> None:
    log = write_log(tmp_path / "s.jsonl", row(), row(final_verdict="infra_error", attempts=None))
    out, _, status = sessionlog("validate", str(log))
    assert status == 0
    assert "2 lines in 1 file: 2 valid, 0 invalid, 0 skipped" in out


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"iterations": True}, "iterations: expected int, got bool"),
        ({"duration_ms": 12.5}, "duration_ms: expected int, got float"),
        ({"iterations": 2.0}, "iterations: expected int, got float"),
        ({"kind": DROP}, "kind: missing"),
        ({"kind": None}, "kind: null is not allowed"),
        (
            {"final_verdict": "maybe"},
            "final_verdict: 'maybe' is not one of accepted, max_iter_exhausted, infra_error",
        ),
        ({"attempts": None}, "attempts: null is only allowed on an infra_error row, not on accepted"),
        (
            {"attempts": [{"iteration": 1, "verdict_kind": "guess"}]},
            "attempts[0].verdict_kind: 'guess' is not one of",
        ),
        ({"attempts": [{"verdict_kind": "accepted"}]}, "attempts[0].iteration: missing"),
        ({"attempts": "none"}, "attempts: expected array | null, got str"),
        ({"artifact": ["W-1"]}, "artifact: expected object, got array"),
        ({"grounded_in_roster": "yes"}, "grounded_in_roster: expected bool, got str"),
        ({"grounded_in_roster": None}, "grounded_in_roster: null is not allowed"),
        ({"timestamp": "yesterday"}, "timestamp: invalid RFC3339"),
        ({"timestamp": "2026-11-24T19:25:55"}, "timestamp: expected datetime with a timezone"),
        ({"prompt": "é" * 4001}, "prompt: 4001 characters, more than 4000"),
        ({"sample_rate": 0}, "sample_rate: expected float >= 5.421010862427522e-20"),
        ({"sample_rate": 1e-310}, "sample_rate: expected float >= 5.421010862427522e-20"),
        ({"usage": {"input_tokens": -5, "output_tokens": 1}}, "usage.input_tokens: expected int >= 0"),
        ({"usage": {"input_tokens": 1.5, "output_tokens": 1}}, "usage.input_tokens: expected int, got float"),
        ({"usage": {"input_tokens": "9", "output_tokens": 1}}, "usage.input_tokens: expected int, got str"),
        ({"usage": {"output_tokens": 1}}, "usage.input_tokens: missing"),
        ({"usage": None}, "usage: null is not allowed"),
        (
            {
                "usage": {
                    "input_tokens": 10,
                    "output_tokens": 1,
                    "cache_read_tokens": 8,
                    "cache_write_tokens": 3,
                }
            },
            "usage: cache_read_tokens + cache_write_tokens = 11, more than input_tokens = 10",
        ),
        (
            {
                "attempts": [
                    {
                        "iteration": 1,
                        "verdict_kind": "accepted",
                        "usage": {"input_tokens": 1, "output_tokens": 2, "reasoning_tokens": 3},
                    }
                ]
            },
            "attempts[0].usage: reasoning_tokens = 3, more than output_tokens = 2",
        ),
    ],
)
def test_each_bad_value_is_reported_with_its_line_and_key(
    tmp_path: Path, changes: dict[str, object], message: str
) -> None:
    log = write_log(tmp_path / "s.jsonl", row(), row(**changes))
    out, _, status = sessionlog("validate", str(log))
    assert status == 1
    assert f"{log}:2: {message}" in out


def test_every_problem_of_a_row_is_reported(tmp_path: Path) -> None:
    log = write_log(tmp_path / "s.jsonl", row(iterations="2", kind=DROP, final_verdict="nope"))
    out, _, _ = sessionlog("validate", str(log))
    problems = [line for line in out.splitlines() if line.startswith(f"{log}:1: ")]
    assert len(problems) == 3


def test_a_bad_row_does_not_stop_the_rest_of_the_file(tmp_path: Path) -> None:
    log = write_log(tmp_path / "s.jsonl", b"garbage\n", row(), b"\xff\xfe{}\n", b"\n", row(), b"[1]\n")
    out, _, status = sessionlog("validate", str(log))
    assert status == 1
    assert f"{log}:1: not JSON" in out
    assert f"{log}:3: invalid UTF-8 at byte 1" in out
    assert f"{log}:4: blank line" in out
    assert f"{log}:6: not a JSON object but an array" in out
    assert "6 lines in 1 file: 2 valid, 4 invalid" in out


def test_torn_last_line_is_reported_as_torn_write(tmp_path: Path) -> None:
    whole = json.dumps(row()).encode()
    log = write_log(tmp_path / "s.jsonl", row(), whole[:40])
    out, _, status = sessionlog("validate", str(log))
    assert status == 1
    assert f"{log}:2: torn write" in out
    assert "1 invalid (1 torn write)" in out


def test_last_line_without_newline_that_parses_is_a_valid_row(tmp_path: Path) -> None:
    log = write_log(tmp_path / "s.jsonl", row(), json.dumps(row()).encode())
    _, _, status = sessionlog("validate", str(log))
    assert status == 0


def test_a_row_of_another_schema_is_skipped_and_counted(tmp_path: Path) -> None:
    log = write_log(tmp_path / "s.jsonl", row(), {"schema": "session.iterate.v2", "whatever": 1})
    out, _, status = sessionlog("validate", str(log))
    assert status == 0
    assert "1 skipped (other schema)" in out


def test_strict_makes_another_schema_an_error(tmp_path: Path) -> None:
    log = write_log(tmp_path / "s.jsonl", {"schema": "session.iterate.v2"})
    out, _, status = sessionlog("validate", "--strict", str(log))
    assert status == 1
    assert f"{log}:1: schema: 'session.iterate.v2' is not session.iterate.v1" in out


def test_unknown_extra_keys_and_any_key_order_are_valid(tmp_path: Path) -> None:
    reordered = dict(reversed(list(row(extra_field={"a": 1}).items())))
    log = write_log(
        tmp_path / "s.jsonl",
        reordered,
        row(artifact={}, attempts=[{"iteration": 1, "verdict_kind": "accepted", "error": "", "span_id": ""}]),
    )
    _, _, status = sessionlog("validate", str(log))
    assert status == 0


@pytest.mark.parametrize(
    "timestamp",
    ["2026-11-24T19:25:55Z", "2026-11-24T21:25:55.123456789+02:00", "2026-11-24T19:25:55.1-05:30"],
)
def test_any_rfc3339_timestamp_is_accepted(tmp_path: Path, timestamp: str) -> None:
    log = write_log(tmp_path / "s.jsonl", row(timestamp=timestamp))
    assert sessionlog("validate", str(log))[2] == 0


def test_json_output_is_one_object_per_problem_and_a_summary(tmp_path: Path) -> None:
    log = write_log(tmp_path / "s.jsonl", row(iterations=True), row(), b"{")
    out, _, status = sessionlog("validate", "--json", str(log))
    objects = [json.loads(line) for line in out.splitlines()]
    assert status == 1
    assert objects[0] == {
        "type": "problem",
        "file": str(log),
        "line": 1,
        "message": "iterations: expected int, got bool",
    }
    assert objects[1]["line"] == 3
    assert objects[1]["message"].startswith("torn write")
    assert objects[-1] == {
        "type": "summary",
        "files": 1,
        "rows": 3,
        "valid": 1,
        "invalid": 2,
        "torn": 1,
        "skipped": 0,
        "unreadable": [],
    }


def test_gzip_and_globs_are_read(tmp_path: Path) -> None:
    write_log(tmp_path / "a.jsonl", row())
    with gzip.open(tmp_path / "b.jsonl.gz", "wb") as packed:
        packed.write(json.dumps(row(iterations=False)).encode() + b"\n")
    out, _, status = sessionlog("validate", str(tmp_path / "*.jsonl*"))
    assert status == 1
    assert f"{tmp_path / 'b.jsonl.gz'}:1: iterations: expected int, got bool" in out
    assert "2 lines in 2 files" in out


def test_configured_path_with_placeholders_reads_every_matching_file(tmp_path: Path) -> None:
    write_log(tmp_path / "web1" / "s-2026-11-23.jsonl", row())
    write_log(tmp_path / "web2" / "s-2026-11-24.jsonl", row(), row())
    write_log(tmp_path / "web2" / "s-latest.jsonl", row(kind=DROP))  # not the pattern: not read
    with override_settings(SESSIONLOG={"PATH": str(tmp_path / "{host}" / "s-{date}.jsonl")}):
        out, _, status = sessionlog("validate")
    assert status == 0
    assert "3 lines in 2 files" in out


def test_unreadable_file_exits_2_and_the_others_are_still_read(tmp_path: Path) -> None:
    log = write_log(tmp_path / "s.jsonl", row(iterations=True))
    out, err, status = sessionlog("validate", str(tmp_path / "missing.jsonl"), str(log))
    assert status == 2
    assert f"{tmp_path / 'missing.jsonl'}: cannot read: No such file or directory" in err
    assert f"{log}:1: iterations" in out


def test_glob_matching_nothing_exits_2(tmp_path: Path) -> None:
    _, err, status = sessionlog("validate", str(tmp_path / "*.jsonl"))
    assert status == 2
    assert "no file matches" in err


def test_no_file_and_no_path_exits_2() -> None:
    with override_settings(SESSIONLOG={"PATH": ""}):
        _, err, status = sessionlog("validate")
    assert status == 2
    assert "SESSIONLOG['PATH'] is not set" in err


@pytest.mark.parametrize(
    "subcommand", [["validate"], ["stats"], ["tail"], ["report", "-o", "-"], ["prune", "--older-than", "1"]]
)
def test_a_command_without_path_names_the_misspelled_key(subcommand: list[str]) -> None:
    with override_settings(SESSIONLOG={"PTAH": "sessions.jsonl"}):
        _, err, status = sessionlog(*subcommand)
    assert status == 2
    assert "SESSIONLOG['PATH']" in err
    assert "unknown key 'PTAH' (did you mean 'PATH'?)" in err


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "status"),
    [
        (["validate", "--no-such-flag"], 2),
        (["validate", "{good}"], 0),
        (["validate", "{bad}"], 1),
        (["validate", "{missing}"], 2),
        (["nosuchsubcommand"], 2),
        ([], 2),
    ],
)
def test_exit_statuses_from_the_command_line(tmp_path: Path, args: list[str], status: int) -> None:
    good = write_log(tmp_path / "good.jsonl", row())
    bad = write_log(tmp_path / "bad.jsonl", row(iterations=True))
    names = {"good": good, "bad": bad, "missing": tmp_path / "missing.jsonl"}
    result = django_admin("sessionlog", *(a.format(**names) for a in args))
    assert result.returncode == status, result.stderr


def test_validate_agrees_with_the_json_schema_it_prints(tmp_path: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(sessionlog("schema")[0])
    cases = [
        row(),
        row(iterations=True),
        row(kind=DROP),
        row(final_verdict="maybe"),
        row(attempts=None),
        row(final_verdict="infra_error", attempts=None),
        row(artifact=[1]),
        row(grounded_in_roster=None),
        row(prompt="x" * 4001),
        row(extra=1),
        row(attempts=[{"iteration": 1, "verdict_kind": "no"}]),
    ]
    validator = jsonschema.Draft202012Validator(schema)
    for number, case in enumerate(cases, 1):
        log = write_log(tmp_path / f"{number}.jsonl", case)
        by_us = sessionlog("validate", str(log))[2] == 0
        by_schema = validator.is_valid(case)
        assert by_us == by_schema, case


def test_a_last_line_cut_inside_a_character_is_a_torn_write(tmp_path: Path) -> None:
    whole = json.dumps(row(prompt="cut here …"), ensure_ascii=False).encode()
    cut = whole[: whole.index("…".encode()) + 1]  # the first of the ellipsis's three bytes
    log = write_log(tmp_path / "s.jsonl", row(), cut)
    out, _, status = sessionlog("validate", str(log))
    assert status == 1
    assert f"{log}:2: torn write" in out


def test_a_corrupt_gzip_file_is_unreadable_not_a_crash(tmp_path: Path) -> None:
    packed = gzip.compress(json.dumps(row()).encode() * 50)
    broken = tmp_path / "broken.jsonl.gz"
    broken.write_bytes(packed[:20] + bytes(200) + packed[220:])
    _, err, status = sessionlog("validate", str(broken))
    assert status == 2
    assert f"{broken}: cannot read" in err


@pytest.mark.slow
def test_standard_input_is_read_and_left_open(tmp_path: Path) -> None:
    data = json.dumps(row()) + "\n" + json.dumps(row(iterations=True)) + "\n"
    result = django_admin("sessionlog", "validate", "-", "-", input=data)
    assert result.returncode == 1, result.stderr
    assert "-:2: iterations: expected int, got bool" in result.stdout
    assert "Traceback" not in result.stderr


def test_the_start_of_a_row_cut_short_in_the_middle_of_a_file_is_named_as_such(tmp_path: Path) -> None:
    whole = line(row())
    log = write_log(tmp_path / "s.jsonl", row(), whole[:111] + b"\n", row())
    out, _, status = sessionlog("validate", str(log))
    assert status == 1
    assert f"{log}:2: not JSON: the line ends before its JSON does (the start of a row cut short?)" in out
    assert "3 lines in 1 file: 2 valid, 1 invalid" in out


def test_rows_with_usage_are_valid(tmp_path: Path) -> None:
    usage = {"input_tokens": 10, "output_tokens": 4, "cache_read_tokens": 10, "reasoning_tokens": 4}
    log = write_log(
        tmp_path / "s.jsonl", row(usage=usage), row(usage={"input_tokens": 0, "output_tokens": 0})
    )
    out, _, status = sessionlog("validate", str(log))
    assert status == 0, out


def test_a_json_error_keeps_the_acronym_capitalised(tmp_path: Path) -> None:
    text = line(row()).replace(b'"kind": "fill"', b'"kind": "fi\\ud800ll"')
    log = write_log(tmp_path / "s.jsonl", text)
    out, _, status = sessionlog("validate", str(log))
    assert status == 1
    assert f"{log}:1: JSON is malformed: unexpected end of escaped utf-16 surrogate pair" in out
    assert "jSON" not in out


@pytest.mark.slow
def test_on_the_command_line_a_json_error_reads_json(tmp_path: Path) -> None:
    text = line(row()).replace(b'"kind": "fill"', b'"kind": "fi\\ud800ll"')
    result = django_admin("sessionlog", "validate", str(write_log(tmp_path / "s.jsonl", text)))
    assert result.returncode == 1
    assert ":1: JSON is malformed: unexpected end of escaped utf-16 surrogate pair" in result.stdout
