"""The demo as a newcomer runs it: twice, into a file, then the command it suggests."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_demo_starts_from_an_empty_log_writes_no_progress_frames_to_a_file_and_suggests_a_working_command(
    tmp_path: Path,
) -> None:
    # A copy of the example project, so the demo's var/ folder is the test's own.
    copy = tmp_path / "example_project"
    shutil.copytree(PROJECT, copy, ignore=shutil.ignore_patterns("var", "__pycache__", ".pytest_cache"))
    env = {k: v for k, v in os.environ.items() if k != "SESSIONLOG_PATH"}
    env["DEMO_LATENCY"] = "0"
    outputs = []
    for _ in range(2):
        result = subprocess.run(
            [sys.executable, str(copy / "demo.py"), "--sessions", "6"],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=180,
            check=False,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        outputs.append(result.stdout)
    second = outputs[1]
    assert "\r" not in second, "no progress frames into a file"
    assert "6/6" in second
    assert "│ fill-instructor │" in second, "the query shows a row of instructor's loop"
    assert "sessions  6 from 6 rows" in second, "the second run shows its own 6 sessions, not 12"
    assert "6 lines in 1 file: 6 valid" in second
    assert re.search(r"^retries   \d+\.\d% of tokens spent outside an accepted attempt$", second, re.M), (
        "the retry share"
    )
    assert re.search(r"^cost      \$\d", second, re.M), "the cost line: the demo model is priced in settings"
    # OpenTelemetry is installed with the tests: every row is its server span's trace.
    assert "6 of 6 rows have a server span whose trace id is their session id" in second
    suggested = next(line for line in second.splitlines() if line.startswith("Try: "))
    command = shlex.split(suggested.removeprefix("Try: "))
    assert command[-3:] == ["sessionlog", "tail", "-f"]
    stats = subprocess.run(
        [*command[:-2], "stats"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert stats.returncode == 0, stats.stderr
    assert "sessions  6 from 6 rows" in stats.stdout
