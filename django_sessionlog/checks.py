"""System checks for ``SESSIONLOG``: a wrong setting fails at start-up.

Each problem is one ``Error`` with a stable id, so a project can silence
one on purpose (``SILENCED_SYSTEM_CHECKS``) and a CI log can be searched:

- E001 ``SESSIONLOG`` is not a dict
- E002 an unknown key (a typo would otherwise be silently ignored)
- E003 a value of the wrong type
- E004 a dotted path that does not import, or is not callable
- E005 a ``SAMPLE_RATES`` entry that is not a number from 0 to 1
- E006 a ``TRACE_URL`` that is not an http(s) template
- E007 a ``PATH`` with a placeholder other than ``{date}`` and ``{host}``
- E008 a ``FILE_MODE`` outside 0 to 0o777
- E009 a ``TRACE_HEADER`` that is not an HTTP header name
- E015 ``OTEL_SPANS`` on without ``opentelemetry-api`` installed
"""

from __future__ import annotations

import difflib
import logging
import os
import re
from collections.abc import Mapping, Sequence
from typing import Any

from django.apps import AppConfig
from django.core.checks import CheckMessage, Error
from django.utils.module_loading import import_string

from . import paths, tracing
from .conf import DEFAULTS, conf

_TYPES: dict[str, tuple[type, ...]] = {
    "PATH": (str, os.PathLike),
    "DAEMON": (str,),
    "ROSTER_CHECKS": (Mapping,),
    "FILE_MODE": (int,),
    "REDACT": (str,),
    "SAMPLE_RATES": (Mapping,),
    "RAISE_ERRORS": (bool,),
    "TRACE_URL": (str,),
    "TRACE_HEADER": (str,),
    "OTEL_SPANS": (bool,),
}
_TYPE_NAMES = {
    "PATH": "a string (or a path)",
    "DAEMON": "a string",
    "ROSTER_CHECKS": "a dict of kind -> dotted path",
    "FILE_MODE": "an integer such as 0o640",
    "REDACT": "a dotted path string",
    "SAMPLE_RATES": "a dict of kind -> share from 0.0 to 1.0",
    "RAISE_ERRORS": "True or False",
    "TRACE_URL": "a string",
    "TRACE_HEADER": "a string",
    "OTEL_SPANS": "True or False",
}
logger = logging.getLogger("django_sessionlog")

_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+\Z")


def check_settings(
    app_configs: Sequence[AppConfig] | None = None,
    databases: Sequence[str] | None = None,
    **kwargs: Any,
) -> list[CheckMessage]:
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
            close = suggestion(key)
            guess = f" (did you mean {close!r}?)" if close else ""
            errors.append(
                Error(
                    f"SESSIONLOG has an unknown key {key!r}{guess}.",
                    hint="Known keys: " + ", ".join(DEFAULTS) + ".",
                    id="django_sessionlog.E002",
                )
            )
    for key, types in _TYPES.items():
        if key not in user:
            continue
        value = user[key]
        wrong_bool = isinstance(value, bool) and bool not in types
        if not isinstance(value, types) or wrong_bool:
            errors.append(
                Error(
                    f"SESSIONLOG[{key!r}] must be {_TYPE_NAMES[key]}, "
                    f"not {type(value).__name__} ({value!r}).",
                    hint=f"The default is {_shown(key, DEFAULTS[key])}.",
                    id="django_sessionlog.E003",
                )
            )
            continue
        errors.extend(_VALUE_CHECKS.get(key, _no_check)(value))
    return errors


def suggestion(key: object) -> str | None:
    """The known key a mistyped one most likely meant (``raise_errors``, ``PTAH``)."""
    text = str(key).upper()
    if text in DEFAULTS:
        return text
    close = difflib.get_close_matches(text, DEFAULTS, n=1)
    return close[0] if close else None


def problems() -> list[str]:
    """What the checks find, one line each: for start-up logs and the commands' messages.

    Servers (gunicorn, uWSGI, ASGI) never run the system checks, and the
    ``sessionlog`` commands skip them to read logs while settings are being
    fixed; a misspelled key must still be named somewhere.
    """
    return [f"{message.msg} [{message.id}]" for message in check_settings()]


def log_problems() -> None:
    """Log what the checks find at ERROR, once, from ``AppConfig.ready()``.

    On the ``django_sessionlog`` logger, which Python's last-resort handler
    prints to stderr even when the host configured no logging.
    """
    found = check_settings()
    if not found:
        return
    for message in found:
        logger.error("django_sessionlog: %s [%s] Hint: %s", message.msg, message.id, message.hint)
    if not conf.PATH:
        logger.error("django_sessionlog: sessions are not logged: SESSIONLOG['PATH'] is not set.")


def _shown(key: str, value: Any) -> str:
    return oct(value) if key == "FILE_MODE" else repr(value)


def _no_check(value: Any) -> list[CheckMessage]:
    return []


