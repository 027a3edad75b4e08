"""The package ships every file it reads at run time, not only its modules."""

from __future__ import annotations

import configparser
import fnmatch
from pathlib import Path

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
