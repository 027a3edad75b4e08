"""The inputs of an iterate session and the row built from them.

Pure data and one pure function: no settings, no files, no Django. This is
the part the golden files test, so it mirrors the reference
(``session_log.go``) branch for branch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ..row import ACCEPTED, ERROR_LIMIT, INFRA_ERROR, MAX_ITER_EXHAUSTED, PROMPT_LIMIT, counts_problem, trim

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


@dataclass(slots=True)
class AttemptStatus:
    kind: str
    error: str = ""


@dataclass(slots=True)
class IterateAttempt:
    iteration: int
    status: AttemptStatus
    span_id: str = ""
    usage: Usage | None = None


@dataclass(slots=True)
class IterateRequest:
    trace_id: str = ""
    kind: str = ""
    model: str = ""
    provider: str = ""
    prompt: str = ""
    max_iterations: int = 0


@dataclass(slots=True)
class IterateResponse:
    trace_id: str = ""
    iterations: int = 0
    history: Sequence[IterateAttempt] = field(default_factory=list)
    artifact: dict[str, Any] | None = None
    usage: Usage | None = None  # the session's total, when the host knows it


@dataclass(slots=True)
class IterateFailure:
    trace_id: str = ""
    iterations: int = 0
    history: Sequence[IterateAttempt] = field(default_factory=list)
    usage: Usage | None = None  # the session's total, when the host knows it


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
    # The prompt is trimmed first, as before: a prompt that is not text
    # fails the build before the host's roster check is asked anything.
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
                    error=trim(str(infra_error), ERROR_LIMIT),
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
