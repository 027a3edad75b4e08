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
- E010 ``SCRUB`` is not a dict, or has an unknown key
- E011 a ``SCRUB['PII']`` entry that is not one of email, phone, card, iban
- E012 a ``SCRUB['PATTERNS']`` entry that is not a regular expression one can use
- E013 ``SCRUB['KEYS']`` that is not a list of key names
- E014 ``SCRUB['SECRETS']`` that is not True or False
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

from . import paths, scrubbing, tracing
from .conf import DEFAULTS, SCRUB_DEFAULTS, conf

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
    if "SCRUB" in user:
        errors.extend(_check_scrub(user["SCRUB"]))
    return errors


def suggestion(key: object, known: Sequence[str] | Mapping[str, Any] = DEFAULTS) -> str | None:
    """The known key a mistyped one most likely meant (``raise_errors``, ``PTAH``)."""
    text = str(key).upper()
    names = list(known)
    if text in names:
        return text
    close = difflib.get_close_matches(text, names, n=1)
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


def _scrub_error(message: str, hint: str, number: int) -> Error:
    return Error(f"SESSIONLOG['SCRUB']{message}", hint=hint, id=f"django_sessionlog.E{number:03d}")


def _check_scrub(value: Any) -> list[CheckMessage]:
    """E010 to E014: the ``SCRUB`` dict, each of its keys in turn."""
    if not isinstance(value, Mapping):
        return [
            _scrub_error(
                f" must be a dict, not {type(value).__name__} ({value!r}).",
                'For example {"PII": ["email"]}; keys left out keep their defaults.',
                10,
            )
        ]
    errors: list[CheckMessage] = []
    for key in value:
        if key not in SCRUB_DEFAULTS:
            close = suggestion(key, SCRUB_DEFAULTS)
            guess = f" (did you mean {close!r}?)" if close else ""
            errors.append(
                _scrub_error(
                    f" has an unknown key {key!r}{guess}.",
                    "Known keys: " + ", ".join(SCRUB_DEFAULTS) + ".",
                    10,
                )
            )
    if "SECRETS" in value and not isinstance(value["SECRETS"], bool):
        secrets = value["SECRETS"]
        errors.append(
            _scrub_error(
                f"['SECRETS'] must be True or False, not {type(secrets).__name__} ({secrets!r}).",
                "True (the default) scrubs API keys, tokens, private keys and passwords in URLs.",
                14,
            )
        )
    errors.extend(_check_pii(value.get("PII", [])))
    errors.extend(_check_patterns(value.get("PATTERNS", {})))
    errors.extend(_check_keys(value.get("KEYS", [])))
    return errors


def _check_pii(pii: Any) -> list[CheckMessage]:
    known = ", ".join(scrubbing.PII_NAMES)
    if isinstance(pii, (str, bytes)) or not isinstance(pii, Sequence):
        return [
            _scrub_error(
                f"['PII'] must be a list, not {type(pii).__name__} ({pii!r}).",
                f"For example [{known!r}].",
                11,
            )
        ]
    errors: list[CheckMessage] = []
    for name in pii:
        if name in scrubbing.PII_NAMES:
            continue
        close = difflib.get_close_matches(str(name).lower(), scrubbing.PII_NAMES, n=1)
        guess = f" (did you mean {close[0]!r}?)" if close else ""
        errors.append(_scrub_error(f"['PII'] holds {name!r}{guess}.", f"Known: {known}.", 11))
    return errors


def _check_patterns(patterns: Any) -> list[CheckMessage]:
    hint = 'NAME -> regular expression, e.g. {"acme_token": r"acme_[A-Za-z0-9]{32}"}.'
    if not isinstance(patterns, Mapping):
        return [
            _scrub_error(
                f"['PATTERNS'] must be a dict, not {type(patterns).__name__} ({patterns!r}).", hint, 12
            )
        ]
    errors: list[CheckMessage] = []
    for name, regex in patterns.items():
        problem = scrubbing.pattern_problem(name, regex)
        if problem:
            errors.append(_scrub_error(f"['PATTERNS']: {problem}.", hint, 12))
    return errors


def _check_keys(keys: Any) -> list[CheckMessage]:
    hint = "A list of key names, e.g. " + repr(list(scrubbing.DEFAULT_KEYS[:3])) + "; [] turns the rule off."
    if isinstance(keys, (str, bytes)) or not isinstance(keys, Sequence):
        return [_scrub_error(f"['KEYS'] must be a list, not {type(keys).__name__} ({keys!r}).", hint, 13)]
    errors: list[CheckMessage] = []
    for key in keys:
        if not isinstance(key, str):
            errors.append(_scrub_error(f"['KEYS'] holds {key!r}, not a string.", hint, 13))
        elif not scrubbing.normal_key(key):
            # An empty entry would be part of every key and replace every value.
            errors.append(_scrub_error(f"['KEYS'] holds {key!r}, which names no key.", hint, 13))
    return errors


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
