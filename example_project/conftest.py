from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import override_settings
from iterate import views

# The app's own pytest fixture, as any host would use it.
pytest_plugins = ["django_sessionlog.pytest_plugin"]


class ScriptedProvider:
    """A provider that gives the answers it is told to, in order, or raises."""

    name = "demo"
    default_model = "scripted"

    def __init__(self, answers: list[Any]) -> None:
        self.answers = list(answers)
        self.seen: list[list[dict[str, str]]] = []

    def _next(self, messages: list[dict[str, str]]) -> str:
        self.seen.append([dict(m) for m in messages])
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return str(answer)

    def complete(self, messages: list[dict[str, str]], model: str) -> str:
        return self._next(messages)

    async def acomplete(self, messages: list[dict[str, str]], model: str) -> str:
        return self._next(messages)


@pytest.fixture
def scripted(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Install a ScriptedProvider: ``scripted(["answer", ...])``."""

    def install(answers: list[Any]) -> ScriptedProvider:
        provider = ScriptedProvider(answers)
        monkeypatch.setattr(views, "get_provider", lambda name: provider)
        return provider

    return install


@pytest.fixture(autouse=True)
def no_demo_latency() -> Iterator[None]:
    with override_settings(DEMO_LATENCY=0):
        yield
