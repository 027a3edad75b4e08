"""``PATH`` templates: ``{date}`` and ``{host}``.

A fleet writes one file per host and day (``sessions-{host}-{date}.jsonl``):
files that never need renaming, never share a writer across machines, and
that DuckDB reads with one glob. The writer fills the template, the readers
turn it into a glob, and prune into a pattern that finds the date again;
all three live here so they cannot drift apart.
"""

from __future__ import annotations

import datetime
import functools
import glob
import os
import re
import socket
import string

PLACEHOLDERS = ("date", "host")
DATE_GLOB = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"


@functools.cache
def host_name() -> str:
    """This machine's name, safe as part of a file name."""
    name = socket.gethostname() or "localhost"
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)


def template_fields(template: str) -> list[str]:
    """The ``{placeholders}`` of a template; ValueError for a stray brace."""
    return [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]


def unknown_placeholders(template: str) -> list[str]:
    """Placeholders other than ``{date}`` and ``{host}``, for the system check.

    A known name with a format spec or a conversion (``{date:%Y-%m}``,
    ``{date!r}``) is unknown too: the writer fills only the plain forms,
    and would otherwise name a file after the braces themselves.
    """
    unknown = []
    for _, field, spec, conversion in string.Formatter().parse(template):
        if field is not None and (field not in PLACEHOLDERS or spec or conversion):
            unknown.append(field + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else ""))
    return unknown


def is_template(template: str) -> bool:
    return "{date}" in template or "{host}" in template


def fill(template: str, date: str, host: str | None = None) -> str:
    """The file of one day on one host (``date`` as ``YYYY-MM-DD``)."""
    return template.replace("{date}", date).replace("{host}", host or host_name())


def row_date(timestamp: str) -> str:
    """The UTC day of a row's timestamp, for ``{date}``.

    The writer's own timestamps end in ``Z``, so this is a slice; a caller's
    timestamp with an offset is converted; an unreadable one falls back to
    today rather than losing the row.
    """
    if not isinstance(timestamp, str):
        return today()
    if timestamp[-1:] in ("Z", "z") and timestamp[4:5] == "-":
        return timestamp[:10]
    try:
        moment = datetime.datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        return today()
    if moment.tzinfo is None:
        return moment.date().isoformat()
    return moment.astimezone(datetime.timezone.utc).date().isoformat()


def today() -> str:
    return datetime.datetime.now(datetime.timezone.utc).date().isoformat()


def as_glob(template: str, *, any_host: bool = True) -> str:
    """The glob of every file a template can name (every host's, or this one's)."""
    escaped = glob.escape(template)
    # glob.escape leaves braces alone, so the placeholders survive it.
    return escaped.replace("{date}", DATE_GLOB).replace(
        "{host}", "*" if any_host else glob.escape(host_name())
    )


def matching_files(template: str, *, any_host: bool = True) -> list[str]:
    """Existing files of a template, oldest name first."""
    if not is_template(template):
        return [template] if os.path.exists(template) else []
    return sorted(glob.glob(as_glob(template, any_host=any_host)))


def date_pattern(template: str, host: str | None = None) -> re.Pattern[str]:
    """A regex matching a filled template, capturing its date as ``date``.

    Used by prune: a file is only ever deleted when its whole name matches
    the template with a real date in it.
    """
    parts: list[str] = []
    seen_date = False
    for literal, field, _, _ in string.Formatter().parse(template):
        parts.append(re.escape(literal))
        if field == "date":
            # A second {date} must be the same day as the first.
            parts.append(r"(?P=date)" if seen_date else r"(?P<date>\d{4}-\d{2}-\d{2})")
            seen_date = True
        elif field == "host":
            parts.append(re.escape(host or host_name()))
    return re.compile("".join(parts) + r"\Z")
