"""``iterate_session``: time an iterate view and send ``iterate_finished`` once.

Every host would otherwise write the same few lines (a timer, a try block,
the right verdict, the signal) and get the failure path wrong: a view that
raises must still leave an ``infra_error`` row, and the exception must still
reach Django.

    with iterate_session(IterateRequest(...), sender=type(self)) as session:
        outcome = run_loop(...)
        if outcome.accepted:
            session.accept(IterateResponse(...))
        else:
            session.exhaust(IterateFailure(...))

``async with`` works the same in an async view and sends with ``asend``.

Trace linkage: with ``SESSIONLOG["OTEL_SPANS"]`` the block runs inside a
span ``iterate {kind}`` of its own (``tracing.py``), and a request without
a trace id takes that span's; without spans it takes the served request's
(``TraceIdMiddleware``), else the active OpenTelemetry span's.
"""

from __future__ import annotations

import dataclasses
import time
from contextlib import AbstractContextManager, nullcontext
from types import TracebackType
from typing import Any

from .. import tracing
from ..conf import conf
from ..row import ACCEPTED, INFRA_ERROR, MAX_ITER_EXHAUSTED
from .records import IterateFailure, IterateRequest, IterateResponse, RosterCheck, Usage
from .signals import iterate_finished

NO_OUTCOME = "the iterate view finished without an outcome"


class IterateSession:
    """One session: record its outcome with ``accept``, ``exhaust`` or ``fail``."""

    def __init__(
        self, request: IterateRequest, sender: Any = None, roster_check: RosterCheck | None = None
    ) -> None:
        self.request = request
        self.sender = sender
        #: Sent with the row when given: the receiver runs it instead of the
        #: ``ROSTER_CHECKS`` entry of the kind (an integration's own check).
        self.roster_check = roster_check
        self.response: IterateResponse | None = None
        self.failure: IterateFailure | None = None
        self.error: object | None = None
        self._started = time.perf_counter_ns()
        self._sent = False
        self._span: tracing.CurrentSpan | None = None

    @property
    def duration_ms(self) -> int:
        return (time.perf_counter_ns() - self._started) // 1_000_000

    @property
    def trace_id(self) -> str:
        """The request's trace id, or the active span's when it had none ("" when neither).

        What the row's ``session_id`` will be (unless both are empty and the
        response or failure carries one). Read it inside the block.
        """
        return self.request.trace_id

    def attempt(self, iteration: int, usage: Usage | None = None) -> AbstractContextManager[str]:
        """One attempt's span, a child of the session's; gives its span id for ``IterateAttempt``.

            usage = Usage()
            with session.attempt(iteration, usage=usage) as span_id:
                answer = ask_model(messages)
                usage.input_tokens, usage.output_tokens = answer.usage.prompt_tokens, ...
            history.append(IterateAttempt(iteration, status, span_id, usage))

        With ``OTEL_SPANS`` off (or without OpenTelemetry) no span is made
        and the id is "", which the row leaves out. ``usage`` is read when the
        block ends (the answer is in by then), for the span's
        ``gen_ai.usage.*`` attributes.
        """
        if self._span is None:
            return nullcontext("")
        return tracing.attempt_span(iteration, usage)

    def accept(self, response: IterateResponse) -> None:
        """The model's answer was accepted."""
        self.response = response

    def exhaust(self, failure: IterateFailure) -> None:
        """``max_iterations`` ran out without an accepted answer."""
        self.failure = failure

    def fail(self, error: object) -> None:
        """The loop could not run (the provider is down): an ``infra_error`` row."""
        self.error = error

    def _finish(self, exc: BaseException | None) -> dict[str, Any] | None:
        if self._sent:
            return None
        self._sent = True
        error = self.error
        if exc is not None:
            error = exc
        elif self.response is None and self.failure is None and error is None:
            error = NO_OUTCOME
        arguments = {
            "sender": self.sender,
            "request": self.request,
            "response": None if exc is not None else self.response,
            "failure": None if exc is not None else self.failure,
            "error": error,
            "duration_ms": self.duration_ms,
        }
        if self.roster_check is not None:
            arguments["roster_check"] = self.roster_check
        return arguments

    def _start_tracing(self) -> None:
        request = self.request
        if conf.OTEL_SPANS:
            attributes: dict[str, Any] = {"sessionlog.kind": request.kind}
            if request.model:
                attributes["gen_ai.request.model"] = request.model
            if request.provider:
                attributes["gen_ai.provider.name"] = request.provider
            attributes["sessionlog.max_iterations"] = request.max_iterations
            name = f"iterate {request.kind}" if request.kind else "iterate"
            self._span = tracing.start_span(name, attributes)
        if not request.trace_id:
            # The session's own span, when one was started, is the one to
            # find the session by; else the served request's id
            # (TraceIdMiddleware: what the caller got back, and what a view
            # passes itself); else the active span. The caller's request is
            # copied, not changed (it may be reused).
            if self._span is not None:
                trace_id = self._span.trace_id
            else:
                trace_id = tracing.request_trace_id() or tracing.current_trace_id()
            if trace_id:
                self.request = dataclasses.replace(request, trace_id=trace_id)

    def _end_tracing(self, arguments: dict[str, Any]) -> None:
        """End the session's span with the row's outcome; an ``infra_error`` is an ERROR span."""
        span = self._span
        if span is None:
            return
        self._span = None
        response, failure = arguments["response"], arguments["failure"]
        error = None
        if response is not None:
            verdict, iterations = ACCEPTED, response.iterations
        elif failure is not None:
            verdict, iterations = MAX_ITER_EXHAUSTED, failure.iterations
        else:
            # What the row's error is made from: the exception that ended the
            # block, what was given to fail(), or the text saying there was
            # no outcome.
            verdict, iterations, error = INFRA_ERROR, 0, arguments["error"] or INFRA_ERROR
        attributes: dict[str, Any] = {
            "sessionlog.final_verdict": verdict,
            "sessionlog.iterations": iterations,
        }
        if self.request.trace_id:
            # The row's session id: the span's trace id, or the caller's own
            # (TRACE_HEADER), which the tracing tool can then search for.
            attributes["sessionlog.session_id"] = self.request.trace_id
        span.end(attributes, error)

    def __enter__(self) -> IterateSession:
        self._started = time.perf_counter_ns()
        self._start_tracing()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        arguments = self._finish(exc)
        if arguments is None:
            return
        # The row is sent while the session's span is still current, so
        # whatever the receiver logs belongs to the session's trace.
        try:
            iterate_finished.send(**arguments)
        finally:
            self._end_tracing(arguments)
        # Returning None lets an exception propagate as usual.

    async def __aenter__(self) -> IterateSession:
        return self.__enter__()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        arguments = self._finish(exc)
        if arguments is None:
            return
        try:
            await iterate_finished.asend(**arguments)
        finally:
            self._end_tracing(arguments)


def iterate_session(
    request: IterateRequest, sender: Any = None, roster_check: RosterCheck | None = None
) -> IterateSession:
    """A context manager that sends ``iterate_finished`` when the block ends.

    ``roster_check``, when given, is the session's roster check in place of
    the ``ROSTER_CHECKS`` entry of its kind.
    """
    return IterateSession(request, sender, roster_check)
