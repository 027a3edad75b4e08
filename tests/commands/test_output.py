"""An output that cannot be written: one line on stderr and status 2, never a traceback."""

from __future__ import annotations

import errno
import gc
import io
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from django_sessionlog.management.commands.sessionlog import Command

from ..logs import REPO, row, write_log


class FullDisk(io.StringIO):
    """A standard output on a full disk."""

    def write(self, text: str) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def readers(log: str) -> list[list[str]]:
    """One run of each subcommand that writes to standard output."""
    return [
        ["validate", log],
        ["tail", log],
        ["tail", "--json", log],
        ["stats", log],
        ["stats", "--json", log],
        ["schema"],
        ["query", "SELECT kind FROM sessions", log],
        ["report", "-o", "-", log],
        ["compare", "--baseline", "kind=fill", "--candidate", "kind=email", log],
    ]


def sample(tmp_path: Path) -> str:
    return str(write_log(tmp_path / "s.jsonl", row(), row(kind="email", final_verdict="max_iter_exhausted")))


def from_the_command_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *arguments: str
) -> tuple[int, str]:
    """``Command.run_from_argv`` in this process: (exit status, stderr)."""
    monkeypatch.setattr(signal, "signal", lambda *_: None)  # SIGPIPE's default would end pytest
    command = Command()
    with pytest.raises(SystemExit) as exit_:
        command.run_from_argv(["manage.py", "sessionlog", *arguments])
    code = exit_.value.code
    # Django 4.2's OutputWrapper is an IOBase, flushed when collected: collected
    # now, while pytest's captured streams are open, not in a later test.
    del exit_, command
    gc.collect()
    return (code if isinstance(code, int) else 1), capsys.readouterr().err


@pytest.mark.parametrize("stdout", [FullDisk(), None], ids=["full-disk", "closed"])
def test_an_unwritable_output_is_one_line_and_status_2(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    stdout: io.StringIO | None,
) -> None:
    log = sample(tmp_path)
    for arguments in readers(log):
        monkeypatch.setattr(sys, "stdout", stdout)
        status, err = from_the_command_line(monkeypatch, capsys, *arguments)
        expected = "[Errno 28] No space left on device" if stdout is not None else "standard output is closed"
        assert (status, err) == (2, f"sessionlog: cannot write the output: {expected}\n"), arguments


def run_with(redirect: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    """The command as a shell runs it, standard output redirected (``>/dev/full``, ``>&-``)."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHONPATH": str(REPO)}
    return subprocess.run(
        ["sh", "-c", f'"$@" {redirect}', "sh", sys.executable, "-m", "django", "sessionlog", *arguments],
        stdout=None if redirect else subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("redirect", "said"),
    [(">/dev/full", "[Errno 28] No space left on device"), (">&-", "standard output is closed")],
)
def test_on_the_command_line_an_unwritable_output_is_one_line_and_status_2(
    tmp_path: Path, dev_full: str, redirect: str, said: str
) -> None:
    log = sample(tmp_path)
    for arguments in readers(log):
        result = run_with(redirect, *arguments)
        assert (result.returncode, result.stderr) == (2, f"sessionlog: cannot write the output: {said}\n"), (
            arguments
        )
    assert sorted(os.listdir(tmp_path)) == ["s.jsonl"]  # report -o - wrote no page
