"""Trace linkage: W3C ``traceparent`` and OpenTelemetry, for the middleware and ``iterate_session``.

This is the one module that imports OpenTelemetry (``opentelemetry-api``,
the ``otel`` extra), and only when it is installed and needed:

- Reading the active span imports nothing. A span can be current only once
  something (an instrumented server, Logfire, the Langfuse SDK, the host's
  own tracer) has imported ``opentelemetry.trace``; until then there is no
  span to ask about, and importing the API here would cost every process
  about 40 ms at start-up for nothing.
- Making spans (``SESSIONLOG["OTEL_SPANS"]``) imports the API on first use.

Without the API every function here answers "no span" and the rows are as
they would be without this module. With the API but no SDK configured (its
no-op tracer) no span is made, so the same holds.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import TYPE_CHECKING, Any

from .row import ERROR_LIMIT, trim

if TYPE_CHECKING:
    from opentelemetry.context import Context
    from opentelemetry.trace import Span, Tracer

logger = logging.getLogger("django_sessionlog")

#: The tracer's name (the instrumentation scope the spans are reported under).
SCOPE = "django_sessionlog"

# W3C Trace Context, section 3.2: version "-" trace-id "-" parent-id "-"
# trace-flags, all lowercase hex. A later version may add fields after a
# "-"; version 00 may not.
_TRACEPARENT = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-[^\x00-\x1f\x7f]*)?\Z")
_ZERO_TRACE_ID = "0" * 32
_ZERO_PARENT_ID = "0" * 16


def trace_id_from_traceparent(value: str) -> str | None:
    """The 32-hex trace id of a valid ``traceparent`` header, or None when it is invalid.

    Invalid: version ``ff``, uppercase hex, wrong lengths, an all-zero trace
    id or parent id, version ``00`` with anything after its flags, garbage.
    """
    match = _TRACEPARENT.match(value.strip(" \t"))
    if match is None:
        return None
    version, trace_id, parent_id, _flags, rest = match.groups()
    if version == "ff" or (version == "00" and rest is not None):
        return None
    if trace_id == _ZERO_TRACE_ID or parent_id == _ZERO_PARENT_ID:
        return None
    return trace_id


#: The trace id ``TraceIdMiddleware`` gave the request being served ("" outside one).
_request_trace_id: ContextVar[str] = ContextVar("django_sessionlog_request_trace_id", default="")


def request_trace_id() -> str:
    """The trace id of the request being served (``TraceIdMiddleware``), or "".

    A session opened without a trace id takes it, so the rows an adapter
    logs (instructor, pydantic-ai: they cannot know the request) carry the
    id the caller got back in ``TRACE_HEADER``, as a view's own rows do.
    """
    return _request_trace_id.get()


def serving(trace_id: str) -> Token[str]:
    """Make ``trace_id`` the served request's until ``served(token)`` (the middleware's job)."""
    return _request_trace_id.set(trace_id)


def served(token: Token[str]) -> None:
    _request_trace_id.reset(token)


def current_trace_id() -> str:
    """The trace id of the active OpenTelemetry span (32 lowercase hex), or ""."""
    if "opentelemetry.trace" not in sys.modules:
        return ""
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    return trace.format_trace_id(context.trace_id) if context.is_valid else ""


def current_span_id() -> str:
    """The span id of the active OpenTelemetry span (16 lowercase hex), or "".

    For an attempt's ``IterateAttempt.span_id``: called inside the span the
    host (or its LLM instrumentation) opened for that attempt, it links the
    row's attempt to that span in the tracing tool. "" when there is no
    valid span or OpenTelemetry is not installed; the row then leaves the
    attempt's ``span_id`` out.
    """
    if "opentelemetry.trace" not in sys.modules:
        return ""
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    return trace.format_span_id(context.span_id) if context.is_valid else ""


def available() -> bool:
    """Whether ``opentelemetry-api`` can be imported (it is imported to find out)."""
    try:
        import opentelemetry.trace  # noqa: F401
    except ImportError:
        return False
    return True


_cached_tracer: tuple[object, Tracer] | None = None


def _tracer() -> Tracer | None:
    """The app's tracer from the global provider (made again only when that changes).

    None when no SDK is configured: the API's own provider then gives the
    no-op tracer, whose spans are invalid or the current span itself, so
    there is nothing to make (and about 2 us a session is saved).
    """
    global _cached_tracer
    from opentelemetry import trace

    provider = trace.get_tracer_provider()
    cached = _cached_tracer
    if cached is not None and cached[0] is provider:
        return cached[1]
    if isinstance(provider, trace.ProxyTracerProvider):
        return None
    from . import __version__

    tracer = provider.get_tracer(SCOPE, __version__)
    _cached_tracer = (provider, tracer)
    return tracer


class CurrentSpan:
    """A span made current when it started; ``end`` ends it and makes its parent current again."""

    __slots__ = ("_span", "_token", "span_id", "trace_id")

    def __init__(self, span: Span, token: Token[Context], trace_id: str, span_id: str) -> None:
        self._span = span
        self._token = token
        #: The span's ids, in W3C form (32 and 16 lowercase hex).
        self.trace_id = trace_id
        self.span_id = span_id

    def end(self, attributes: dict[str, Any] | None = None, error: object | None = None) -> None:
        """Set ``attributes``; with an ``error``, the status ERROR and the exception recorded. Never raises.

        ``error`` is an exception (recorded on the span as an exception
        event) or any other object, whose text becomes the status's
        description.
        """
        from opentelemetry import context
        from opentelemetry.trace import Status, StatusCode

        span = self._span
        try:
            try:
                if attributes:
                    span.set_attributes(attributes)
                if error is not None:
                    if isinstance(error, BaseException):
                        span.record_exception(error)
                        description = f"{type(error).__name__}: {error}"
                    else:
                        description = str(error)
                    span.set_status(Status(StatusCode.ERROR, trim(description, ERROR_LIMIT)))
            finally:
                context.detach(self._token)
                span.end()
        except Exception:
            logger.warning("django_sessionlog: could not end the span", exc_info=True)


def start_span(name: str, attributes: dict[str, Any]) -> CurrentSpan | None:
    """Start a span, a child of the current one, and make it current.

    None when OpenTelemetry is not installed, when no SDK is configured (or
    its tracer makes no valid span), or when starting a span failed: a
    broken SDK must not fail the request, it costs a warning.
    """
    try:
        from opentelemetry import context, trace
    except ImportError:
        return None
    try:
        tracer = _tracer()
        if tracer is None:
            return None
        span = tracer.start_span(name, attributes=attributes)
        span_context = span.get_span_context()
        if not span_context.is_valid:
            # A no-op tracer set on purpose (NoOpTracerProvider): there is
            # nothing to make current or to end, and nothing to link to.
            return None
        token = context.attach(trace.set_span_in_context(span))
    except Exception:
        logger.warning("django_sessionlog: could not start the span %r", name, exc_info=True)
        return None
    return CurrentSpan(
        span, token, trace.format_trace_id(span_context.trace_id), trace.format_span_id(span_context.span_id)
    )


@contextmanager
def attempt_span(iteration: int, usage: object = None) -> Iterator[str]:
    """A span ``attempt {iteration}``, a child of the current one; yields its span id ("" without one).

    An exception from the block ends the span as ERROR, with the exception
    recorded, and goes on. ``usage`` (a ``Usage``, read when the block ends)
    gives the span ``gen_ai.usage.input_tokens`` and ``output_tokens``.
    """
    span = start_span(f"attempt {iteration}", {"sessionlog.iteration": iteration})
    if span is None:
        yield ""
        return
    try:
        yield span.span_id
    except BaseException as exc:
        span.end(usage_attributes(usage), error=exc)
        raise
    span.end(usage_attributes(usage))


def usage_attributes(usage: object) -> dict[str, Any]:
    """OpenTelemetry's GenAI token attributes of a ``Usage``; only the counts that are integers.

    A ``Usage`` still at 0 in and 0 out was never filled (an answer that
    came without usage, or none at all: every answer has input tokens), so
    it gives no attributes rather than a count of zero.
    """
    attributes: dict[str, Any] = {}
    if usage is None:
        return attributes
    for name in ("input_tokens", "output_tokens"):
        value = getattr(usage, name, None)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            attributes[f"gen_ai.usage.{name}"] = value
    if attributes.get("gen_ai.usage.input_tokens") == attributes.get("gen_ai.usage.output_tokens") == 0:
        return {}
    return attributes
