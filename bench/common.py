"""What the command-line benchmarks share: a log to read and an environment to run in."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = """SECRET_KEY = "bench"
INSTALLED_APPS = ["django_sessionlog"]
SESSIONLOG = {"PATH": ""}
"""


def arguments(doc: str | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("log", nargs="?", help="a log to read (default: one made by bench/make_log.py)")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=2)
    return parser.parse_args()


def prepare(args: argparse.Namespace, folder: str) -> tuple[str, dict[str, str], int]:
    """(the log, an environment where ``python -m django sessionlog`` runs, its row count)."""
    log = args.log
    if log is None:
        log = os.path.join(folder, "bench.jsonl")
        subprocess.run(
            [sys.executable, str(ROOT / "bench" / "make_log.py"), log, "--rows", str(args.rows)], check=True
        )
    Path(folder, "bench_settings.py").write_text(SETTINGS)
    env = {
        **os.environ,
        "PYTHONPATH": f"{ROOT}{os.pathsep}{folder}",
        "DJANGO_SETTINGS_MODULE": "bench_settings",
    }
    with open(log, "rb") as source:
        rows = sum(1 for _ in source)
    return log, env, rows


def strings_in(value: object, strings: list[str]) -> None:
    """Add every string inside ``value`` (a decoded artifact) to ``strings``: what a naive scan searches."""
    if isinstance(value, str):
        strings.append(value)
    elif isinstance(value, dict):
        for child in value.values():
            strings_in(child, strings)
    elif isinstance(value, (list, tuple)):
        for child in value:
            strings_in(child, strings)
