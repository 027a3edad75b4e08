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
"""

from __future__ import annotations

import time
from types import TracebackType
from typing import Any

from .records import IterateFailure, IterateRequest, IterateResponse
from .signals import iterate_finished

NO_OUTCOME = "the iterate view finished without an outcome"


class IterateSession:
    """One session: record its outcome with ``accept``, ``exhaust`` or ``fail``."""

    def __init__(self, request: IterateRequest, sender: Any = None) -> None:
        self.request = request
        self.sender = sender
        self.response: IterateResponse | None = None
        self.failure: IterateFailure | None = None
        self.error: object | None = None
        self._started = time.perf_counter_ns()
        self._sent = False

    @property
    def duration_ms(self) -> int:
        return (time.perf_counter_ns() - self._started) // 1_000_000

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
        return {
            "sender": self.sender,
            "request": self.request,
            "response": None if exc is not None else self.response,
            "failure": None if exc is not None else self.failure,
            "error": error,
            "duration_ms": self.duration_ms,
        }

    def __enter__(self) -> IterateSession:
        self._started = time.perf_counter_ns()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        arguments = self._finish(exc)
        if arguments is not None:
            iterate_finished.send(**arguments)
        # Returning None lets an exception propagate as usual.

    async def __aenter__(self) -> IterateSession:
        return self.__enter__()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        arguments = self._finish(exc)
        if arguments is not None:
            await iterate_finished.asend(**arguments)


def iterate_session(request: IterateRequest, sender: Any = None) -> IterateSession:
    """A context manager that sends ``iterate_finished`` when the block ends."""
    return IterateSession(request, sender)
