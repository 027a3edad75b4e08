"""The ``SESSIONLOG`` setting: one table of its keys, each with its default, type and check.

``Settings`` below is the table: a row per key (``PATH = Setting(...)``)
gives its default, the types a value may have, the type in words for the
message when it has another, and what else a value of the right type may
get wrong. ``SCRUB_OPTIONS`` is the same for the keys of ``SCRUB``.
Everything else derives from it: the accessors (``conf.PATH``), the system
checks (``checks.py``) and every default the write and read paths use.
Adding a key is adding a row.

Each accessor reads ``django.conf.settings`` when it is used, so
``override_settings`` in a test just works. Reading never refuses a value:
the checks report a wrong one at start-up, with its id and a hint, and a
value of the wrong type reads as the key's default (``RAISE_ERRORS =
"False"`` is not ``True``).

The check ids, stable so that a project can silence one on purpose
(``SILENCED_SYSTEM_CHECKS``) and a CI log can be searched:

- E001 ``SESSIONLOG`` is not a dict
- E002 an unknown key (a typo would otherwise be silently ignored)
- E003 a value of the wrong type
- E004 a dotted path that does not import, or is not callable
- E005 a ``SAMPLE_RATES`` entry that is not a number from 0 to 1
- E006 a ``TRACE_URL`` that is not an http(s) template
- E007 a ``PATH`` with a placeholder other than ``{date}`` and ``{host}``
- E008 a ``FILE_MODE`` outside 0 to 0o777
- E009 a ``TRACE_HEADER`` that is not an HTTP header name, or holds ``_`` (servers drop it)
- E010 ``SCRUB`` is not a dict, or has an unknown key
- E011 a ``SCRUB['PII']`` entry that is not one of email, phone, card, iban
- E012 a ``SCRUB['PATTERNS']`` entry that is not a regular expression one can use
- E013 ``SCRUB['KEYS']`` that is not a list of key names
- E014 ``SCRUB['SECRETS']`` that is not True or False
- E015 ``OTEL_SPANS`` on without ``opentelemetry-api`` installed
- E016 a ``PRICES`` entry with an unknown, missing or misplaced key
- E017 a ``PRICES`` price that is negative, infinite or not a number
- E018 a ``SCRUB['PATTERNS']`` entry that may backtrack catastrophically
- E019 ``SCRUB['RULES']`` other than None or "gitleaks", or "gitleaks" without Hyperscan installed
"""

from __future__ import annotations

import copy
import difflib
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, overload

from django.conf import settings
from django.core.checks import CheckMessage, Error
from django.utils.module_loading import import_string

from . import paths, scrubbing, tracing
from .row import MIN_SAMPLE_RATE

T = TypeVar("T")
Check = Callable[[Any], list[CheckMessage]]


def _no_check(value: Any) -> list[CheckMessage]:
    return []


def _as_is(value: Any) -> Any:
    return value


def _text(value: Any) -> str:
    return str(value or "")


def suggestion(key: object, known: Sequence[str]) -> str | None:
    """The known key a mistyped one most likely meant (``raise_errors``, ``PTAH``)."""
    text = str(key).upper()
    if text in known:
        return text
    close = difflib.get_close_matches(text, list(known), n=1)
    return close[0] if close else None


def _error(message: str, hint: str, number: int) -> Error:
    return Error(message, hint=hint, id=f"django_sessionlog.E{number:03d}")


# ---------------------------------------------------------------------------
# What a value of the right type may still get wrong, key by key


def _check_dotted(setting: str, dotted: Any) -> list[CheckMessage]:
    if not isinstance(dotted, str) or not dotted:
        return [
            _error(
                f"{setting} must be a dotted path string, not {dotted!r}.",
                'For example "myapp.roster.grounded".',
                3,
            )
        ]
    try:
        target = import_string(dotted)
    except Exception as exc:  # an ImportError, or whatever the module raises on import
        return [
            _error(
                f"{setting} = {dotted!r} does not import: {type(exc).__name__}: {exc}",
                "Give the dotted path of a function, module and name: 'package.module.function'.",
                4,
            )
        ]
    if not callable(target):
        return [_error(f"{setting} = {dotted!r} is not callable.", "Point it at a function.", 4)]
    return []


