"""instructor's retry loop, logged as sessions: ``client = logged(instructor.from_openai(...), kind="fill")``.

instructor runs the generate-validate-retry loop itself (``response_model=``,
``max_retries=``); this module watches it through instructor's own hooks,
added per call next to the caller's, so every ``create`` and
``create_with_completion`` with a ``response_model`` becomes one row sent
through ``iterate_finished`` (scrubbing, sampling, ``REDACT``, roster checks
and ``capture_sessions`` apply as to any row). The call itself is left
alone: the same requests, the same result, the same exception. Only this
module imports instructor (the ``instructor`` extra).
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from typing import Any, TypeVar

try:
    from instructor import AsyncInstructor, Instructor
    from instructor.core.exceptions import InstructorRetryException, ResponseParsingError
    from instructor.core.hooks import Hooks
except ImportError as exc:
    raise ImportError(
        "django_sessionlog.contrib.instructor needs instructor: pip install 'django-sessionlog[instructor]'"
    ) from exc

from ..conf import conf
from ..write.records import (
    AttemptStatus,
    IterateAttempt,
    IterateFailure,
    IterateRequest,
    IterateResponse,
    RosterCheck,
    Usage,
)
from ..write.session import IterateSession, iterate_session
from . import recording

logger = logging.getLogger("django_sessionlog")

Client = TypeVar("Client", bound=Instructor)

#: Where a logged client keeps how it logs (so ``logged`` twice is one row).
_MARK = "_django_sessionlog"
#: What an attempt's verdict says when instructor gave no way to tell it.
UNKNOWN_VERDICT = "the adapter could not tell this answer's verdict"


@dataclasses.dataclass(frozen=True, slots=True)
class _Config:
    kind: str
    provider: str
    roster_check: RosterCheck | None


def logged(
    client: Client, *, kind: str, provider: str = "", roster_check: RosterCheck | None = None
) -> Client:
    """Log every structured call of an instructor client as one session; returns the same client.

    Works on sync and async clients (``instructor.from_openai(OpenAI())`` and
    ``AsyncOpenAI()``). ``roster_check``, when given, runs on each accepted
    artifact instead of ``SESSIONLOG["ROSTER_CHECKS"][kind]``. Calling it
    again with the same arguments changes nothing (still one row per call).
    """
    recording.check_kind(kind, "logged()")
    recording.check_provider(provider, "logged()")
    if not isinstance(client, Instructor):
        raise TypeError(
            "logged() needs an instructor client (instructor.from_openai(OpenAI()) or another "
            f"instructor.from_* factory), got {type(client).__module__}.{type(client).__qualname__}"
        )
    if roster_check is not None and not callable(roster_check):
        raise TypeError(f"logged(): roster_check must be callable, got {type(roster_check).__name__}")
    config = _Config(kind, provider, roster_check)
    existing = client.__dict__.get(_MARK)
    if existing is not None:
        if existing == config:
            return client
        raise ValueError(
            f"logged(): this client already logs its calls as kind={existing.kind!r}, "
            f"provider={existing.provider!r}; make another client for another kind"
        )
    original = client.create_fn
    if isinstance(client, AsyncInstructor):
        client.create_fn = _async_create(original, config, client)
    else:
        client.create_fn = _sync_create(original, config, client)
    client.__dict__[_MARK] = config
    return client


def _logs(args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    """Only a structured, non-streaming call is a session (``create_partial``/``create_iterable`` stream)."""
    return not args and kwargs.get("response_model") is not None and not kwargs.get("stream")


def _sync_create(original: Callable[..., Any], config: _Config, client: Instructor) -> Callable[..., Any]:
    def create(*args: Any, **kwargs: Any) -> Any:
        if not _logs(args, kwargs):
            return original(*args, **kwargs)
        call = _Call.start(config, client, kwargs)
        if call is None:
            return original(*args, **kwargs)
        try:
            result = original(**call.kwargs)
        except BaseException as exc:
            call.finished(None, exc)
            call.send()
            raise
        call.finished(result, None)
        call.send()
        return result

    return create


def _async_create(original: Callable[..., Any], config: _Config, client: Instructor) -> Callable[..., Any]:
    async def create(*args: Any, **kwargs: Any) -> Any:
        if not _logs(args, kwargs):
            return await original(*args, **kwargs)
        call = _Call.start(config, client, kwargs)
        if call is None:
            return await original(*args, **kwargs)
        try:
            result = await original(**call.kwargs)
        except BaseException as exc:
            call.finished(None, exc)
            await call.asend()
            raise
        call.finished(result, None)
        await call.asend()
        return result

    return create


def allowed_attempts(max_retries: object) -> int:
    """The attempts instructor allows: ``max_retries`` counts retries after the first (3 means 4).

    For a tenacity ``Retrying`` the ``stop_after_attempt`` in its ``stop``
    (inside ``stop_any``/``stop_all`` too); 0 when it has none (no fixed
    number).
    """
    if isinstance(max_retries, bool):
        return 0
    if isinstance(max_retries, int):
        return max(max_retries, 0) + 1
    return _stop_attempts(getattr(max_retries, "stop", None))


def _stop_attempts(stop: object) -> int:
    number = getattr(stop, "max_attempt_number", None)
    if isinstance(number, int) and not isinstance(number, bool):
        return number
    inner = [_stop_attempts(part) for part in getattr(stop, "stops", ())]
    found = [n for n in inner if n > 0]
    if not found:
        return 0
    # stop_any stops at the first that fires; stop_all when all have.
    return min(found) if type(stop).__name__ == "stop_any" else max(found)


@dataclasses.dataclass(slots=True)
class _Attempt:
    iteration: int
    span: AbstractContextManager[str]
    span_id: str = ""
    usage: Usage | None = None
    answered: bool = False
    open: bool = True
    kind: str | None = None
    error: str = ""
    parse_error: BaseException | None = None


class _Call:
    """One structured call: its attempts from instructor's hooks, and its session."""

    def __init__(self, session: IterateSession, kwargs: dict[str, Any]) -> None:
        self.session = session
        self.kwargs = kwargs
        self.attempts: list[_Attempt] = []
        self.provider_error: BaseException | None = None

    @classmethod
    def start(cls, config: _Config, client: Instructor, kwargs: dict[str, Any]) -> _Call | None:
        """Open the session and add the recording hooks; None (and a warning) when that failed."""
        try:
            model = kwargs.get("model", "")
            request = IterateRequest(
                kind=config.kind,
                model=model if isinstance(model, str) else str(model),
                provider=config.provider,
                prompt=recording.last_user_text(kwargs.get("messages"), "instructor"),
                max_iterations=allowed_attempts(kwargs.get("max_retries", 1)),
            )
            # The client's class: Django asks the sender for __func__, which an Instructor
            # forwards to its OpenAI client, slowly (tens of microseconds a row).
            session = iterate_session(request, sender=type(client), roster_check=config.roster_check)
            call = cls(session, dict(kwargs))
            call.kwargs["hooks"] = call.hooks(kwargs.get("hooks"))
            session.__enter__()
        except Exception:
            recording.adapter_failed("could not start logging an instructor call", raise_errors=False)
            return None
        return call

    def hooks(self, theirs: Hooks | None) -> Hooks:
        """The caller's hooks and the recording ones (theirs run first, as without the adapter)."""
        hooks = Hooks() if theirs is None else theirs.copy()
        if conf.OTEL_SPANS:
            # Only to open each attempt's span before its request; without
            # spans an attempt starts with its answer (one hook less a call).
            hooks.on("completion:kwargs", self.on_kwargs)
        hooks.on("completion:response", self.on_response)
        hooks.on("completion:error", self.on_error)
        hooks.on("parse:error", self.on_parse_error)
        return hooks

    # instructor's hooks. instructor turns a hook that raises into a
    # warning, which PYTHONWARNINGS=error would turn into the call's
    # failure: each hook keeps its own failures to a logged warning.

    def on_kwargs(self, *args: Any, **kwargs: Any) -> None:
        try:
            self._start()
        except Exception:
            recording.adapter_failed("could not record an instructor attempt", raise_errors=False)

    def _start(self) -> _Attempt:
        """A new attempt, in its own span (a child of the session's) when spans are on."""
        self._close()
        iteration = len(self.attempts) + 1
        usage = Usage()
        span = self.session.attempt(iteration, usage)
        attempt = _Attempt(iteration, span, usage=usage)
        self.attempts.append(attempt)
        attempt.span_id = span.__enter__()
        return attempt

    def on_response(self, response: Any) -> None:
        try:
            attempt = self.attempts[-1] if self.attempts else None
            if attempt is None or not attempt.open or attempt.answered:
                attempt = self._start()
            attempt.answered = True
            if not self.session.request.model and isinstance(getattr(response, "model", None), str):
                self.session.request.model = response.model
            attempt.usage = _usage(response, attempt.usage)
            self._close()
        except Exception:
            recording.adapter_failed("could not read an instructor answer", raise_errors=False)

    def on_error(self, error: Exception, **metadata: Any) -> None:
        try:
            self.provider_error = error
            self._close(error)
        except Exception:
            recording.adapter_failed("could not record an instructor provider error", raise_errors=False)

    def on_parse_error(self, error: Exception, **metadata: Any) -> None:
        try:
            attempt = self._answered()
            if attempt is None:
                return
            attempt.parse_error = error
            attempt.kind, attempt.error = verdict_of(error)
        except Exception:
            recording.adapter_failed("could not record an instructor parse error", raise_errors=False)

    def _answered(self) -> _Attempt | None:
        """The attempt whose answer instructor is judging."""
        attempt = self.attempts[-1] if self.attempts else None
        if attempt is None or not attempt.answered:
            logger.warning(
                "django_sessionlog: instructor reported an answer the adapter did not see asked for"
            )
            return None
        return attempt

    def _close(self, error: BaseException | None = None) -> None:
        """End the open attempt's span (as ERROR with ``error``)."""
        attempt = self.attempts[-1] if self.attempts else None
        if attempt is None or not attempt.open:
            return
        attempt.open = False
        if attempt.usage is not None and not attempt.answered:
            attempt.usage = None
        if error is None:
            attempt.span.__exit__(None, None, None)
        else:
            attempt.span.__exit__(type(error), error, error.__traceback__)

    # The outcome.

    def finished(self, result: Any, exc: BaseException | None) -> None:
        """Record the outcome on the session; never raises (a failure here costs a warning)."""
        try:
            self._close(exc)
            self._outcome(result, exc)
        except Exception:
            recording.adapter_failed("could not log an instructor call", raise_errors=False)
            self.session.fail("django_sessionlog could not read the instructor call's outcome")

    def _outcome(self, result: Any, exc: BaseException | None) -> None:
        session = self.session
        answered = [a for a in self.attempts if a.answered]
        if exc is None:
            if answered and answered[-1].kind is None:
                answered[-1].kind = recording.ACCEPTED
            history = self._history(answered)
            artifact = recording.artifact_of(result, "instructor")
            session.accept(IterateResponse(session.trace_id, len(history), history, artifact))
            return
        last = answered[-1] if answered else None
        if (
            self.provider_error is None
            and last is not None
            and last.parse_error is not None
            and _caused_by(exc, last.parse_error)
        ):
            # The retries (or the token budget) ran out on a rejected answer.
            history = self._history(answered)
            session.exhaust(IterateFailure(session.trace_id, len(history), history))
            return
        error = self.provider_error
        if error is None:
            cause = exc.__cause__
            error = cause if isinstance(exc, InstructorRetryException) and cause is not None else exc
            error = _retried(error) or error
        session.fail(recording.error_text(error))

    def _history(self, answered: list[_Attempt]) -> list[IterateAttempt]:
        history = []
        for attempt in answered:
            kind, error = attempt.kind, attempt.error
            if kind is None:
                logger.warning(
                    "django_sessionlog: %s (instructor attempt %d)", UNKNOWN_VERDICT, attempt.iteration
                )
                kind, error = recording.VALIDATION_FAILED, UNKNOWN_VERDICT
            history.append(
                IterateAttempt(attempt.iteration, AttemptStatus(kind, error), attempt.span_id, attempt.usage)
            )
        return history

    def send(self) -> None:
        try:
            self.session.__exit__(None, None, None)
        except Exception:
            recording.adapter_failed("could not log an instructor call")

    async def asend(self) -> None:
        try:
            await self.session.__aexit__(None, None, None)
        except Exception:
            recording.adapter_failed("could not log an instructor call")


