"""Where answers come from: any OpenAI-compatible server, or the built-in demo model.

Both raise ``ProviderError`` for anything that keeps the loop from running
(an HTTP error status, a refused connection, a timeout, an answer of the
wrong shape): the view turns it into a 502 and an ``infra_error`` row.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import time
from typing import Any, Protocol

import httpx
from django.conf import settings

from django_sessionlog import Usage

from . import roster

Messages = list[dict[str, str]]


class Answer(str):
    """The model's text, carrying the tokens the provider counted for it (``usage``, or None)."""

    usage: Usage | None

    def __new__(cls, text: str, usage: Usage | None = None) -> Answer:
        answer = super().__new__(cls, text)
        answer.usage = usage
        return answer


def tokens(text: str) -> int:
    """The demo model's token count: about four characters a token."""
    return max(1, len(text) // 4)


class ProviderError(Exception):
    pass


class Provider(Protocol):
    name: str
    default_model: str

    def complete(self, messages: Messages, model: str) -> Answer: ...

    async def acomplete(self, messages: Messages, model: str) -> Answer: ...


class OpenAIProvider:
    """Chat completions at ``OPENAI_BASE_URL``: OpenAI, Ollama, vLLM, llama.cpp's server."""

    name = "openai"

    def __init__(
        self, base_url: str, api_key: str = "", timeout: float = 60.0, default_model: str = ""
    ) -> None:
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        # Connecting should be quick; a model may think for a while.
        self.timeout = httpx.Timeout(timeout, connect=min(timeout, 5.0))
        self.default_model = default_model

    def _body(self, messages: Messages, model: str) -> dict[str, Any]:
        return {"model": model, "messages": messages, "temperature": 0}

    def complete(self, messages: Messages, model: str) -> Answer:
        try:
            with httpx.Client(timeout=self.timeout) as client:
                response = client.post(self.url, json=self._body(messages, model), headers=self.headers)
        except httpx.HTTPError as exc:
            raise ProviderError(self._describe(exc)) from exc
        return self._answer(response)

    async def acomplete(self, messages: Messages, model: str) -> Answer:
        try:
            async with httpx.AsyncClient(timeout=self.timeout) as client:
                response = await client.post(self.url, json=self._body(messages, model), headers=self.headers)
        except httpx.HTTPError as exc:
            raise ProviderError(self._describe(exc)) from exc
        return self._answer(response)

    def _describe(self, exc: httpx.HTTPError) -> str:
        if isinstance(exc, httpx.TimeoutException):
            return f"provider timed out ({type(exc).__name__}) at {self.url}"
        if isinstance(exc, httpx.ConnectError):
            return f"provider refused the connection at {self.url}: {exc}"
        return f"provider request failed at {self.url}: {type(exc).__name__}: {exc}"

    def _answer(self, response: httpx.Response) -> Answer:
        if response.status_code >= 400:
            raise ProviderError(f"provider answered HTTP {response.status_code}: {response.text[:300]}")
        try:
            content = response.json()["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise ProviderError(
                f"provider answer has no choices[0].message.content: {response.text[:300]}"
            ) from exc
        if not isinstance(content, str):
            raise ProviderError("provider answer content is not text")
        return Answer(content, _usage(response.json().get("usage")))


class DemoProvider:
    """A deterministic stand-in model that needs no network.

    The same conversation always gets the same answer, so the demo and the
    tests are repeatable, yet sessions vary the way real ones do: prose
    without JSON, a phantom worker, a missing key, then (more often than
    not) a fix once the error is fed back; now and then a simulated outage.
    """

    name = "demo"
    default_model = "demo-7b"
    OUTAGE_RATE = 0.05

    def __init__(self, latency: float = 1.0) -> None:
        self.latency = latency

    def complete(self, messages: Messages, model: str) -> Answer:
        rng, pause = self._prepare(messages, model)
        time.sleep(pause)
        return self._counted(messages, self._answer(rng, messages))

    async def acomplete(self, messages: Messages, model: str) -> Answer:
        rng, pause = self._prepare(messages, model)
        await asyncio.sleep(pause)
        return self._counted(messages, self._answer(rng, messages))

    def _counted(self, messages: Messages, text: str) -> Answer:
        return Answer(text, Usage(sum(tokens(m["content"]) for m in messages), tokens(text)))

    def _prepare(self, messages: Messages, model: str) -> tuple[random.Random, float]:
        seed = hashlib.sha256(json.dumps([model, messages]).encode()).digest()
        rng = random.Random(seed)
        first_turn = len(messages) == 2
        if first_turn and rng.random() < self.OUTAGE_RATE:
            raise ProviderError("demo provider timed out after 30s (simulated outage)")
        return rng, self.latency * rng.uniform(0.02, 0.25)

    def _answer(self, rng: random.Random, messages: Messages) -> str:
        kind = next(k for k, text in _INSTRUCTION_MARKERS.items() if text in messages[0]["content"])
        retrying = len(messages) > 2
        roll = rng.random()
        if roll < (0.05 if retrying else 0.18):
            return "Sure! I have thought about this carefully and I believe the plan above covers everything."
        mistake = roll < (0.3 if retrying else 0.5)
        artifact = _ARTIFACTS[kind](rng, mistake)
        wrapper = rng.choice(
            ["{}", "Here you go:\n```json\n{}\n```", "Answer: {} Let me know if that works."]
        )
        return wrapper.replace("{}", json.dumps(artifact), 1)


def _fill(rng: random.Random, mistake: bool) -> dict[str, Any]:
    shift = rng.choice(list(roster.shifts()))
    needed = roster.shifts()[shift]
    skilled = [w for w, info in roster.workers().items() if needed in info["skills"]]
    # A realistic model mostly picks people with the skill, not always.
    pool = skilled if rng.random() < 0.85 else list(roster.workers())
    workers = rng.sample(pool, k=min(len(pool), rng.randint(2, 4)))
    if mistake:
        workers[rng.randrange(len(workers))] = f"W-{rng.randint(9000, 9999)}"  # a phantom worker
    return {"shift": shift, "workers": workers}


def _email(rng: random.Random, mistake: bool) -> dict[str, Any]:
    email = {
        "to": "ops@example.com",
        "subject": "Shift cover confirmed",
        "body": "The Saturday night shift is covered.",
    }
    if mistake:
        email.pop(rng.choice(["to", "subject", "body"]))
    return email


def _playbook(rng: random.Random, mistake: bool) -> dict[str, Any]:
    steps = ["Check the roster for free workers", "Message the shift lead", "Confirm cover by 18:00"]
    if mistake:
        steps[rng.randrange(len(steps))] = ""
    return {"steps": steps}


_ARTIFACTS = {"fill": _fill, "email": _email, "playbook": _playbook}
_INSTRUCTION_MARKERS = {"fill": '"workers"', "email": '"subject"', "playbook": '"steps"'}


def get_provider(name: str) -> Provider:
    # getattr with defaults: the project's settings.py sets these from the
    # environment, and the provider still works in a project that does not.
    if name == "openai":
        return OpenAIProvider(
            getattr(settings, "OPENAI_BASE_URL", "http://127.0.0.1:11434/v1"),
            getattr(settings, "OPENAI_API_KEY", ""),
            getattr(settings, "OPENAI_TIMEOUT", 60.0),
            getattr(settings, "OPENAI_MODEL", ""),
        )
    return DemoProvider(latency=getattr(settings, "DEMO_LATENCY", 1.0))


PROVIDERS = ["demo", "openai"]


def _usage(counted: Any) -> Usage | None:
    """An OpenAI-style ``usage`` object as a ``Usage``; None when the server sent none."""
    if not isinstance(counted, dict):
        return None
    cached = (counted.get("prompt_tokens_details") or {}).get("cached_tokens") or 0
    reasoning = (counted.get("completion_tokens_details") or {}).get("reasoning_tokens") or 0
    return Usage(
        input_tokens=counted.get("prompt_tokens") or 0,
        output_tokens=counted.get("completion_tokens") or 0,
        cache_read_tokens=cached,
        reasoning_tokens=reasoning,
    )
