from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.test import override_settings

from ..fake_secrets import PII, SECRETS
from ..logs import django_admin, line, row, sessionlog, write_log

AWS = "AKIAIOSFODNN7EXAMPLE"
JWT = next(secret for name, secret, _ in SECRETS if name == "jwt")
EVERY_SECRET = [secret for _, secret, _ in SECRETS + PII] + ["hunter2"]


def leaky_row() -> dict[str, object]:
    return row(
        prompt=f"use {AWS} and postgres://app:hunter2@db/app",
        attempts=[
            {"iteration": 1, "verdict_kind": "validation_failed", "error": f"Bearer {JWT} refused"},
            {"iteration": 2, "verdict_kind": "accepted"},
        ],
        artifact={"db": {"password": "hunter2"}, "steps": ["ok", {"note": f"key {AWS}"}], "n": 3},
    )


@pytest.fixture
def leaky(tmp_path: Path) -> Path:
    return write_log(tmp_path / "leaky.jsonl", row(), leaky_row(), b"not json\n", row())


def test_a_leaky_log_is_exit_1_with_each_finding_named_by_file_line_and_field(leaky: Path) -> None:
    out, err, status = sessionlog("scan", str(leaky))
    assert status == 1
    assert out.splitlines() == [
        f"{leaky}:2: aws_access_key_id in prompt",
        f"{leaky}:2: url_password in prompt",
        f"{leaky}:2: jwt in attempts[0].error",
        f"{leaky}:2: key:password in artifact.db.password",
        f"{leaky}:2: aws_access_key_id in artifact.steps[1].note",
    ]
    assert "3 rows in 1 file scanned: 5 findings in 1 row; 1 invalid line searched whole, not as rows" in err
    assert "secrets or personal data in 1 row" in err


def test_a_clean_log_is_exit_0(tmp_path: Path) -> None:
    log = write_log(
        tmp_path / "clean.jsonl", row(), row(prompt="W-1001 task-force 4bf92f3577b34da6a3ce929d0e0e4736")
    )
    out, err, status = sessionlog("scan", str(log))
    assert (out, status) == ("", 0)
    assert "2 rows in 1 file scanned: nothing found" in err


def test_scan_never_prints_the_text_found(tmp_path: Path) -> None:
    everything = " ".join(EVERY_SECRET)
    log = write_log(
        tmp_path / "s.jsonl",
        row(prompt=everything[:4000], artifact={"password": "hunter2", "note": everything}),
    )
    with override_settings(SESSIONLOG={"SCRUB": {"PII": ["email", "phone", "card", "iban"]}}):
        for arguments in ([], ["--json"]):
            out, err, status = sessionlog("scan", *arguments, str(log))
            assert status == 1
            for secret in EVERY_SECRET:
                assert secret not in out + err


def test_a_log_the_receiver_scrubbed_is_clean(tmp_path: Path) -> None:
    from django_sessionlog.scrubbing import build

    scrubbed = build().scrub_parts(
        f"use {AWS} and postgres://app:hunter2@db/app", [f"Bearer {JWT}"], {"password": "x"}
    )
    assert scrubbed is not None
    log = write_log(
        tmp_path / "s.jsonl",
        row(
            prompt=scrubbed.prompt,
            attempts=[{"iteration": 1, "verdict_kind": "no_json", "error": scrubbed.errors[0]}],
            artifact=scrubbed.artifact,
        ),
    )
    assert sessionlog("scan", str(log))[2] == 0


def test_json_gives_one_object_per_finding_and_a_summary(leaky: Path) -> None:
    out, _, status = sessionlog("scan", "--json", str(leaky))
    assert status == 1
    *findings, summary = [json.loads(line) for line in out.splitlines()]
    assert findings[0] == {
        "type": "finding",
        "file": str(leaky),
        "line": 2,
        "name": "aws_access_key_id",
        "field": "prompt",
    }
    assert len(findings) == 5
    assert summary == {
        "type": "summary",
        "files": 1,
        "rows": 3,
        "findings": 5,
        "rows_with_findings": 1,
        "invalid_lines_with_findings": 0,
        "skipped": {"invalid": 1, "torn": 0, "other_schema": 0},
        "unreadable": [],
    }


