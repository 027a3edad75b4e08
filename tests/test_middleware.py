from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

import pytest
from asgiref.sync import iscoroutinefunction
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory, override_settings

from django_sessionlog.middleware import TraceIdMiddleware

from .otel import Spans, trace_id

W3C = re.compile(r"[0-9a-f]{32}\Z")


def view(request: HttpRequest) -> HttpResponse:
    return HttpResponse(request.trace_id)  # type: ignore[attr-defined]


def call(**headers: str) -> HttpResponse:
    request = RequestFactory().get("/", headers=headers)
    return TraceIdMiddleware(view)(request)  # type: ignore[return-value]


def test_a_safe_trace_id_is_used_and_echoed() -> None:
    response = call(**{"X-Lakehouse-Trace-Id": "4bf92f35-77b3.4da6:a3ce_929d"})
    assert response.content == b"4bf92f35-77b3.4da6:a3ce_929d"
    assert response["X-Lakehouse-Trace-Id"] == "4bf92f35-77b3.4da6:a3ce_929d"


def test_a_missing_trace_id_is_made_in_w3c_form() -> None:
    response = call()
    assert W3C.match(response.content.decode())
    assert response["X-Lakehouse-Trace-Id"] == response.content.decode()


def test_two_requests_get_two_ids() -> None:
    assert call().content != call().content


@pytest.mark.parametrize(
    "unsafe", ["a b", "<script>", "id\u202e", "x" * 129, "semi;colon", "ünïcode", "new\tline"]
)
def test_an_unsafe_trace_id_is_ignored_with_a_warning(unsafe: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="django_sessionlog"):
        response = call(**{"X-Lakehouse-Trace-Id": unsafe})
    assert W3C.match(response.content.decode())
    assert len(caplog.records) == 1
    assert "X-Lakehouse-Trace-Id" in caplog.records[0].getMessage()


def test_128_characters_is_still_accepted() -> None:
    assert call(**{"X-Lakehouse-Trace-Id": "a" * 128}).content == b"a" * 128


def test_header_name_is_configurable() -> None:
    with override_settings(SESSIONLOG={"TRACE_HEADER": "X-Request-Id"}):
        response = call(**{"X-Request-Id": "req-1", "X-Lakehouse-Trace-Id": "ignored"})
    assert response.content == b"req-1"
    assert response["X-Request-Id"] == "req-1"


def test_async_stack_is_served_asynchronously() -> None:
    async def async_view(request: HttpRequest) -> HttpResponse:
        return HttpResponse(request.trace_id)  # type: ignore[attr-defined]

    middleware = TraceIdMiddleware(async_view)
    request = RequestFactory().get("/", headers={"X-Lakehouse-Trace-Id": "async-7"})
    response = asyncio.run(middleware.__acall__(request))
    assert iscoroutinefunction(middleware)
    assert isinstance(response, HttpResponse)
    assert response.content == b"async-7"
    assert response["X-Lakehouse-Trace-Id"] == "async-7"


# W3C traceparent and the active span ---------------------

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE}-00f067aa0ba902b7-01"


def test_a_valid_traceparent_gives_the_trace_id_and_it_is_echoed() -> None:
    response = call(traceparent=TRACEPARENT)
    assert response.content == TRACE.encode()
    assert response["X-Lakehouse-Trace-Id"] == TRACE


@pytest.mark.parametrize(
    "invalid",
    [
        f"00-{'0' * 32}-00f067aa0ba902b7-01",
        f"00-{TRACE}-{'0' * 16}-01",
        f"ff-{TRACE}-00f067aa0ba902b7-01",
        TRACEPARENT.upper(),
        f"00-{TRACE}-00f067aa0ba902b-01",
        "garbage <script>",
    ],
    ids=["zero trace id", "zero parent id", "version ff", "uppercase", "short parent id", "garbage"],
)
def test_an_invalid_traceparent_is_ignored_with_a_warning(
    invalid: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="django_sessionlog"):
        response = call(traceparent=invalid)
    made = response.content.decode()
    assert W3C.match(made)
    assert made != TRACE
    assert [record.getMessage() for record in caplog.records] == [
        f"django_sessionlog: ignoring an invalid traceparent header ({len(invalid)} characters, {invalid!r})"
    ]


def test_the_explicit_header_wins_over_traceparent(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="django_sessionlog"):
        response = call(**{"X-Lakehouse-Trace-Id": "lakehouse-42", "traceparent": TRACEPARENT})
    assert response.content == b"lakehouse-42"
    assert caplog.records == []


