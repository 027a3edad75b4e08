"""The receiver's scrubbing policy: the ``Scrubber`` that ``SCRUB`` describes, applied to a row.

The detectors live in ``..scrubbing`` (shared with ``sessionlog scan``);
here is what the write path adds: one scrubber per configuration, built
when the setting changes and never per row, and a record's prompt,
attempt errors and artifact replaced by their scrubbed versions (trimmed
again to the row's limits, since a marker can be longer than what it
replaced).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ..conf import Settings, conf
from ..locks import ForkSafeLock
from ..row import ERROR_LIMIT, INFRA_ERROR, PROMPT_LIMIT, trim
from ..scrubbing import Scrubber, from_setting
from .records import SessionRecord

_lock = ForkSafeLock()
_UNSET = object()
# (the SCRUB value it was built from, that value's copy, the scrubber or what building it raised)
_current: tuple[Any, Any, Scrubber | BaseException | None] = (_UNSET, _UNSET, None)


def get_scrubber() -> Scrubber | None:
    """The scrubber of ``SESSIONLOG['SCRUB']``, or ``None`` when it has nothing to do.

    Built once per configuration: the same one is returned while the
    setting stays the same (the same object, equal to what it was), and a
    new one after ``override_settings`` or an edit changes it. A setting
    the scrubber cannot use raises here, every time, so the receiver fails
    closed instead of writing rows unscrubbed.
    """
    global _current
    given = Settings.SCRUB.value()
    source, copy, built = _current
    if given is not source or given != copy:
        with _lock:
            source, copy, built = _current
            if given is not source or given != copy:
                built = _build(conf.SCRUB)
                _current = (given, _copied(given), built)
    if isinstance(built, BaseException):
        raise built
    return built


def _build(setting: Any) -> Scrubber | BaseException | None:
    try:
        scrubber = from_setting(setting)
    except (TypeError, ValueError) as exc:
        return exc
    if not scrubber.detectors and not scrubber.keys:
        return None  # SECRETS off, no PII, no patterns and no keys: nothing to do
    return scrubber


def _copied(value: Any) -> Any:
    """A copy to compare the setting with later, so an edit in place is noticed."""
    if isinstance(value, dict):
        return {key: _copied(child) for key, child in value.items()}
    if isinstance(value, list):
        return [_copied(child) for child in value]
    return value


def reset(**kwargs: Any) -> None:
    """Forget the scrubber (connected to ``setting_changed``)."""
    global _current
    if kwargs.get("setting", "SESSIONLOG") != "SESSIONLOG":
        return
    with _lock:
        _current = (_UNSET, _UNSET, None)


def scrub_record(record: SessionRecord, scrubber: Scrubber) -> SessionRecord:
    """The record with its prompt, attempt errors and artifact scrubbed; the same record when clean.

    The host's artifact is never changed in place: a scrubbed one is a copy.
    """
    attempts = record.attempts
    errors = (
        [error if type(error) is str else _text(error) for error in (attempt.error for attempt in attempts)]
        if attempts
        else []
    )
    scrubbed = scrubber.scrub_parts(record.prompt, errors, record.artifact)
    if scrubbed is None:
        return record
    replaced = attempts
    if attempts:
        replaced = [
            attempt
            if new is old
            else dataclasses.replace(
                attempt, error=trim(new, ERROR_LIMIT) if attempt.verdict_kind == INFRA_ERROR else new
            )
            for attempt, old, new in zip(attempts, errors, scrubbed.errors, strict=True)
        ]
    return dataclasses.replace(
        record,
        prompt=trim(scrubbed.prompt, PROMPT_LIMIT),
        artifact=scrubbed.artifact,
        attempts=replaced,
    )


def _text(error: object) -> str:
    """An attempt's error as the row will hold it: a host may hand us ``None`` or an exception."""
    if isinstance(error, str):
        return error
    return "" if error is None else str(error)
