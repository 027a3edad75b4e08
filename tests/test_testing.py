from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from django.test import override_settings

from django_sessionlog import IterateRequest, IterateResponse, iterate_finished
from django_sessionlog.testing import capture_sessions

from .logs import KEY_ORDER, REPO


def finish(trace_id: str, **extra: object) -> None:
    iterate_finished.send(
        sender=None,
        request=IterateRequest(trace_id=trace_id, kind="email", prompt="p", max_iterations=2),
        response=IterateResponse(trace_id, 1, [], {"to": "a@b"}),
        duration_ms=7,
        **extra,
    )


def test_rows_are_captured_as_the_dicts_they_encode_to_and_nothing_is_written(tmp_path: Path) -> None:
    log = tmp_path / "s.jsonl"
    with override_settings(SESSIONLOG={"PATH": str(log), "DAEMON": "d1"}), capture_sessions() as rows:
        finish("a")
    assert not log.exists()
    [row] = rows
    assert list(row) == [key for key in KEY_ORDER if key != "grounded_in_roster"]
    assert (row["session_id"], row["daemon"], row["duration_ms"], row["artifact"]) == (
        "a",
        "d1",
        7,
        {"to": "a@b"},
    )


def test_capture_works_with_path_unset() -> None:
    with override_settings(SESSIONLOG={}), capture_sessions() as rows:
        finish("a")
    assert len(rows) == 1


def test_outside_the_block_rows_go_to_the_file_again(tmp_path: Path) -> None:
    log = tmp_path / "s.jsonl"
    with override_settings(SESSIONLOG={"PATH": str(log)}):
        with capture_sessions():
            finish("captured")
        finish("written")
    assert '"written"' in log.read_text()
    assert '"captured"' not in log.read_text()


def test_nested_captures_each_see_the_rows_inside_them() -> None:
    with capture_sessions() as outer:
        finish("before")
        with capture_sessions() as inner:
            finish("inside")
        finish("after")
    assert [r["session_id"] for r in outer] == ["before", "inside", "after"]
    assert [r["session_id"] for r in inner] == ["inside"]


def test_rows_from_other_threads_are_captured() -> None:
    with capture_sessions() as rows:
        threads = [threading.Thread(target=finish, args=(f"t{n}",)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sorted(r["session_id"] for r in rows) == [f"t{n}" for n in range(8)]


def test_async_signal_path_is_captured() -> None:
    async def view() -> None:
        await iterate_finished.asend(
            sender=None,
            request=IterateRequest(trace_id="async", kind="fill"),
            response=IterateResponse("async", 1, []),
        )

    with capture_sessions() as rows:
        asyncio.run(view())
    assert [r["session_id"] for r in rows] == ["async"]


def test_captured_rows_are_after_redaction_and_sampling() -> None:
    settings = {"REDACT": "tests.roster.scrub_prompt", "SAMPLE_RATES": {"email": 0.0}}
    with override_settings(SESSIONLOG=settings), capture_sessions() as rows:
        finish("dropped-by-sampling")
        iterate_finished.send(
            sender=None, request=IterateRequest(trace_id="kept", kind="email"), error=OSError("x")
        )
    assert [(r["session_id"], r["prompt"]) for r in rows] == [("kept", "[scrubbed]")]


HOST_CONFTEST = 'pytest_plugins = ["django_sessionlog.pytest_plugin"]\n'
HOST_TEST = textwrap.dedent(
    """
    from django_sessionlog import IterateRequest, IterateResponse, iterate_finished

    def test_my_view_logs_its_session(sessionlog_rows):
        iterate_finished.send(sender=None, request=IterateRequest(trace_id="host-1", kind="fill"),
                              response=IterateResponse("host-1", 1, []))
        assert [row["session_id"] for row in sessionlog_rows] == ["host-1"]

    def test_each_test_starts_empty(sessionlog_rows):
        assert sessionlog_rows == []
    """
)


@pytest.mark.slow
@pytest.mark.parametrize("plugin", ["django_sessionlog.pytest_plugin", "django_sessionlog.testing"])
def test_the_pytest_fixture_works_for_a_host_through_pytest_plugins(tmp_path: Path, plugin: str) -> None:
    # The module of its own, and the name earlier versions gave.
    (tmp_path / "conftest.py").write_text(HOST_CONFTEST.replace("django_sessionlog.pytest_plugin", plugin))
    (tmp_path / "test_host.py").write_text(HOST_TEST)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--ds=tests.settings",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


IMPORT_IN_PRODUCTION = """
import sys
import django
from django.conf import settings
settings.configure(INSTALLED_APPS=["django_sessionlog"], SESSIONLOG={"PATH": ""})
django.setup()
import django_sessionlog.testing
print(sorted(name for name in sys.modules if name == "pytest" or name.startswith(("_pytest", "pluggy"))))
"""


@pytest.mark.slow
def test_importing_testing_never_imports_pytest() -> None:
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_IN_PRODUCTION],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
