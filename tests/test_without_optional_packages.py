"""The core works without its optional packages: REST framework, DuckDB, instructor and pydantic-ai are extras."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .logs import REPO

HIDDEN = """
import builtins, importlib.abc, sys

class Hide(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"rest_framework", "duckdb", "instructor", "pydantic_ai"}:
            raise ModuleNotFoundError(f"No module named {name!r}")
        return None

sys.meta_path.insert(0, Hide())
sys.path.insert(0, sys.argv[2])

import django
from django.conf import settings

settings.configure(INSTALLED_APPS=["django_sessionlog"], SESSIONLOG={"PATH": sys.argv[1]})
django.setup()

from django_sessionlog import IterateRequest, IterateResponse, iterate_finished
from django.core.management import call_command

iterate_finished.send(sender=None, request=IterateRequest(trace_id="t", kind="fill"),
                      response=IterateResponse("t", 1, [], {"workers": ["W-1"]}))
call_command("sessionlog", "validate", sys.argv[1])
for adapter in ("instructor", "pydantic_ai"):
    try:
        __import__(f"django_sessionlog.contrib.{adapter}")
    except ImportError as exc:
        print(exc)
print("rest_framework" in sys.modules, "duckdb" in sys.modules, "instructor" in sys.modules, "pydantic_ai" in sys.modules)
"""


@pytest.mark.slow
def test_a_host_without_rest_framework_duckdb_instructor_or_pydantic_ai_logs_and_validates(
    tmp_path: Path,
) -> None:
    log = tmp_path / "sessions.jsonl"
    result = subprocess.run(
        [sys.executable, "-c", HIDDEN, str(log), str(REPO)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1] == "False False False False"
    assert lines[-3:-1] == [
        "django_sessionlog.contrib.instructor needs instructor: pip install 'django-sessionlog[instructor]'",
        "django_sessionlog.contrib.pydantic_ai needs pydantic-ai: pip install 'django-sessionlog[pydantic-ai]'",
    ]
    assert json.loads(log.read_text())["final_verdict"] == "accepted"


TRACE_LINKAGE = """
import sys

hide = sys.argv[3] == "hide"
if hide:
    import importlib.abc

    class Hide(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] == "opentelemetry":
                raise ModuleNotFoundError(f"No module named {name!r}")
            return None

    sys.meta_path.insert(0, Hide())
sys.path.insert(0, sys.argv[2])

import django
from django.conf import settings

settings.configure(
    INSTALLED_APPS=["django_sessionlog"], SESSIONLOG={"PATH": sys.argv[1]}, ALLOWED_HOSTS=["testserver"]
)
django.setup()

from django.http import HttpResponse
from django.test import RequestFactory, override_settings

from django_sessionlog import IterateRequest, IterateResponse, current_span_id, iterate_session
from django_sessionlog.checks import problems
from django_sessionlog.middleware import TraceIdMiddleware

traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
served = TraceIdMiddleware(lambda request: HttpResponse(request.trace_id))
print(served(RequestFactory().get("/", headers={"traceparent": traceparent})).content.decode())
print(len(served(RequestFactory().get("/")).content))
for spans in (False, True):
    with override_settings(SESSIONLOG={"PATH": sys.argv[1], "OTEL_SPANS": spans}):
        with iterate_session(IterateRequest(kind="fill")) as session:
            with session.attempt(1) as span_id:
                session.accept(IterateResponse("", 1, [], {"workers": ["W-1"]}))
        print(repr(span_id), repr(current_span_id()))
        print(problems())
        print(any(name.split(".")[0] == "opentelemetry" for name in sys.modules))
"""


def trace_linkage(log: Path, hide: bool) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", TRACE_LINKAGE, str(log), str(REPO), "hide" if hide else "installed"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


@pytest.mark.slow
def test_a_host_without_opentelemetry_reads_traceparent_and_logs_as_before(tmp_path: Path) -> None:
    log = tmp_path / "sessions.jsonl"
    lines = trace_linkage(log, hide=True)
    assert lines[:2] == ["4bf92f3577b34da6a3ce929d0e0e4736", "32"]
    assert lines[2:5] == ["'' ''", "[]", "False"]
    assert lines[5] == "'' ''"
    assert "[django_sessionlog.E015]" in lines[6], "OTEL_SPANS without the API is named"
    assert lines[7] == "False", "nothing of opentelemetry was imported"
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(row["session_id"], row["final_verdict"]) for row in rows] == [("", "accepted"), ("", "accepted")]


@pytest.mark.slow
def test_with_opentelemetry_installed_but_unused_nothing_of_it_is_imported(tmp_path: Path) -> None:
    # Free when unused: the middleware and a session without OTEL_SPANS never
    # import the API (about 40 ms) when nothing else did.
    log = tmp_path / "sessions.jsonl"
    lines = trace_linkage(log, hide=False)
    assert lines[:5] == ["4bf92f3577b34da6a3ce929d0e0e4736", "32", "'' ''", "[]", "False"]
    assert lines[6] == "[]", "OTEL_SPANS with the API installed is fine"
    assert lines[7] == "True", "OTEL_SPANS imported the API to make its (no-op) span"
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    assert [row["session_id"] for row in rows] == ["", ""], "the no-op tracer changes nothing"
