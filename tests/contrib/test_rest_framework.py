from __future__ import annotations

from typing import Any

import pytest

from django_sessionlog import IterateRequest
from django_sessionlog.contrib.rest_framework import PROMPT_MAX_LENGTH, IterateRequestSerializer


def errors(data: Any) -> dict[str, Any]:
    serializer = IterateRequestSerializer(data=data)
    assert not serializer.is_valid()
    return dict(serializer.errors)


def test_valid_body_becomes_the_iterate_request_with_defaults() -> None:
    serializer = IterateRequestSerializer(data={"kind": "fill", "prompt": "  keep my spaces "})
    assert serializer.is_valid(), serializer.errors
    assert serializer.to_iterate_request("t-1") == IterateRequest(
        trace_id="t-1", kind="fill", model="", provider="", prompt="  keep my spaces ", max_iterations=3
    )


def test_kind_and_prompt_are_required() -> None:
    assert set(errors({})) == {"kind", "prompt"}


@pytest.mark.parametrize("value", [0, 21, True, 2.5, "three", None])
def test_max_iterations_is_an_integer_from_1_to_20(value: Any) -> None:
    assert "max_iterations" in errors({"kind": "fill", "prompt": "p", "max_iterations": value})


def test_prompt_size_is_bounded() -> None:
    assert "prompt" in errors({"kind": "fill", "prompt": "x" * (PROMPT_MAX_LENGTH + 1)})
