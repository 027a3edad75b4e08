"""A host's odd value never costs the row, nor makes a row the readers refuse.

Each case is sent as a host sends it (the signal, through the receiver and
the sink), and the file is then read back by the readers' own decoder.
"""

from __future__ import annotations

import json
import logging
from decimal import Decimal
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
    SessionLogger,
    Usage,
    iterate_finished,
)
from django_sessionlog.read.sources.rules import decode_row


def sent(tmp_path: Path, caplog: pytest.LogCaptureFixture, **arguments: Any) -> dict[str, Any]:
    """The one row a host's send wrote, after every reader check; the warnings are in ``caplog``."""
    log = tmp_path / "sessions.jsonl"
    arguments.setdefault("request", IterateRequest(trace_id="t1", kind="fill"))
    with (
        override_settings(SESSIONLOG={"PATH": str(log)}),
        caplog.at_level(logging.WARNING, logger="django_sessionlog"),
    ):
        iterate_finished.send(sender=None, **arguments)
    [line] = log.read_bytes().splitlines()
    decode_row(line)  # raises InvalidRow for a row validate, stats and DuckDB would leave out
    row: dict[str, Any] = json.loads(line)
    return row


class BrokenStr(Exception):
    def __str__(self) -> str:
        raise RuntimeError("a host's broken __str__")


REQUESTS: list[tuple[str, IterateRequest, dict[str, Any]]] = [
    ("int prompt", IterateRequest(trace_id="a", prompt=12345), {"prompt": "12345"}),  # type: ignore[arg-type]
    ("None prompt", IterateRequest(trace_id="a", prompt=None), {"prompt": ""}),  # type: ignore[arg-type]
    ("bytes prompt", IterateRequest(trace_id="a", prompt="héllo".encode()), {"prompt": "héllo"}),  # type: ignore[arg-type]
    ("None trace id", IterateRequest(trace_id=None), {"session_id": ""}),  # type: ignore[arg-type]
    ("int trace id", IterateRequest(trace_id=7), {"session_id": "7"}),  # type: ignore[arg-type]
    ("None kind", IterateRequest(trace_id="k", kind=None), {"kind": ""}),  # type: ignore[arg-type]
    ("None max_iterations", IterateRequest(trace_id="n", max_iterations=None), {"max_iterations": 0}),  # type: ignore[arg-type]
    ("text max_iterations", IterateRequest(trace_id="n", max_iterations="3"), {"max_iterations": 3}),  # type: ignore[arg-type]
    ("float max_iterations", IterateRequest(trace_id="n", max_iterations=3.0), {"max_iterations": 3}),  # type: ignore[arg-type]
    ("huge max_iterations", IterateRequest(trace_id="n", max_iterations=2**70), {"max_iterations": 0}),
    ("bool max_iterations", IterateRequest(trace_id="n", max_iterations=True), {"max_iterations": 0}),
    ("superscript digits", IterateRequest(trace_id="n", max_iterations="²"), {"max_iterations": 0}),  # type: ignore[arg-type]
    ("two signs", IterateRequest(trace_id="n", max_iterations="+-5"), {"max_iterations": 0}),  # type: ignore[arg-type]
    ("a whole Decimal", IterateRequest(trace_id="n", max_iterations=Decimal(3)), {"max_iterations": 3}),  # type: ignore[arg-type]
    (
        "a fractional Decimal",
        IterateRequest(trace_id="n", max_iterations=Decimal("2.5")),  # type: ignore[arg-type]
        {"max_iterations": 0},
    ),
]


@pytest.mark.parametrize(("request_", "expected"), [c[1:] for c in REQUESTS], ids=[c[0] for c in REQUESTS])
def test_an_odd_request_value_is_written_as_one_the_row_can_hold(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, request_: IterateRequest, expected: dict[str, Any]
) -> None:
    row = sent(tmp_path, caplog, request=request_, response=IterateResponse(iterations=1))
    for key, value in expected.items():
        assert row[key] == value


