"""Tests that need something of the machine: skipped without it on a laptop, failed under CI.

A test that needs ``unshare``, ``/dev/full``, Chromium or logrotate cannot
run everywhere. Outside CI a missing tool skips the test and says why; with
``CI=true`` (as ``.ci/run`` sets it) the same lack fails the run, so a green
CI never hides a test that did not run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence

import pytest


def under_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def missing(reason: str) -> None:
    """Skip the test for ``reason``, or fail it under CI."""
    if under_ci():
        pytest.fail(f"CI must run this test, but {reason}")
    pytest.skip(reason)


def tool(name: str) -> str:
    """The path of a command the test needs."""
    found = shutil.which(name)
    if found is None:
        missing(f"{name} is not installed")
    assert found is not None
    return found


def dev_full() -> str:
    if not os.path.exists("/dev/full"):
        missing("this machine has no /dev/full")
    return "/dev/full"


def _namespace_prefix() -> list[str]:
    """How to run a command in a private mount namespace where it may mount a tmpfs."""
    unshare = tool("unshare")
    prefixes = [[unshare, "--mount"]] if os.geteuid() == 0 else []
    prefixes.append([unshare, "--user", "--map-root-user", "--mount"])
    for prefix in prefixes:
        probe = subprocess.run([*prefix, "true"], capture_output=True, timeout=30, check=False)
        if probe.returncode == 0:
            return prefix
    missing("unshare cannot make a private mount namespace here (user namespaces are off)")
    raise AssertionError("unreachable")


def in_private_mount_namespace(
    command: Sequence[str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run ``command`` where it may mount file systems that nobody else sees."""
    return subprocess.run(
        [*_namespace_prefix(), *command], capture_output=True, text=True, timeout=timeout, check=False
    )
