"""Building log files for the reading tests."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from django.core.management import CommandError, call_command

from django_sessionlog.row import KEYS

#: The keys of a row the writer wrote without sampling, in its order.
#: The row's keys, in order.
KEY_NAMES = [key.name for key in KEYS]
#: The keys of a row without sampling or usage, in order.
KEY_ORDER = [name for name in KEY_NAMES if name not in {"sample_rate", "usage"}]


def row(**changes: Any) -> dict[str, Any]:
    """A valid v1 row as the writer writes it, with ``changes`` applied."""
    base: dict[str, Any] = {
        "schema": "session.iterate.v1",
        "session_id": "4bf92f3577b34da6a3ce929d0e0e4736",
        "timestamp": "2026-11-24T19:25:55.344793Z",
        "daemon": "validatord",
        "kind": "fill",
        "model": "qwen2.5",
        "provider": "ollama",
        "prompt": "Fill the Saturday night shift",
        "iterations": 2,
        "max_iterations": 3,
        "final_verdict": "accepted",
        "attempts": [
            {
                "iteration": 1,
                "verdict_kind": "validation_failed",
                "error": "worker W-9999 is not on the roster",
            },
            {"iteration": 2, "verdict_kind": "accepted", "span_id": "00f067aa0ba902b7"},
        ],
        "artifact": {"shift": "sat-night", "workers": ["W-1001"]},
        "grounded_in_roster": True,
        "duration_ms": 1834,
    }
    for key, value in changes.items():
        if value is DROP:
            base.pop(key, None)
        else:
            base[key] = value
    return base


DROP = object()


def line(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode() + b"\n"


def write_log(path: Path, *items: dict[str, Any] | bytes) -> Path:
    """A log of rows (dicts) and raw lines (bytes, written as they are)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(item if isinstance(item, bytes) else line(item) for item in items))
    return path


REPO = Path(__file__).resolve().parents[1]


def django_admin(
    *args: str,
    timeout: float = 60,
    env_extra: dict[str, str] | None = None,
    path: Path | None = None,
    **popen: Any,
) -> subprocess.CompletedProcess[str]:
    """Run ``django-admin`` in a child process with the test settings, as a user would.

    ``path`` is put before the repository on ``PYTHONPATH`` (for a settings
    module of the test's own); ``env_extra`` adds to the environment.
    """
    python_path = os.pathsep.join([*([str(path)] if path else []), str(REPO)])
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "PYTHONPATH": python_path,
        **(env_extra or {}),
    }
    return subprocess.run(
        [sys.executable, "-m", "django", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
        **popen,
    )


def sessionlog(*args: str) -> tuple[str, str, int]:
    """Run ``sessionlog`` through ``call_command``: (stdout, stderr, exit status)."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("sessionlog", *args, stdout=out, stderr=err)
    except CommandError as exc:
        err.write(str(exc))
        return out.getvalue(), err.getvalue(), exc.returncode
    return out.getvalue(), err.getvalue(), 0


class Terminal:
    """A stdout that says it is a terminal (for output meant for a person at one)."""

    def __init__(self) -> None:
        self.buffer = io.StringIO()

    def write(self, text: str) -> int:
        return self.buffer.write(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return True
