"""``iterate_session`` and OpenTelemetry (a span per session and per attempt), with the real SDK exporting to memory."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from django.test import override_settings
from opentelemetry import trace
from opentelemetry.trace import SpanKind, StatusCode

from django_sessionlog import (
    AttemptStatus,
    IterateAttempt,
    IterateFailure,
    IterateRequest,
    IterateResponse,
    Usage,
    iterate_session,
)
from django_sessionlog.testing import capture_sessions
from django_sessionlog.write.session import NO_OUTCOME

from ..otel import Spans, span_id, trace_id

SPANS_ON = override_settings(SESSIONLOG={"OTEL_SPANS": True})


def request(trace_id: str = "") -> IterateRequest:
    return IterateRequest(
        trace_id=trace_id, kind="fill", model="qwen2.5", provider="ollama", prompt="p", max_iterations=3
    )


def accepted(iterations: int = 2) -> IterateResponse:
    return IterateResponse("", iterations, [], {"workers": ["W-1001"]})


@SPANS_ON
def test_the_session_runs_in_a_span_named_for_its_kind_a_child_of_the_current_span(spans: Spans) -> None:
    with (
        capture_sessions() as rows,
        spans.tracer.start_as_current_span("POST /v1/iterate") as server,
        iterate_session(request()) as session,
    ):
        inside = trace.get_current_span()
        session.accept(accepted())
    span = spans.named("iterate fill")
    assert span.parent is not None
    assert span.parent.span_id == server.get_span_context().span_id
    assert span_id(inside) == span_id(span), "the block runs with the session's span current"
    assert span.kind is SpanKind.INTERNAL
    assert span.instrumentation_scope is not None
    assert span.instrumentation_scope.name == "django_sessionlog"
    assert rows[0]["session_id"] == trace_id(server) == trace_id(span)


@SPANS_ON
def test_the_span_carries_the_genai_attributes_and_the_rows_outcome(spans: Spans) -> None:
    with capture_sessions() as rows, iterate_session(request()) as session:
        session.accept(accepted(iterations=2))
    attributes = dict(spans.named("iterate fill").attributes or {})
    assert attributes == {
        "gen_ai.request.model": "qwen2.5",
        "gen_ai.provider.name": "ollama",
        "sessionlog.kind": "fill",
        "sessionlog.max_iterations": 3,
        "sessionlog.session_id": rows[0]["session_id"],
        "sessionlog.final_verdict": "accepted",
        "sessionlog.iterations": 2,
    }
    assert spans.named("iterate fill").status.status_code is StatusCode.UNSET


@SPANS_ON
def test_an_exhausted_session_is_not_an_error(spans: Spans) -> None:
    with capture_sessions(), iterate_session(request()) as session:
        session.exhaust(IterateFailure("", 3, []))
    span = spans.named("iterate fill")
    assert span.attributes is not None
    assert span.attributes["sessionlog.final_verdict"] == "max_iter_exhausted"
    assert span.attributes["sessionlog.iterations"] == 3
    assert span.status.status_code is StatusCode.UNSET


@SPANS_ON
def test_a_block_that_raises_ends_the_span_as_error_with_the_exception_recorded(spans: Spans) -> None:
    with capture_sessions() as rows, pytest.raises(KeyError), iterate_session(request()):
        raise KeyError("boom")
    span = spans.named("iterate fill")
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "KeyError: 'boom'"
    [event] = span.events
    assert event.name == "exception"
    assert event.attributes is not None
    assert event.attributes["exception.type"] == "KeyError"
    assert event.attributes["exception.message"] == "'boom'"
    assert span.attributes is not None
    assert span.attributes["sessionlog.final_verdict"] == "infra_error"
    assert span.attributes["sessionlog.iterations"] == 0
    assert rows[0]["final_verdict"] == "infra_error"


@SPANS_ON
def test_a_failed_session_is_an_error_with_the_given_exception_recorded(spans: Spans) -> None:
    with capture_sessions(), iterate_session(request()) as session:
        session.fail(ConnectionError("refused"))
    span = spans.named("iterate fill")
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "ConnectionError: refused"
    assert [event.name for event in span.events] == ["exception"]


@SPANS_ON
def test_a_block_without_an_outcome_is_an_error_saying_so(spans: Spans) -> None:
    with capture_sessions(), iterate_session(request()):
        pass
    span = spans.named("iterate fill")
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == NO_OUTCOME
    assert span.events == ()


@SPANS_ON
def test_a_request_without_a_trace_id_and_no_parent_gets_the_new_spans_trace_id(spans: Spans) -> None:
    given = request()
    with capture_sessions() as rows, iterate_session(given) as session:
        filled = session.trace_id
        session.accept(accepted())
    span = spans.named("iterate fill")
    assert span.parent is None
    assert rows[0]["session_id"] == filled == trace_id(span)
    assert given.trace_id == "", "the caller's request is not changed (it may be reused)"


@SPANS_ON
def test_inside_a_served_request_the_row_still_carries_its_own_spans_trace_id(spans: Spans) -> None:
    """The row's id must be one a span has: the session's span wins over the middleware's id."""
    from django.http import HttpRequest, HttpResponse
    from django.test import RequestFactory

    from django_sessionlog.middleware import TraceIdMiddleware

    def view(request: HttpRequest) -> HttpResponse:
        with iterate_session(IterateRequest(kind="fill")) as session:
            session.accept(accepted())
        return HttpResponse()

    with capture_sessions() as rows:
        TraceIdMiddleware(view)(RequestFactory().get("/", headers={"X-Lakehouse-Trace-Id": "req-9"}))
    assert rows[0]["session_id"] == trace_id(spans.named("iterate fill"))


