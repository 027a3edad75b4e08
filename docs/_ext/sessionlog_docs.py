"""Pages rendered from the code at build time, so the docs cannot drift from it.

Before Sphinx reads the pages, this writes into ``docs/_generated/`` (not a
page of its own: the pages include it):

- ``settings-table.md``: every key of ``SESSIONLOG`` from the settings table
  in ``django_sessionlog/conf.py``, its default and the type a value must be;
- ``checks.md``: every system check id, from that module's list of them;
- ``schema.json``: the JSON Schema ``sessionlog schema`` prints.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the tests import this module where Sphinx is not installed
    from sphinx.application import Sphinx

CHECK_LINE = re.compile(r"^- (E\d{3}) (.+)$", re.MULTILINE)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def settings_table() -> str:
    """The table of keys: name, default, what a value must be."""
    from django_sessionlog import conf

    lines = ["| key | default | a value must be |", "|---|---|---|"]
    for setting in conf.Settings.table():
        default = _cell(setting.shown(setting.default))
        described = _cell(setting.described.format(default=setting.shown(setting.default)))
        lines.append(f"| `{setting.name}` | `{default}` | {described} |")
    return "\n".join(lines) + "\n"


def check_ids() -> list[tuple[str, str]]:
    """(id, what it reports) of every check, as ``conf``'s docstring lists them."""
    from django_sessionlog import conf

    return CHECK_LINE.findall(conf.__doc__ or "")


def checks_table() -> str:
    lines = ["| id | reports |", "|---|---|"]
    for number, what in check_ids():
        lines.append(f"| `django_sessionlog.{number}` | {_cell(what.replace('``', '`'))} |")
    return "\n".join(lines) + "\n"


def schema() -> str:
    from django_sessionlog.read.sources.rules import json_schema

    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"


def write_generated(app: Sphinx) -> None:
    folder = Path(app.srcdir) / "_generated"
    folder.mkdir(exist_ok=True)
    for name, text in {
        "settings-table.md": settings_table(),
        "checks.md": checks_table(),
        "schema.json": schema(),
    }.items():
        path = folder / name
        # Rewritten only when changed, so an unchanged build stays incremental.
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("builder-inited", write_generated)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
