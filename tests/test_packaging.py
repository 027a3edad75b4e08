"""The package ships every file it reads at run time, not only its modules."""

from __future__ import annotations

import configparser
import fnmatch
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "django_sessionlog"


def test_every_data_file_of_the_package_is_in_package_data() -> None:
    config = configparser.ConfigParser()
    config.read(PACKAGE.parent / "setup.cfg")
    patterns = config["options.package_data"]["django_sessionlog"].split()
    data_files = [
        path.relative_to(PACKAGE).as_posix()
        for path in PACKAGE.rglob("*")
        if path.is_file() and path.suffix not in {".py", ".pyc"} and "__pycache__" not in path.parts
    ]
    assert data_files, "the report's template and script at least"
    missing = [name for name in data_files if not any(fnmatch.fnmatch(name, p) for p in patterns)]
    assert missing == [], f"not shipped in the wheel: {missing}"


@pytest.mark.slow
def test_the_wheel_builds_without_a_setuptools_warning_and_holds_every_file(tmp_path: Path) -> None:
    # As a user's shell runs it: not in the test run's developer mode, whose
    # ResourceWarnings come from pip itself, not from the build.
    quiet = {"PYTHONDONTWRITEBYTECODE", "PYTHONWARNINGS", "PYTHONDEVMODE"}
    env = {k: v for k, v in os.environ.items() if k not in quiet}
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-v", "--no-deps", "-w", str(tmp_path), str(PACKAGE.parent)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    build_output = result.stdout + result.stderr
    warnings = [
        line
        for line in build_output.splitlines()
        if re.search(r"warning|deprecat|would be ignored", line, re.IGNORECASE)
        and "Location 'file:" not in line  # this machine's pip index settings, not the build
    ]
    assert warnings == []
    [wheel] = tmp_path.glob("django_sessionlog-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {
        "django_sessionlog/py.typed",
        "django_sessionlog/templates/django_sessionlog/report.html",
        "django_sessionlog/scrubbing/rules/gitleaks.toml",
        "django_sessionlog/scrubbing/rules/NOTICE",
    } <= names
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    text = zipfile.ZipFile(wheel).read(metadata).decode()
    assert "License :: " not in text
    assert "Framework :: Django :: 6.1" in text
