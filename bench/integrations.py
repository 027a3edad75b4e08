"""What logging costs an instructor call and a pydantic-ai run, against the bare library call.

    python bench/integrations.py [--calls 1000] [--repeat 3]

In one run, against the scripted OpenAI-compatible server of the tests on
127.0.0.1 (a child process that answers at once, so the round trip is as
short as it gets and the overhead's share as large as it can be; in a
thread of this process its threads would take the GIL whenever the logged
call writes its row, and the bench would measure that instead): the
same call, accepted at the first answer, bare and logged (``logged(client)``
/ ``with logged_run()``), the row written to a file as in production.

Two figures per library:

- paired: bare and logged calls alternate, and the overhead is the median
  of the per-pair differences (with a 95% percentile-bootstrap interval,
  Efron and Tibshirani 1993, ch. 13), so the machine's drift cancels out;
  the best of --repeat rounds is kept. On a busy machine the interval is
  wide: a few milliseconds of HTTP and parsing swamp tens of microseconds.
- alone: what the adapter runs around one call, timed without the network
  (instructor: the recording hooks fed the server's real answer, the session
  and its row; pydantic-ai: the ``Agent.iter`` wrapper over a finished run's
  messages, the session and its row). This is the overhead the target is
  about: under 5% of a 1 ms round trip, 50 us.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET_US = 50.0  # 5% of a 1 ms round trip


class Provider:
    base_url = ""


@contextmanager
def served() -> Iterator[Provider]:
    """The scripted server in a child process, as a provider is: its threads never take this process's GIL."""
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.scripted_openai"], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        provider = Provider()
        provider.base_url = child.stdout.readline().strip()
        yield provider
    finally:
        child.send_signal(signal.SIGINT)
        child.wait(timeout=10)


def setup(log: str) -> None:
    import django
    from django.conf import settings

    settings.configure(INSTALLED_APPS=["django_sessionlog"], SESSIONLOG={"PATH": log}, LOGGING_CONFIG=None)
    django.setup()


def paired(
    calls: int, bare: Callable[[], Any], logged: Callable[[], Any]
) -> tuple[float, float, list[float]]:
    """(median bare us, median logged us, the per-pair differences in us); the order alternates at random."""
    rng = random.Random(7)
    bare_times, logged_times, differences = [], [], []
    for _ in range(calls):
        pair = {}
        for name, run in sorted((("bare", bare), ("logged", logged)), key=lambda _: rng.random()):
            start = time.perf_counter_ns()
            run()
            pair[name] = (time.perf_counter_ns() - start) / 1000
        bare_times.append(pair["bare"])
        logged_times.append(pair["logged"])
        differences.append(pair["logged"] - pair["bare"])
    return statistics.median(bare_times), statistics.median(logged_times), differences


def bootstrap_median(values: list[float], resamples: int = 2000) -> tuple[float, float]:
    """The 95% percentile-bootstrap interval of the median."""
    rng = random.Random(11)
    medians = sorted(statistics.median(rng.choices(values, k=len(values))) for _ in range(resamples))
    return medians[int(0.025 * resamples)], medians[int(0.975 * resamples) - 1]


def alone_us(calls: int, run: Callable[[], Any]) -> float:
    """The best of five medians of ``run``'s microseconds."""
    found = float("inf")
    for _ in range(5):
        times = []
        for _ in range(calls):
            start = time.perf_counter_ns()
            run()
            times.append(time.perf_counter_ns() - start)
        found = min(found, statistics.median(times) / 1000)
    return found


