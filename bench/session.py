"""Microseconds per ``iterate_session``, with ``OTEL_SPANS`` off and on.

    python bench/session.py [--sessions 20000] [--repeat 5]

Each session is a block that accepts at once, inside ``capture_sessions()``
(the receiver builds the row and keeps it in memory: no disk), so what is
measured is the session's own cost: the timer, the signal, the receiver,
and the spans. The cases:

- ``OTEL_SPANS`` off (as without OpenTelemetry), in each phase;
- on, with ``opentelemetry-api`` installed and no SDK configured (the no-op
  tracer a host gets when it installed the API but sends spans nowhere);
- on, with the SDK's ``TracerProvider`` exporting to memory through the
  simple (synchronous) processor: the real cost of one span per session;
- the same, with one span per attempt too (``session.attempt``);
- off, with no trace id given and a host's server span current: the cost
  of taking the active span's trace id.

The no-op cases run before the SDK is configured (a process sets its global
provider once), so there are two phases, each with its own off case; each
phase interleaves its cases (drift hits all alike), best of --repeat runs,
and prints them against its off case. Needs ``pip install -e '.[otel]'
opentelemetry-sdk``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import django
from django.conf import settings
from django.test import override_settings
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from django_sessionlog import AttemptStatus, IterateAttempt, IterateRequest, IterateResponse, iterate_session
from django_sessionlog.testing import capture_sessions

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
HISTORY = [IterateAttempt(1, AttemptStatus("accepted"))]
ARTIFACT = {"shift": "sat-night", "workers": ["W-1001", "W-1017"]}


def request(trace_id: str = TRACE_ID) -> IterateRequest:
    return IterateRequest(
        trace_id=trace_id,
        kind="fill",
        model="qwen2.5",
        provider="ollama",
        prompt="Fill the Saturday night shift",
        max_iterations=3,
    )


def plain(sessions: int, trace_id: str = TRACE_ID) -> None:
    given = request(trace_id)
    for _ in range(sessions):
        with iterate_session(given) as session:
            session.accept(IterateResponse("", 1, HISTORY, ARTIFACT))


def with_attempt(sessions: int) -> None:
    given = request()
    for _ in range(sessions):
        with iterate_session(given) as session:
            with session.attempt(1) as span_id:
                history = [IterateAttempt(1, AttemptStatus("accepted"), span_id)]
            session.accept(IterateResponse("", 1, history, ARTIFACT))


def inside_host_span(sessions: int) -> None:
    with trace.get_tracer("host").start_as_current_span("POST /v1/iterate"):
        plain(sessions, trace_id="")


@contextmanager
def spans(on: bool) -> Iterator[None]:
    with override_settings(SESSIONLOG={"PATH": "", "OTEL_SPANS": on}):
        yield


Case = tuple[str, Callable[[int], None], Callable[[], AbstractContextManager[None]]]


def timed(
    sessions: int, run: Callable[[int], None], setting: Callable[[], AbstractContextManager[None]]
) -> float:
    with setting(), capture_sessions() as rows:
        start = time.perf_counter()
        run(sessions)
        elapsed = time.perf_counter() - start
    assert len(rows) == sessions
    return elapsed / sessions * 1e6


def best_of(repeat: int, sessions: int, cases: list[Case], best: dict[str, float]) -> None:
    for _ in range(repeat):
        for name, run, setting in cases:  # interleaved, so drift hits all alike
            us = timed(sessions, run, setting)
            best[name] = min(best.get(name, us), us)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sessions", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    settings.configure(INSTALLED_APPS=["django_sessionlog"], SESSIONLOG={"PATH": ""})
    django.setup()  # connects the receiver, as in a host
    print(
        f"{args.sessions} sessions a run, best of {args.repeat} runs, Python {sys.version.split()[0]}, "
        f"Django {django.__version__}"
    )
    phases: list[tuple[str, dict[str, float]]] = []
    no_sdk: dict[str, float] = {}
    best_of(
        args.repeat,
        args.sessions,
        [
            ("OTEL_SPANS off", plain, lambda: spans(False)),
            ("on, API without an SDK (no-op tracer)", plain, lambda: spans(True)),
        ],
        no_sdk,
    )
    phases.append(("opentelemetry-api installed, no SDK configured", no_sdk))

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)

    @contextmanager
    def sdk(on: bool) -> Iterator[None]:
        exporter.clear()  # the exporter keeps every span: start each run empty
        with spans(on):
            yield

    with_sdk: dict[str, float] = {}
    best_of(
        args.repeat,
        args.sessions,
        [
            ("OTEL_SPANS off", plain, lambda: sdk(False)),
            ("on (a span per session)", plain, lambda: sdk(True)),
            ("on, and a span per attempt", with_attempt, lambda: sdk(True)),
            ("off, no trace id, a host span current", inside_host_span, lambda: sdk(False)),
        ],
        with_sdk,
    )
    provider.shutdown()
    phases.append(("the SDK's TracerProvider, in-memory exporter, simple processor", with_sdk))
    # Each phase against its own first case, measured interleaved with it.
    for title, best in phases:
        print(f"\n{title}:")
        base = next(iter(best.values()))
        for name, us in best.items():
            print(f"  {name:<40} {us:7.2f} us/session  {us / base:5.2f}x off  {us - base:+7.2f} us")


if __name__ == "__main__":
    main()
