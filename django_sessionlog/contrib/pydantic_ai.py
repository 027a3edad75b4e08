"""pydantic-ai runs logged as sessions: ``with logged_run(kind="fill"): agent.run_sync(...)``.

pydantic-ai retries by itself (output validation errors, ``ModelRetry``);
this module adds a capability of its own to each run started inside the
block (``run``, ``run_sync``, ``iter``, ``run_stream``: all start with
``Agent.iter``), which sees every model request and the run's end, and
sends one row per run through ``iterate_finished``. Outside a block the
runs are untouched. Only this module imports pydantic-ai (the
``pydantic-ai`` extra).
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import re
import threading
from collections.abc import Callable, Sequence
from contextvars import ContextVar, Token
from types import TracebackType
from typing import Any

try:
    from pydantic import ValidationError
    from pydantic_ai import Agent
    from pydantic_ai.capabilities import AbstractCapability
    from pydantic_ai.exceptions import ModelRetry, ToolRetryError, UnexpectedModelBehavior
    from pydantic_ai.messages import ModelRequest, ModelResponse, RetryPromptPart
except ImportError as exc:
    raise ImportError(
        "django_sessionlog.contrib.pydantic_ai needs pydantic-ai: pip install 'django-sessionlog[pydantic-ai]'"
    ) from exc

from ..write.records import (
    AttemptStatus,
    IterateAttempt,
    IterateFailure,
    IterateRequest,
    IterateResponse,
    Usage,
)
from ..write.session import IterateSession, iterate_session
from . import recording

logger = logging.getLogger("django_sessionlog")

#: What pydantic-ai asks for after an answer with no output in it ("Please
#: include your response in a tool call.", "Please return text or call a tool.").
_NO_OUTPUT = re.compile(
    r"Please (?:(?:return text|include your response in a tool call|call a tool|return an image)(?: or )?)+\.\Z"
)
#: pydantic's prefixes before the text a validator raised with.
_RAISED_PREFIXES = {"value_error": "Value error, ", "assertion_error": "Assertion failed, "}


@dataclasses.dataclass(frozen=True, slots=True)
class _Config:
    kind: str
    provider: str
    max_iterations: int | None


_active: ContextVar[_Config | None] = ContextVar("django_sessionlog_logged_run", default=None)
_install_lock = threading.Lock()
_PATCHED = "_django_sessionlog_patched"


class logged_run:  # noqa: N801 (used as a function: `with logged_run(kind=...)`)
    """Make each pydantic-ai run inside the block one session (``with`` and ``async with``).

    ``provider`` defaults to the model's own (``openai`` for an OpenAI
    model); ``max_iterations`` to the run's output retries + 1 (the
    answers pydantic-ai allows), read from ``retries=`` of the run or the
    agent. Blocks nest: the innermost one names the kind.
    """

    def __init__(self, *, kind: str, provider: str = "", max_iterations: int | None = None) -> None:
        recording.check_kind(kind, "logged_run()")
        recording.check_provider(provider, "logged_run()")
        if max_iterations is not None and (
            isinstance(max_iterations, bool) or not isinstance(max_iterations, int) or max_iterations < 1
        ):
            raise ValueError(
                f"logged_run(): max_iterations must be a positive integer or None, got {max_iterations!r}"
            )
        self._config = _Config(kind, provider, max_iterations)
        self._tokens: list[Token[_Config | None]] = []

    def __enter__(self) -> logged_run:
        _install()
        self._tokens.append(_active.set(self._config))
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        _active.reset(self._tokens.pop())

    async def __aenter__(self) -> logged_run:
        return self.__enter__()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.__exit__(exc_type, exc, tb)


def _install() -> None:
    """Wrap ``Agent.iter`` once: inside a block it adds the run's session capability."""
    with _install_lock:
        if getattr(Agent.iter, _PATCHED, False):
            return
        original: Callable[..., Any] = Agent.iter

        @functools.wraps(original)
        def iter(self: Agent[Any, Any], *args: Any, **kwargs: Any) -> Any:
            config = _active.get()
            if config is not None:
                try:
                    capability = _SessionCapability(config, _allowed_answers(self, kwargs))
                    kwargs["capabilities"] = [*(kwargs.get("capabilities") or ()), capability]
                except Exception:
                    recording.adapter_failed("could not start logging a pydantic-ai run", raise_errors=False)
            return original(self, *args, **kwargs)

        setattr(iter, _PATCHED, True)
        Agent.iter = iter  # type: ignore[method-assign]