def test_an_unsafe_explicit_header_falls_back_to_traceparent(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="django_sessionlog"):
        response = call(**{"X-Lakehouse-Trace-Id": "<script>", "traceparent": TRACEPARENT})
    assert response.content == TRACE.encode()
    assert len(caplog.records) == 1
    assert "unsafe X-Lakehouse-Trace-Id" in caplog.records[0].getMessage()


def test_the_active_span_gives_the_trace_id_when_no_header_does(spans: Spans) -> None:
    with spans.tracer.start_as_current_span("GET /") as server_span:
        response = call()
    assert response.content == trace_id(server_span).encode()


def test_an_invalid_traceparent_falls_back_to_the_active_span(
    spans: Spans, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        caplog.at_level(logging.WARNING, logger="django_sessionlog"),
        spans.tracer.start_as_current_span("GET /") as span,
    ):
        response = call(traceparent="ff-garbage")
    assert response.content == trace_id(span).encode()
    assert len(caplog.records) == 1


def test_traceparent_comes_before_the_active_span(spans: Spans) -> None:
    # An instrumented server's span is a child of the caller's traceparent, so
    # the two agree in practice; the header is still read first.
    with spans.tracer.start_as_current_span("GET /"):
        assert call(traceparent=TRACEPARENT).content == TRACE.encode()


def test_the_explicit_header_comes_before_the_active_span(spans: Spans) -> None:
    with spans.tracer.start_as_current_span("GET /"):
        assert call(**{"X-Lakehouse-Trace-Id": "lakehouse-43"}).content == b"lakehouse-43"


def test_a_no_op_span_gives_no_id_and_a_new_one_is_made() -> None:
    from opentelemetry import trace

    with trace.get_tracer("host").start_as_current_span("no SDK configured"):
        made = call().content.decode()
    assert W3C.match(made)


def test_async_stack_reads_traceparent_and_the_active_span(spans: Spans) -> None:
    async def async_view(request: HttpRequest) -> HttpResponse:
        return HttpResponse(request.trace_id)  # type: ignore[attr-defined]

    middleware = TraceIdMiddleware(async_view)

    async def serve(**headers: str) -> HttpResponse:
        response = await middleware.__acall__(RequestFactory().get("/", headers=headers))
        assert isinstance(response, HttpResponse)
        return response

    assert asyncio.run(serve(traceparent=TRACEPARENT)).content == TRACE.encode()

    async def inside_a_span() -> tuple[HttpResponse, str]:
        with spans.tracer.start_as_current_span("GET /") as span:
            return await serve(), trace_id(span)

    response, server_trace_id = asyncio.run(inside_a_span())
    assert response.content == server_trace_id.encode()
    assert response["X-Lakehouse-Trace-Id"] == server_trace_id


def test_sessions_run_while_a_streamed_body_is_read_get_the_requests_id() -> None:
    """A streaming view's sessions run after it returns, while the server reads the body."""
    from django.http import StreamingHttpResponse

    from django_sessionlog import IterateRequest, IterateResponse, iterate_session
    from django_sessionlog.testing import capture_sessions

    def chunks() -> Any:
        for number in range(2):
            with iterate_session(IterateRequest(kind="fill")) as session:
                session.accept(IterateResponse(iterations=1))
            yield f"chunk {number}\n"

    def streaming(request: HttpRequest) -> StreamingHttpResponse:
        return StreamingHttpResponse(chunks())

    with capture_sessions() as rows:
        response = TraceIdMiddleware(streaming)(
            RequestFactory().get("/", headers={"X-Lakehouse-Trace-Id": "req-s"})
        )
        body = b"".join(response.streaming_content)  # type: ignore[union-attr]
    assert body == b"chunk 0\nchunk 1\n"
    assert [row["session_id"] for row in rows] == ["req-s", "req-s"]


def test_an_async_streamed_body_is_served_under_the_requests_id_too() -> None:
    from django.http import StreamingHttpResponse

    from django_sessionlog import IterateRequest, IterateResponse, iterate_session
    from django_sessionlog.testing import capture_sessions

    async def chunks() -> Any:
        async with iterate_session(IterateRequest(kind="fill")) as session:
            session.accept(IterateResponse(iterations=1))
        yield b"done"

    async def streaming(request: HttpRequest) -> StreamingHttpResponse:
        return StreamingHttpResponse(chunks())

    async def serve() -> bytes:
        response = await TraceIdMiddleware(streaming)(  # type: ignore[misc]
            RequestFactory().get("/", headers={"X-Lakehouse-Trace-Id": "req-a"})
        )
        return b"".join([part async for part in response.streaming_content])

    with capture_sessions() as rows:
        assert asyncio.run(serve()) == b"done"
    assert [row["session_id"] for row in rows] == ["req-a"]