def report(title: str, rounds: list[tuple[float, float, list[float]]], alone: float, row: float) -> None:
    bare, logged, differences = min(rounds, key=lambda r: statistics.median(r[2]))
    overhead = statistics.median(differences)
    low, high = bootstrap_median(differences)
    print(title)
    print(f"  bare call       {bare:8.1f} us (the round trip, median)")
    print(f"  logged call     {logged:8.1f} us")
    print(
        f"  paired overhead {overhead:8.1f} us a call (95% CI {low:.1f} to {high:.1f}) = {overhead / bare:5.1%} of this round trip"
    )
    verdict = "under" if alone < TARGET_US else "OVER"
    print(
        f"  adapter alone   {alone:8.1f} us a call = {alone / 1000:5.1%} of a 1 ms round trip ({verdict} the 5% target)"
    )
    print(
        f"    of which the row {row:6.1f} us (iterate_session, receiver, file: what a hand-written loop's row costs too);"
        f" the adapter's own part {alone - row:.1f} us"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        log = str(Path(folder, "sessions.jsonl"))
        setup(log)

        import instructor
        import openai
        from pydantic_ai import Agent
        from pydantic_ai.models.openai import OpenAIChatModel
        from pydantic_ai.providers.openai import OpenAIProvider

        from django_sessionlog import AttemptStatus, IterateAttempt, IterateRequest, IterateResponse, Usage
        from django_sessionlog import iterate_session as session_of
        from django_sessionlog.contrib import instructor as instructor_adapter
        from django_sessionlog.contrib.instructor import logged
        from django_sessionlog.contrib.pydantic_ai import _Config, _Run, logged_run
        from tests.contrib.conftest import Fill, user_messages

        messages: Any = user_messages()
        print(f"{args.calls} pairs a round, best of {args.repeat} rounds; rows to a file")
        with served() as server:
            raw = openai.OpenAI(base_url=server.base_url, api_key="bench", max_retries=0)
            bare_client = instructor.from_openai(raw)
            logged_raw = openai.OpenAI(base_url=server.base_url, api_key="bench", max_retries=0)
            logged_client = logged(instructor.from_openai(logged_raw), kind="fill")

            def plain() -> Any:
                return raw.chat.completions.create(model="good", messages=messages)

            def bare() -> Any:
                return bare_client.chat.completions.create(
                    model="good", response_model=Fill, max_retries=3, messages=messages
                )

            def with_log() -> Any:
                return logged_client.chat.completions.create(
                    model="good", response_model=Fill, max_retries=3, messages=messages
                )

            for warm in (plain, bare, with_log):
                warm()
            plain_us = alone_us(args.calls // 5 or 1, plain)
            rounds = [paired(args.calls, bare, with_log) for _ in range(args.repeat)]
            result = bare()
            answer = result._raw_response
            kwargs = {
                "model": "good",
                "messages": messages,
                "max_retries": 3,
                "response_model": Fill,
                "hooks": bare_client.hooks,
            }

            def adapter_alone() -> None:
                # What logged() adds around one accepted call: start, instructor's
                # hooks emitting to the recording ones, the outcome, the row.
                call = instructor_adapter._Call.start(
                    instructor_adapter._Config("fill", "", None), bare_client, kwargs
                )
                assert call is not None
                hooks = call.kwargs["hooks"]
                hooks.emit_completion_arguments(**kwargs)
                hooks.emit_completion_response(answer)
                call.finished(result, None)
                call.send()

            artifact = result.model_dump(mode="json")

            def row_alone() -> None:
                # The same row from a hand-written loop: the floor under any adapter.
                with session_of(
                    IterateRequest(kind="fill", model="good", prompt=messages[-1]["content"])
                ) as s:
                    attempt = IterateAttempt(1, AttemptStatus("accepted"), "", Usage(100, 10, 1, 0, 2))
                    s.accept(IterateResponse("", 1, [attempt], artifact))

            row_us = alone_us(args.calls, row_alone)
            print(f"openai chat completion alone (no instructor): {plain_us:.1f} us")
            report(
                "instructor create(response_model=Fill), accepted at the first answer:",
                rounds,
                alone_us(args.calls, adapter_alone),
                row_us,
            )

            loop = asyncio.new_event_loop()
            client = openai.AsyncOpenAI(base_url=server.base_url, api_key="bench", max_retries=0)
            agent = Agent(
                OpenAIChatModel("good", provider=OpenAIProvider(openai_client=client)), output_type=Fill
            )

            def run_bare() -> Any:
                return loop.run_until_complete(agent.run("Cover Saturday night"))

            def run_logged() -> Any:
                with logged_run(kind="fill"):
                    return loop.run_until_complete(agent.run("Cover Saturday night"))

            run_bare()
            run_logged()
            rounds = [paired(args.calls, run_bare, run_logged) for _ in range(args.repeat)]

            finished: Any = None

            async def keep_run() -> None:
                nonlocal finished
                async with agent.iter("Cover Saturday night") as agent_run:
                    async for _ in agent_run:
                        pass
                    finished = agent_run

            loop.run_until_complete(keep_run())

            class Done:
                async def __aenter__(self) -> Any:
                    return finished

                async def __aexit__(self, *exc: object) -> None:
                    return None

            async def wrapped() -> None:
                run = _Run(_Config("fill", "", None), agent, ("Cover Saturday night",), {})
                async with run.around(Done()):
                    pass

            def pydantic_alone() -> None:
                loop.run_until_complete(wrapped())

            def empty_loop_turn() -> None:
                loop.run_until_complete(asyncio.sleep(0))

            turn = alone_us(args.calls, empty_loop_turn)
            report(
                "pydantic-ai Agent.run(output_type=Fill), accepted at the first answer:",
                rounds,
                max(alone_us(args.calls, pydantic_alone) - turn, 0.0),
                row_us,
            )
            loop.run_until_complete(client.close())
            loop.close()
            raw.close()
            logged_raw.close()
        with open(log, "rb") as rows:
            print(f"rows written: {sum(1 for _ in rows):,}")


if __name__ == "__main__":
    main()