def _retried(error: BaseException | None) -> BaseException | None:
    """The exception a tenacity ``RetryError`` wraps (its last attempt's), else None.

    A ``Retrying`` without ``reraise=True`` (tenacity's default) ends with a
    ``RetryError`` instead of the last attempt's exception; duck-typed, so
    the adapter need not import tenacity.
    """
    last_attempt = getattr(error, "last_attempt", None)
    exception = getattr(last_attempt, "exception", None)
    if not callable(exception):
        return None
    try:
        found = exception(timeout=0)
    except Exception:
        return None
    return found if isinstance(found, BaseException) else None


def _caused_by(exc: BaseException, rejected: BaseException) -> bool:
    """Whether ``exc`` ended the call because of the ``rejected`` answer's error.

    Follows ``__cause__`` (``InstructorRetryException`` and
    ``TokenBudgetExceeded`` are raised from it) and a ``RetryError``'s last
    attempt, so that a ``Retrying`` gives the same verdict with or without
    ``reraise=True``.
    """
    seen: set[int] = set()
    error: BaseException | None = exc
    while error is not None and id(error) not in seen:
        if error is rejected:
            return True
        seen.add(id(error))
        error = _retried(error) or error.__cause__
    return False


def verdict_of(error: BaseException) -> tuple[str, str]:
    """An answer instructor rejected: ``no_json`` when there was nothing to parse, else ``validation_failed``.

    Nothing to parse: no tool call (``ResponseParsingError``), or text that
    is not JSON at all (``json.JSONDecodeError``, pydantic's
    ``json_invalid``). JSON that the model rejects is ``validation_failed``
    with each failed field's message as the validator wrote it.
    """
    if isinstance(error, (ResponseParsingError, json.JSONDecodeError)) or recording.is_unparsable_json(error):
        return recording.NO_JSON, recording.validation_text(error)
    return recording.VALIDATION_FAILED, recording.validation_text(error)


