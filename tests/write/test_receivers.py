from __future__ import annotations

import asyncio
import logging
import threading
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings

from django_sessionlog import (
    IterateFailure,
    IterateRequest,
    IterateResponse,
    get_session_logger,
    iterate_finished,
)
from django_sessionlog.write.sink import SessionLogger

from ..conftest import read_rows


def sessionlog(path: Path, **extra: Any) -> override_settings:
    return override_settings(SESSIONLOG={"PATH": str(path), **extra})


def test_empty_path_disables_logging(
    tmp_path: Path, request_fill: IterateRequest, accepted: IterateResponse
) -> None:
    with override_settings(SESSIONLOG={"PATH": ""}):
        assert get_session_logger() is None
        iterate_finished.send(sender=None, request=request_fill, response=accepted)
    assert list(tmp_path.iterdir()) == []


def test_unset_setting_disables_logging() -> None:
    with override_settings():
        from django.conf import settings

        del settings.SESSIONLOG
        assert get_session_logger() is None


def test_signal_writes_the_row_of_a_finished_session(
    tmp_path: Path, request_fill: IterateRequest, accepted: IterateResponse
) -> None:
    log = tmp_path / "sessions.jsonl"
    with sessionlog(log, DAEMON="coordinatord"):
        iterate_finished.send(sender=object, request=request_fill, response=accepted, duration_ms=1834)
    [row] = read_rows(log)
    assert row["session_id"] == request_fill.trace_id
    assert row["final_verdict"] == "accepted"
    assert row["daemon"] == "coordinatord"
    assert row["duration_ms"] == 1834
    assert "grounded_in_roster" not in row


def test_each_verdict_is_written(
    tmp_path: Path, request_fill: IterateRequest, accepted: IterateResponse, exhausted: IterateFailure
) -> None:
    log = tmp_path / "sessions.jsonl"
    with sessionlog(log):
        iterate_finished.send(sender=None, request=request_fill, response=accepted)
        iterate_finished.send(sender=None, request=request_fill, failure=exhausted)
        iterate_finished.send(sender=None, request=request_fill, error=TimeoutError("provider timed out"))
    rows = read_rows(log)
    assert [r["final_verdict"] for r in rows] == ["accepted", "max_iter_exhausted", "infra_error"]
    assert rows[2]["attempts"] == [
        {"iteration": 0, "verdict_kind": "infra_error", "error": "provider timed out"}
    ]


def test_logger_is_reused_while_settings_stay_and_replaced_when_they_change(tmp_path: Path) -> None:
    with sessionlog(tmp_path / "a.jsonl"):
        first = get_session_logger()
        assert first is get_session_logger()
        with sessionlog(tmp_path / "b.jsonl"):
            second = get_session_logger()
    assert isinstance(first, SessionLogger)
    assert isinstance(second, SessionLogger)
    assert first is not second
    assert second.path == str(tmp_path / "b.jsonl")


def test_roster_check_is_chosen_by_kind(
    tmp_path: Path, request_fill: IterateRequest, accepted: IterateResponse
) -> None:
    log = tmp_path / "sessions.jsonl"
    email = IterateRequest(trace_id="e1", kind="email")
    with sessionlog(log, ROSTER_CHECKS={"fill": "tests.roster.grounded"}):
        iterate_finished.send(sender=None, request=request_fill, response=accepted)
        accepted.artifact = {"workers": ["W-9999"]}
        iterate_finished.send(sender=None, request=request_fill, response=accepted)
        iterate_finished.send(sender=None, request=email, response=accepted)
    rows = read_rows(log)
    assert rows[0]["grounded_in_roster"] is True
    assert rows[1]["grounded_in_roster"] is False
    assert "grounded_in_roster" not in rows[2]


@pytest.mark.parametrize("dotted", ["tests.roster.exploding", "tests.roster.does_not_exist"])
def test_roster_check_that_raises_leaves_a_row_without_grounded_and_a_warning(
    tmp_path: Path,
    request_fill: IterateRequest,
    accepted: IterateResponse,
    caplog: pytest.LogCaptureFixture,
    dotted: str,
) -> None:
    log = tmp_path / "sessions.jsonl"
    with sessionlog(log, ROSTER_CHECKS={"fill": dotted}), caplog.at_level(logging.WARNING):
        iterate_finished.send(sender=None, request=request_fill, response=accepted)
    [row] = read_rows(log)
    assert row["final_verdict"] == "accepted"
    assert "grounded_in_roster" not in row
    assert [r.levelname for r in caplog.records] == ["WARNING"]
    assert dotted in caplog.records[0].getMessage()


