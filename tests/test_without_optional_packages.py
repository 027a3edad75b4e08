"""The core works without its optional packages: REST framework and DuckDB are extras."""

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
        if name.split(".")[0] in {"rest_framework", "duckdb"}:
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
print("rest_framework" in sys.modules, "duckdb" in sys.modules)
"""


@pytest.mark.slow
def test_a_host_without_rest_framework_or_duckdb_logs_and_validates(tmp_path: Path) -> None:
    log = tmp_path / "sessions.jsonl"
    result = subprocess.run(
        [sys.executable, "-c", HIDDEN, str(log), str(REPO)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "False False"
    assert json.loads(log.read_text())["final_verdict"] == "accepted"
