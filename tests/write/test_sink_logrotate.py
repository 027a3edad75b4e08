"""The logrotate stanza of the operations page, run by the real logrotate against a live writer."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .. import needs, readme

REPO = Path(__file__).resolve().parents[1]

WRITER = """
import sys, time
sys.path.insert(0, sys.argv[3])
from django_sessionlog import SessionLogger, SessionRecord
sink = SessionLogger(sys.argv[1], raise_errors=True)
stop = sys.argv[2]
n = 0
deadline = time.monotonic() + 30
import os
while time.monotonic() < deadline and not os.path.exists(stop):
    sink.append(SessionRecord(session_id=f"row-{n}", prompt="p" * (n % 3000), attempts=[]))
    n += 1
print(n)
"""


def _stanza(log: Path) -> str:
    [stanza] = readme.blocks("Rotating the log", "")
    assert stanza.startswith("/var/log/coordinator/sessions.jsonl {")
    return stanza.replace("/var/log/coordinator/sessions.jsonl", str(log))


def _rows(files: list[Path]) -> list[str]:
    ids = []
    for path in files:
        data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        assert data == b"" or data.endswith(b"\n"), path
        ids += [json.loads(line)["session_id"] for line in data.split(b"\n")[:-1]]
    return ids


@pytest.mark.slow
def test_the_readme_stanza_rotates_a_live_log_without_losing_a_row(tmp_path: Path) -> None:
    logrotate = needs.tool("logrotate")
    folder = tmp_path / "logs"
    folder.mkdir()
    log = folder / "sessions.jsonl"
    config = tmp_path / "sessionlog.conf"
    config.write_text(_stanza(log))
    stop = tmp_path / "stop"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(log), str(stop), str(REPO)], stdout=subprocess.PIPE, text=True
    )
    try:
        for _ in range(6):
            time.sleep(0.15)
            subprocess.run(
                [logrotate, "--force", "--state", str(tmp_path / "state"), str(config)],
                check=True,
                capture_output=True,
                timeout=30,
            )
    finally:
        stop.touch()
        written, _ = writer.communicate(timeout=60)
    assert writer.returncode == 0
    files = sorted(folder.iterdir())
    names = {path.name for path in files}
    assert {"sessions.jsonl", "sessions.jsonl.1", "sessions.jsonl.2.gz"} <= names, names
    ids = _rows(files)
    assert len(ids) == int(written) > 1000
    assert sorted(ids) == sorted(f"row-{n}" for n in range(int(written)))
