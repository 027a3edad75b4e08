from __future__ import annotations

import asyncio

import pytest

from iterate.loop import Loop, first_json_object
from iterate.providers import DemoProvider, ProviderError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": 1}', {"a": 1}),
        ('Sure! ```json\n{"a": {"b": [1, 2]}}\n``` done', {"a": {"b": [1, 2]}}),
        ('set {x} then {"ok": true}', {"ok": True}),
        ('[1, 2] and {"after": 1}', {"after": 1}),
        ("no json at all", None),
        ('{"unterminated": ', None),
    ],
)
def test_first_json_object_is_taken_from_the_answer(text: str, expected: object) -> None:
    assert first_json_object(text) == expected


def test_loop_stops_at_accepted_and_records_every_attempt() -> None:
    loop = Loop("playbook", "p", 3)
    loop.feed("prose")
    loop.feed('{"steps": []}')
    assert not loop.done
    loop.feed('{"steps": ["a"]}')
    assert loop.done
    assert loop.accepted
    assert [a.status.kind for a in loop.history] == ["no_json", "validation_failed", "accepted"]
    assert len({a.span_id for a in loop.history}) == 3


def test_loop_stops_at_max_iterations() -> None:
    loop = Loop("email", "p", 2)
    loop.feed("x")
    loop.feed("y")
    assert loop.done
    assert not loop.accepted


def test_demo_provider_is_deterministic_and_varied() -> None:
    provider = DemoProvider(latency=0)
    outcomes = []
    for number in range(60):
        messages = Loop("fill", f"prompt {number}", 3).messages
        try:
            first = provider.complete(messages, "demo-7b")
        except ProviderError:
            outcomes.append("outage")
            continue
        assert provider.complete(messages, "demo-7b") == first
        assert asyncio.run(provider.acomplete(messages, "demo-7b")) == first
        candidate = first_json_object(first)
        outcomes.append(
            "prose"
            if candidate is None
            else ("phantom" if any(w.startswith("W-9") for w in candidate["workers"]) else "valid")
        )
    assert {"prose", "phantom", "valid"} <= set(outcomes)
