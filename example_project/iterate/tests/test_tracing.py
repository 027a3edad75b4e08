"""The service under OpenTelemetry: the row's session id is its server span's trace id.

Django instrumented as ``example/telemetry.py`` does it, with the SDK's
in-memory exporter in place of a tracing tool.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.instrumentation.django import DjangoInstrumentor
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from opentelemetry.util._once import Once
from rest_framework.test import APIClient

Rows = list[dict[str, Any]]
FILL = {"kind": "fill", "prompt": "Fill the Saturday night shift", "max_iterations": 3}
ANSWERS = ["prose", '{"shift": "sat-night", "workers": ["W-1001"]}']


@pytest.fixture
def exporter(monkeypatch: pytest.MonkeyPatch) -> Iterator[InMemorySpanExporter]:
    """An instrumented service whose spans end up in memory.

    The API sets its global provider once per process; the test swaps its
    module globals instead, as OpenTelemetry's own test helpers do.
    """
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(trace, "_TRACER_PROVIDER_SET_ONCE", Once())
    monkeypatch.setattr(trace, "_TRACER_PROVIDER", None)
    trace.set_tracer_provider(provider)
    DjangoInstrumentor().instrument(tracer_provider=provider)
    try:
        yield exporter
    finally:
        DjangoInstrumentor().uninstrument()
        provider.shutdown()


def hex_trace_id(span: ReadableSpan) -> str:
    assert span.context is not None
    return trace.format_trace_id(span.context.trace_id)


def hex_span_id(span: ReadableSpan) -> str:
    assert span.context is not None
    return trace.format_span_id(span.context.span_id)


def by_kind(exporter: InMemorySpanExporter, kind: SpanKind) -> list[ReadableSpan]:
    return [span for span in exporter.get_finished_spans() if span.kind is kind]


def test_a_request_without_headers_logs_its_server_spans_trace_id(
    exporter: InMemorySpanExporter, scripted: Any, sessionlog_rows: Rows
) -> None:
    scripted(ANSWERS)
    response = APIClient().post("/v1/iterate", FILL, format="json")
    assert response.status_code == 200
    [server] = by_kind(exporter, SpanKind.SERVER)
    [row] = sessionlog_rows
    assert row["session_id"] == hex_trace_id(server)
    assert response.json()["trace_id"] == row["session_id"]
    assert response["X-Lakehouse-Trace-Id"] == row["session_id"]


def test_the_session_and_its_attempts_are_spans_beneath_the_server_span(
    exporter: InMemorySpanExporter, scripted: Any, sessionlog_rows: Rows
) -> None:
    scripted(ANSWERS)
    body = APIClient().post("/v1/iterate", FILL, format="json").json()
    [server] = by_kind(exporter, SpanKind.SERVER)
    spans = {span.name: span for span in exporter.get_finished_spans()}
    session = spans["iterate fill"]
    assert session.parent is not None
    assert server.context is not None
    assert session.parent.span_id == server.context.span_id
    attempts = [spans["attempt 1"], spans["attempt 2"]]
    assert session.context is not None
    assert all(a.parent is not None and a.parent.span_id == session.context.span_id for a in attempts)
    [row] = sessionlog_rows
    ids = [hex_span_id(a) for a in attempts]
    assert [a["span_id"] for a in row["attempts"]] == ids
    assert [h["span_id"] for h in body["history"]] == ids
    assert session.attributes is not None
    assert session.attributes["sessionlog.final_verdict"] == "accepted"
    assert session.attributes["gen_ai.request.model"] == "scripted"


def test_a_callers_traceparent_is_the_trace_of_the_server_span_and_the_row(
    exporter: InMemorySpanExporter, scripted: Any, sessionlog_rows: Rows
) -> None:
    scripted(ANSWERS)
    caller = "4bf92f3577b34da6a3ce929d0e0e4736"
    APIClient().post(
        "/v1/iterate", FILL, format="json", headers={"traceparent": f"00-{caller}-00f067aa0ba902b7-01"}
    )
    [server] = by_kind(exporter, SpanKind.SERVER)
    assert hex_trace_id(server) == caller
    assert sessionlog_rows[0]["session_id"] == caller


def test_the_async_view_logs_its_server_spans_trace_id(
    exporter: InMemorySpanExporter, scripted: Any, sessionlog_rows: Rows
) -> None:
    # Served as runserver and a WSGI server serve it. (Under an ASGI server
    # the Django instrumentation makes server spans only with
    # opentelemetry-instrumentation-asgi installed too.)
    scripted(ANSWERS)
    response = APIClient().post("/v1/iterate-async", json.dumps(FILL), content_type="application/json")
    assert response.status_code == 200
    [server] = by_kind(exporter, SpanKind.SERVER)
    [row] = sessionlog_rows
    assert row["session_id"] == hex_trace_id(server)
    assert "iterate fill" in {span.name for span in exporter.get_finished_spans()}
