"""The system check of ``SESSIONLOG``, and its problems said where no check runs.

What is checked comes from the settings table (``conf.py``, which lists the
ids). Django runs ``system_check`` under ``manage.py check``, ``runserver``,
``migrate`` and the test runner, and prints what it finds. gunicorn, uWSGI
and ASGI servers (and task workers) never run it, so the same problems are
logged at ERROR on the first request or the first finished session of a
process (``log_problems``, wired in ``apps.py``): at ``AppConfig.ready()`` a process cannot
yet tell whether the framework's check will follow, and would say each
problem twice. Everywhere, an id in ``SILENCED_SYSTEM_CHECKS`` is never
said, and each problem is said at most once per process.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from django.apps import AppConfig
from django.core.checks import CheckMessage, Error

from .conf import DEFAULTS, Settings, conf, suggestion
from .locks import ForkSafeLock

logger = logging.getLogger("django_sessionlog")

_lock = ForkSafeLock()
#: (id, message) of each problem said in this process, by Django's check or by the log.
_said: set[tuple[str | None, str]] = set()


def check_settings(
    app_configs: Sequence[AppConfig] | None = None,
    databases: Sequence[str] | None = None,
    **kwargs: Any,
) -> list[CheckMessage]:
    """Every problem of ``SESSIONLOG``, silenced or not (Django filters what is silenced)."""
    from django.conf import settings

    user = getattr(settings, "SESSIONLOG", {})
    if not isinstance(user, Mapping):
        return [
            Error(
                f"SESSIONLOG must be a dict, not {type(user).__name__}.",
                hint='For example SESSIONLOG = {"PATH": "var/sessions.jsonl"}.',
                id="django_sessionlog.E001",
            )
        ]
    errors: list[CheckMessage] = []
    for key in user:
        if key not in DEFAULTS:
            close = suggestion(key, list(DEFAULTS))
            guess = f" (did you mean {close!r}?)" if close else ""
            errors.append(
                Error(
                    f"SESSIONLOG has an unknown key {key!r}{guess}.",
                    hint="Known keys: " + ", ".join(DEFAULTS) + ".",
                    id="django_sessionlog.E002",
                )
            )
    for row in Settings.table():
        if row.name in user:
            errors.extend(row.problems(user[row.name]))
    return errors


def system_check(
    app_configs: Sequence[AppConfig] | None = None,
    databases: Sequence[str] | None = None,
    **kwargs: Any,
) -> list[CheckMessage]:
    """``check_settings`` as Django runs it: what it returns, Django prints, so the log never repeats it."""
    found = check_settings(app_configs, databases, **kwargs)
    with _lock:
        _said.update((message.id, message.msg) for message in found)
    return found


def _unsilenced() -> list[CheckMessage]:
    return [message for message in check_settings() if not message.is_silenced()]


def problems() -> list[str]:
    """What the checks find, silenced ids aside, one line each: for the commands' messages.

    The ``sessionlog`` commands skip the system checks to read logs while
    settings are being fixed; a misspelled key must still be named where
    it stops one (``PATH is not set; unknown key 'PTAH'``).
    """
    return [f"{message.msg} [{message.id}]" for message in _unsilenced()]


def log_problems() -> None:
    """Log at ERROR each problem not yet said in this process (silenced ids aside).

    On the ``django_sessionlog`` logger, which Python's last-resort handler
    prints to stderr even when the host configured no logging.
    """
    found = _unsilenced()
    with _lock:
        fresh = [message for message in found if (message.id, message.msg) not in _said]
        _said.update((message.id, message.msg) for message in fresh)
    for message in fresh:
        logger.error("django_sessionlog: %s [%s] Hint: %s", message.msg, message.id, message.hint)
    if fresh and not conf.PATH:
        logger.error("django_sessionlog: sessions are not logged: SESSIONLOG['PATH'] is not set.")
