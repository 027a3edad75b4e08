"""A real headless Chromium for the report's tests.

The browser comes from the machine (``runtests.sh`` installs Debian's
``chromium``); ``CHROMIUM`` names another binary. Its console is read from
stderr, so a script error or a Content-Security-Policy refusal fails the
test that caused it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from . import needs

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def chromium() -> str:
    found = os.environ.get("CHROMIUM") or next((p for p in map(shutil.which, CANDIDATES) if p), None)
    if not found:
        needs.missing(
            "Chromium is not installed: apt-get install -y chromium (runtests.sh does), or set CHROMIUM"
        )
    assert found is not None
    return found


@dataclass
class Page:
    dom: str
    console: list[str]


def load(page: Path, *extra: str) -> Page:
    """The page's DOM after its scripts ran, and every console message it logged."""
    with tempfile.TemporaryDirectory() as profile:
        result = subprocess.run(
            [
                chromium(),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={profile}",
                "--enable-logging=stderr",
                "--v=0",
                *extra,
                "--dump-dom",
                page.resolve().as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert result.returncode == 0, result.stderr[-2000:]
    console = [line for line in result.stderr.splitlines() if ":CONSOLE" in line]
    return Page(result.stdout, console)
