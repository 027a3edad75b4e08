"""Sphinx configuration of the django-sessionlog documentation (MyST Markdown, Furo)."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# The package from this checkout (Read the Docs installs it too), and the
# extension that renders the settings table, the check ids and the row's
# schema from the code at build time.
sys.path[:0] = [str(HERE.parent), str(HERE / "_ext")]

import django_sessionlog  # noqa: E402

project = "django-sessionlog"
author = "django-sessionlog contributors"
copyright = "2026, django-sessionlog contributors"
release = django_sessionlog.__version__
version = release

extensions = ["myst_parser", "sessionlog_docs"]
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_generated", "Thumbs.db", ".DS_Store"]

myst_heading_anchors = 3
myst_enable_extensions = ["deflist"]
# The pages' console and text blocks are not Python: no highlighting guesses.
highlight_language = "text"

html_theme = "furo"
html_title = f"django-sessionlog {release}"
html_static_path: list[str] = []
