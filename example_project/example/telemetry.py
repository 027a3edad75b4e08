"""OpenTelemetry for the example service: a tracer provider and Django's server spans.

``wsgi.py`` and ``asgi.py`` call ``start()``. It does something only when
``opentelemetry-sdk`` and ``opentelemetry-instrumentation-django`` are
installed (``demo.sh`` installs them); without them the service runs as
before, with no spans. With them every request gets a server span,
``TraceIdMiddleware`` takes its trace id as the request's (unless the caller
sent ``X-Lakehouse-Trace-Id``), and with ``SESSIONLOG["OTEL_SPANS"]`` each
session and each attempt get a span beneath it. (Under an ASGI server the
Django instrumentation needs ``opentelemetry-instrumentation-asgi`` as well.)

A real deployment exports to its tracing tool (Langfuse, Logfire, Jaeger,
Tempo) with an OTLP exporter. Here ``EXAMPLE_SPANS_PATH`` names a file that
gets each finished span as one JSON line, so the demo can put a row next to
its trace without a tracing tool.
"""

from __future__ import annotations

import os

SERVICE_NAME = "example-coordinator"


def start() -> bool:
    """Set the global tracer provider and instrument Django; False when the packages are missing."""
    try:
        from opentelemetry import trace
        from opentelemetry.instrumentation.django import DjangoInstrumentor
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    except ImportError:
        return False
    from .spans_file import JsonLinesExporter

    provider = TracerProvider(resource=Resource.create({"service.name": SERVICE_NAME}))
    spans_path = os.environ.get("EXAMPLE_SPANS_PATH")
    if spans_path:
        provider.add_span_processor(SimpleSpanProcessor(JsonLinesExporter(spans_path)))
    trace.set_tracer_provider(provider)
    DjangoInstrumentor().instrument(tracer_provider=provider)
    return True
