"""The inputs of an iterate session and the row built from them.

Pure data and one pure function: no settings, no files, no Django. This is
the part the golden files test, so it mirrors the reference
(``session_log.go``) branch for branch.

The inputs a host makes (``IterateRequest``, ``IterateResponse``,
``IterateFailure``, ``IterateAttempt``, ``AttemptStatus``) check their
values when they are made (``coercion``): an odd value becomes one the row
can hold, with a warning, so it costs neither the row nor a reader's
trust in it, and building and writing the row (per session, inside the
request) test nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ..row import (
    ACCEPTED,
    ERROR_LIMIT,
    INFRA_ERROR,
    MAX_ITER_EXHAUSTED,
    PROMPT_LIMIT,
    USAGE_KEY_NAMES,
    VALIDATION_FAILED,
    VERDICT_KINDS,
    counts_problem,
    trim,
)
from . import coercion

#: A roster check gets the accepted artifact and answers whether every id in
#: it is on the roster; ``None`` means "no answer" and leaves the key out.
RosterCheck = Callable[[dict[str, Any] | None], bool | None]


@dataclass(slots=True)
class Usage:
    """The tokens of one answer, or of a whole session, as the provider counted them.

    The two totals hold their parts: ``input_tokens`` counts cached tokens
    too (read and written), ``output_tokens`` reasoning tokens too, as
    OpenTelemetry's ``gen_ai.usage.*`` attributes do. Mutable, so a host can
    fill one inside ``session.attempt(usage=...)`` once the answer is in.
    """

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cache_read_tokens + other.cache_read_tokens,
            self.cache_write_tokens + other.cache_write_tokens,
            self.reasoning_tokens + other.reasoning_tokens,
        )


def usage_given(value: object, field: str) -> Usage | None:
    """A host's usage as a ``Usage``: a mapping of its names, or an object with its two totals.

    Anything else (OpenAI's ``CompletionUsage``, with ``prompt_tokens``, a
    number) is left out with a warning rather than written as zero tokens.
    Its counts are checked when the row is written (a ``Usage`` may be
    filled in after it is given).
    """
    if value is None or type(value) is Usage:
        return value
    if isinstance(value, Usage):
        return replace(value)
    try:
        if isinstance(value, Mapping):
            if "input_tokens" in value or "output_tokens" in value:
                return Usage(*(value.get(name, 0) for name in USAGE_KEY_NAMES))
        elif hasattr(value, "input_tokens") or hasattr(value, "output_tokens"):
            return Usage(*(getattr(value, name, 0) for name in USAGE_KEY_NAMES))
    except Exception:  # a host object whose attributes raise: no usage, never the host's exception
        pass
    coercion.say_once(field, value, "left out (give a django_sessionlog.Usage)")
    return None


@dataclass(slots=True)
class AttemptStatus:
    kind: str
    error: str = ""

    def __post_init__(self) -> None:
        if self.kind not in VERDICT_KINDS:
            kind = coercion.text(self.kind, "AttemptStatus.kind")
            if kind not in VERDICT_KINDS:
                coercion.say_once(
                    "AttemptStatus.kind",
                    self.kind,
                    f"written as {VALIDATION_FAILED} (kinds: {', '.join(VERDICT_KINDS)})",
                )
                kind = VALIDATION_FAILED
            self.kind = kind
        self.error = coercion.text(self.error, "AttemptStatus.error")


@dataclass(slots=True)
class IterateAttempt:
    iteration: int
    status: AttemptStatus
    span_id: str = ""
    usage: Usage | None = None

    def __post_init__(self) -> None:
        self.iteration = coercion.count(self.iteration, "IterateAttempt.iteration")
        if type(self.status) is not AttemptStatus:
            status: Any = self.status
            if isinstance(status, AttemptStatus):
                self.status = AttemptStatus(status.kind, status.error)
            elif isinstance(status, (str, bytes)):  # a bare kind ("no_json") is its status
                self.status = AttemptStatus(coercion.text(status, "IterateAttempt.status"))
            else:
                coercion.say_once(
                    "IterateAttempt.status", status, f"written as {VALIDATION_FAILED} (give an AttemptStatus)"
                )
                self.status = AttemptStatus(VALIDATION_FAILED)
        self.span_id = coercion.text(self.span_id, "IterateAttempt.span_id")
        if self.usage is not None and type(self.usage) is not Usage:
            self.usage = usage_given(self.usage, "IterateAttempt.usage")


@dataclass(slots=True)
class IterateRequest:
    trace_id: str = ""
    kind: str = ""
    model: str = ""
    provider: str = ""
    prompt: str = ""
    max_iterations: int = 0

    def __post_init__(self) -> None:
        self.trace_id = coercion.text(self.trace_id, "IterateRequest.trace_id")
        self.kind = coercion.text(self.kind, "IterateRequest.kind")
        self.model = coercion.text(self.model, "IterateRequest.model")
        self.provider = coercion.text(self.provider, "IterateRequest.provider")
        self.prompt = coercion.text(self.prompt, "IterateRequest.prompt")
        self.max_iterations = coercion.count(self.max_iterations, "IterateRequest.max_iterations")


def _history(history: object, field: str) -> list[IterateAttempt] | Sequence[IterateAttempt]:
    """The attempts, without what is not an attempt (said once); ``None`` is no attempts."""
    if history is None:
        return []
    if not isinstance(history, (list, tuple)):
        if isinstance(history, (str, bytes, Mapping)) or not hasattr(history, "__iter__"):
            coercion.say_once(field, history, "taken as no attempts (give a list of IterateAttempt)")
            return []
        history = list(history)  # a generator is read once
    if all(type(attempt) is IterateAttempt for attempt in history):
        return history
    kept = []
    for attempt in history:
        if isinstance(attempt, IterateAttempt):
            kept.append(attempt)
        else:
            coercion.say_once(field, attempt, "an item left out (not an IterateAttempt)")
    return kept


@dataclass(slots=True)
class IterateResponse:
    trace_id: str = ""
    iterations: int = 0
    history: Sequence[IterateAttempt] = field(default_factory=list)
    artifact: dict[str, Any] | None = None
    usage: Usage | None = None  # the session's total, when the host knows it

    def __post_init__(self) -> None:
        self.trace_id = coercion.text(self.trace_id, "IterateResponse.trace_id")
        self.iterations = coercion.count(self.iterations, "IterateResponse.iterations")
        self.history = _history(self.history, "IterateResponse.history")
        if self.artifact is not None and type(self.artifact) is not dict:
            self.artifact = coercion.artifact(self.artifact, "IterateResponse.artifact")
        if self.usage is not None and type(self.usage) is not Usage:
            self.usage = usage_given(self.usage, "IterateResponse.usage")


@dataclass(slots=True)
class IterateFailure:
    trace_id: str = ""
    iterations: int = 0
    history: Sequence[IterateAttempt] = field(default_factory=list)
    usage: Usage | None = None  # the session's total, when the host knows it

    def __post_init__(self) -> None:
        self.trace_id = coercion.text(self.trace_id, "IterateFailure.trace_id")
        self.iterations = coercion.count(self.iterations, "IterateFailure.iterations")
        self.history = _history(self.history, "IterateFailure.history")
        if self.usage is not None and type(self.usage) is not Usage:
            self.usage = usage_given(self.usage, "IterateFailure.usage")


@dataclass(slots=True)
class SessionAttemptRecord:
    """One attempt of the row: only the stable signals.

    The raw model output is deliberately not kept (as in the reference): it
    lives in the tracing tool under ``span_id``, and a second copy would let
    the log grow without bound on long sessions.
    """

    iteration: int
    verdict_kind: str
    error: str = ""
    span_id: str = ""
    usage: Usage | None = None


@dataclass(slots=True)
class SessionRecord:
    """One ``session.iterate.v1`` row, its fields named as the row's keys (``row.KEYS``, in that order).

    ``schema``, ``timestamp`` and ``daemon`` stay empty here; the sink fills
    them when it writes, so a record built ahead of time gets the time it
    was written. ``sample_rate`` is set by the receiver only when sampling
    kept the row at a rate below 1.
    """

    schema: str = ""
    session_id: str = ""
    timestamp: str = ""
    daemon: str = ""
    kind: str = ""
    model: str = ""
    provider: str = ""
    prompt: str = ""
    iterations: int = 0
    max_iterations: int = 0
    final_verdict: str = ""
    attempts: list[SessionAttemptRecord] | None = None
    artifact: dict[str, Any] | None = None
    grounded_in_roster: bool | None = None
    duration_ms: int = 0
    usage: Usage | None = None
    sample_rate: float | None = None


def build_session_record(
    request: IterateRequest,
    response: IterateResponse | None = None,
    failure: IterateFailure | None = None,
    infra_error: object | None = None,
    roster_check: RosterCheck | None = None,
    duration_ms: int = 0,
) -> SessionRecord:
    """Shape the row of one finished session.

    A response wins over a failure, and either wins over an infrastructure
    error, exactly as in the reference, so every host (and the golden files)
    gets the same row for the same session.
    """
    # Most prompts fit, and then the call to ``trim`` is saved.
    prompt = request.prompt
    if len(prompt) > PROMPT_LIMIT:
        prompt = trim(prompt, PROMPT_LIMIT)
    session_id = request.trace_id
    iterations = 0
    attempts: list[SessionAttemptRecord] | None = None
    artifact: dict[str, Any] | None = None
    grounded: bool | None = None
    usage: Usage | None = None
    if response is not None:
        iterations = response.iterations
        verdict = ACCEPTED
        attempts, total = attempts_from_history(response.history)
        usage = response.usage if response.usage is not None else total
        artifact = response.artifact
        if roster_check is not None:
            answer = roster_check(artifact)
            grounded = None if answer is None else bool(answer)
        # The response carries the resolved trace id when the request came
        # without one; the row must still be findable in the tracing tool.
        if not session_id:
            session_id = response.trace_id
    elif failure is not None:
        iterations = failure.iterations
        verdict = MAX_ITER_EXHAUSTED
        attempts, total = attempts_from_history(failure.history)
        usage = failure.usage if failure.usage is not None else total
        if not session_id:
            session_id = failure.trace_id
    else:
        # The loop itself crashed (the provider is down, a bug): still one
        # row, so the failure shows up in the longitudinal view.
        verdict = INFRA_ERROR
        if infra_error is not None:
            attempts = [
                SessionAttemptRecord(
                    iteration=0,
                    verdict_kind=INFRA_ERROR,
                    error=trim(coercion.safe_str(infra_error), ERROR_LIMIT),
                )
            ]
    # One call with every field in order (``row.KEYS``): keywords, or
    # setting fields after a call with a few, cost a quarter of a
    # microsecond per row more than the dataclass's positional ``__init__``.
    return SessionRecord(
        "",  # schema, filled by the sink when it writes
        session_id,
        "",  # timestamp, likewise
        "",  # daemon, likewise
        request.kind,
        request.model,
        request.provider,
        prompt,
        iterations,
        request.max_iterations,
        verdict,
        attempts,
        artifact,
        grounded,
        duration_ms,
        usage,
        None,  # sample_rate, set by the receiver when sampling kept the row
    )


def attempts_from_history(
    history: Sequence[IterateAttempt] | None,
) -> tuple[list[SessionAttemptRecord], Usage | None]:
    """The row's attempts, and the sum of the usage they carry (``None`` when none does).

    A missing history is an empty one: the row says [] (no attempts were
    made), never null, which is reserved for an infra_error without error.
    An attempt whose counts are not valid (a host's bug: a float, a negative
    count) is left out of the sum, as the writer leaves it out of its row.
    Both in one loop: a second pass over the attempts was a tenth of a
    microsecond of every append.
    """
    attempts: list[SessionAttemptRecord] = []
    append = attempts.append
    total: Usage | None = None
    for a in history or ():
        usage = a.usage
        append(SessionAttemptRecord(a.iteration, a.status.kind, a.status.error, a.span_id, usage))
        if (
            usage is not None
            and isinstance(usage, Usage)
            and counts_problem(
                usage.input_tokens,
                usage.output_tokens,
                usage.cache_read_tokens,
                usage.cache_write_tokens,
                usage.reasoning_tokens,
            )
            is None
        ):
            total = usage if total is None else total + usage
    return attempts, None if total is None else replace(total)
