"""The ``SESSIONLOG`` setting, read at access time.

Each property reads ``django.conf.settings`` when it is used, so
``override_settings`` in a test just works. The values are not checked here:
``checks.py`` reports a wrong one at start-up, with its id and a hint.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from django.conf import settings

from .scrubbing import DEFAULT_KEYS

#: SCRUB's keys and their defaults; a SCRUB dict that leaves one out has this.
SCRUB_DEFAULTS: dict[str, Any] = {
    "SECRETS": True,
    "PII": [],
    "PATTERNS": {},
    "KEYS": list(DEFAULT_KEYS),
}

DEFAULTS: dict[str, Any] = {
    "PATH": "",
    "DAEMON": "validatord",
    "ROSTER_CHECKS": {},
    "FILE_MODE": 0o640,
    "REDACT": "",
    "SAMPLE_RATES": {},
    "RAISE_ERRORS": False,
    "TRACE_URL": "",
    "TRACE_HEADER": "X-Lakehouse-Trace-Id",
    "OTEL_SPANS": False,
    "SCRUB": SCRUB_DEFAULTS,
}


class Settings:
    """Accessors for ``settings.SESSIONLOG``, each falling back to its default."""

    def _get(self, key: str) -> Any:
        user = getattr(settings, "SESSIONLOG", None)
        if isinstance(user, Mapping) and key in user:
            return user[key]
        return DEFAULTS[key]

    def given(self, key: str) -> Any:
        """The value of ``key`` as the settings hold it (the very object), or its default."""
        return self._get(key)

    @property
    def user_settings(self) -> Any:
        return getattr(settings, "SESSIONLOG", {})

    @property
    def PATH(self) -> str:
        return str(self._get("PATH") or "")

    @property
    def DAEMON(self) -> str:
        return str(self._get("DAEMON"))

    @property
    def ROSTER_CHECKS(self) -> Mapping[str, str]:
        return self._get("ROSTER_CHECKS")  # type: ignore[no-any-return]

    @property
    def FILE_MODE(self) -> int:
        return int(self._get("FILE_MODE"))

    @property
    def REDACT(self) -> str:
        return str(self._get("REDACT") or "")

    @property
    def SAMPLE_RATES(self) -> Mapping[str, float]:
        return self._get("SAMPLE_RATES")  # type: ignore[no-any-return]

    @property
    def RAISE_ERRORS(self) -> bool:
        return bool(self._get("RAISE_ERRORS"))

    @property
    def TRACE_URL(self) -> str:
        return str(self._get("TRACE_URL") or "")

    @property
    def TRACE_HEADER(self) -> str:
        return str(self._get("TRACE_HEADER"))

    @property
    def OTEL_SPANS(self) -> bool:
        return bool(self._get("OTEL_SPANS"))

    @property
    def SCRUB(self) -> Any:
        """The ``SCRUB`` dict with the keys it leaves out at their defaults.

        A value that is not a dict comes back as it is, for the checks to
        report and the scrubber to refuse.
        """
        value = self._get("SCRUB")
        if not isinstance(value, Mapping):
            return value
        # Copies of the default lists: a caller's change never reaches them.
        merged = copy.deepcopy(SCRUB_DEFAULTS)
        if value is not SCRUB_DEFAULTS:
            merged.update(value)
        return merged


conf = Settings()