@SPANS_ON
def test_a_request_that_gave_its_own_id_keeps_it_and_the_span_names_it(spans: Spans) -> None:
    with capture_sessions() as rows, iterate_session(request("lakehouse-42")) as session:
        session.accept(accepted())
    assert rows[0]["session_id"] == "lakehouse-42"
    attributes = spans.named("iterate fill").attributes
    assert attributes is not None
    assert attributes["sessionlog.session_id"] == "lakehouse-42"


def test_without_otel_spans_no_span_is_made_and_the_active_span_fills_the_trace_id(spans: Spans) -> None:
    with (
        capture_sessions() as rows,
        spans.tracer.start_as_current_span("host") as host,
        iterate_session(request()) as session,
    ):
        assert trace.get_current_span() is host
        with session.attempt(1) as attempt_span_id:
            assert attempt_span_id == ""
        session.accept(accepted())
    assert [span.name for span in spans.finished()] == ["host"]
    assert rows[0]["session_id"] == trace_id(host)


def test_a_host_passing_no_trace_id_without_any_span_logs_an_empty_id_as_before(spans: Spans) -> None:
    with capture_sessions() as rows, iterate_session(request()) as session:
        session.accept(accepted())
    assert rows[0]["session_id"] == ""
    assert spans.finished() == []


@SPANS_ON
def test_attempt_spans_are_children_of_the_session_and_their_ids_reach_the_row(spans: Spans) -> None:
    history: list[IterateAttempt] = []
    with capture_sessions() as rows, iterate_session(request()) as session:
        for iteration, status in enumerate(
            [AttemptStatus("no_json", "no JSON"), AttemptStatus("accepted")], 1
        ):
            with session.attempt(iteration) as attempt_span_id:
                pass
            history.append(IterateAttempt(iteration, status, attempt_span_id))
        session.accept(IterateResponse("", 2, history, {"workers": []}))
    session_span = spans.named("iterate fill")
    attempts = [spans.named("attempt 1"), spans.named("attempt 2")]
    assert [a.parent.span_id if a.parent else None for a in attempts] == [session_span.context.span_id] * 2
    assert [a["span_id"] for a in rows[0]["attempts"]] == [span_id(a) for a in attempts]
    assert [dict(a.attributes or {}) for a in attempts] == [
        {"sessionlog.iteration": 1},
        {"sessionlog.iteration": 2},
    ]


