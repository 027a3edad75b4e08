"""The receiver of ``iterate_finished``, and the policies it applies.

The row is built (``records``), then the receiver's policies run in this
order: the roster check chosen by kind (inside the build), sampling (so a
dropped row costs no scrubbing or redaction), scrubbing (``SCRUB``: secrets
and the personal data asked for, so ``REDACT`` and the captures see the
scrubbed row), ``REDACT``, and finally the sink. A policy that raises
costs the row no more than that policy's part, and a warning; with
``RAISE_ERRORS`` it raises into the sender instead, for development.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Callable
from importlib import import_module
from typing import Any

from .. import tracing
from ..conf import conf
from ..locks import ForkSafeLock
from ..row import ACCEPTED
from . import coercion, sampling, scrub_policy
from .configured import get_session_logger
from .records import (
    IterateFailure,
    IterateRequest,
    IterateResponse,
    RosterCheck,
    SessionRecord,
    build_session_record,
)

logger = logging.getLogger("django_sessionlog")

#: What a redactor that raised leaves in place of the prompt.
REDACTION_FAILED = "[redaction failed]"
#: What scrubbing that raised leaves in place of the prompt.
SCRUBBING_FAILED = "[scrubbing failed]"

#: Functions given each finished row instead of the sink while any is
#: registered (``django_sessionlog.testing`` registers its captures here).
Interceptor = Callable[[SessionRecord], None]
_interceptors: list[Interceptor] = []
_interceptors_lock = ForkSafeLock()


def add_interceptor(interceptor: Interceptor) -> None:
    with _interceptors_lock:
        _interceptors.append(interceptor)


def remove_interceptor(interceptor: Interceptor) -> None:
    with _interceptors_lock:
        _interceptors.remove(interceptor)


def log_finished_session(
    sender: Any,
    request: IterateRequest,
    response: IterateResponse | None = None,
    failure: IterateFailure | None = None,
    error: object | None = None,
    duration_ms: int = 0,
    roster_check: RosterCheck | None = None,
    **kwargs: Any,
) -> None:
    """Build, filter and write the row of one finished session.

    ``roster_check``, when the sender gives one, runs instead of the
    ``ROSTER_CHECKS`` entry of the kind, with the same guard.
    """
    raise_errors = conf.RAISE_ERRORS
    try:
        record = build_session_record(
            request,
            response,
            failure,
            error,
            roster_check=_roster_check(request.kind, raise_errors)
            if roster_check is None
            else _guarded(roster_check, _name_of(roster_check), raise_errors),
            duration_ms=duration_ms
            if type(duration_ms) is int
            else coercion.milliseconds(duration_ms, "duration_ms"),
        )
        if not record.session_id:
            # Sent without any trace id while a request is served: the request's (TraceIdMiddleware).
            record.session_id = tracing.request_trace_id()
        if not _sampled_in(record):
            return
        record = _scrubbed(record, raise_errors)
        record = _redacted(record, raise_errors)
        deliver(record)
    except Exception:
        if raise_errors:
            raise
        logger.warning(
            "django_sessionlog: could not log session %r",
            getattr(request, "trace_id", None),
            exc_info=True,
        )


def deliver(record: SessionRecord) -> None:
    """Hand a finished row to the open captures, or else to the sink."""
    interceptors = list(_interceptors)
    if interceptors:
        for interceptor in interceptors:
            interceptor(record)
        return
    session_logger = get_session_logger()
    if session_logger is not None:
        session_logger.append(record)


def _roster_check(kind: str, raise_errors: bool) -> RosterCheck | None:
    dotted = conf.ROSTER_CHECKS.get(kind)
    if not dotted:
        return None

    def check(artifact: dict[str, Any] | None) -> Any:
        # Imported at the check, inside its guard: a wrong path costs the key, not the row.
        return _import(dotted)(artifact)

    return _guarded(check, dotted, raise_errors)


def _guarded(check: Callable[[dict[str, Any] | None], Any], name: str, raise_errors: bool) -> RosterCheck:
    """The check, with a check that raises costing only ``grounded_in_roster`` (and a warning)."""

    def guarded(artifact: dict[str, Any] | None) -> bool | None:
        try:
            return check(artifact)  # type: ignore[no-any-return]
        except Exception:
            if raise_errors:
                raise
            logger.warning(
                "django_sessionlog: roster check %s raised; the row is written without grounded_in_roster",
                name,
                exc_info=True,
            )
            return None

    return guarded


def _name_of(check: object) -> str:
    module = getattr(check, "__module__", None)
    qualname = getattr(check, "__qualname__", None) or type(check).__qualname__
    return f"{module}.{qualname}" if module else str(qualname)


def _sampled_in(record: SessionRecord) -> bool:
    # Failures are what forensics needs: only accepted sessions are sampled.
    rates = conf.SAMPLE_RATES
    if not rates or record.final_verdict != ACCEPTED:
        return True
    rate = sampling.rate_for(record.kind, rates)
    if not sampling.keeps(record.session_id, rate):
        return False
    if rate < 1.0 and record.session_id:
        record.sample_rate = rate
    return True


def _scrubbed(record: SessionRecord, raise_errors: bool) -> SessionRecord:
    try:
        scrubber = scrub_policy.get_scrubber()
        return record if scrubber is None else scrub_policy.scrub_record(record, scrubber)
    except Exception:
        if raise_errors:
            raise
        logger.warning(
            "django_sessionlog: scrubbing raised on session %r; "
            "the row is written without its prompt, artifact and errors",
            record.session_id,
            exc_info=True,
        )
        return _without_data(record, SCRUBBING_FAILED)


def _redacted(record: SessionRecord, raise_errors: bool) -> SessionRecord:
    dotted = conf.REDACT
    if not dotted:
        return record
    try:
        redacted = _import(dotted)(record)
        if not isinstance(redacted, SessionRecord):
            raise TypeError(f"{dotted} returned {type(redacted).__name__}, not a SessionRecord")
        return redacted
    except Exception:
        if raise_errors:
            raise
        logger.warning(
            "django_sessionlog: redactor %s raised on session %r; "
            "the row is written without its prompt, artifact and errors",
            dotted,
            record.session_id,
            exc_info=True,
        )
        return _without_data(record, REDACTION_FAILED)


def _without_data(record: SessionRecord, prompt: str) -> SessionRecord:
    """Fail closed: a row that says the session happened, with nothing in it a policy was meant to scrub."""
    return dataclasses.replace(
        record,
        prompt=prompt,
        artifact=None,
        attempts=None
        if record.attempts is None
        else [dataclasses.replace(a, error="") for a in record.attempts],
    )


def _import(dotted: str) -> Callable[..., Any]:
    """The function at ``dotted``, looked up in its module at each row.

    The module is imported once (Python keeps it in ``sys.modules``); the
    name is read from it every time, so a test's ``mock.patch`` of a roster
    check or redactor is what the next row calls.
    """
    module_path, _, name = dotted.rpartition(".")
    return getattr(_module(module_path), name)  # type: ignore[no-any-return]


@functools.lru_cache(maxsize=64)
def _module(module_path: str) -> Any:
    return import_module(module_path)
