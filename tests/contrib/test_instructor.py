"""``contrib.instructor.logged``: the real instructor and openai packages against a scripted server."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterator
from typing import Any

import httpx2
import instructor
import openai
import pytest
from django.test import override_settings
from opentelemetry import trace
from pydantic import BaseModel
from tenacity import AsyncRetrying, Retrying, stop_after_attempt, stop_after_delay

from django_sessionlog.contrib.instructor import _usage, allowed_attempts, logged
from django_sessionlog.testing import capture_sessions
from django_sessionlog.write.records import Usage

from ..otel import Spans, span_id, trace_id
from ..scripted_openai import ScriptedServer, refused_url, responses_usage_for, usage_for
from .conftest import GOOD, PROMPT, Exploding, Fill, user_messages

MODES = [instructor.Mode.TOOLS, instructor.Mode.JSON, instructor.Mode.MD_JSON]
#: OpenAI's Responses API (``POST /v1/responses``): usage as ``input_tokens`` / ``output_tokens``.
RESPONSES = instructor.Mode.RESPONSES_TOOLS

Outcome = tuple[str, Any]  # ("result", value) or ("raised", (type, text))


def raised(exc: Exception) -> Outcome:
    """An exception as a caller reads it, without object addresses (a ``RetryError`` names its ``Future``'s)."""
    return "raised", (type(exc), re.sub(r" at 0x[0-9a-f]+", " at 0x?", str(exc)))


class Result:
    """A call's result, compared by what a caller reads: its type, its data and the completion it came from."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def key(self) -> tuple[Any, ...]:
        raw = getattr(self.value, "_raw_response", None)
        # instructor makes a subclass of the response model per call: compare by name.
        return (
            type(self.value).__qualname__,
            self.value.model_dump(),
            None if raw is None else raw.model_dump(),
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Result) and self.key() == other.key()

    def __hash__(self) -> int:
        return hash(type(self.value).__qualname__)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.value, name)


@pytest.fixture
def clients() -> Iterator[list[Any]]:
    """The openai clients a test made, closed at its end (their sockets too)."""
    made: list[Any] = []
    yield made
    for client in made:
        if not isinstance(client, openai.AsyncOpenAI):
            client.close()  # the async tests close theirs inside their own event loop


def sync_client(
    clients: list[Any], base_url: str, mode: instructor.Mode = instructor.Mode.TOOLS, **kw: Any
) -> Any:
    raw = openai.OpenAI(base_url=base_url, api_key="test", max_retries=0, **kw)
    clients.append(raw)
    return instructor.from_openai(raw, mode=mode)


def async_client(clients: list[Any], base_url: str, mode: instructor.Mode = instructor.Mode.TOOLS) -> Any:
    raw = openai.AsyncOpenAI(base_url=base_url, api_key="test", max_retries=0)
    clients.append(raw)
    return instructor.from_openai(raw, mode=mode)


async def close_async(clients: list[Any]) -> None:
    for client in clients:
        if isinstance(client, openai.AsyncOpenAI):
            await client.close()


def call(client: Any, model: str, response_model: Any = Fill, max_retries: Any = 3, **kw: Any) -> Outcome:
    try:
        return "result", Result(
            client.chat.completions.create(
                model=model,
                response_model=response_model,
                max_retries=max_retries,
                messages=user_messages(),
                **kw,
            )
        )
    except Exception as exc:
        return raised(exc)


async def acall(client: Any, model: str, response_model: Any = Fill, max_retries: Any = 3) -> Outcome:
    try:
        return "result", Result(
            await client.chat.completions.create(
                model=model, response_model=response_model, max_retries=max_retries, messages=user_messages()
            )
        )
    except Exception as exc:
        return raised(exc)


def same_with_and_without(
    server: ScriptedServer, clients: list[Any], model: str, **kw: Any
) -> tuple[Outcome, dict[str, Any]]:
    """Call bare, then logged: the same outcome and requests; the logged call's one row."""
    mode = kw.pop("mode", instructor.Mode.TOOLS)
    bare = call(sync_client(clients, server.base_url, mode), model, **kw)
    bare_requests = server.requests_for(model)
    client = logged(sync_client(clients, server.base_url, mode), kind="fill", provider="scripted")
    with capture_sessions() as rows:
        seen = call(client, model, **kw)
    assert seen == bare
    assert server.requests_for(model) == 2 * bare_requests
    [row] = rows
    return seen, row


def verdicts(row: dict[str, Any]) -> list[tuple[str, str]]:
    return [(a["verdict_kind"], a.get("error", "")) for a in row["attempts"]]


@pytest.mark.parametrize("mode", MODES, ids=[m.name for m in MODES])
def test_prose_then_a_phantom_worker_then_a_valid_fill_is_one_accepted_row_with_three_attempts(
    server: ScriptedServer, clients: list[Any], mode: instructor.Mode
) -> None:
    outcome, row = same_with_and_without(server, clients, "fix", mode=mode)
    assert outcome[0] == "result"
    assert outcome[1].model_dump() == GOOD
    assert row["final_verdict"] == "accepted"
    assert (row["kind"], row["model"], row["provider"], row["prompt"]) == ("fill", "fix", "scripted", PROMPT)
    assert (row["iterations"], row["max_iterations"]) == (3, 4), "max_retries=3 is four attempts"
    [(first, no_json_error), second, third] = verdicts(row)
    assert first == "no_json"
    assert no_json_error, "the parser's own words"
    assert second == ("validation_failed", "workers: worker W-9999 is not on the roster")
    assert third == ("accepted", "")
    assert row["artifact"] == GOOD
    for number, attempt in enumerate(row["attempts"], start=1):
        assert attempt["iteration"] == number
        expected = usage_for(number)
        assert attempt["usage"] == {
            "input_tokens": expected["prompt_tokens"],
            "output_tokens": expected["completion_tokens"],
            "cache_read_tokens": expected["prompt_tokens_details"]["cached_tokens"],
            "reasoning_tokens": expected["completion_tokens_details"]["reasoning_tokens"],
        }
    assert row["usage"]["input_tokens"] == 600


def test_a_valid_first_answer_is_accepted_in_one_attempt(server: ScriptedServer, clients: list[Any]) -> None:
    _, row = same_with_and_without(server, clients, "good", max_retries=0)
    assert (row["final_verdict"], row["iterations"], row["max_iterations"]) == ("accepted", 1, 1)
    assert verdicts(row) == [("accepted", "")]


@pytest.mark.parametrize("mode", MODES, ids=[m.name for m in MODES])
def test_an_answer_that_always_fails_the_validator_is_max_iter_exhausted_with_every_attempt(
    server: ScriptedServer, clients: list[Any], mode: instructor.Mode
) -> None:
    outcome, row = same_with_and_without(server, clients, "phantom", mode=mode, max_retries=2)
    assert outcome[0] == "raised"
    assert outcome[1][0] is instructor.core.exceptions.InstructorRetryException
    assert row["final_verdict"] == "max_iter_exhausted"
    assert (row["iterations"], row["max_iterations"]) == (3, 3)
    assert verdicts(row) == [("validation_failed", "workers: worker W-9999 is not on the roster")] * 3
    assert "artifact" not in row


def test_a_token_budget_running_out_is_max_iter_exhausted(server: ScriptedServer, clients: list[Any]) -> None:
    # The first answer costs 110 tokens: a budget of 200 allows a second, not a third.
    outcome, row = same_with_and_without(server, clients, "phantom", token_budget=200)
    assert outcome[0] == "raised"
    assert outcome[1][0].__name__ == "TokenBudgetExceeded"
    assert (row["final_verdict"], row["iterations"]) == ("max_iter_exhausted", 2)


def test_an_answer_that_never_holds_json_is_no_json_every_time(
    server: ScriptedServer, clients: list[Any]
) -> None:
    _, row = same_with_and_without(server, clients, "prose", max_retries=1)
    assert row["final_verdict"] == "max_iter_exhausted"
    assert [kind for kind, _ in verdicts(row)] == ["no_json", "no_json"]


def test_a_missing_field_names_the_field(server: ScriptedServer, clients: list[Any]) -> None:
    _, row = same_with_and_without(server, clients, "missing", max_retries=0)
    assert verdicts(row) == [("validation_failed", "workers: Field required")]


def test_an_http_500_is_an_infra_error_with_the_provider_error_and_one_request(
    server: ScriptedServer, clients: list[Any]
) -> None:
    outcome, row = same_with_and_without(server, clients, "down")
    assert outcome[0] == "raised"
    assert server.requests_for("down") == 2, "one request bare, one logged: instructor does not retry a 500"
    assert row["final_verdict"] == "infra_error"
    assert row["iterations"] == 0
    [attempt] = row["attempts"]
    assert attempt["verdict_kind"] == "infra_error"
    assert attempt["error"].startswith("InternalServerError: Error code: 500")


def test_a_refused_connection_is_an_infra_error(clients: list[Any]) -> None:
    url = refused_url()
    bare = call(sync_client(clients, url), "good")
    client = logged(sync_client(clients, url), kind="fill")
    with capture_sessions() as rows:
        assert call(client, "good") == bare
    assert rows[0]["final_verdict"] == "infra_error"
    assert rows[0]["attempts"][0]["error"] == "APIConnectionError: Connection error."


def test_a_timeout_is_an_infra_error(server: ScriptedServer, clients: list[Any]) -> None:
    client = logged(sync_client(clients, server.base_url, timeout=0.05), kind="fill")
    with capture_sessions() as rows:
        kind, _ = call(client, "slow")
    assert kind == "raised"
    assert rows[0]["attempts"][0]["error"] == "APITimeoutError: Request timed out."


def test_a_validator_that_crashes_is_an_infra_error_and_the_caller_gets_the_same_exception(
    server: ScriptedServer, clients: list[Any]
) -> None:
    outcome, row = same_with_and_without(server, clients, "good", response_model=Exploding)
    assert outcome[0] == "raised"
    assert row["final_verdict"] == "infra_error"
    assert row["attempts"][0]["error"] == "RuntimeError: the shift calendar is down"


def test_an_answer_cut_at_max_tokens_is_an_infra_error(server: ScriptedServer, clients: list[Any]) -> None:
    outcome, row = same_with_and_without(server, clients, "cut")
    assert outcome[0] == "raised"
    assert row["final_verdict"] == "infra_error"
    assert row["attempts"][0]["error"].startswith("IncompleteOutputException")


def test_the_callers_own_hook_that_raises_is_instructors_warning_as_without_the_adapter(
    server: ScriptedServer, clients: list[Any]
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise KeyError("host bug")

    bare = sync_client(clients, server.base_url)
    bare.on("completion:kwargs", broken)
    with pytest.warns(UserWarning, match="host bug"):
        expected = call(bare, "fix")
    client = logged(sync_client(clients, server.base_url), kind="fill")
    client.on("completion:kwargs", broken)
    with capture_sessions() as rows, pytest.warns(UserWarning, match="host bug"):
        assert call(client, "fix") == expected
    assert [kind for kind, _ in verdicts(rows[0])] == ["no_json", "validation_failed", "accepted"]


def test_the_callers_per_call_hooks_still_run(server: ScriptedServer, clients: list[Any]) -> None:
    seen: list[Any] = []
    hooks = instructor.core.hooks.Hooks()
    hooks.on("parse:error", seen.append)
    client = logged(sync_client(clients, server.base_url), kind="fill")
    with capture_sessions() as rows:
        client.chat.completions.create(
            model="fix", response_model=Fill, max_retries=3, messages=user_messages(), hooks=hooks
        )
    assert len(seen) == 2
    assert rows[0]["iterations"] == 3


def test_create_with_completion_gives_the_model_and_the_completion_and_one_row(
    server: ScriptedServer, clients: list[Any]
) -> None:
    client = logged(sync_client(clients, server.base_url), kind="fill")
    with capture_sessions() as rows:
        fill, completion = client.chat.completions.create_with_completion(
            model="fix", response_model=Fill, max_retries=3, messages=user_messages()
        )
    assert fill.model_dump() == GOOD
    assert completion.id == "chatcmpl-3"
    assert rows[0]["iterations"] == 3


def test_a_call_without_a_response_model_is_not_a_session(server: ScriptedServer, clients: list[Any]) -> None:
    client = logged(sync_client(clients, server.base_url), kind="fill")
    with capture_sessions() as rows:
        completion = client.chat.completions.create(
            model="good", response_model=None, messages=user_messages()
        )
    assert completion.choices[0].message.tool_calls is None
    assert rows == []


@pytest.mark.parametrize("mode", MODES[:2], ids=[m.name for m in MODES[:2]])
def test_an_async_client_logs_the_same_row_and_gives_the_same_result(
    server: ScriptedServer, clients: list[Any], mode: instructor.Mode
) -> None:
    async def both() -> tuple[Outcome, Outcome, Outcome, list[dict[str, Any]]]:
        bare = await acall(async_client(clients, server.base_url, mode), "fix")
        client = logged(async_client(clients, server.base_url, mode), kind="fill")
        with capture_sessions() as rows:
            seen = await acall(client, "fix")
            down = await acall(client, "down")
        await close_async(clients)
        return bare, seen, down, rows

    bare, seen, down, rows = asyncio.run(both())
    assert seen == bare
    assert down[0] == "raised"
    assert [row["final_verdict"] for row in rows] == ["accepted", "infra_error"]
    assert [kind for kind, _ in verdicts(rows[0])] == ["no_json", "validation_failed", "accepted"]
    assert rows[0]["attempts"][1]["usage"]["input_tokens"] == 200
    assert server.requests_for("fix") == 6


def test_async_create_with_completion(server: ScriptedServer, clients: list[Any]) -> None:
    async def run() -> tuple[Any, Any]:
        client = logged(async_client(clients, server.base_url), kind="fill")
        answer = await client.chat.completions.create_with_completion(
            model="good", response_model=Fill, max_retries=1, messages=user_messages()
        )
        await close_async(clients)
        return answer  # type: ignore[no-any-return]

    with capture_sessions() as rows:
        fill, completion = asyncio.run(run())
    assert fill.model_dump() == GOOD
    assert completion.id == "chatcmpl-1"
    assert rows[0]["max_iterations"] == 2


def test_the_receivers_policies_apply_redact_and_the_roster_checks(
    server: ScriptedServer, clients: list[Any]
) -> None:
    settings = {"REDACT": "tests.roster.scrub_prompt", "ROSTER_CHECKS": {"fill": "tests.roster.grounded"}}
    client = logged(sync_client(clients, server.base_url), kind="fill")
    with override_settings(SESSIONLOG=settings), capture_sessions() as rows:
        call(client, "good")
    assert rows[0]["prompt"] == "[scrubbed]"
    assert rows[0]["grounded_in_roster"] is True, "W-1001 and W-1002 are on tests.roster's roster"


def test_a_roster_check_given_to_logged_overrides_roster_checks(
    server: ScriptedServer, clients: list[Any]
) -> None:
    checked: list[Any] = []

    def nobody_is_free(artifact: dict[str, Any] | None) -> bool:
        checked.append(artifact)
        return False

    client = logged(sync_client(clients, server.base_url), kind="fill", roster_check=nobody_is_free)
    with (
        override_settings(SESSIONLOG={"ROSTER_CHECKS": {"fill": "tests.roster.grounded"}}),
        capture_sessions() as rows,
    ):
        call(client, "good")
    assert checked == [GOOD]
    assert rows[0]["grounded_in_roster"] is False


def test_a_roster_check_that_raises_costs_only_grounded_in_roster(
    server: ScriptedServer, clients: list[Any], caplog: pytest.LogCaptureFixture
) -> None:
    def broken(artifact: dict[str, Any] | None) -> bool:
        raise RuntimeError("roster down")

    client = logged(sync_client(clients, server.base_url), kind="fill", roster_check=broken)
    with capture_sessions() as rows, caplog.at_level(logging.WARNING, "django_sessionlog"):
        assert call(client, "good")[0] == "result"
    assert "grounded_in_roster" not in rows[0]
    assert rows[0]["final_verdict"] == "accepted"
    assert "roster check" in caplog.text


def test_sampling_keeps_failures_whatever_the_rate(
    server: ScriptedServer, clients: list[Any], spans: Spans
) -> None:
    client = logged(sync_client(clients, server.base_url), kind="fill")
    sampled = {
        "SAMPLE_RATES": {"fill": 0.0},
        "OTEL_SPANS": True,
    }  # spans: sessions with an id, which sampling needs
    with override_settings(SESSIONLOG=sampled), capture_sessions() as rows:
        call(client, "good")
        call(client, "phantom", max_retries=0)
    assert [row["final_verdict"] for row in rows] == ["max_iter_exhausted"]


def test_a_session_writes_one_line_to_the_file(
    server: ScriptedServer, clients: list[Any], tmp_path: Any
) -> None:
    log = tmp_path / "sessions.jsonl"
    client = logged(sync_client(clients, server.base_url), kind="fill")
    with override_settings(SESSIONLOG={"PATH": str(log), "RAISE_ERRORS": True}):
        call(client, "fix")
    [line] = log.read_text().splitlines()
    assert '"final_verdict":"accepted"' in line


@pytest.mark.parametrize(
    ("kind", "error"),
    [("", ValueError), ("   ", ValueError), (None, TypeError), (3, TypeError)],
)
def test_a_kind_that_is_not_a_non_empty_string_is_refused_at_the_call_to_logged(
    clients: list[Any], kind: Any, error: type[Exception]
) -> None:
    with pytest.raises(error, match="kind must be a non-empty string"):
        logged(sync_client(clients, "http://127.0.0.1:9/v1"), kind=kind)


def test_a_client_that_is_not_an_instructor_client_is_refused(clients: list[Any]) -> None:
    raw = openai.OpenAI(base_url="http://127.0.0.1:9/v1", api_key="test")
    clients.append(raw)
    with pytest.raises(TypeError, match=r"needs an instructor client .* got openai\.OpenAI"):
        logged(raw, kind="fill")  # type: ignore[type-var]


def test_a_roster_check_that_is_not_callable_is_refused(clients: list[Any]) -> None:
    not_a_check: Any = "tests.roster.grounded"
    client = sync_client(clients, "http://127.0.0.1:9/v1")
    with pytest.raises(TypeError, match="roster_check must be callable"):
        logged(client, kind="fill", roster_check=not_a_check)


def test_logged_twice_is_still_one_row_per_call(server: ScriptedServer, clients: list[Any]) -> None:
    client = logged(sync_client(clients, server.base_url), kind="fill")
    assert logged(client, kind="fill") is client
    with capture_sessions() as rows:
        call(client, "good")
    assert len(rows) == 1
    with pytest.raises(ValueError, match="already logs its calls as kind='fill'"):
        logged(client, kind="email")


def test_odd_token_counts_cost_the_attempts_usage_and_a_warning_not_the_row(
    server: ScriptedServer, clients: list[Any], caplog: pytest.LogCaptureFixture
) -> None:
    client = logged(sync_client(clients, server.base_url), kind="fill")
    with capture_sessions() as rows, caplog.at_level(logging.WARNING, "django_sessionlog"):
        assert call(client, "odd-usage")[0] == "result"
    assert rows[0]["final_verdict"] == "accepted"
    assert "usage" not in rows[0]["attempts"][0]
    assert "not counts" in caplog.text


@pytest.mark.parametrize("mode", [instructor.Mode.TOOLS, RESPONSES], ids=["TOOLS", "RESPONSES_TOOLS"])
def test_an_answer_without_usage_is_an_attempt_without_usage(
    server: ScriptedServer, clients: list[Any], mode: instructor.Mode
) -> None:
    # The server answers "usage": {}: no counts at all, so no usage (not zeros).
    _, row = same_with_and_without(server, clients, "no-usage", max_retries=0, mode=mode)
    assert row["final_verdict"] == "accepted"
    assert "usage" not in row["attempts"][0]
    assert "usage" not in row


def test_the_responses_apis_usage_is_each_attempts_usage(server: ScriptedServer, clients: list[Any]) -> None:
    outcome, row = same_with_and_without(server, clients, "fix", mode=RESPONSES)
    assert outcome[0] == "result"
    assert outcome[1].model_dump() == GOOD
    assert [kind for kind, _ in verdicts(row)] == ["no_json", "validation_failed", "accepted"]
    for number, attempt in enumerate(row["attempts"], start=1):
        expected = responses_usage_for(number)
        assert attempt["usage"] == {
            "input_tokens": expected["input_tokens"],
            "output_tokens": expected["output_tokens"],
            "cache_read_tokens": expected["input_tokens_details"]["cached_tokens"],
            "reasoning_tokens": expected["output_tokens_details"]["reasoning_tokens"],
        }
    assert row["usage"]["input_tokens"] == 600


class AnthropicDetails(BaseModel):
    """anthropic.types.OutputTokensDetails' field (the anthropic SDK is not a test dependency)."""

    thinking_tokens: int


class AnthropicUsage(BaseModel):
    """anthropic.types.Usage's token fields: ``input_tokens`` leaves out the cached tokens."""

    input_tokens: int
    output_tokens: int
    cache_creation_input_tokens: int | None = None
    cache_read_input_tokens: int | None = None
    output_tokens_details: AnthropicDetails | None = None


class AnthropicMessage(BaseModel):
    """What instructor's ``completion:response`` hook gives for ``from_anthropic``: a message with ``usage``."""

    usage: AnthropicUsage


@pytest.mark.parametrize(
    ("usage", "expected"),
    [
        (
            AnthropicUsage(
                input_tokens=40,
                output_tokens=12,
                cache_read_input_tokens=50,
                cache_creation_input_tokens=10,
                output_tokens_details=AnthropicDetails(thinking_tokens=5),
            ),
            Usage(100, 12, 50, 10, 5),
        ),
        (AnthropicUsage(input_tokens=40, output_tokens=12), Usage(40, 12)),
        (AnthropicUsage(input_tokens=40, output_tokens=12, cache_read_input_tokens=0), Usage(40, 12)),
        (AnthropicUsage(input_tokens=0, output_tokens=3, cache_creation_input_tokens=7), Usage(7, 3, 0, 7)),
    ],
    ids=["cached", "no-cache-counts", "zero-cache-read", "all-written"],
)
def test_anthropics_usage_counts_its_cached_tokens_in_input_tokens(
    usage: AnthropicUsage, expected: Usage
) -> None:
    assert _usage(AnthropicMessage(usage=usage), Usage()) == expected


@pytest.mark.parametrize(
    "usage",
    [
        {"prompt_tokens": 9, "completion_tokens": 2, "prompt_tokens_details": {"cached_tokens": 4}},
        {"input_tokens": 9, "output_tokens": 2, "input_tokens_details": {"cached_tokens": 4}},
    ],
    ids=["chat", "responses"],
)
def test_usage_as_a_mapping_is_read_too(usage: dict[str, Any]) -> None:
    assert _usage({"usage": usage}, None) == Usage(9, 2, 4)


def test_usage_with_neither_total_is_no_usage() -> None:
    into = Usage()
    assert _usage(AnthropicMessage.model_construct(usage=AnthropicUsage.model_construct()), into) is None
    assert _usage({"usage": {"total_tokens": 30}}, into) is None
    assert _usage({"usage": None}, into) is None


def test_an_odd_anthropic_cache_count_costs_the_usage_and_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    odd = AnthropicUsage.model_construct(input_tokens=40, output_tokens=12, cache_read_input_tokens="lots")
    with caplog.at_level(logging.WARNING, "django_sessionlog"):
        assert _usage(AnthropicMessage.model_construct(usage=odd), Usage()) is None
    assert "'lots'" in caplog.text


def test_a_failure_inside_the_adapter_is_a_warning_and_the_call_goes_on(
    server: ScriptedServer,
    clients: list[Any],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from django_sessionlog.contrib import recording

    def broken(*args: Any) -> str:
        raise RuntimeError("adapter bug")

    client = logged(sync_client(clients, server.base_url), kind="fill")
    monkeypatch.setattr(recording, "last_user_text", broken)
    with capture_sessions() as rows, caplog.at_level(logging.WARNING, "django_sessionlog"):
        outcome = call(client, "fix")
    assert outcome[0] == "result"
    assert outcome[1].model_dump() == GOOD
    assert rows == []
    assert "could not start logging an instructor call" in caplog.text


def test_an_artifact_that_is_not_json_costs_the_artifact_and_a_warning(
    server: ScriptedServer,
    clients: list[Any],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def not_json(self: Any, **kwargs: Any) -> Any:
        raise ValueError("not serialisable")

    client = logged(sync_client(clients, server.base_url), kind="fill")
    monkeypatch.setattr(Fill, "model_dump", not_json)
    with capture_sessions() as rows, caplog.at_level(logging.WARNING, "django_sessionlog"):
        assert call(client, "good")[0] == "result"
    assert rows[0]["final_verdict"] == "accepted"
    assert "artifact" not in rows[0]
    assert "without its artifact" in caplog.text


@pytest.mark.parametrize(
    ("max_retries", "attempts"),
    [
        (0, 1),
        (3, 4),
        (-1, 1),
        (Retrying(stop=stop_after_attempt(2)), 2),
        (Retrying(stop=stop_after_attempt(5) | stop_after_delay(10)), 5),
        (Retrying(stop=stop_after_delay(10)), 0),
    ],
)
def test_max_iterations_is_the_attempts_instructor_allows(max_retries: Any, attempts: int) -> None:
    assert allowed_attempts(max_retries) == attempts


def test_a_tenacity_retrying_is_read_for_max_iterations(server: ScriptedServer, clients: list[Any]) -> None:
    client = logged(sync_client(clients, server.base_url), kind="fill")
    with capture_sessions() as rows:
        call(client, "phantom", max_retries=Retrying(stop=stop_after_attempt(2), reraise=True))
    assert (rows[0]["final_verdict"], rows[0]["iterations"], rows[0]["max_iterations"]) == (
        "max_iter_exhausted",
        2,
        2,
    )


def test_a_retrying_without_reraise_gives_the_same_row_as_with_it(
    server: ScriptedServer, clients: list[Any]
) -> None:
    # tenacity's default (reraise=False) ends with a RetryError around the last attempt's error.
    outcome, row = same_with_and_without(
        server, clients, "fix", max_retries=Retrying(stop=stop_after_attempt(2))
    )
    assert outcome[0] == "raised"
    assert outcome[1][0] is instructor.core.exceptions.InstructorRetryException
    client = logged(sync_client(clients, server.base_url), kind="fill")
    with capture_sessions() as rows:
        call(client, "fix", max_retries=Retrying(stop=stop_after_attempt(2), reraise=True))
    [reraised] = rows
    for key in ("final_verdict", "iterations", "max_iterations", "attempts"):
        assert row[key] == reraised[key], key
    assert (row["final_verdict"], row["iterations"]) == ("max_iter_exhausted", 2)
    assert verdicts(row) == [
        ("no_json", "No tool calls or function call found in response (mode: TOOLS)"),
        ("validation_failed", "workers: worker W-9999 is not on the roster"),
    ]
    assert [a["usage"]["input_tokens"] for a in row["attempts"]] == [100, 200]


def test_an_async_retrying_without_reraise_is_max_iter_exhausted(
    server: ScriptedServer, clients: list[Any]
) -> None:
    async def run() -> Outcome:
        client = logged(async_client(clients, server.base_url), kind="fill")
        outcome = await acall(client, "phantom", max_retries=AsyncRetrying(stop=stop_after_attempt(2)))
        await close_async(clients)
        return outcome

    with capture_sessions() as rows:
        assert asyncio.run(run())[0] == "raised"
    assert (rows[0]["final_verdict"], rows[0]["iterations"]) == ("max_iter_exhausted", 2)
    assert verdicts(rows[0]) == [("validation_failed", "workers: worker W-9999 is not on the roster")] * 2


def test_a_retrying_without_reraise_that_runs_out_on_provider_errors_is_an_infra_error_with_their_text(
    server: ScriptedServer, clients: list[Any]
) -> None:
    # tenacity's default retry retries any exception: the 500 is asked twice.
    outcome, row = same_with_and_without(
        server, clients, "down", max_retries=Retrying(stop=stop_after_attempt(2))
    )
    assert outcome[0] == "raised"
    assert server.requests_for("down") == 4
    assert (row["final_verdict"], row["iterations"]) == ("infra_error", 0)
    assert row["attempts"][0]["error"].startswith("InternalServerError: Error code: 500")


def test_a_retrying_without_reraise_around_a_validator_that_crashes_gives_the_crash(
    server: ScriptedServer, clients: list[Any]
) -> None:
    outcome, row = same_with_and_without(
        server, clients, "good", response_model=Exploding, max_retries=Retrying(stop=stop_after_attempt(2))
    )
    assert outcome[0] == "raised"
    assert row["final_verdict"] == "infra_error"
    assert row["attempts"][0]["error"] == "RuntimeError: the shift calendar is down"


@override_settings(SESSIONLOG={"OTEL_SPANS": True})
def test_each_attempt_is_a_span_around_its_request_and_the_row_keeps_its_id(
    server: ScriptedServer, clients: list[Any], spans: Spans
) -> None:
    during_request: list[str] = []

    def record(request: httpx2.Request) -> None:
        # What an HTTP or openai instrumentation would make its span a child of.
        during_request.append(span_id(trace.get_current_span()))

    http = httpx2.Client(event_hooks={"request": [record]})
    client = logged(sync_client(clients, server.base_url, http_client=http), kind="fill")
    with capture_sessions() as rows:
        call(client, "fix")
    attempt_spans = sorted(
        (s for s in spans.finished() if s.name.startswith("attempt ")), key=lambda s: s.name
    )
    session = spans.named("iterate fill")
    assert (
        [a["span_id"] for a in rows[0]["attempts"]] == [span_id(s) for s in attempt_spans] == during_request
    )
    for number, span in enumerate(attempt_spans, start=1):
        assert span.parent is not None
        assert format(span.parent.span_id, "016x") == span_id(session)
        assert span.attributes is not None
        assert span.attributes["gen_ai.usage.input_tokens"] == 100 * number
    assert rows[0]["session_id"] == trace_id(session)


@override_settings(SESSIONLOG={"OTEL_SPANS": True})
def test_a_provider_error_ends_its_attempt_span_as_an_error(
    server: ScriptedServer, clients: list[Any], spans: Spans
) -> None:
    client = logged(sync_client(clients, server.base_url), kind="fill")
    with capture_sessions():
        call(client, "down")
    attempt = spans.named("attempt 1")
    assert attempt.status.status_code is trace.StatusCode.ERROR
    assert spans.named("iterate fill").status.status_code is trace.StatusCode.ERROR
    assert trace.get_current_span() is trace.INVALID_SPAN, "every span was detached"