@SPANS_ON
def test_attempt_spans_carry_the_usage_filled_inside_the_block_and_the_row_its_sum(spans: Spans) -> None:
    history: list[IterateAttempt] = []
    with capture_sessions() as rows, iterate_session(request()) as session:
        for iteration, kind in enumerate(["no_json", "accepted"], 1):
            usage = Usage()
            with session.attempt(iteration, usage=usage) as attempt_span_id:
                usage.input_tokens, usage.output_tokens = 100 * iteration, 10 * iteration
            history.append(IterateAttempt(iteration, AttemptStatus(kind), attempt_span_id, usage))
        session.accept(IterateResponse("", 2, history, {"workers": []}))
    assert [dict(spans.named(f"attempt {i}").attributes or {}) for i in (1, 2)] == [
        {"sessionlog.iteration": 1, "gen_ai.usage.input_tokens": 100, "gen_ai.usage.output_tokens": 10},
        {"sessionlog.iteration": 2, "gen_ai.usage.input_tokens": 200, "gen_ai.usage.output_tokens": 20},
    ]
    assert [a["usage"] for a in rows[0]["attempts"]] == [
        {"input_tokens": 100, "output_tokens": 10},
        {"input_tokens": 200, "output_tokens": 20},
    ]
    assert rows[0]["usage"] == {"input_tokens": 300, "output_tokens": 30}


@SPANS_ON
def test_an_attempt_span_leaves_out_counts_that_are_not_integers(spans: Spans) -> None:
    with capture_sessions(), iterate_session(request()) as session:
        with session.attempt(1, usage=Usage(input_tokens=1.5, output_tokens=7)):  # type: ignore[arg-type]
            pass
        session.accept(accepted(1))
    assert dict(spans.named("attempt 1").attributes or {}) == {
        "sessionlog.iteration": 1,
        "gen_ai.usage.output_tokens": 7,
    }


@SPANS_ON
def test_a_usage_never_filled_gives_no_token_attributes_not_zero(spans: Spans) -> None:
    """An answer without usage (an adapter fills nothing) is not an answer of 0 tokens."""
    with capture_sessions(), iterate_session(request()) as session:
        with session.attempt(1, usage=Usage()):
            pass
        session.accept(accepted(1))
    assert dict(spans.named("attempt 1").attributes or {}) == {"sessionlog.iteration": 1}


@SPANS_ON
def test_an_attempt_that_raises_is_an_error_span_and_the_exception_goes_on(spans: Spans) -> None:
    with (
        capture_sessions(),
        pytest.raises(TimeoutError),
        iterate_session(request()) as session,
        session.attempt(1),
    ):
        raise TimeoutError("the model did not answer")
    assert spans.named("attempt 1").status.status_code is StatusCode.ERROR
    assert spans.named("iterate fill").status.status_code is StatusCode.ERROR


@SPANS_ON
def test_async_with_runs_in_the_span_and_sends_inside_it(spans: Spans) -> None:
    seen: list[str] = []

    async def view() -> None:
        with spans.tracer.start_as_current_span("POST /v1/iterate-async"):
            async with iterate_session(request()) as session:
                seen.append(span_id(trace.get_current_span()))
                with session.attempt(1) as attempt_span_id:
                    await asyncio.sleep(0)
                session.accept(
                    IterateResponse("", 1, [IterateAttempt(1, AttemptStatus("accepted"), attempt_span_id)])
                )
            seen.append(span_id(trace.get_current_span()))

    with capture_sessions() as rows:
        asyncio.run(view())
    server, session_span = spans.named("POST /v1/iterate-async"), spans.named("iterate fill")
    assert session_span.parent is not None
    assert session_span.parent.span_id == server.context.span_id
    assert seen == [span_id(session_span), span_id(server)], "the parent is current again after the block"
    assert rows[0]["session_id"] == trace_id(server)
    assert rows[0]["attempts"][0]["span_id"] == span_id(spans.named("attempt 1"))