def _allowed_answers(agent: Agent[Any, Any], kwargs: dict[str, Any]) -> int:
    """Output retries + 1: the run's ``retries=`` (an int or its ``"output"``), else the agent's."""
    retries = kwargs.get("retries")
    if isinstance(retries, dict):
        retries = retries.get("output")
    if retries is None:
        retries = getattr(agent, "_max_output_retries", None)
    if isinstance(retries, bool) or not isinstance(retries, int):
        return 0
    return max(retries, 0) + 1


@dataclasses.dataclass(slots=True)
class _Answer:
    response: ModelResponse
    span_id: str
    usage: Usage | None
    #: (verdict, error) once the next request (or the run's end) says; None for a tool step.
    verdict: tuple[str, str] | None = None
    judged: bool = False


class _SessionCapability(AbstractCapability[Any]):
    """One run's session: opened around the run, an attempt around each model request."""

    def __init__(self, config: _Config, allowed: int) -> None:
        self.config = config
        self.allowed = allowed
        self.session: IterateSession | None = None
        self.answers: list[_Answer] = []

    async def wrap_run(self, ctx: Any, *, handler: Any) -> Any:
        session = self._open(ctx)
        if session is None:
            return await handler()
        try:
            result = await handler()
        except BaseException as exc:
            self._finish(session, None, exc)
            await self._send(session)
            raise
        self._finish(session, result, None)
        await self._send(session)
        return result

    async def wrap_model_request(self, ctx: Any, *, request_context: Any, handler: Any) -> Any:
        session = self.session
        if session is None:
            return await handler(request_context)
        self._judge_previous(request_context)
        usage = Usage()
        with session.attempt(len(self.answers) + 1, usage) as span_id:
            response = await handler(request_context)
            answer = _Answer(response, span_id, _usage(response, usage))
        self.answers.append(answer)
        return response

    def _open(self, ctx: Any) -> IterateSession | None:
        try:
            config = self.config
            model = getattr(ctx, "model", None)
            request = IterateRequest(
                kind=config.kind,
                model=str(getattr(model, "model_name", "") or ""),
                provider=config.provider or str(getattr(model, "system", "") or ""),
                prompt=_prompt(getattr(ctx, "prompt", None)),
                max_iterations=config.max_iterations or self.allowed,
            )
            # The agent's class: an Agent (a dataclass) is not hashable, and Django keys its cache by sender.
            session = iterate_session(
                request, sender=type(ctx.agent) if getattr(ctx, "agent", None) is not None else Agent
            )
            session.__enter__()
        except Exception:
            recording.adapter_failed("could not start logging a pydantic-ai run", raise_errors=False)
            return None
        self.session = session
        return session

    def _judge_previous(self, request_context: Any) -> None:
        """The request after an answer says what became of it: a retry prompt rejects it."""
        try:
            if not self.answers or self.answers[-1].judged:
                return
            messages = getattr(request_context, "messages", None) or []
            last = messages[-1] if messages else None
            answer = self.answers[-1]
            answer.judged = True
            if isinstance(last, ModelRequest):
                answer.verdict = verdict_of_parts(last.parts)
        except Exception:
            recording.adapter_failed("could not read a pydantic-ai retry prompt", raise_errors=False)

    def _finish(self, session: IterateSession, result: Any, exc: BaseException | None) -> None:
        try:
            self._outcome(session, result, exc)
        except Exception:
            recording.adapter_failed("could not log a pydantic-ai run", raise_errors=False)
            session.fail("django_sessionlog could not read the pydantic-ai run's outcome")

    def _outcome(self, session: IterateSession, result: Any, exc: BaseException | None) -> None:
        last = self.answers[-1] if self.answers else None
        total = _total(self.answers)
        if exc is None:
            if last is not None and not last.judged:
                last.judged, last.verdict = True, (recording.ACCEPTED, "")
            history = self._history()
            artifact = recording.artifact_of(getattr(result, "output", result), "pydantic-ai")
            session.accept(IterateResponse(session.trace_id, len(history), history, artifact, usage=total))
            return
        cause = exc.__cause__
        if (
            isinstance(exc, UnexpectedModelBehavior)
            and isinstance(cause, (ValidationError, ToolRetryError, ModelRetry))
            and last is not None
            and not last.judged
        ):
            # The retries ran out: the last answer was rejected like the others.
            last.judged, last.verdict = True, verdict_of_error(cause)
            history = self._history()
            session.exhaust(IterateFailure(session.trace_id, len(history), history, usage=total))
            return
        session.fail(recording.error_text(exc))

    def _history(self) -> list[IterateAttempt]:
        history: list[IterateAttempt] = []
        for answer in self.answers:
            if answer.verdict is None:
                continue  # a tool step: the answer called tools that ran; its tokens count in the total
            kind, error = answer.verdict
            history.append(
                IterateAttempt(len(history) + 1, AttemptStatus(kind, error), answer.span_id, answer.usage)
            )
        return history

    async def _send(self, session: IterateSession) -> None:
        try:
            await session.__aexit__(None, None, None)
        except Exception:
            recording.adapter_failed("could not log a pydantic-ai run")


