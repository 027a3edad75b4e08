"""``runtests.sh``, the README's test command: a Python it cannot find fails CI and warns a laptop."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from . import needs

REPO = Path(__file__).resolve().parents[1]


#: An environment that runs, and one whose Python no machine has; neither runs these tests again.
MISSING_PYTHON = """
[tox]
env_list = present, missing

[testenv:present]
skip_install = true
commands = python -c "print('ran')"

[testenv:missing]
base_python = python0.99
skip_install = true
commands = python -c "print('unreachable')"
"""


def _runtests(tmp_path: Path, *, ci: bool) -> subprocess.CompletedProcess[str]:
    if not (REPO / ".venv-tox" / "bin" / "tox").exists():
        needs.missing("runtests.sh has not made its .venv-tox here yet")
    config = tmp_path / "tox.ini"
    config.write_text(MISSING_PYTHON)
    # Outside the tox environment this test may run in: a fresh shell's view.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TOX_", "VIRTUAL_ENV", "PYTHON"))}
    env["CI"] = "true" if ci else ""
    return subprocess.run(
        ["bash", str(REPO / "runtests.sh"), "-c", str(config), "--workdir", str(tmp_path / ".tox")],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=300,
        check=False,
    )


@pytest.mark.slow
def test_a_missing_python_fails_the_run_under_ci(tmp_path: Path) -> None:
    result = _runtests(tmp_path, ci=True)
    assert result.returncode != 0
    assert "missing: FAIL" in result.stdout


@pytest.mark.slow
def test_a_missing_python_is_skipped_with_a_warning_on_a_laptop(tmp_path: Path) -> None:
    result = _runtests(tmp_path, ci=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING: missing did not run: its Python is not on this machine" in result.stderr
