"""The code blocks of the README and of the documentation pages, so tests run them as written.

A section is found by its heading alone, in whichever page holds it (the
README or ``docs/**/*.md``): a test names what it runs, not where that
text lives, and content can move between pages without the test changing.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"

_BLOCK = re.compile(r"^```([\w{}-]*)[^\n]*\n(.*?)^```", re.DOTALL | re.MULTILINE)


def pages() -> list[Path]:
    """The README and every page of the documentation, in a stable order."""
    skipped = {"_build", "_generated"}
    found = [p for p in sorted(DOCS.rglob("*.md")) if not skipped & set(p.relative_to(DOCS).parts)]
    return [README, *found]


def name(page: Path) -> str:
    """A page as the tests name it: ``README.md``, ``docs/settings.md``."""
    return page.relative_to(ROOT).as_posix()


def _heading(title: str, page: Path | None) -> tuple[Path, str, re.Match[str]]:
    candidates = [page] if page else pages()
    found = []
    for candidate in candidates:
        text = candidate.read_text(encoding="utf-8")
        match = re.search(rf"^(#+) {re.escape(title)}\n", text, re.MULTILINE)
        if match:
            found.append((candidate, text, match))
    assert found, f"no page has a section {title!r}"
    assert len(found) == 1, f"{title!r} is a heading of {[name(p) for p, _, _ in found]}: name the page"
    return found[0]


def section(title: str, page: Path | None = None) -> str:
    """The text under the heading ``title``, up to the next heading of its level or above."""
    _, text, heading = _heading(title, page)
    level = len(heading.group(1))
    rest = text[heading.end() :]
    following = re.search(rf"^#{{1,{level}}} ", rest, re.MULTILINE)
    return rest[: following.start()] if following else rest


def page_of(title: str) -> str:
    """The name of the page whose heading is ``title``."""
    return name(_heading(title, None)[0])


def blocks(title: str, language: str, page: Path | None = None) -> list[str]:
    """The ``language`` code blocks under the heading ``title`` (up to the next heading of its level)."""
    return [code for lang, code in _BLOCK.findall(section(title, page)) if lang == language]


class Block(NamedTuple):
    """A fenced code block of a page: where it is and what it holds."""

    page: str
    line: int
    language: str
    code: str

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"


def every_block() -> list[Block]:
    """Every fenced code block of every page, MyST directives (``{toctree}``...) left out."""
    found = []
    for page in pages():
        text = page.read_text(encoding="utf-8")
        for match in _BLOCK.finditer(text):
            language = match.group(1)
            if language.startswith("{"):
                continue
            found.append(Block(name(page), text.count("\n", 0, match.start()) + 1, language, match.group(2)))
    return found


def statements(sql: str) -> list[str]:
    """The statements of a block of SQL, each with its leading comments."""
    return [part.strip() + ";" for part in sql.split(";\n") if part.strip().strip(";")]
