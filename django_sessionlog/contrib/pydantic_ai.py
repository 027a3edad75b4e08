"""pydantic-ai runs logged as sessions: ``with logged_run(kind="fill"): agent.run_sync(...)``.

pydantic-ai retries by itself (output validation errors, ``ModelRetry``);
this module wraps each run started inside the block (``run``, ``run_sync``,
``iter``, ``run_stream``: all go through ``Agent.iter``), reads the
attempts from the run's messages when it ends (a retry prompt about the
output after an answer is that answer's verdict; a function tool's is not)
and sends one row per run through ``iterate_finished``. With ``OTEL_SPANS`` a small capability puts each
model request in an attempt span. The run's own requests, result and
exceptions are left alone; outside a block runs are untouched. Only this
module imports pydantic-ai (the ``pydantic-ai`` extra).
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import re
from collections.abc import AsyncIterator, Callable, Container, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from contextvars import ContextVar
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

from ..conf import conf
from ..locks import ForkSafeLock
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
#: What pydantic-ai raises when a tool (not the output) used up its own retries.
_TOOL_RAN_OUT = re.compile(r"Tool (['\"])(?P<name>.+?)\1 exceeded max retries count")
#: pydantic's prefixes before the text a validator raised with.
_RAISED_PREFIXES = {"value_error": "Value error, ", "assertion_error": "Assertion failed, "}


@dataclasses.dataclass(frozen=True, slots=True)
class _Config:
    kind: str
    provider: str
    max_iterations: int | None
    #: Entered with ``async with``: the row is sent with ``asend``, off the event loop.
    asynchronous: bool = False


#: The blocks entered in this context, innermost last. A tuple set anew on each
#: enter and exit (never a token reset), so one ``logged_run`` shared by tasks
#: and threads works: each task and thread has its own copy of the variable.
_active: ContextVar[tuple[_Config, ...]] = ContextVar("django_sessionlog_logged_run", default=())
_install_lock = ForkSafeLock()
#: The error of a run left before it produced a result (``iter`` not run to its end).
NO_RESULT = "the pydantic-ai run ended without a result"
_PATCHED = "_django_sessionlog_patched"


class logged_run:  # noqa: N801 (used as a function: `with logged_run(kind=...)`)
    """Make each pydantic-ai run inside the block one session (``with`` and ``async with``).

    ``provider`` defaults to the provider that answered (``openai`` for an
    OpenAI model); ``max_iterations`` to the run's output retries + 1 (the
    answers pydantic-ai allows), as pydantic-ai settles them: an
    ``agent.override(retries=)``, else the run's ``retries=`` or ``spec=``,
    else the agent's. Blocks nest: the innermost one names the kind. In async code use
    ``async with``: its rows are sent with ``asend``, so the file is never
    written on the event loop (``with`` sends them where the run ends, which
    for ``run_sync`` is pydantic-ai's own loop).
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
        self._async_config = dataclasses.replace(self._config, asynchronous=True)

    def __enter__(self) -> logged_run:
        _install()
        _active.set((*_active.get(), self._config))
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        _leave(self._config)

    async def __aenter__(self) -> logged_run:
        _install()
        _active.set((*_active.get(), self._async_config))
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        _leave(self._async_config)


def _leave(config: _Config) -> None:
    """Take the innermost entry of this block out of this context's blocks.

    The instance holds no state of its own, so tasks and threads sharing one
    ``logged_run`` each leave only what they entered. A block left in another
    context than it was entered in (nothing of its own there) is a no-op.
    """
    blocks = _active.get()
    for index in range(len(blocks) - 1, -1, -1):
        if blocks[index] is config:
            _active.set(blocks[:index] + blocks[index + 1 :])
            return


def _install() -> None:
    """Wrap ``Agent.iter`` once; outside a block the wrapper only reads a context variable."""
    with _install_lock:
        if getattr(Agent.iter, _PATCHED, False):
            return
        original: Callable[..., Any] = Agent.iter

        @functools.wraps(original)
        def iter(self: Agent[Any, Any], *args: Any, **kwargs: Any) -> Any:
            blocks = _active.get()
            if not blocks:
                return original(self, *args, **kwargs)
            config = blocks[-1]
            try:
                run = _Run(config, self, args, kwargs)
                if conf.OTEL_SPANS:
                    kwargs["capabilities"] = [*(kwargs.get("capabilities") or ()), _AttemptSpans(run)]
            except Exception:
                recording.adapter_failed("could not start logging a pydantic-ai run", raise_errors=False)
                return original(self, *args, **kwargs)
            return run.around(original(self, *args, **kwargs))

        setattr(iter, _PATCHED, True)
        Agent.iter = iter  # type: ignore[method-assign]


def _allowed_answers(agent: Agent[Any, Any], kwargs: dict[str, Any]) -> int:
    """Output retries + 1 before the run starts: ``agent.override(retries=)``, else the run's, else the agent's.

    pydantic-ai's own precedence; the run's ``spec=`` is left to
    ``_run_allowed_answers``, which reads what the run settled on once it is
    open. This guess names the session's span and a run that never opened.
    """
    retries = _overridden_output_retries(agent)
    if retries is None:
        retries = kwargs.get("retries")
        if isinstance(retries, dict):
            retries = retries.get("output")
    if retries is None:
        retries = getattr(agent, "_max_output_retries", None)
    return _answers(retries)


def _overridden_output_retries(agent: Agent[Any, Any]) -> object:
    """The output retries of an ``agent.override(retries=...)`` around the run, else None.

    pydantic-ai keeps them in a private context variable holding ``Some(n)``
    (no public reader); anything else there is read as no override.
    """
    override = getattr(agent, "_override_output_retries", None)
    if not isinstance(override, ContextVar):
        return None
    return getattr(override.get(None), "value", None)


def _run_allowed_answers(agent_run: Any) -> int:
    """Output retries + 1 as the open run has them (override > run > spec > agent); 0 when unreadable."""
    try:
        retries = agent_run.ctx.deps.max_output_retries
    except Exception:
        return 0
    return _answers(retries)


def _answers(retries: object) -> int:
    if isinstance(retries, bool) or not isinstance(retries, int):
        return 0
    return max(retries, 0) + 1


class _Run:
    """One run: its session, opened around ``Agent.iter``, and its attempts read from its messages at the end."""

    def __init__(
        self, config: _Config, agent: Agent[Any, Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        self.config = config
        self.agent = agent
        self.prompt = args[0] if args else kwargs.get("user_prompt")
        self.model = kwargs.get("model") or getattr(agent, "model", None)
        self.allowed = config.max_iterations or _allowed_answers(agent, kwargs)
        self.session: IterateSession | None = None
        #: The attempt spans' ids, one per model request, in order (with OTEL_SPANS).
        self.span_ids: list[str] = []

    @asynccontextmanager
    async def around(self, run: AbstractAsyncContextManager[Any]) -> AsyncIterator[Any]:
        session = self._open()
        if session is None:
            async with run as agent_run:
                yield agent_run
            return
        agent_run = None
        try:
            async with run as agent_run:
                self._opened(session, agent_run)
                yield agent_run
        except BaseException as exc:
            self._finish(session, agent_run, exc)
            await self._send(session)
            raise
        self._finish(session, agent_run, None)
        await self._send(session)

    def _open(self) -> IterateSession | None:
        try:
            config = self.config
            model = self.model
            request = IterateRequest(
                kind=config.kind,
                model=_model_name(model),
                provider=config.provider or str(getattr(model, "system", "") or ""),
                prompt=_prompt(self.prompt),
                max_iterations=self.allowed,
            )
            # The agent's class: an Agent (a dataclass) is not hashable, and Django keys its cache by sender.
            session = iterate_session(request, sender=type(self.agent))
            session.__enter__()
        except Exception:
            recording.adapter_failed("could not start logging a pydantic-ai run", raise_errors=False)
            return None
        self.session = session
        return session

    def _opened(self, session: IterateSession, agent_run: Any) -> None:
        """Take what the open run settled on: its output retries (the guess misses a run's ``spec=``) and its model.

        The model matters on a row no answer names (an ``infra_error``): an
        ``agent.override(model=...)`` is the one asked, not the agent's own.
        """
        allowed = 0 if self.config.max_iterations is not None else _run_allowed_answers(agent_run)
        if allowed:
            session.request.max_iterations = allowed
        try:
            model = agent_run.ctx.deps.model
        except Exception:
            return
        name = _model_name(model)
        if name:
            session.request.model = name
            system = getattr(model, "system", None)
            if not self.config.provider and isinstance(system, str) and system:
                session.request.provider = system

    def _finish(self, session: IterateSession, agent_run: Any, exc: BaseException | None) -> None:
        try:
            messages = [] if agent_run is None else list(agent_run.new_messages())
            self._outcome(session, agent_run, messages, exc)
        except Exception:
            recording.adapter_failed("could not log a pydantic-ai run", raise_errors=False)
            session.fail("django_sessionlog could not read the pydantic-ai run's outcome")

    def _outcome(
        self, session: IterateSession, agent_run: Any, messages: list[Any], exc: BaseException | None
    ) -> None:
        answers = [
            (index, message) for index, message in enumerate(messages) if isinstance(message, ModelResponse)
        ]
        if answers:
            last = answers[-1][1]
            request = session.request
            request.model = request.model if not getattr(last, "model_name", None) else str(last.model_name)
            if not self.config.provider and getattr(last, "provider_name", None):
                request.provider = str(last.provider_name)
        history: list[IterateAttempt] = []
        total: Usage | None = None
        ending: tuple[str, str] | None = None
        exhausted = False
        output_tools = _output_tool_names(agent_run)
        if exc is None and getattr(agent_run, "result", None) is not None:
            ending = (recording.ACCEPTED, "")
        elif (
            isinstance(exc, UnexpectedModelBehavior)
            and isinstance(exc.__cause__, (ValidationError, ToolRetryError, ModelRetry))
            and not _a_tool_ran_out(exc, output_tools)
        ):
            # The output retries ran out: the last answer was rejected like the others.
            ending, exhausted = verdict_of_error(exc.__cause__), True
        for number, (index, answer) in enumerate(answers):
            usage = _usage(answer)
            if usage is not None:
                total = usage if total is None else total + usage
            following = messages[index + 1] if index + 1 < len(messages) else None
            verdict = (
                verdict_of_parts(following.parts, output_tools)
                if isinstance(following, ModelRequest)
                else None
            )
            if number == len(answers) - 1 and ending is not None:
                verdict = ending
            if verdict is None:
                continue  # a tool step: the answer called tools that ran; its tokens count in the total
            span_id = self.span_ids[number] if number < len(self.span_ids) else ""
            history.append(IterateAttempt(len(history) + 1, AttemptStatus(*verdict), span_id, usage))
        result = getattr(agent_run, "result", None)
        if exc is None and result is None:
            # An ``iter`` left before the end: no outcome to log as accepted.
            session.fail(NO_RESULT)
        elif exc is None:
            artifact = recording.artifact_of(getattr(result, "output", result), "pydantic-ai")
            session.accept(IterateResponse(session.trace_id, len(history), history, artifact, usage=total))
        elif exhausted and answers:
            session.exhaust(IterateFailure(session.trace_id, len(history), history, usage=total))
        else:
            session.fail(recording.error_text(exc))

    async def _send(self, session: IterateSession) -> None:
        try:
            if self.config.asynchronous:
                await session.__aexit__(None, None, None)
            else:
                session.__exit__(None, None, None)
        except Exception:
            recording.adapter_failed("could not log a pydantic-ai run")


class _AttemptSpans(AbstractCapability[Any]):
    """With ``OTEL_SPANS``: each model request in an ``attempt`` span, a child of the session's."""

    def __init__(self, run: _Run) -> None:
        self.run = run

    async def wrap_model_request(self, ctx: Any, *, request_context: Any, handler: Any) -> Any:
        session = self.run.session
        if session is None:
            return await handler(request_context)
        usage = Usage()
        with session.attempt(len(self.run.span_ids) + 1, usage) as span_id:
            self.run.span_ids.append(span_id)
            response = await handler(request_context)
            found = _usage(response)
            if found is not None:
                for field in dataclasses.fields(Usage):
                    setattr(usage, field.name, getattr(found, field.name))
        return response


def verdict_of_parts(
    parts: Sequence[Any], output_tools: Container[str] | None = None
) -> tuple[str, str] | None:
    """The verdict the retry prompts about the output give the answer before them; None when there are none.

    A retry prompt is about the output when it names no tool (text output,
    an output validator, "Please include your response in a tool call.") or
    one of ``output_tools``; one naming a function tool is that tool's (its
    own retries, not the output's), so an answer that only called tools is
    no attempt. With ``output_tools`` None (unknown) every retry prompt counts.
    """
    verdicts = [verdict_of_retry(part) for part in parts if _about_the_output(part, output_tools)]
    if not verdicts:
        return None
    kind = (
        recording.NO_JSON if all(k == recording.NO_JSON for k, _ in verdicts) else recording.VALIDATION_FAILED
    )
    return kind, "; ".join(error for _, error in verdicts if error)


def _about_the_output(part: object, output_tools: Container[str] | None) -> bool:
    if not isinstance(part, RetryPromptPart):
        return False
    return part.tool_name is None or output_tools is None or part.tool_name in output_tools


def _output_tool_names(agent_run: Any) -> frozenset[str] | None:
    """The names of the run's output tools (none for text output); None when they cannot be read.

    pydantic-ai's messages do not say which tool is an output tool: the
    run's output schema does (its toolset's ``processors`` are keyed by name).
    """
    try:
        toolset = agent_run.ctx.deps.output_schema.toolset
    except Exception:
        return None
    if toolset is None:
        return frozenset()
    processors = getattr(toolset, "processors", None)
    return frozenset(processors) if isinstance(processors, dict) else None


def _a_tool_ran_out(exc: BaseException, output_tools: Container[str] | None) -> bool:
    """Whether the run ended because a function tool used up its own retries, not the output's.

    pydantic-ai says "Exceeded maximum output retries" when the output's ran
    out (output tools' too) and "Tool 'name' exceeded max retries count" when
    a tool's did: that is no rejected answer, so it is an ``infra_error``.
    """
    found = _TOOL_RAN_OUT.match(str(exc))
    return found is not None and found["name"] not in (output_tools or ())


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


def _model_name(model: object) -> str:
    """The model's name: a ``Model``'s ``model_name`` whole, a ``"provider:model"`` string without its provider.

    Only the agent's model string carries a provider prefix; a name such as
    Ollama's ``qwen2.5-coder:14b`` has its own ``:`` and is kept as it is.
    """
    if isinstance(model, str):
        return model.split(":", 1)[-1]
    name = getattr(model, "model_name", None)
    return str(name) if name else ""


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


def _usage(response: ModelResponse) -> Usage | None:
    counts = getattr(response, "usage", None)
    if counts is None:
        return None
    return recording.usage_of(
        getattr(counts, "input_tokens", None),
        getattr(counts, "output_tokens", None),
        getattr(counts, "cache_read_tokens", 0),
        getattr(counts, "cache_write_tokens", 0),
        getattr(counts, "output_reasoning_tokens", 0),
        source="the pydantic-ai answer",
    )
