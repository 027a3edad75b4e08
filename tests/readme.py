"""The README's code blocks, so tests can run the examples exactly as written."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"

_BLOCK = re.compile(r"^```(\w*)\n(.*?)^```", re.DOTALL | re.MULTILINE)


def section(title: str) -> str:
    """The text under the heading ``title``, up to the next heading of its level."""
    text = README.read_text(encoding="utf-8")
    heading = re.search(rf"^(#+) {re.escape(title)}\n", text, re.MULTILINE)
    assert heading, f"the README has no section {title!r}"
    level = len(heading.group(1))
    rest = text[heading.end() :]
    following = re.search(rf"^#{{1,{level}}} ", rest, re.MULTILINE)
    return rest[: following.start()] if following else rest


def blocks(title: str, language: str) -> list[str]:
    """The ``language`` code blocks under the heading ``title`` (up to the next heading of its level)."""
    return [code for lang, code in _BLOCK.findall(section(title)) if lang == language]


def statements(sql: str) -> list[str]:
    """The statements of a block of SQL, each with its leading comments."""
    return [part.strip() + ";" for part in sql.split(";\n") if part.strip().strip(";")]