def test_the_configured_pii_and_patterns_are_looked_for_and_secrets_always(tmp_path: Path) -> None:
    log = write_log(tmp_path / "s.jsonl", row(prompt=f"mail ana@example.com, ticket ACME-1234, key {AWS}"))
    assert sessionlog("scan", str(log))[0].splitlines() == [f"{log}:1: aws_access_key_id in prompt"]
    scrub = {"SECRETS": False, "PII": ["email"], "PATTERNS": {"acme": r"ACME-\d{4}"}}
    with override_settings(SESSIONLOG={"SCRUB": scrub}):
        out, _, _ = sessionlog("scan", str(log))
    # In the order they stand in the field.
    assert out.splitlines() == [
        f"{log}:1: {name} in prompt" for name in ("email", "acme", "aws_access_key_id")
    ]


def test_pii_asked_for_on_the_command_line_is_looked_for_too(tmp_path: Path) -> None:
    log = write_log(tmp_path / "s.jsonl", row(prompt="card 4111 1111 1111 1111, mail ana@example.com"))
    assert sessionlog("scan", str(log))[2] == 0
    assert sessionlog("scan", "--pii", "card", str(log))[0].splitlines() == [f"{log}:1: card in prompt"]
    assert len(sessionlog("scan", "--pii", "all", str(log))[0].splitlines()) == 2


def test_a_scrub_setting_it_cannot_use_is_exit_2_naming_the_problem(tmp_path: Path) -> None:
    log = write_log(tmp_path / "s.jsonl", row())
    with override_settings(SESSIONLOG={"SCRUB": {"PATTERNS": {"bad": "("}}}):
        out, err, status = sessionlog("scan", str(log))
    assert (out, status) == ("", 2)
    assert "SESSIONLOG['SCRUB'] cannot be used: PATTERNS: 'bad' does not compile" in err
    assert "[django_sessionlog.E012]" in err


def test_the_files_of_path_are_scanned_when_none_is_named(tmp_path: Path) -> None:
    write_log(tmp_path / "s-2026-11-24.jsonl", leaky_row())
    write_log(tmp_path / "s-2026-11-25.jsonl", row())
    with override_settings(SESSIONLOG={"PATH": str(tmp_path / "s-{date}.jsonl")}):
        out, err, status = sessionlog("scan")
    assert status == 1
    assert "2 rows in 2 files scanned" in err
    assert out.startswith(f"{tmp_path / 's-2026-11-24.jsonl'}:1: ")


def test_an_unreadable_file_is_exit_2_after_the_others_are_scanned(leaky: Path, tmp_path: Path) -> None:
    out, err, status = sessionlog("scan", str(leaky), str(tmp_path / "missing.jsonl"))
    assert status == 2
    assert len(out.splitlines()) == 5
    assert "missing.jsonl: cannot read" in err


@pytest.mark.slow
def test_scan_from_the_command_line_as_a_ci_job_runs_it(leaky: Path, tmp_path: Path) -> None:
    result = django_admin("sessionlog", "scan", str(leaky))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"{leaky}:2: jwt in attempts[0].error" in result.stdout
    assert django_admin("sessionlog", "scan", str(write_log(tmp_path / "c.jsonl", row()))).returncode == 0


def deep_row(depth: int, leaf: str) -> bytes:
    """A row whose artifact is ``depth`` levels deep, spliced in as text (json.dumps itself recurses)."""
    head = json.dumps(row(), separators=(",", ":"))[:-1]
    artifact = '{"a":' * depth + json.dumps(leaf) + "}" * depth
    return f'{head},"artifact":{artifact}}}\n'.encode()


