from __future__ import annotations

import logging

import pytest
from django.test import override_settings

from django_sessionlog import IterateRequest, IterateResponse, iterate_finished


def send(kind: str = "fill") -> None:
    iterate_finished.send(
        sender=None,
        request=IterateRequest(trace_id="t", kind=kind),
        response=IterateResponse("t", 1, [], {"workers": ["W-1001"]}),
    )


def test_sink_error_propagates_to_the_sender(dev_full: str) -> None:
    with (
        override_settings(SESSIONLOG={"PATH": dev_full, "RAISE_ERRORS": True}),
        pytest.raises(OSError, match="No space left on device"),
    ):
        send()


def test_unwritable_path_propagates() -> None:
    with (
        override_settings(SESSIONLOG={"PATH": "/proc/no/such/dir/s.jsonl", "RAISE_ERRORS": True}),
        pytest.raises(FileNotFoundError, match="/proc/no"),
    ):
        send()


def test_redactor_error_propagates() -> None:
    settings = {"REDACT": "tests.roster.exploding_redactor", "RAISE_ERRORS": True}
    with override_settings(SESSIONLOG=settings), pytest.raises(ValueError, match="redactor bug"):
        send()


def test_roster_check_error_propagates() -> None:
    settings = {"ROSTER_CHECKS": {"fill": "tests.roster.exploding"}, "RAISE_ERRORS": True}
    with override_settings(SESSIONLOG=settings), pytest.raises(RuntimeError, match="roster service is down"):
        send()


def test_by_default_the_same_errors_only_warn(caplog: pytest.LogCaptureFixture, dev_full: str) -> None:
    settings = {
        "PATH": dev_full,
        "REDACT": "tests.roster.exploding_redactor",
        "ROSTER_CHECKS": {"fill": "tests.roster.exploding"},
    }
    with override_settings(SESSIONLOG=settings), caplog.at_level(logging.WARNING, logger="django_sessionlog"):
        send()
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 3
    assert "roster check" in messages[0]
    assert "redactor" in messages[1]
    assert "/dev/full" in messages[2]