def _usage(response: Any, into: Usage | None) -> Usage | None:
    """The answer's token counts, filled into the attempt's ``Usage``; None when it gave none.

    instructor passes each provider's own answer, so three shapes are read:
    OpenAI chat's (``prompt_tokens``, ``completion_tokens`` and their
    ``*_details``), OpenAI Responses' (``input_tokens``, ``output_tokens``,
    ``input_tokens_details.cached_tokens``,
    ``output_tokens_details.reasoning_tokens``) and Anthropic's
    (``input_tokens`` without the cached tokens, which
    ``cache_read_input_tokens`` and ``cache_creation_input_tokens`` count:
    added back, since ``Usage.input_tokens`` holds them;
    ``output_tokens_details.thinking_tokens``). An answer with
    neither total has no usage, never zeros.
    """
    counts = _field(response, "usage")
    if counts is None:
        return None
    input_tokens = _field(counts, "prompt_tokens")
    output_tokens = _field(counts, "completion_tokens")
    cache_write: object = 0
    if input_tokens is not None or output_tokens is not None:
        cache_read = _field(_field(counts, "prompt_tokens_details"), "cached_tokens")
        reasoning = _field(_field(counts, "completion_tokens_details"), "reasoning_tokens")
    else:
        input_tokens = _field(counts, "input_tokens")
        output_tokens = _field(counts, "output_tokens")
        if input_tokens is None and output_tokens is None:
            return None
        cache_read = _field(_field(counts, "input_tokens_details"), "cached_tokens")
        output_details = _field(counts, "output_tokens_details")
        reasoning = _field(output_details, "reasoning_tokens")
        if reasoning is None:  # Anthropic's name
            reasoning = _field(output_details, "thinking_tokens")
        read = _field(counts, "cache_read_input_tokens")
        written = _field(counts, "cache_creation_input_tokens")
        if read is not None or written is not None:
            cache_read, cache_write = read, written
            input_tokens = _plus(input_tokens, read, written)
    found = recording.usage_of(
        input_tokens, output_tokens, cache_read, cache_write, reasoning, source="the instructor answer"
    )
    if found is None or into is None:
        return found
    # The attempt's span reads the Usage it was given when it ends.
    for field in dataclasses.fields(Usage):
        setattr(into, field.name, getattr(found, field.name))
    return into


def _field(value: object, name: str) -> object:
    """A count or part of a provider's usage: an attribute, or a key when it is a mapping (None when absent)."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        return value.get(name)
    return getattr(value, name, None)


def _plus(total: object, *parts: object) -> object:
    """``total`` and ``parts`` added (None as 0); the first that is not a count, so ``usage_of`` warns of it."""
    added = 0
    for value in (total, *parts):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            return value
        added += value
    return added