def _check_roster_checks(value: Mapping[Any, Any]) -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    for kind, dotted in value.items():
        if not isinstance(kind, str):
            errors.append(
                _error(
                    f"SESSIONLOG['ROSTER_CHECKS'] has the key {kind!r}, which is not a kind: "
                    "no session would ever be checked by it.",
                    'Keys are the sessions\' kinds, strings such as "fill".',
                    3,
                )
            )
            continue
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
        elif 0.0 < rate < MIN_SAMPLE_RATE:
            problem = f"is {rate!r}, below 2**-64: it keeps no session (readers refuse such a rate)"
        else:
            continue
        errors.append(
            _error(
                f"SESSIONLOG['SAMPLE_RATES'][{kind!r}] {problem}.",
                "A rate is the share of accepted sessions kept: 1.0 keeps all, 0.1 one in ten.",
                5,
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
        _error(
            f"SESSIONLOG['TRACE_URL'] = {value!r} {problem}.",
            'For example "https://langfuse.example.com/trace/{session_id}".',
            6,
        )
    ]


def _check_path(value: str | os.PathLike[str]) -> list[CheckMessage]:
    template = os.fspath(value)
    try:
        unknown = paths.unknown_placeholders(template)
    except ValueError as exc:
        problem = f"is not a valid template ({exc})"
    else:
        problem = f"has unknown placeholders {unknown}" if unknown else ""
    if not problem:
        return []
    return [
        _error(
            f"SESSIONLOG['PATH'] = {template!r} {problem}.",
            "PATH may hold {date} (the row's UTC day, YYYY-MM-DD) and {host} (this machine's name), "
            "each without a format spec.",
            7,
        )
    ]


def _check_file_mode(value: int) -> list[CheckMessage]:
    if 0 <= value <= 0o777:
        return []
    return [
        _error(
            f"SESSIONLOG['FILE_MODE'] = {oct(value)} is not a file mode.",
            f"Give permission bits from 0 to 0o777, such as {oct(Settings.FILE_MODE.default)}.",
            8,
        )
    ]


_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+\Z")


def _check_trace_header(value: str) -> list[CheckMessage]:
    if not _HEADER_NAME.match(value):
        problem = "is not an HTTP header name"
    elif "_" in value:
        # WSGI and ASGI servers (and nginx) drop such a header, or cannot tell it from one with "-".
        problem = "holds '_', which servers drop from requests: Django would never see it"
    else:
        return []
    return [
        _error(
            f"SESSIONLOG['TRACE_HEADER'] = {value!r} {problem}.",
            f"For example {Settings.TRACE_HEADER.default!r}.",
            9,
        )
    ]


def _check_otel_spans(value: bool) -> list[CheckMessage]:
    # Only asked when spans are wanted: with OTEL_SPANS off nothing imports
    # OpenTelemetry, installed or not.
    if not value or tracing.available():
        return []
    return [
        _error(
            "SESSIONLOG['OTEL_SPANS'] is True, but opentelemetry-api is not installed: "
            "no session would get a span.",
            "pip install 'django-sessionlog[otel]' and configure an OpenTelemetry SDK, "
            "or set OTEL_SPANS to False.",
            15,
        )
    ]


def _check_prices(value: Mapping[Any, Any]) -> list[CheckMessage]:
    # The rule lives with the prices (read/figures/cost.py), imported only when checked.
    from .read.figures.cost import price_problems

    problems = price_problems(value)
    unknown = [p for p in problems if "unknown price keys" in p or "lacks" in p or "not a model" in p]
    return [
        _error(
            f"SESSIONLOG['PRICES'] {problem}.",
            "Prices are USD per million tokens by model, e.g. "
            "{'qwen2.5-coder:14b': {'input_per_mtok': 0.0, 'output_per_mtok': 0.0}}; keys: "
            "input_per_mtok, output_per_mtok, cache_read_per_mtok, cache_write_per_mtok.",
            16 if problem in unknown else 17,
        )
        for problem in problems
    ]


# --- SCRUB's own keys --------------------------------------------------------


def _scrub_error(message: str, hint: str, number: int) -> Error:
    return _error(f"SESSIONLOG['SCRUB']{message}", hint, number)


def _check_secrets(secrets: Any) -> list[CheckMessage]:
    if isinstance(secrets, bool):
        return []
    return [
        _scrub_error(
            f"['SECRETS'] must be True or False, not {type(secrets).__name__} ({secrets!r}).",
            "True (the default) scrubs API keys, tokens, private keys and passwords in URLs.",
            14,
        )
    ]


def _check_pii(pii: Any) -> list[CheckMessage]:
    known = ", ".join(scrubbing.PII_NAMES)
    if isinstance(pii, (str, bytes)) or not isinstance(pii, Sequence):
        return [
            _scrub_error(
                f"['PII'] must be a list, not {type(pii).__name__} ({pii!r}).",
                f"For example ['email']; known: {known}.",
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
            continue
        slow = scrubbing.backtracking_problem(name, regex)
        if slow:
            safe = "Make the inner quantifier possessive (a++) or the group atomic ((?>...))."
            errors.append(_scrub_error(f"['PATTERNS']: {slow}.", safe, 18))
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


def _check_rules(rules: Any) -> list[CheckMessage]:
    problem = scrubbing.rules_problem(rules)
    if problem:
        return [
            _scrub_error(
                f"['RULES'] {problem}.",
                "None (the default: the built-in detectors only) or 'gitleaks' (gitleaks' rules too).",
                19,
            )
        ]
    if rules is not None and not scrubbing.prefilter.available():
        # Without the one-pass prefilter each of some 220 rules would run on every row.
        return [
            _scrub_error(
                "['RULES'] is 'gitleaks', but Hyperscan is not installed: each of its rules would "
                "run on every row.",
                "pip install 'django-sessionlog[scrub]', or set RULES to None.",
                19,
            )
        ]
    return []


@dataclass(frozen=True)
class Option:
    """A key of ``SCRUB``: its default, and the check of a value (its type too)."""

    name: str
    default: Any
    check: Check


#: SCRUB's keys, in the order their problems are reported; one left out has its default.
SCRUB_OPTIONS: tuple[Option, ...] = (
    Option("SECRETS", True, _check_secrets),
    Option("PII", [], _check_pii),
    Option("PATTERNS", {}, _check_patterns),
    Option("KEYS", list(scrubbing.DEFAULT_KEYS), _check_keys),
    Option("RULES", None, _check_rules),
)


def _check_scrub(value: Any) -> list[CheckMessage]:
    """E010 to E014, E018 and E019: the ``SCRUB`` dict, each key it gives in turn."""
    if not isinstance(value, Mapping):
        return [
            _scrub_error(
                f" must be a dict, not {type(value).__name__} ({value!r}).",
                'For example {"PII": ["email"]}; keys left out keep their defaults.',
                10,
            )
        ]
    names = [option.name for option in SCRUB_OPTIONS]
    errors: list[CheckMessage] = []
    for key in value:
        if key not in names:
            close = suggestion(key, names)
            guess = f" (did you mean {close!r}?)" if close else ""
            errors.append(
                _scrub_error(f" has an unknown key {key!r}{guess}.", f"Known keys: {', '.join(names)}.", 10)
            )
    for option in SCRUB_OPTIONS:
        if option.name in value:
            errors.extend(option.check(value[option.name]))
    return errors


def _with_scrub_defaults(value: Any) -> Any:
    """The ``SCRUB`` dict with the keys it leaves out at their defaults.

    A value that is not a dict comes back as it is, for the checks to
    report and the scrubber to refuse. The defaults are copies: a caller's
    change never reaches them.
    """
    if not isinstance(value, Mapping):
        return value
    if value is Settings.SCRUB.default:
        value = {}
    merged = {o.name: value[o.name] if o.name in value else copy.deepcopy(o.default) for o in SCRUB_OPTIONS}
    merged.update(value)
    return merged


# ---------------------------------------------------------------------------
# The table


class Setting(Generic[T]):
    """A row of the table: a key of ``SESSIONLOG``, read as ``conf.KEY``.

    ``types`` is what a value must be (E003 otherwise; ``()`` leaves the
    type to ``check``), ``described`` that in words (``{default}`` in it
    is the default, as ``shown`` shows it); ``check`` is what else
    a value of the right type may get wrong; ``read`` turns the value into
    what the accessor gives.
    """

    name: str

    def __init__(
        self,
        default: Any,
        types: tuple[type, ...],
        described: str,
        read: Callable[[Any], T],
        check: Check = _no_check,
        shown: Callable[[Any], str] = repr,
    ) -> None:
        self.default = default
        self.types = types
        self.described = described
        self.read = read
        self.check = check
        self.shown = shown

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type) -> Setting[T]: ...
    @overload
    def __get__(self, instance: Settings, owner: type) -> T: ...
    def __get__(self, instance: Settings | None, owner: type) -> Setting[T] | T:
        if instance is None:
            return self
        value = self.value()
        if self.types and (
            not isinstance(value, self.types) or (value.__class__ is bool and bool not in self.types)
        ):
            # A value of the wrong type (E003 at start-up) reads as the default:
            # the string "False" is not True, and a mode given as text must not cost every row.
            value = self.default
        return self.read(value)

    def value(self) -> Any:
        """The value as the settings hold it (the very object), or the default."""
        user = getattr(settings, "SESSIONLOG", None)
        if isinstance(user, Mapping) and self.name in user:
            return user[self.name]
        return self.default

    def problems(self, value: Any) -> list[CheckMessage]:
        """What is wrong with ``value`` for this key: its type (E003), then ``check``."""
        wrong_bool = isinstance(value, bool) and bool not in self.types
        if self.types and (not isinstance(value, self.types) or wrong_bool):
            shown = self.shown(self.default)
            return [
                _error(
                    f"SESSIONLOG[{self.name!r}] must be {self.described.format(default=shown)}, "
                    f"not {type(value).__name__} ({value!r}).",
                    f"The default is {shown}.",
                    3,
                )
            ]
        return self.check(value)


class Settings:
    """The table of ``SESSIONLOG``'s keys, in the order the docs give them; ``conf.KEY`` reads one."""

    PATH = Setting("", (str, os.PathLike), "a string (or a path)", _text, _check_path)
    DAEMON = Setting("validatord", (str,), "a string", str)
    ROSTER_CHECKS: Setting[Mapping[str, str]] = Setting(
        {}, (Mapping,), "a dict of kind -> dotted path", _as_is, _check_roster_checks
    )
    FILE_MODE = Setting(0o640, (int,), "an integer such as {default}", int, _check_file_mode, shown=oct)
    REDACT = Setting("", (str,), "a dotted path string", _text, _check_redact)
    SAMPLE_RATES: Setting[Mapping[str, float]] = Setting(
        {}, (Mapping,), "a dict of kind -> share from 0.0 to 1.0", _as_is, _check_sample_rates
    )
    RAISE_ERRORS = Setting(False, (bool,), "True or False", bool)
    TRACE_URL = Setting("", (str,), "a string", _text, _check_trace_url)
    TRACE_HEADER = Setting("X-Lakehouse-Trace-Id", (str,), "a string", str, _check_trace_header)
    OTEL_SPANS = Setting(False, (bool,), "True or False", bool, _check_otel_spans)
    PRICES: Setting[Mapping[str, Mapping[str, float]]] = Setting(
        {}, (Mapping,), "a dict of model -> prices in USD per million tokens", _as_is, _check_prices
    )
    SCRUB: Setting[Any] = Setting(
        {option.name: option.default for option in SCRUB_OPTIONS},
        (),  # its check tells a wrong type (E010) and each of its keys
        "a dict",
        _with_scrub_defaults,
        _check_scrub,
    )

    @classmethod
    def table(cls) -> Iterator[Setting[Any]]:
        """Every row, in order."""
        for value in vars(cls).values():
            if isinstance(value, Setting):
                yield value


#: Each key's default, by name.
DEFAULTS: dict[str, Any] = {row.name: row.default for row in Settings.table()}

conf = Settings()
