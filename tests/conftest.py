from __future__ import annotations

import builtins
import json
import os
from pathlib import Path
from typing import Any

import pytest

from django_sessionlog import AttemptStatus, IterateAttempt, IterateFailure, IterateRequest, IterateResponse

from . import needs
from .otel import spans  # noqa: F401 (the fixture, for every test module)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The engines' tests run in the one tox environment that installs them (py312-django52).

    Elsewhere they are deselected, as ``-m "not engines"`` would, and pytest
    counts them as such: a skip would read as a test that could not run.
    """
    if os.environ.get("SESSIONLOG_ENGINES") == "1":
        return
    deselected = [item for item in items if item.get_closest_marker("engines") is not None]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if item.get_closest_marker("engines") is None]


@pytest.fixture(autouse=True, scope="session")
def _no_first_use_log() -> None:
    """The settings change from test to test: no test's first request says another's problems.

    ``test_checks`` connects and tests the first-use log itself.
    """
    from django.core.signals import request_started

    from django_sessionlog.apps import _FIRST_USE
    from django_sessionlog.write.signals import iterate_finished

    request_started.disconnect(dispatch_uid=_FIRST_USE)
    iterate_finished.disconnect(dispatch_uid=_FIRST_USE)


@pytest.fixture(autouse=True)
def _odd_values_said_afresh() -> None:
    """A host's odd value is said once per process; each test sees its own warnings."""
    from django_sessionlog.write import coercion

    coercion._said.clear()


@pytest.fixture
def dev_full() -> str:
    """``/dev/full``, the disk that is always full (skipped without it, failed under CI)."""
    return needs.dev_full()


@pytest.fixture
def no_duckdb(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``import duckdb`` fail, as on a machine without the extra."""
    real_import = builtins.__import__

    def refuse(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "duckdb":
            raise ImportError("No module named 'duckdb'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", refuse)


@pytest.fixture
def no_opentelemetry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``import opentelemetry...`` fail, as on a machine without the otel extra."""
    real_import = builtins.__import__

    def refuse(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.split(".", maxsplit=1)[0] == "opentelemetry":
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", refuse)


def read_rows(path: Path) -> list[dict[str, Any]]:
    """Every row of a log, checking that each line is whole strict JSON."""
    data = path.read_bytes()
    assert data.endswith(b"\n"), "the last row must end with a newline"
    return [json.loads(line, parse_constant=_reject) for line in data.split(b"\n")[:-1]]


def _reject(constant: str) -> Any:
    raise AssertionError(f"{constant} is not strict JSON")


@pytest.fixture
def request_fill() -> IterateRequest:
    return IterateRequest(
        trace_id="4bf92f3577b34da6a3ce929d0e0e4736",
        kind="fill",
        model="qwen2.5",
        provider="demo",
        prompt="Fill the Saturday night shift",
        max_iterations=3,
    )


@pytest.fixture
def accepted() -> IterateResponse:
    return IterateResponse(
        trace_id="4bf92f3577b34da6a3ce929d0e0e4736",
        iterations=2,
        history=[
            IterateAttempt(1, AttemptStatus("validation_failed", "worker W-9999 is not on the roster"), "a1"),
            IterateAttempt(2, AttemptStatus("accepted"), "a2"),
        ],
        artifact={"shift": "sat-night", "workers": ["W-1001"]},
    )


@pytest.fixture
def exhausted() -> IterateFailure:
    return IterateFailure(
        trace_id="5bf92f3577b34da6a3ce929d0e0e4736",
        iterations=1,
        history=[IterateAttempt(1, AttemptStatus("no_json", "no JSON object"), "b1")],
    )
