"""The real OpenTelemetry SDK for the tests: a provider whose spans end up in memory.

The API lets a process set its global tracer provider once and never again;
the tests need a fresh one each (and none at all for the no-op cases), so
``installed`` swaps the API's module globals for the test's duration, as
OpenTelemetry's own test helpers (``opentelemetry.test``) do.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.util._once import Once


@dataclass
class Spans:
    """The global provider of one test: its tracer (a host's own) and the spans it finished."""

    provider: TracerProvider
    exporter: InMemorySpanExporter

    @property
    def tracer(self) -> trace.Tracer:
        return self.provider.get_tracer("host")

    def finished(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def named(self, name: str) -> ReadableSpan:
        [span] = [span for span in self.finished() if span.name == name]
        return span


def trace_id(span: ReadableSpan | trace.Span) -> str:
    context = span.get_span_context()
    assert context is not None
    return trace.format_trace_id(context.trace_id)


def span_id(span: ReadableSpan | trace.Span | None) -> str:
    assert span is not None
    context = span.get_span_context()
    assert context is not None
    return trace.format_span_id(context.span_id)


@pytest.fixture
def spans(monkeypatch: pytest.MonkeyPatch) -> Iterator[Spans]:
    """A real SDK ``TracerProvider`` as the global one for the test, exporting to memory."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(trace, "_TRACER_PROVIDER_SET_ONCE", Once())
    monkeypatch.setattr(trace, "_TRACER_PROVIDER", None)
    trace.set_tracer_provider(provider)
    yield Spans(provider, exporter)
    provider.shutdown()
