"""``contrib.pydantic_ai.logged_run``: the real pydantic-ai and openai packages against a scripted server."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator
from typing import Any

import httpx2
import openai
import pytest
from django.test import override_settings
from opentelemetry import trace
from pydantic_ai import Agent, ModelRetry, RunContext
from pydantic_ai.messages import RetryPromptPart
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.providers.openai import OpenAIProvider

from django_sessionlog.contrib.pydantic_ai import (
    details_text,
    logged_run,
    verdict_of_content,
    verdict_of_parts,
)
from django_sessionlog.testing import capture_sessions

from ..otel import Spans, span_id, trace_id
from ..scripted_openai import Json, ScriptedServer, Status, refused_url, usage_for
from .conftest import GOOD, PROMPT, Fill

Outcome = tuple[str, Any]


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    """The event loop ``run_sync`` uses in this thread, closed (with the clients on it) at the end."""
    made = asyncio.new_event_loop()
    asyncio.set_event_loop(made)
    yield made
    made.run_until_complete(made.shutdown_asyncgens())
    made.close()
    asyncio.set_event_loop(None)


@pytest.fixture
def clients(loop: asyncio.AbstractEventLoop) -> Iterator[list[openai.AsyncOpenAI]]:
    made: list[openai.AsyncOpenAI] = []
    yield made
    for client in made:
        loop.run_until_complete(client.close())


def agent(
    clients: list[openai.AsyncOpenAI], base_url: str, model: str, retries: int = 3, **kw: Any
) -> Agent[None, Fill]:
    client = openai.AsyncOpenAI(base_url=base_url, api_key="test", max_retries=0, **kw)
    clients.append(client)
    return Agent(
        OpenAIChatModel(model, provider=OpenAIProvider(openai_client=client)),
        output_type=Fill,
        retries=retries,
    )


def run(an_agent: Agent[None, Fill], **kw: Any) -> Outcome:
    try:
        return "result", an_agent.run_sync(PROMPT, **kw).output
    except Exception as exc:
        return "raised", (type(exc), str(exc))


def same_with_and_without(
    server: ScriptedServer, clients: list[openai.AsyncOpenAI], model: str, **kw: Any
) -> tuple[Outcome, dict[str, Any]]:
    retries = kw.pop("retries", 3)
    bare = run(agent(clients, server.base_url, model, retries), **kw)
    bare_requests = server.requests_for(model)
    with capture_sessions() as rows, logged_run(kind="fill"):
        seen = run(agent(clients, server.base_url, model, retries), **kw)
    assert seen == bare
    assert server.requests_for(model) == 2 * bare_requests
    [row] = rows
    return seen, row


def verdicts(row: dict[str, Any]) -> list[tuple[str, str]]:
    return [(a["verdict_kind"], a.get("error", "")) for a in row["attempts"]]


def test_prose_then_a_phantom_worker_then_a_valid_fill_is_one_accepted_row(
    server: ScriptedServer, clients: list[openai.AsyncOpenAI]
) -> None:
    outcome, row = same_with_and_without(server, clients, "fix")
    assert outcome == ("result", Fill.model_validate(GOOD))
    assert row["final_verdict"] == "accepted"
    assert (row["kind"], row["model"], row["provider"], row["prompt"]) == ("fill", "fix", "openai", PROMPT)
    assert (row["iterations"], row["max_iterations"]) == (3, 4), "retries=3 allows four answers"
    [(first, no_json_error), second, third] = verdicts(row)
    assert first == "no_json"
    assert "Invalid JSON" in no_json_error
    assert second == ("validation_failed", "workers: worker W-9999 is not on the roster")
    assert third == ("accepted", "")
    assert row["artifact"] == GOOD
    for number, attempt in enumerate(row["attempts"], start=1):
        expected = usage_for(number)
        assert attempt["usage"] == {
            "input_tokens": expected["prompt_tokens"],
            "output_tokens": expected["completion_tokens"],
            "cache_read_tokens": expected["prompt_tokens_details"]["cached_tokens"],
            "reasoning_tokens": expected["completion_tokens_details"]["reasoning_tokens"],
        }
    assert row["usage"]["output_tokens"] == 60


def test_an_answer_that_always_fails_is_max_iter_exhausted_with_every_attempt(
    server: ScriptedServer, clients: list[openai.AsyncOpenAI]
) -> None:
    outcome, row = same_with_and_without(server, clients, "phantom", retries=2)
    assert outcome[0] == "raised"
    assert outcome[1][1] == "Exceeded maximum output retries (2)"
    assert row["final_verdict"] == "max_iter_exhausted"
    assert (row["iterations"], row["max_iterations"]) == (3, 3)
    assert verdicts(row) == [("validation_failed", "workers: worker W-9999 is not on the roster")] * 3
    assert row["usage"]["input_tokens"] == 600


@pytest.mark.parametrize("retries", [1, {"output": 1}])
def test_the_runs_own_retries_set_max_iterations(
    server: ScriptedServer, clients: list[openai.AsyncOpenAI], retries: Any
) -> None:
    with capture_sessions() as rows, logged_run(kind="fill"):
        run(agent(clients, server.base_url, "phantom", retries=5), retries=retries)
    assert (rows[0]["iterations"], rows[0]["max_iterations"]) == (2, 2)


def test_an_override_of_the_agents_retries_sets_max_iterations(
    server: ScriptedServer, clients: list[openai.AsyncOpenAI]
) -> None:
    an_agent = agent(clients, server.base_url, "phantom", retries=3)
    with capture_sessions() as rows, logged_run(kind="fill"), an_agent.override(retries=1):
        outcome = run(an_agent, retries=5)
    assert outcome[1][1] == "Exceeded maximum output retries (1)", "the override wins over the run's"
    assert (rows[0]["final_verdict"], rows[0]["iterations"], rows[0]["max_iterations"]) == (
        "max_iter_exhausted",
        2,
        2,
    )


def test_the_runs_spec_retries_set_max_iterations(
    server: ScriptedServer, clients: list[openai.AsyncOpenAI]
) -> None:
    with capture_sessions() as rows, logged_run(kind="fill"):
        outcome = run(agent(clients, server.base_url, "phantom", retries=3), spec={"retries": 1})
    assert outcome[1][1] == "Exceeded maximum output retries (1)"
    assert (rows[0]["iterations"], rows[0]["max_iterations"]) == (2, 2)


@override_settings(SESSIONLOG={"OTEL_SPANS": True})
def test_the_session_span_has_the_overridden_max_iterations(
    server: ScriptedServer, clients: list[openai.AsyncOpenAI], spans: Spans
) -> None:
    an_agent = agent(clients, server.base_url, "good", retries=3)
    with capture_sessions(), logged_run(kind="fill"), an_agent.override(retries=1):
        run(an_agent)
    attributes = spans.named("iterate fill").attributes
    assert attributes is not None
    assert attributes["sessionlog.max_iterations"] == 2


def test_max_iterations_given_to_logged_run_wins(
    server: ScriptedServer, clients: list[openai.AsyncOpenAI]
) -> None:
    with capture_sessions() as rows, logged_run(kind="fill", max_iterations=9):
        run(agent(clients, server.base_url, "good"))
    assert rows[0]["max_iterations"] == 9


def test_an_http_500_is_an_infra_error(server: ScriptedServer, clients: list[openai.AsyncOpenAI]) -> None:
    outcome, row = same_with_and_without(server, clients, "down")
    assert outcome[0] == "raised"
    assert row["final_verdict"] == "infra_error"
    assert row["attempts"][0]["error"].startswith("ModelHTTPError: status_code: 500, model_name: down")


def test_a_model_name_with_a_colon_is_kept_whole_on_an_infra_error(
    clients: list[openai.AsyncOpenAI],
) -> None:
    with (
        ScriptedServer({"qwen2.5-coder:14b": [Status(500)]}) as server,
        capture_sessions() as rows,
        logged_run(kind="fill"),
    ):
        outcome = run(agent(clients, server.base_url, "qwen2.5-coder:14b"))
    assert outcome[0] == "raised"
    assert (rows[0]["final_verdict"], rows[0]["model"]) == ("infra_error", "qwen2.5-coder:14b")


def test_an_overridden_model_is_the_rows_model_when_nothing_answers(
    clients: list[openai.AsyncOpenAI],
) -> None:
    """With ``agent.override(model=...)`` the row names the model asked, also when no answer names it."""
    with ScriptedServer({"other:7b": [Status(500)]}) as server:
        an_agent = agent(clients, server.base_url, "good")
        client = openai.AsyncOpenAI(base_url=server.base_url, api_key="test", max_retries=0)
        clients.append(client)
        replacement = OpenAIChatModel("other:7b", provider=OpenAIProvider(openai_client=client))
        with capture_sessions() as rows, logged_run(kind="fill"), an_agent.override(model=replacement):
            outcome = run(an_agent)
    assert outcome[0] == "raised"
    assert (rows[0]["final_verdict"], rows[0]["model"], rows[0]["provider"]) == (
        "infra_error",
        "other:7b",
        "openai",
    )


def test_a_refused_connection_is_an_infra_error(clients: list[openai.AsyncOpenAI]) -> None:
    url = refused_url()
    bare = run(agent(clients, url, "good"))
    with capture_sessions() as rows, logged_run(kind="fill"):
        assert run(agent(clients, url, "good")) == bare
    assert rows[0]["final_verdict"] == "infra_error"
    assert "Connection error" in rows[0]["attempts"][0]["error"]


def test_an_output_validators_model_retry_is_validation_failed_with_its_message(
    server: ScriptedServer, clients: list[openai.AsyncOpenAI]
) -> None:
    an_agent = agent(clients, server.base_url, "good", retries=1)

    @an_agent.output_validator
    def saturday_is_full(ctx: RunContext[None], fill: Fill) -> Fill:
        raise ModelRetry("Saturday night is already covered")

    with capture_sessions() as rows, logged_run(kind="fill"):
        outcome = run(an_agent)
    assert outcome[0] == "raised"
    assert rows[0]["final_verdict"] == "max_iter_exhausted"
    assert verdicts(rows[0]) == [("validation_failed", "Saturday night is already covered")] * 2


def test_an_output_validator_that_crashes_is_an_infra_error_and_the_same_exception(
    server: ScriptedServer, clients: list[openai.AsyncOpenAI]
) -> None:
    an_agent = agent(clients, server.base_url, "good")

    @an_agent.output_validator
    def lookup(fill: Fill) -> Fill:
        raise RuntimeError("the shift calendar is down")

    with capture_sessions() as rows, logged_run(kind="fill"):
        outcome = run(an_agent)
    assert outcome == ("raised", (RuntimeError, "the shift calendar is down"))
    assert rows[0]["final_verdict"] == "infra_error"
    assert rows[0]["attempts"][0]["error"] == "RuntimeError: the shift calendar is down"


def test_a_function_tool_step_is_not_an_attempt_but_its_tokens_count(
    clients: list[openai.AsyncOpenAI],
) -> None:
    scripts = {"tools": [Json({}, tool="free_workers"), Json(GOOD, tool="final_result")]}
    with ScriptedServer(scripts) as server:
        an_agent = agent(clients, server.base_url, "tools")

        @an_agent.tool_plain
        def free_workers() -> list[str]:
            return ["W-1001", "W-1002"]

        with capture_sessions() as rows, logged_run(kind="fill"):
            assert run(an_agent) == ("result", Fill.model_validate(GOOD))
    assert verdicts(rows[0]) == [("accepted", "")]
    assert rows[0]["iterations"] == 1
    assert rows[0]["usage"]["input_tokens"] == 100 + 200, "the tool step's answer and the accepted one"


def test_a_function_tools_model_retry_is_not_an_attempt(clients: list[openai.AsyncOpenAI]) -> None:
    lookups = [Json({"city": city}, tool="lookup") for city in "xyz"]
    with ScriptedServer({"tools": [*lookups, Json(GOOD, tool="final_result")]}) as server:
        an_agent = agent(clients, server.base_url, "tools", retries=1)
        calls: list[str] = []

        @an_agent.tool_plain(retries=5)
        def lookup(city: str) -> str:
            calls.append(city)
            if len(calls) < 3:
                raise ModelRetry(f"unknown city {city}")
            return "the Harbour Street depot"

        with capture_sessions() as rows, logged_run(kind="fill"):
            assert run(an_agent) == ("result", Fill.model_validate(GOOD))
    assert verdicts(rows[0]) == [("accepted", "")]
    assert (rows[0]["iterations"], rows[0]["max_iterations"]) == (1, 2)
    assert rows[0]["usage"]["input_tokens"] == 100 + 200 + 300 + 400, "the tool steps' answers count"


def test_a_function_tool_out_of_its_own_retries_is_an_infra_error(
    clients: list[openai.AsyncOpenAI],
) -> None:
    with ScriptedServer({"tools": [Json({"city": "x"}, tool="lookup")]}) as server:
        an_agent = agent(clients, server.base_url, "tools", retries=1)

        @an_agent.tool_plain
        def lookup(city: str) -> str:
            raise ModelRetry(f"unknown city {city}")

        with capture_sessions() as rows, logged_run(kind="fill"):
            outcome = run(an_agent)
    assert outcome[0] == "raised"
    assert rows[0]["final_verdict"] == "infra_error", "the output's retries were never used"
    assert rows[0]["attempts"][0]["error"].startswith(
        "UnexpectedModelBehavior: Tool 'lookup' exceeded max retries count of 1"
    )


def test_only_the_retry_prompts_about_the_output_are_its_verdict() -> None:
    parts = [
        RetryPromptPart("unknown city x", tool_name="lookup"),
        RetryPromptPart(
            [{"type": "missing", "loc": ("shift",), "msg": "Field required", "input": {}}],
            tool_name="final_result",
        ),
    ]
    assert verdict_of_parts(parts, {"final_result"}) == ("validation_failed", "shift: Field required")
    assert verdict_of_parts(parts[:1], {"final_result"}) is None
    assert verdict_of_parts([RetryPromptPart("Saturday is full")], frozenset()) == (
        "validation_failed",
        "Saturday is full",
    )


def test_an_async_run_logs_with_async_with(
    server: ScriptedServer, clients: list[openai.AsyncOpenAI], loop: asyncio.AbstractEventLoop
) -> None:
    async def both() -> tuple[Any, Any]:
        async with logged_run(kind="fill"):
            fixed = await agent(clients, server.base_url, "fix").run(PROMPT)
            try:
                await agent(clients, server.base_url, "down").run(PROMPT)
            except Exception as exc:
                return fixed.output, exc
        raise AssertionError("the 500 did not raise")

    with capture_sessions() as rows:
        output, error = loop.run_until_complete(both())
    assert output == Fill.model_validate(GOOD)
    assert type(error).__name__ == "ModelHTTPError"
    assert [row["final_verdict"] for row in rows] == ["accepted", "infra_error"]
    assert [kind for kind, _ in verdicts(rows[0])] == ["no_json", "validation_failed", "accepted"]


def test_one_shared_block_logs_concurrent_tasks(
    server: ScriptedServer, clients: list[openai.AsyncOpenAI], loop: asyncio.AbstractEventLoop
) -> None:
    shared = logged_run(kind="fill")

    async def one(model: str) -> Fill:
        async with shared:
            return (await agent(clients, server.base_url, model).run(PROMPT)).output

    async def both() -> list[Fill]:
        # "good" enters first and leaves first, while "slow" is still inside.
        return list(await asyncio.gather(one("good"), one("slow")))

    with capture_sessions() as rows:
        outputs = loop.run_until_complete(both())
    assert outputs == [Fill.model_validate(GOOD)] * 2
    assert sorted(row["model"] for row in rows) == ["good", "slow"]
    assert {row["final_verdict"] for row in rows} == {"accepted"}


def test_one_shared_block_logs_threads_that_leave_it_out_of_order(server: ScriptedServer) -> None:
    shared = logged_run(kind="fill")
    good_in, slow_in, good_out = threading.Event(), threading.Event(), threading.Event()
    outputs: list[Fill] = []
    errors: list[BaseException] = []

    def fill(model: str) -> None:
        """The thread "good" enters first and leaves first, while "slow" is still inside."""
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        client = openai.AsyncOpenAI(base_url=server.base_url, api_key="test", max_retries=0)
        an_agent = Agent(
            OpenAIChatModel(model, provider=OpenAIProvider(openai_client=client)), output_type=Fill
        )
        try:
            if model == "good":
                with shared:
                    good_in.set()
                    slow_in.wait(5)
                    outputs.append(an_agent.run_sync(PROMPT).output)
            else:
                good_in.wait(5)
                with shared:
                    slow_in.set()
                    good_out.wait(5)
                    outputs.append(an_agent.run_sync(PROMPT).output)
        except BaseException as exc:
            errors.append(exc)
        finally:
            if model == "good":
                good_out.set()
            loop.run_until_complete(client.close())
            loop.close()
            asyncio.set_event_loop(None)

    with capture_sessions() as rows:
        threads = [threading.Thread(target=fill, args=(model,)) for model in ("good", "slow")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
    assert errors == []
    assert outputs == [Fill.model_validate(GOOD)] * 2
    assert sorted(row["model"] for row in rows) == ["good", "slow"]


def test_an_iter_left_before_its_end_is_an_infra_error_not_accepted(
    server: ScriptedServer, clients: list[openai.AsyncOpenAI], loop: asyncio.AbstractEventLoop
) -> None:
    async def first_node_only() -> None:
        async with logged_run(kind="fill"), agent(clients, server.base_url, "good").iter(PROMPT) as agent_run:
            async for _ in agent_run:
                break

    with capture_sessions() as rows:
        loop.run_until_complete(first_node_only())
    assert rows[0]["final_verdict"] == "infra_error"
    assert rows[0]["attempts"][0]["error"] == "the pydantic-ai run ended without a result"


def test_runs_outside_the_block_are_not_sessions_and_the_innermost_block_names_the_kind(
    server: ScriptedServer, clients: list[openai.AsyncOpenAI]
) -> None:
    with capture_sessions() as rows:
        run(agent(clients, server.base_url, "good"))
        with logged_run(kind="outer"):
            with logged_run(kind="inner", provider="scripted"):
                run(agent(clients, server.base_url, "good"))
            run(agent(clients, server.base_url, "good"))
        run(agent(clients, server.base_url, "good"))
    assert [(row["kind"], row["provider"]) for row in rows] == [("inner", "scripted"), ("outer", "openai")]


def test_the_receivers_policies_apply(server: ScriptedServer, clients: list[openai.AsyncOpenAI]) -> None:
    settings = {"REDACT": "tests.roster.scrub_prompt", "ROSTER_CHECKS": {"fill": "tests.roster.grounded"}}
    with override_settings(SESSIONLOG=settings), capture_sessions() as rows, logged_run(kind="fill"):
        run(agent(clients, server.base_url, "good"))
    assert rows[0]["prompt"] == "[scrubbed]"
    assert rows[0]["grounded_in_roster"] is True


@pytest.mark.parametrize(("kind", "error"), [("", ValueError), (None, TypeError), (["fill"], TypeError)])
def test_a_kind_that_is_not_a_non_empty_string_is_refused(kind: Any, error: type[Exception]) -> None:
    with pytest.raises(error, match="kind must be a non-empty string"):
        logged_run(kind=kind)


@pytest.mark.parametrize("max_iterations", [0, -1, 2.5, True])
def test_max_iterations_must_be_a_positive_integer(max_iterations: Any) -> None:
    with pytest.raises(ValueError, match="max_iterations must be a positive integer"):
        logged_run(kind="fill", max_iterations=max_iterations)


def test_a_failure_inside_the_adapter_is_a_warning_and_the_run_goes_on(
    server: ScriptedServer,
    clients: list[openai.AsyncOpenAI],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from django_sessionlog.contrib import pydantic_ai

    def broken(prompt: object) -> str:
        raise RuntimeError("adapter bug")

    monkeypatch.setattr(pydantic_ai, "_prompt", broken)
    with (
        capture_sessions() as rows,
        logged_run(kind="fill"),
        caplog.at_level(logging.WARNING, "django_sessionlog"),
    ):
        assert run(agent(clients, server.base_url, "fix")) == ("result", Fill.model_validate(GOOD))
    assert rows == []
    assert "could not start logging a pydantic-ai run" in caplog.text


@override_settings(SESSIONLOG={"OTEL_SPANS": True})
def test_each_answer_is_an_attempt_span_around_its_request(
    server: ScriptedServer, clients: list[openai.AsyncOpenAI], spans: Spans
) -> None:
    during_request: list[str] = []

    async def record(request: httpx2.Request) -> None:
        during_request.append(span_id(trace.get_current_span()))

    http = httpx2.AsyncClient(event_hooks={"request": [record]})
    with capture_sessions() as rows, logged_run(kind="fill"):
        run(agent(clients, server.base_url, "fix", http_client=http))
    attempt_spans = sorted(
        (s for s in spans.finished() if s.name.startswith("attempt ")), key=lambda s: s.name
    )
    session = spans.named("iterate fill")
    assert (
        [a["span_id"] for a in rows[0]["attempts"]] == [span_id(s) for s in attempt_spans] == during_request
    )
    for span in attempt_spans:
        assert span.parent is not None
        assert format(span.parent.span_id, "016x") == span_id(session)
    assert rows[0]["session_id"] == trace_id(session)


@pytest.mark.parametrize(
    ("content", "verdict"),
    [
        (
            "Please include your response in a tool call.",
            ("no_json", "Please include your response in a tool call."),
        ),
        ("Please return text or call a tool.", ("no_json", "Please return text or call a tool.")),
        ("Saturday is full", ("validation_failed", "Saturday is full")),
        (
            [{"type": "json_invalid", "loc": (), "msg": "Invalid JSON: EOF"}],
            ("no_json", "Invalid JSON: EOF"),
        ),
        (
            [
                {"type": "missing", "loc": ("shift",), "msg": "Field required"},
                {"type": "assertion_error", "loc": ("workers", 0), "msg": "Assertion failed, W-9 is unknown"},
            ],
            ("validation_failed", "shift: Field required; workers.0: W-9 is unknown"),
        ),
        ([], ("validation_failed", "")),
    ],
)
def test_a_retry_prompt_gives_the_answers_verdict(content: Any, verdict: tuple[str, str]) -> None:
    assert verdict_of_content(content) == verdict


def test_details_keep_a_message_that_only_looks_like_a_prefix() -> None:
    assert (
        details_text([{"type": "value_error", "loc": (), "msg": "Value errors happen"}])
        == "Value errors happen"
    )


def test_an_answer_that_never_holds_json_is_no_json(
    server: ScriptedServer, clients: list[openai.AsyncOpenAI]
) -> None:
    _, row = same_with_and_without(server, clients, "prose", retries=1)
    assert row["final_verdict"] == "max_iter_exhausted"
    assert [kind for kind, _ in verdicts(row)] == ["no_json", "no_json"]