def _check_dotted(setting: str, dotted: Any) -> list[CheckMessage]:
    if not isinstance(dotted, str) or not dotted:
        return [
            Error(
                f"{setting} must be a dotted path string, not {dotted!r}.",
                hint='For example "myapp.roster.grounded".',
                id="django_sessionlog.E003",
            )
        ]
    try:
        target = import_string(dotted)
    except Exception as exc:  # an ImportError, or whatever the module raises on import
        return [
            Error(
                f"{setting} = {dotted!r} does not import: {type(exc).__name__}: {exc}",
                hint="Give the dotted path of a function, module and name: 'package.module.function'.",
                id="django_sessionlog.E004",
            )
        ]
    if not callable(target):
        return [
            Error(
                f"{setting} = {dotted!r} is not callable.",
                hint="Point it at a function.",
                id="django_sessionlog.E004",
            )
        ]
    return []


def _check_roster_checks(value: Mapping[Any, Any]) -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    for kind, dotted in value.items():
        errors.extend(_check_dotted(f"SESSIONLOG['ROSTER_CHECKS'][{kind!r}]", dotted))
    return errors


def _check_redact(value: str) -> list[CheckMessage]:
    return _check_dotted("SESSIONLOG['REDACT']", value) if value else []


def _check_sample_rates(value: Mapping[Any, Any]) -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    for kind, rate in value.items():
        if isinstance(rate, bool) or not isinstance(rate, (int, float)):
            problem = f"is {type(rate).__name__} ({rate!r}), not a number"
        elif not 0.0 <= rate <= 1.0:  # also refuses NaN
            problem = f"is {rate!r}, outside 0.0 to 1.0"
        else:
            continue
        errors.append(
            Error(
                f"SESSIONLOG['SAMPLE_RATES'][{kind!r}] {problem}.",
                hint="A rate is the share of accepted sessions kept: 1.0 keeps all, 0.1 one in ten.",
                id="django_sessionlog.E005",
            )
        )
    return errors


def _check_trace_url(value: str) -> list[CheckMessage]:
    if not value:
        return []
    problem = ""
    if not value.lower().startswith(("http://", "https://")):
        problem = "must start with http:// or https://"
    else:
        try:
            fields = set(paths.template_fields(value))
        except ValueError as exc:
            fields, problem = set(), f"is not a valid template ({exc})"
        if not problem and fields != {"session_id"}:
            problem = "must hold {session_id} and no other placeholder"
    if not problem:
        return []
    return [
        Error(
            f"SESSIONLOG['TRACE_URL'] = {value!r} {problem}.",
            hint='For example "https://langfuse.example.com/trace/{session_id}".',
            id="django_sessionlog.E006",
        )
    ]


def _check_path(value: str | os.PathLike[str]) -> list[CheckMessage]:
    template = os.fspath(value)
    try:
        unknown = paths.unknown_placeholders(template)
    except ValueError as exc:
        unknown, problem = [], f"is not a valid template ({exc})"
    else:
        problem = f"has unknown placeholders {unknown}" if unknown else ""
    if not problem:
        return []
    return [
        Error(
            f"SESSIONLOG['PATH'] = {template!r} {problem}.",
            hint="PATH may hold {date} (the row's UTC day) and {host} (this machine's name).",
            id="django_sessionlog.E007",
        )
    ]


def _check_file_mode(value: int) -> list[CheckMessage]:
    if 0 <= value <= 0o777:
        return []
    return [
        Error(
            f"SESSIONLOG['FILE_MODE'] = {_shown('FILE_MODE', value)} is not a file mode.",
            hint="Give permission bits from 0 to 0o777, such as 0o640.",
            id="django_sessionlog.E008",
        )
    ]


def _check_trace_header(value: str) -> list[CheckMessage]:
    if _HEADER_NAME.match(value):
        return []
    return [
        Error(
            f"SESSIONLOG['TRACE_HEADER'] = {value!r} is not an HTTP header name.",
            hint='For example "X-Lakehouse-Trace-Id".',
            id="django_sessionlog.E009",
        )
    ]


def _check_otel_spans(value: bool) -> list[CheckMessage]:
    # Only asked when spans are wanted: with OTEL_SPANS off nothing imports
    # OpenTelemetry, installed or not.
    if not value or tracing.available():
        return []
    return [
        Error(
            "SESSIONLOG['OTEL_SPANS'] is True, but opentelemetry-api is not installed: "
            "no session would get a span.",
            hint="pip install 'django-sessionlog[otel]' and configure an OpenTelemetry SDK, "
            "or set OTEL_SPANS to False.",
            id="django_sessionlog.E015",
        )
    ]


_VALUE_CHECKS: dict[str, Any] = {
    "ROSTER_CHECKS": _check_roster_checks,
    "REDACT": _check_redact,
    "SAMPLE_RATES": _check_sample_rates,
    "TRACE_URL": _check_trace_url,
    "PATH": _check_path,
    "FILE_MODE": _check_file_mode,
    "TRACE_HEADER": _check_trace_header,
    "OTEL_SPANS": _check_otel_spans,
}