def test_an_artifact_too_deep_to_decode_is_scanned_as_text_the_same_on_every_python(tmp_path: Path) -> None:
    """5,000 levels exhaust the decoder's stack on 3.11 and 3.12, not on 3.13: the finding is the same."""
    log = write_log(tmp_path / "deep.jsonl", row(), deep_row(5000, f"key {AWS}"), row(artifact={}))
    out, err, status = sessionlog("scan", str(log))
    assert status == 1
    assert out.splitlines() == [f"{log}:2: aws_access_key_id in artifact"]
    assert "3 rows in 1 file scanned: 1 finding in 1 row" in err
    assert AWS not in out + err
    out, _, status = sessionlog("scan", "--json", str(log))
    *lines, summary = [json.loads(line) for line in out.splitlines()]
    assert lines == [
        {"type": "finding", "file": str(log), "line": 2, "name": "aws_access_key_id", "field": "artifact"}
    ]
    assert (summary["findings"], status) == (1, 1)


def test_a_deep_artifact_with_nothing_in_it_scans_clean(tmp_path: Path) -> None:
    log = write_log(tmp_path / "deep.jsonl", row(), deep_row(5000, "leaf"))
    out, err, status = sessionlog("scan", str(log))
    assert (out, status) == ("", 0)
    assert "2 rows in 1 file scanned: nothing found" in err


def test_a_shallow_nested_artifact_is_scanned_in_full(tmp_path: Path) -> None:
    log = write_log(tmp_path / "nested.jsonl", deep_row(150, f"key {AWS}"))
    out, _, status = sessionlog("scan", str(log))
    assert status == 1
    assert out.splitlines() == [f"{log}:1: aws_access_key_id in artifact" + ".a" * 150]


def test_a_secret_in_a_line_that_is_not_a_valid_row_is_found(tmp_path: Path) -> None:
    """A bad field, a row cut short by a full disk, another schema: the secret is no less in the file."""
    bad_field = line(
        row(session_id="b1", iterations=True, prompt=f"key {AWS}")
    )  # iterations must be an integer
    other_schema = line(row(schema="session.iterate.v2", prompt="plain", artifact={"password": "hunter2"}))
    torn = line(row(session_id="t1", prompt=f"Bearer {JWT} and more"))[:-200]  # no newline: cut short
    log = write_log(tmp_path / "s.jsonl", row(), bad_field, other_schema, torn)
    out, err, status = sessionlog("scan", str(log))
    assert status == 1
    assert out.splitlines() == [
        f"{log}:2: aws_access_key_id in line.prompt",
        f"{log}:3: key:password in line.artifact.password",
        f"{log}:4: jwt in line",
    ]
    assert "1 row in 1 file scanned: 3 findings in 3 invalid lines;" in err
    assert "2 invalid lines (1 torn) and 1 row of another schema searched whole, not as rows" in err
    for secret in (AWS, JWT, "hunter2"):
        assert secret not in out + err


def test_json_says_which_findings_are_in_invalid_lines(tmp_path: Path) -> None:
    log = write_log(
        tmp_path / "s.jsonl", row(prompt=f"key {AWS}"), b"not json at all " + AWS.encode() + b"\n"
    )
    out, _, status = sessionlog("scan", "--json", str(log))
    assert status == 1
    *findings, summary = [json.loads(text) for text in out.splitlines()]
    assert [(f["line"], f["field"]) for f in findings] == [(1, "prompt"), (2, "line")]
    assert (summary["rows_with_findings"], summary["invalid_lines_with_findings"]) == (1, 1)


def test_a_deep_line_that_is_not_a_row_is_said_as_line_not_artifact(tmp_path: Path) -> None:
    deep = ("[" * 900 + json.dumps(f"key {AWS}") + "]" * 900).encode() + b"\n"
    log = write_log(tmp_path / "s.jsonl", deep)
    out, _, status = sessionlog("scan", str(log))
    assert (status, out) == (1, f"{log}:1: aws_access_key_id in line\n")