@SPANS_ON
def test_async_with_that_raises_ends_the_span_as_error(spans: Spans) -> None:
    async def view() -> None:
        async with iterate_session(request()):
            raise ValueError("async boom")

    with capture_sessions(), pytest.raises(ValueError, match="async boom"):
        asyncio.run(view())
    assert spans.named("iterate fill").status.status_code is StatusCode.ERROR


def test_with_the_api_and_no_sdk_the_row_is_as_without_spans() -> None:
    # No `spans` fixture: opentelemetry-api is installed and nothing configured it.
    def row(**settings: Any) -> dict[str, Any]:
        with (
            override_settings(SESSIONLOG=settings),
            capture_sessions() as rows,
            iterate_session(request()) as session,
        ):
            with session.attempt(1) as attempt_span_id:
                pass
            history = [IterateAttempt(1, AttemptStatus("accepted"), attempt_span_id)]
            session.accept(IterateResponse("", 1, history, {"workers": []}))
        [logged] = rows
        for varies in ("timestamp", "duration_ms"):
            logged.pop(varies)
        return logged

    assert row(OTEL_SPANS=True) == row(OTEL_SPANS=False)
    assert row(OTEL_SPANS=True)["session_id"] == ""
    assert row(OTEL_SPANS=True)["attempts"] == [{"iteration": 1, "verdict_kind": "accepted"}]


@override_settings(
    SESSIONLOG={"OTEL_SPANS": True, "RAISE_ERRORS": True, "REDACT": "tests.write.test_session_spans.broken"}
)
def test_the_span_ends_and_its_parent_is_current_again_when_the_receiver_raises(spans: Spans) -> None:
    with spans.tracer.start_as_current_span("host") as host:
        with pytest.raises(RuntimeError, match="redactor"), iterate_session(request()) as session:
            session.accept(accepted())
        assert trace.get_current_span() is host
    assert spans.named("iterate fill").end_time is not None


def broken(record: object) -> object:
    raise RuntimeError("the redactor broke")


@SPANS_ON
def test_a_tracer_that_cannot_start_a_span_costs_a_warning_not_the_row(
    spans: Spans, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from django_sessionlog import tracing

    def broken_tracer() -> Any:
        raise RuntimeError("a broken SDK")

    monkeypatch.setattr(tracing, "_tracer", broken_tracer)
    with (
        caplog.at_level(logging.WARNING, logger="django_sessionlog"),
        capture_sessions() as rows,
        iterate_session(request("t1")) as session,
    ):
        with session.attempt(1) as attempt_span_id:
            assert attempt_span_id == ""
        session.accept(accepted())
    assert [row["final_verdict"] for row in rows] == ["accepted"]
    assert [record.getMessage() for record in caplog.records] == [
        "django_sessionlog: could not start the span 'iterate fill'"
    ]


@SPANS_ON
def test_an_attempt_span_that_cannot_start_costs_a_warning_and_an_empty_span_id(
    spans: Spans, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        caplog.at_level(logging.WARNING, logger="django_sessionlog"),
        capture_sessions() as rows,
        iterate_session(request()) as session,
    ):
        tracer = trace.get_tracer_provider().get_tracer("django_sessionlog")
        with monkeypatch.context() as patched:
            patched.setattr(type(tracer), "start_span", lambda *args, **kwargs: 1 / 0)
            with session.attempt(1) as attempt_span_id:
                pass
        session.accept(
            IterateResponse("", 1, [IterateAttempt(1, AttemptStatus("accepted"), attempt_span_id)])
        )
    assert attempt_span_id == ""
    assert rows[0]["attempts"] == [{"iteration": 1, "verdict_kind": "accepted"}]
    assert [record.getMessage() for record in caplog.records] == [
        "django_sessionlog: could not start the span 'attempt 1'"
    ]
    assert [span.name for span in spans.finished()] == ["iterate fill"]