def test_none_is_taken_as_not_given_without_a_word(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    request = IterateRequest(trace_id=None, kind=None, prompt=None, max_iterations=None)  # type: ignore[arg-type]
    sent(tmp_path, caplog, request=request, response=IterateResponse(iterations=None))  # type: ignore[arg-type]
    assert caplog.records == []


def test_any_other_odd_value_is_said_once_per_field_and_type(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="django_sessionlog"):
        for _ in range(3):
            IterateRequest(trace_id="a", prompt=12345)  # type: ignore[arg-type]
        IterateRequest(trace_id="a", prompt=1.5)  # type: ignore[arg-type]
    said = [r.getMessage() for r in caplog.records]
    assert said == [
        "django_sessionlog: IterateRequest.prompt was a int (12345), written as its str(); said once per process",
        "django_sessionlog: IterateRequest.prompt was a float (1.5), written as its str(); said once per process",
    ]


RESPONSES: list[tuple[str, IterateResponse, dict[str, Any]]] = [
    ("list artifact", IterateResponse(iterations=1, artifact=[1, 2]), {"artifact": {"value": [1, 2]}}),  # type: ignore[arg-type]
    ("text artifact", IterateResponse(iterations=1, artifact="ok"), {"artifact": {"value": "ok"}}),  # type: ignore[arg-type]
    ("text iterations", IterateResponse(iterations="2"), {"iterations": 2}),  # type: ignore[arg-type]
    ("huge iterations", IterateResponse(iterations=2**70), {"iterations": 0}),
    ("None history", IterateResponse(iterations=1, history=None), {"attempts": []}),  # type: ignore[arg-type]
    (
        "a bare kind as the status",
        IterateResponse(iterations=1, history=[IterateAttempt(1, "accepted")]),  # type: ignore[arg-type]
        {"attempts": [{"iteration": 1, "verdict_kind": "accepted"}]},
    ),
    (
        "an unknown verdict kind",
        IterateResponse(iterations=1, history=[IterateAttempt(1, AttemptStatus("parse_error", "bad"))]),
        {"attempts": [{"iteration": 1, "verdict_kind": "validation_failed", "error": "bad"}]},
    ),
    (
        "an item that is not an attempt",
        IterateResponse(
            iterations=1,
            history=[{"iteration": 1}, IterateAttempt(1, AttemptStatus("accepted"))],  # type: ignore[list-item]
        ),
        {"attempts": [{"iteration": 1, "verdict_kind": "accepted"}]},
    ),
    (
        "a generator of attempts",
        IterateResponse(iterations=1, history=(a for a in [IterateAttempt(1, AttemptStatus("accepted"))])),  # type: ignore[arg-type]
        {"attempts": [{"iteration": 1, "verdict_kind": "accepted"}]},
    ),
]


@pytest.mark.parametrize(("response", "expected"), [c[1:] for c in RESPONSES], ids=[c[0] for c in RESPONSES])
def test_an_odd_response_value_is_written_as_one_the_row_can_hold(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, response: IterateResponse, expected: dict[str, Any]
) -> None:
    row = sent(tmp_path, caplog, response=response)
    for key, value in expected.items():
        assert row[key] == value


@pytest.mark.parametrize("duration", [float("nan"), None, "slow", float("inf")])
def test_an_odd_duration_is_0(tmp_path: Path, caplog: pytest.LogCaptureFixture, duration: object) -> None:
    row = sent(tmp_path, caplog, response=IterateResponse(iterations=1), duration_ms=duration)
    assert row["duration_ms"] == 0


def test_a_fractional_duration_is_its_whole_milliseconds(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    row = sent(tmp_path, caplog, response=IterateResponse(iterations=1), duration_ms=1834.9)
    assert row["duration_ms"] == 1834
    assert caplog.records == []


def test_an_error_whose_str_raises_is_named_by_its_type(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    row = sent(tmp_path, caplog, error=BrokenStr())
    assert row["final_verdict"] == "infra_error"
    assert row["attempts"][0]["error"] == "<BrokenStr whose str() raised>"


class CompletionUsage:
    """OpenAI's shape: prompt_tokens and completion_tokens, not a Usage."""

    prompt_tokens = 1200
    completion_tokens = 300


@pytest.mark.parametrize("usage", [CompletionUsage(), 5, "many", {"prompt_tokens": 3}])
def test_a_usage_that_is_not_one_is_left_out_not_written_as_zero_tokens(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, usage: object
) -> None:
    history = [IterateAttempt(1, AttemptStatus("accepted"), usage=usage)]  # type: ignore[arg-type]
    row = sent(tmp_path, caplog, response=IterateResponse(iterations=1, history=history, usage=usage))  # type: ignore[arg-type]
    assert "usage" not in row
    assert "usage" not in row["attempts"][0]
    assert "left out (give a django_sessionlog.Usage)" in caplog.text


def test_usage_given_as_mappings_is_summed_like_usage(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    history = [
        IterateAttempt(1, AttemptStatus("no_json"), usage={"input_tokens": 100, "output_tokens": 10}),  # type: ignore[arg-type]
        IterateAttempt(2, AttemptStatus("accepted"), usage=Usage(120, 12)),
    ]
    row = sent(tmp_path, caplog, response=IterateResponse(iterations=2, history=history))
    assert [a["usage"] for a in row["attempts"]] == [
        {"input_tokens": 100, "output_tokens": 10},
        {"input_tokens": 120, "output_tokens": 12},
    ]
    assert row["usage"] == {"input_tokens": 220, "output_tokens": 22}


def test_a_failure_checks_its_values_too(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    failure = IterateFailure(trace_id=None, iterations="3", history=None)  # type: ignore[arg-type]
    row = sent(tmp_path, caplog, failure=failure)
    assert (row["final_verdict"], row["iterations"], row["attempts"]) == ("max_iter_exhausted", 3, [])


def test_a_record_that_is_not_one_costs_a_warning_not_an_exception(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sink = SessionLogger(tmp_path / "s.jsonl")
    with caplog.at_level(logging.WARNING, logger="django_sessionlog"):
        sink.append(None)  # type: ignore[arg-type]
    assert "could not write session '?'" in caplog.text


@pytest.mark.parametrize(
    ("status", "kind"), [(b"no_json", "no_json"), ({"kind": "accepted"}, "validation_failed")]
)
def test_a_status_that_is_not_one_is_read_or_said(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, status: object, kind: str
) -> None:
    history = [IterateAttempt(1, status)]  # type: ignore[arg-type]
    row = sent(tmp_path, caplog, response=IterateResponse(iterations=1, history=history))
    assert row["attempts"][0]["verdict_kind"] == kind
    assert "IterateAttempt.status was a" in caplog.text


def test_a_usage_whose_attributes_raise_is_left_out_not_raised(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    class Exploding:
        def __getattr__(self, name: str) -> Any:
            raise RuntimeError("a host's broken object")

    history = [IterateAttempt(1, AttemptStatus("accepted"), usage=Exploding())]  # type: ignore[arg-type]
    row = sent(tmp_path, caplog, response=IterateResponse(iterations=1, history=history))
    assert "usage" not in row["attempts"][0]


def test_a_record_made_by_hand_reads_its_usage_as_the_inputs_do(caplog: pytest.LogCaptureFixture) -> None:
    from django_sessionlog import SessionRecord
    from django_sessionlog.write.encoding import as_row

    with caplog.at_level(logging.WARNING, logger="django_sessionlog"):
        odd: Any = CompletionUsage()
        mapping: Any = {"input_tokens": 3}
        bad = as_row(SessionRecord(session_id="h1", timestamp="2026-12-06T10:00:00Z", usage=odd))
        good = as_row(SessionRecord(session_id="h2", timestamp="2026-12-06T10:00:00Z", usage=mapping))
    assert "usage" not in bad
    assert "Session 'h1': its usage was a CompletionUsage" in caplog.text
    assert good["usage"] == {"input_tokens": 3, "output_tokens": 0}