def test_redactor_gets_every_row_before_it_is_written(
    tmp_path: Path, request_fill: IterateRequest, accepted: IterateResponse, exhausted: IterateFailure
) -> None:
    log = tmp_path / "sessions.jsonl"
    with sessionlog(log, REDACT="tests.roster.scrub_prompt"):
        iterate_finished.send(sender=None, request=request_fill, response=accepted)
        iterate_finished.send(sender=None, request=request_fill, failure=exhausted)
    assert [r["prompt"] for r in read_rows(log)] == ["[scrubbed]", "[scrubbed]"]


@pytest.mark.parametrize(
    "dotted", ["tests.roster.exploding_redactor", "tests.roster.returns_nothing", "tests.roster.missing"]
)
def test_redactor_that_fails_leaves_a_row_without_the_data_it_was_meant_to_scrub(
    tmp_path: Path,
    request_fill: IterateRequest,
    accepted: IterateResponse,
    caplog: pytest.LogCaptureFixture,
    dotted: str,
) -> None:
    log = tmp_path / "sessions.jsonl"
    with sessionlog(log, REDACT=dotted), caplog.at_level(logging.WARNING):
        iterate_finished.send(sender=None, request=request_fill, response=accepted)
    [row] = read_rows(log)
    assert row["final_verdict"] == "accepted"
    assert row["prompt"] == "[redaction failed]"
    assert "artifact" not in row
    assert all("error" not in attempt for attempt in row["attempts"])
    assert row["iterations"] == accepted.iterations
    assert len(caplog.records) == 1
    assert dotted in caplog.records[0].getMessage()


def test_receiver_never_raises_into_the_sender(caplog: pytest.LogCaptureFixture, dev_full: str) -> None:
    with sessionlog(Path(dev_full)), caplog.at_level(logging.WARNING):
        responses = iterate_finished.send(sender=None, request="not a request")
    assert responses[0][1] is None
    assert caplog.records[0].levelname == "WARNING"


def test_disk_full_warns_and_the_request_goes_on(
    request_fill: IterateRequest, accepted: IterateResponse, caplog: pytest.LogCaptureFixture, dev_full: str
) -> None:
    with sessionlog(Path(dev_full)), caplog.at_level(logging.WARNING):
        iterate_finished.send(sender=None, request=request_fill, response=accepted)
    assert "/dev/full" in caplog.records[0].getMessage()


def test_asend_from_an_async_view_writes_the_row_off_the_event_loop(
    tmp_path: Path, request_fill: IterateRequest, accepted: IterateResponse, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "sessions.jsonl"
    writer_threads: list[threading.Thread] = []
    real_write = SessionLogger._write

    def spy(self: SessionLogger, line: bytes, path: str) -> object:
        writer_threads.append(threading.current_thread())
        return real_write(self, line, path)

    monkeypatch.setattr(SessionLogger, "_write", spy)

    async def view() -> threading.Thread:
        await iterate_finished.asend(sender=None, request=request_fill, response=accepted, duration_ms=5)
        return threading.current_thread()

    with sessionlog(log):
        loop_thread = asyncio.run(view())
    [row] = read_rows(log)
    assert row["final_verdict"] == "accepted"
    assert writer_threads
    assert writer_threads[0] is not loop_thread


def test_a_patched_roster_check_is_what_the_next_row_calls(
    tmp_path: Path, request_fill: IterateRequest, accepted: IterateResponse
) -> None:
    """The check's module is imported once, its function looked up at each row: ``mock.patch`` works in tests."""
    from unittest import mock

    log = tmp_path / "sessions.jsonl"
    accepted.artifact = {"workers": ["W-1001"]}
    with sessionlog(log, ROSTER_CHECKS={"fill": "tests.roster.grounded"}):
        iterate_finished.send(sender=None, request=request_fill, response=accepted)
        with mock.patch("tests.roster.grounded", return_value=False):
            iterate_finished.send(sender=None, request=request_fill, response=accepted)
        iterate_finished.send(sender=None, request=request_fill, response=accepted)
    assert [row["grounded_in_roster"] for row in read_rows(log)] == [True, False, True]


def test_a_row_sent_without_any_trace_id_while_a_request_is_served_takes_the_requests(
    tmp_path: Path, accepted: IterateResponse
) -> None:
    from django.http import HttpRequest, HttpResponse
    from django.test import RequestFactory

    from django_sessionlog.middleware import TraceIdMiddleware

    log = tmp_path / "sessions.jsonl"
    accepted.trace_id = ""

    def view(request: HttpRequest) -> HttpResponse:
        iterate_finished.send(sender=None, request=IterateRequest(kind="fill"), response=accepted)
        return HttpResponse()

    with sessionlog(log):
        served = TraceIdMiddleware(view)(
            RequestFactory().get("/", headers={"X-Lakehouse-Trace-Id": "req-42"})
        )
        iterate_finished.send(sender=None, request=IterateRequest(kind="fill"), response=accepted)  # outside
    assert served["X-Lakehouse-Trace-Id"] == "req-42"  # type: ignore[index]
    assert [row["session_id"] for row in read_rows(log)] == ["req-42", ""]
