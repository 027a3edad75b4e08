"""What every page the app writes shares: one self-contained HTML file, safe with any row in it.

The pages (``report``, ``compare``) load nothing from the network (no CDN,
no web fonts), so they work offline and as a mail attachment. Every string
that comes from a row is untrusted: pages are rendered by Django's template
engine with autoescaping, and their SVG is built with ``format_html``, which
escapes each value it is given. A Content-Security-Policy that allows only
the page's own inline script (by its hash) is a second wall: even markup
that slipped through could not run.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
from pathlib import Path
from typing import Any
from urllib.parse import quote

from django.template import Context, Engine
from django.utils.safestring import mark_safe

from ...row import ACCEPTED, INFRA_ERROR, MAX_ITER_EXHAUSTED

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"

COLOURS = {ACCEPTED: "#2f9e5b", MAX_ITER_EXHAUSTED: "#e0a030", INFRA_ERROR: "#d0453b"}
LABELS = {ACCEPTED: "accepted", MAX_ITER_EXHAUSTED: "max iterations", INFRA_ERROR: "infra error"}

_engine = Engine(dirs=[str(TEMPLATES)], autoescape=True)

#: The pages' one script: sortable tables, and a mark that it ran (the browser tests read it).
_SCRIPT = TEMPLATES / "django_sessionlog" / "page.js"


def render(template: str, context: dict[str, Any]) -> str:
    """A page from ``template`` with the shared script, its CSP and the time it was made."""
    script = _SCRIPT.read_text(encoding="utf-8")
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    shared = {
        "generated": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "script": mark_safe(script),  # our own file, not row data
        "csp": f"default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-{digest}'",
    }
    return _engine.get_template(f"django_sessionlog/{template}").render(Context({**context, **shared}))


def trace_link(template: str, session_id: str) -> str:
    """The live-trace URL of a session, or "" (only http(s) templates, id URL-encoded)."""
    if not session_id or not template.lower().startswith(("http://", "https://")):
        return ""
    return template.replace("{session_id}", quote(session_id, safe=""))


def f(number: float) -> str:
    """A coordinate, formatted before format_html (which escapes to text first)."""
    return f"{number:.1f}"
