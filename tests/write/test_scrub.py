"""The receiver's scrubbing: every row, before REDACT, failing closed."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings

from django_sessionlog import (
    AttemptStatus,
    IterateAttempt,
    IterateFailure,
    IterateRequest,
    IterateResponse,
    iterate_finished,
)
from django_sessionlog.testing import capture_sessions
from django_sessionlog.write import scrub_policy

from .. import roster
from ..conftest import read_rows
from ..fake_secrets import PII, SECRETS


def finish(prompt: str = "Fill the Saturday night shift", *, error: str = "", artifact: Any = None) -> None:
    history = [IterateAttempt(1, AttemptStatus("validation_failed", error), "a1")] if error else []
    iterate_finished.send(
        sender=None,
        request=IterateRequest(trace_id="t1", kind="fill", prompt=prompt, max_iterations=3),
        response=IterateResponse("t1", 1, history, {"shift": "sat-night"} if artifact is None else artifact),
        duration_ms=5,
    )


EXAMPLES = SECRETS + PII
ALL_PII = {"PII": ["email", "phone", "card", "iban"]}


@pytest.mark.parametrize(
    ("name", "secret", "scrubbed"), EXAMPLES, ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(EXAMPLES)]
)
def test_every_detector_scrubs_the_prompt_an_artifact_at_any_depth_and_an_error(
    tmp_path: Path, name: str, secret: str, scrubbed: str
) -> None:
    log = tmp_path / "s.jsonl"
    with override_settings(SESSIONLOG={"PATH": str(log), "SCRUB": ALL_PII}):
        finish(
            f"use {secret} now",
            error=f"rejected: {secret}",
            artifact={"a": [{"b": {"c": f"x {secret}"}}], "n": 7},
        )
    [row] = read_rows(log)
    assert row["prompt"] == f"use {scrubbed} now"
    assert row["attempts"][0]["error"] == f"rejected: {scrubbed}"
    assert row["artifact"] == {"a": [{"b": {"c": f"x {scrubbed}"}}], "n": 7}
    assert secret not in log.read_text()


def test_an_infra_error_text_is_scrubbed(tmp_path: Path) -> None:
    log = tmp_path / "s.jsonl"
    with override_settings(SESSIONLOG={"PATH": str(log)}):
        iterate_finished.send(
            sender=None,
            request=IterateRequest(trace_id="t2", kind="fill"),
            error=ConnectionError("could not reach postgres://app:hunter2@db:5432/app"),
        )
    [row] = read_rows(log)
    assert row["attempts"][0]["error"] == "could not reach postgres://app:[scrubbed:url_password]@db:5432/app"


def test_scrubbing_is_on_by_default_and_capture_sessions_sees_scrubbed_rows() -> None:
    secret = SECRETS[0][1]
    with override_settings(SESSIONLOG={}), capture_sessions() as rows:
        finish(f"key {secret}", artifact={"db_password": "hunter2", "workers": ["W-1001"]})
    assert rows[0]["prompt"] == "key [scrubbed:openai_key]"
    assert rows[0]["artifact"] == {"db_password": "[scrubbed:key:password]", "workers": ["W-1001"]}


def test_secrets_off_writes_them_as_they_are() -> None:
    secret = SECRETS[0][1]
    with override_settings(SESSIONLOG={"SCRUB": {"SECRETS": False}}), capture_sessions() as rows:
        finish(f"key {secret}", artifact={"password": "hunter2"})
    assert rows[0]["prompt"] == f"key {secret}"
    assert rows[0]["artifact"] == {"password": "[scrubbed:key:password]"}  # KEYS have their own switch


def test_nothing_to_do_builds_no_scrubber() -> None:
    with override_settings(SESSIONLOG={"SCRUB": {"SECRETS": False, "KEYS": []}}):
        assert scrub_policy.get_scrubber() is None
    with override_settings(SESSIONLOG={"SCRUB": {"SECRETS": False, "KEYS": [], "PII": ["email"]}}):
        assert scrub_policy.get_scrubber() is not None


def test_patterns_of_the_team_own_are_scrubbed() -> None:
    with (
        override_settings(SESSIONLOG={"SCRUB": {"PATTERNS": {"acme": r"acme_[0-9a-f]{8}"}}}),
        capture_sessions() as rows,
    ):
        finish("token acme_0123abcd please")
    assert rows[0]["prompt"] == "token [scrubbed:acme] please"


def test_redact_sees_the_scrubbed_row() -> None:
    roster.SEEN.clear()
    secret = SECRETS[0][1]
    with override_settings(SESSIONLOG={"REDACT": "tests.roster.remember_what_it_saw"}), capture_sessions():
        finish(f"key {secret}")
    [seen] = roster.SEEN
    assert seen.prompt == "key [scrubbed:openai_key]"


def test_a_row_sampling_drops_is_never_scrubbed(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[object] = []

    def counted(record: object, scrubber: object) -> object:
        calls.append(record)
        return record

    monkeypatch.setattr(scrub_policy, "scrub_record", counted)
    with override_settings(SESSIONLOG={"SAMPLE_RATES": {"fill": 0.0}}), capture_sessions() as rows:
        finish()
    assert rows == []
    assert calls == []


def test_the_host_artifact_is_not_changed(tmp_path: Path) -> None:
    artifact = {"db": {"password": "hunter2"}, "note": SECRETS[0][1]}
    with override_settings(SESSIONLOG={"PATH": str(tmp_path / "s.jsonl")}):
        finish(artifact=artifact)
    assert artifact == {"db": {"password": "hunter2"}, "note": SECRETS[0][1]}


def test_a_prompt_that_markers_make_longer_is_trimmed_again_to_4000_characters() -> None:
    # A 16-character token becomes a 23-character marker.
    prompt = ("Bearer 0123456789abcdeF " * 200)[:4000]
    with override_settings(SESSIONLOG={}), capture_sessions() as rows:
        finish(prompt)
    assert len(rows[0]["prompt"]) == 4000
    assert rows[0]["prompt"].endswith("…")
    assert "0123456789abcdeF" not in rows[0]["prompt"]


def test_scrubbing_that_raises_fails_closed_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def explode(*args: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(scrub_policy, "scrub_record", explode)
    log = tmp_path / "s.jsonl"
    with override_settings(SESSIONLOG={"PATH": str(log)}), caplog.at_level(logging.WARNING):
        finish("a prompt", error="an error", artifact={"k": "v"})
    [row] = read_rows(log)
    assert row["prompt"] == "[scrubbing failed]"
    assert "artifact" not in row
    assert all("error" not in attempt for attempt in row["attempts"])
    assert "scrubbing raised on session 't1'" in caplog.records[0].getMessage()


def test_scrubbing_that_raises_raises_with_raise_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scrub_policy, "scrub_record", lambda *args: 1 / 0)
    with (
        override_settings(SESSIONLOG={"RAISE_ERRORS": True}),
        capture_sessions(),
        pytest.raises(ZeroDivisionError),
    ):
        finish()


@pytest.mark.parametrize(
    "setting",
    [{"PATTERNS": {"bad": "("}}, {"PII": ["mail"]}, {"KEYS": "password"}, {"SECRETS": "no"}, "on"],
    ids=["bad-pattern", "unknown-pii", "keys-not-a-list", "secrets-not-a-bool", "not-a-dict"],
)
def test_a_setting_the_scrubber_cannot_use_fails_closed_instead_of_writing_secrets(
    setting: object, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        override_settings(SESSIONLOG={"SCRUB": setting}),
        capture_sessions() as rows,
        caplog.at_level(logging.WARNING),
    ):
        finish(f"key {SECRETS[0][1]}")
    assert rows[0]["prompt"] == "[scrubbing failed]"
    assert len(caplog.records) == 1


def test_the_scrubber_is_built_once_per_configuration() -> None:
    setting: dict[str, Any] = {"PII": ["email"]}
    with override_settings(SESSIONLOG={"SCRUB": setting}):
        first = scrub_policy.get_scrubber()
        assert scrub_policy.get_scrubber() is first
        setting["PII"].append("card")  # an edit in place is noticed too
        second = scrub_policy.get_scrubber()
        assert second is not first
        assert second is not None
        assert "card" in second.names
    with override_settings(SESSIONLOG={"SCRUB": {"PII": ["email"]}}):
        assert scrub_policy.get_scrubber() is not second


def test_a_failure_with_history_is_scrubbed(tmp_path: Path) -> None:
    log = tmp_path / "s.jsonl"
    with override_settings(SESSIONLOG={"PATH": str(log)}):
        iterate_finished.send(
            sender=None,
            request=IterateRequest(trace_id="t3", kind="fill", prompt="p"),
            failure=IterateFailure(
                "t3", 1, [IterateAttempt(1, AttemptStatus("no_json", f"got {SECRETS[0][1]}"))]
            ),
        )
    [row] = read_rows(log)
    assert row["attempts"][0]["error"] == "got [scrubbed:openai_key]"


def test_an_error_that_is_not_a_string_is_scrubbed_as_it_is_written() -> None:
    history = [
        IterateAttempt(1, AttemptStatus("no_json", None), "a1"),  # type: ignore[arg-type]
        IterateAttempt(2, AttemptStatus("validation_failed", ValueError(f"key {SECRETS[0][1]}")), "a2"),  # type: ignore[arg-type]
    ]
    with override_settings(SESSIONLOG={}), capture_sessions() as rows:
        iterate_finished.send(
            sender=None,
            request=IterateRequest(trace_id="t4", kind="fill", prompt="p"),
            failure=IterateFailure("t4", 2, history),
        )
    assert rows[0]["attempts"] == [
        {"iteration": 1, "verdict_kind": "no_json", "span_id": "a1"},
        {
            "iteration": 2,
            "verdict_kind": "validation_failed",
            "error": "key [scrubbed:openai_key]",
            "span_id": "a2",
        },
    ]


def test_a_row_with_an_artifact_5000_deep_is_written_scrubbed_not_failed(tmp_path: Path) -> None:
    secret = next(text for name, text, _ in SECRETS if name == "aws_access_key_id")
    artifact: Any = {"note": f"key {secret}"}
    for _ in range(5000):
        artifact = {"a": artifact}
    log = tmp_path / "s.jsonl"
    with override_settings(SESSIONLOG={"PATH": str(log)}):
        finish(f"use {secret}", error=f"rejected {secret}", artifact=artifact)
    text = log.read_text()
    assert secret not in text
    assert "[scrubbing failed]" not in text
    assert '"prompt":"use [scrubbed:aws_access_key_id]"' in text
    assert '"error":"rejected [scrubbed:aws_access_key_id]"' in text
    assert '{"note":"key [scrubbed:aws_access_key_id]"}' + "}" * 5000 in text