def verdict_of_parts(parts: Sequence[Any]) -> tuple[str, str] | None:
    """The verdict the retry prompts of a request give the answer before it; None when there are none."""
    verdicts = [verdict_of_retry(part) for part in parts if isinstance(part, RetryPromptPart)]
    if not verdicts:
        return None
    kind = (
        recording.NO_JSON if all(k == recording.NO_JSON for k, _ in verdicts) else recording.VALIDATION_FAILED
    )
    return kind, "; ".join(error for _, error in verdicts if error)


def verdict_of_retry(part: RetryPromptPart) -> tuple[str, str]:
    """``no_json`` when there was no output to parse (not JSON at all, no tool call), else ``validation_failed``."""
    return verdict_of_content(part.content)


def verdict_of_content(content: object) -> tuple[str, str]:
    """A retry prompt's content: pydantic-ai's own text or a ``ModelRetry`` message, or pydantic's error details."""
    if isinstance(content, str):
        return (recording.NO_JSON if _NO_OUTPUT.match(content) else recording.VALIDATION_FAILED), content
    errors = (
        [item for item in content if isinstance(item, dict)] if isinstance(content, (list, tuple)) else []
    )
    kind = (
        recording.NO_JSON
        if errors and all(item.get("type") == "json_invalid" for item in errors)
        else recording.VALIDATION_FAILED
    )
    return kind, details_text(errors)


def verdict_of_error(error: BaseException) -> tuple[str, str]:
    """The last answer's verdict from what ended the run (retries exhausted)."""
    if isinstance(error, ToolRetryError):
        return verdict_of_retry(error.tool_retry)
    if isinstance(error, ValidationError):
        return verdict_of_content(error.errors(include_url=False, include_context=False))
    return recording.VALIDATION_FAILED, str(error)


def details_text(errors: Sequence[dict[str, Any]]) -> str:
    """pydantic's error details as the validator wrote them: ``loc: message``, joined by ``; ``."""
    parts = []
    for item in errors:
        message = str(item.get("msg", ""))
        prefix = _RAISED_PREFIXES.get(str(item.get("type")))
        if prefix and message.startswith(prefix):
            message = message[len(prefix) :]
        location = ".".join(str(part) for part in item.get("loc", ()))
        parts.append(f"{location}: {message}" if location else message)
    return "; ".join(parts)


def _prompt(prompt: object) -> str:
    if prompt is None:
        return ""
    text = recording.message_text(prompt)
    if text is None:
        logger.warning(
            "django_sessionlog: could not read the pydantic-ai run's prompt; the row is written without it"
        )
        return ""
    return text


def _usage(response: ModelResponse, into: Usage) -> Usage | None:
    counts = getattr(response, "usage", None)
    if counts is None:
        return None
    found = recording.usage_of(
        getattr(counts, "input_tokens", None),
        getattr(counts, "output_tokens", None),
        getattr(counts, "cache_read_tokens", 0),
        getattr(counts, "cache_write_tokens", 0),
        getattr(counts, "output_reasoning_tokens", 0),
        source="the pydantic-ai answer",
    )
    if found is None:
        return None
    for field in dataclasses.fields(Usage):
        setattr(into, field.name, getattr(found, field.name))
    return into


def _total(answers: Sequence[_Answer]) -> Usage | None:
    total: Usage | None = None
    for answer in answers:
        if answer.usage is not None:
            total = dataclasses.replace(answer.usage) if total is None else total + answer.usage
    return total
