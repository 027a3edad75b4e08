"""A real headless Chromium for the report's tests.

The browser comes from the machine (``runtests.sh`` installs Debian's
``chromium``); ``CHROMIUM`` names another binary. Its console is read from
stderr, so a script error or a Content-Security-Policy refusal fails the
test that caused it.
"""

from __future__ import annotations

import base64
import hashlib
import html as htmllib
import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


def measure(page: Path, expression: str, width: int = 1280, height: int = 900) -> Any:
    """The value of a JavaScript ``expression`` on the page, laid out in a window of that size.

    The page allows only its own script (CSP), so a copy is measured: the
    probe script is added with its hash to the policy; the page is otherwise
    exactly as written. The value comes back through the dumped DOM.
    """
    probe = (
        "window.addEventListener('load', function () { document.documentElement.setAttribute("
        f"'data-probe', JSON.stringify({expression})); }});"
    )
    digest = base64.b64encode(hashlib.sha256(probe.encode()).digest()).decode()
    html = page.read_text(encoding="utf-8")
    html = html.replace("script-src ", f"script-src 'sha256-{digest}' ", 1)
    html = html.replace("</body>", f"<script>{probe}</script></body>", 1)
    copy = page.with_name(f"probe-{page.name}")
    copy.write_text(html, encoding="utf-8")
    dumped = load(copy, f"--window-size={width},{height}").dom
    found = re.search(r'data-probe="([^"]*)"', dumped)
    assert found, "the probe did not run"
    return json.loads(htmllib.unescape(found.group(1)))
