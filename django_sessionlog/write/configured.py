"""The ``SessionLogger`` that the ``SESSIONLOG`` setting describes."""

from __future__ import annotations

from typing import Any

from ..conf import conf
from ..locks import ForkSafeLock
from .sink import SessionLogger

_lock = ForkSafeLock()
_current: tuple[tuple[Any, ...], SessionLogger | None] = ((), None)


def get_session_logger() -> SessionLogger | None:
    """The configured logger, or ``None`` when ``PATH`` is empty.

    One logger (one open file) per configuration: the same one is returned
    while the settings stay the same, and a new one after
    ``override_settings`` changes them.
    """
    global _current
    key = (conf.PATH, conf.DAEMON, conf.FILE_MODE, conf.RAISE_ERRORS)
    cached_key, cached = _current
    if key == cached_key:
        return cached
    with _lock:
        cached_key, cached = _current
        if key != cached_key:
            path, daemon, file_mode, raise_errors = key
            fresh = (
                SessionLogger(path, daemon=daemon, file_mode=file_mode, raise_errors=raise_errors)
                if path
                else None
            )
            _current = (key, fresh)
            if cached is not None:
                cached.close()
            cached = fresh
    return cached


def reset(**kwargs: Any) -> None:
    """Forget the configured logger (connected to ``setting_changed``)."""
    global _current
    if kwargs.get("setting", "SESSIONLOG") != "SESSIONLOG":
        return
    with _lock:
        _, cached = _current
        _current = ((), None)
    if cached is not None:
        cached.close()
