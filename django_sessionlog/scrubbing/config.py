"""Configuration: a ``Scrubber`` from the ``SCRUB`` setting's parts, and what is wrong with them.

Nothing here compiles a built-in detector at import: the settings import
this module for their checks, and must cost nothing.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Mapping, Sequence
from typing import Any

from . import catalogue, gitleaks
from .catalogue import PII_NAMES
from .detector import Detector
from .engine import Scrubber

# The parsed form of a pattern, to tell nested repeats (``sre_parse`` is deprecated).
_parser: Any = importlib.import_module("re._parser")
_constants: Any = importlib.import_module("re._constants")

#: Artifact keys whose string values are replaced whole: an entry matches a
#: key that holds it, ignoring case and the separators ``-``, ``_``, ``.`` and
#: spaces (``password`` matches ``db_password``, ``api_key`` ``X-Api-Key``).
DEFAULT_KEYS = (
    "password",
    "passwd",
    "pwd",
    "passphrase",
    "secret",
    "token",
    "api_key",
    "apikey",
    "authorization",
    "cookie",
    "private_key",
    "credential",
)

#: What the name of a pattern of the team's own may be (it is shown in the marker).
PATTERN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}\Z")


def pattern_problem(name: object, regex: object) -> str | None:
    """What is wrong with a ``PATTERNS`` entry, or ``None``."""
    if not isinstance(name, str) or not PATTERN_NAME.match(name):
        return f"the name {name!r} is not 1 to 64 letters, digits, '_', '.' and '-' starting with a letter or digit"
    if not isinstance(regex, str):
        return f"{name!r} is {type(regex).__name__}, not a regular expression string"
    try:
        compiled = re.compile(regex)
    except re.error as exc:
        return f"{name!r} does not compile: {exc}"
    if compiled.fullmatch("") is not None:
        return f"{name!r} matches the empty string"
    return None


def backtracking_problem(name: str, regex: str) -> str | None:
    """Why ``regex`` may backtrack catastrophically on a long prompt, or ``None``.

    Python's ``re`` has no time limit, so a pattern such as ``(a+)+$`` or
    ``(\\w+\\s?)*x`` can hold a request for minutes. Refused: a quantifier
    that repeats more than once around a part that itself holds an
    unbounded quantifier (the nesting that makes the tries grow
    exponentially). Possessive quantifiers (``a++``) and atomic groups
    (``(?>...)``) never backtrack and are allowed, so every such pattern
    has a safe spelling. A pattern that does not compile is
    ``pattern_problem``'s to report.
    """
    try:
        parsed = _parser.parse(regex)
    except (re.error, OverflowError, RecursionError):
        return None
    found = _nested_repeat(list(parsed), inside=False)
    if found:
        return (
            f"{name!r} nests an unbounded quantifier inside a repeated group ({found}), which can "
            "backtrack for minutes on a long prompt"
        )
    return None


_REPEATS = {_constants.MAX_REPEAT, _constants.MIN_REPEAT}


def _nested_repeat(items: list[Any], inside: bool) -> str | None:
    """The first nested repeat in a parsed pattern (an explicit stack, not recursion)."""
    stack: list[tuple[list[Any], bool]] = [(items, inside)]
    while stack:
        nodes, under_repeat = stack.pop()
        for op, arg in nodes:
            if op in _REPEATS:
                _low, high, body = arg
                unbounded = high == _constants.MAXREPEAT
                if under_repeat and unbounded:
                    return "a '*', '+' or '{n,}' inside '*', '+' or '{n,m}'"
                stack.append((list(body), under_repeat or high > 1))
            elif op == _constants.SUBPATTERN:
                stack.append((list(arg[-1]), under_repeat))
            elif op == _constants.BRANCH:
                stack.extend((list(branch), under_repeat) for branch in arg[1])
            elif op in (_constants.ASSERT, _constants.ASSERT_NOT):
                stack.append((list(arg[1]), under_repeat))
            # POSSESSIVE_REPEAT and ATOMIC_GROUP never backtrack: not looked into.
    return None


def _anchored(pattern: re.Pattern[str]) -> bool:
    """Whether a pattern may find in a text alone what it misses in texts joined with newlines."""
    return bool(re.search(r"\^|\$|\\[AZ]|\(\?<?[=!]|\\n|\(\?[a-zA-Z]*m", pattern.pattern))


def build(
    *,
    secrets: bool = True,
    pii: Sequence[str] = (),
    patterns: Mapping[str, str] | None = None,
    keys: Sequence[str] = DEFAULT_KEYS,
    rules: str | None = None,
) -> Scrubber:
    """A ``Scrubber``: the default secrets (unless ``secrets`` is false), the PII named, the patterns and keys given.

    ``rules="gitleaks"`` adds gitleaks' rules after all of them (so a
    built-in detector names what both find).

    Raises ``ValueError`` or ``TypeError`` for anything it cannot use, so a
    broken configuration is never taken for "nothing to scrub".
    """
    if not isinstance(secrets, bool):
        raise TypeError(f"SECRETS must be True or False, not {secrets!r}")
    if isinstance(pii, str) or not isinstance(pii, Sequence):
        raise TypeError(f"PII must be a list of {', '.join(PII_NAMES)}, not {pii!r}")
    unknown = [name for name in pii if name not in PII_NAMES]
    if unknown:
        raise ValueError(f"PII holds {unknown!r}; known: {', '.join(PII_NAMES)}")
    if patterns is None:
        patterns = {}
    if not isinstance(patterns, Mapping):
        raise TypeError(f"PATTERNS must be a dict of NAME -> regular expression, not {patterns!r}")
    if isinstance(keys, str) or not isinstance(keys, Sequence) or not all(isinstance(k, str) for k in keys):
        raise TypeError(f"KEYS must be a list of strings, not {keys!r}")
    problem = rules_problem(rules)
    if problem:
        raise ValueError(f"RULES {problem}")
    pii_detectors = catalogue.pii() if pii else {}
    detectors: list[Detector] = list(catalogue.secrets()) if secrets else []
    detectors += [pii_detectors[name] for name in catalogue.PII_ORDER if name in pii]
    for name, regex in patterns.items():
        problem = pattern_problem(name, regex)
        if problem:
            raise ValueError(f"PATTERNS: {problem}")
        compiled = re.compile(regex)
        detectors.append(Detector(name, compiled, joinable=not _anchored(compiled)))
    if rules == gitleaks.NAME:
        detectors += gitleaks.detectors()
    return Scrubber(detectors, keys)


def rules_problem(rules: object) -> str | None:
    """What is wrong with a ``RULES`` value (``None`` or ``"gitleaks"``), or ``None``."""
    if rules is None or rules == gitleaks.NAME:
        return None
    return f"must be None or {gitleaks.NAME!r}, not {rules!r}"


def from_setting(
    setting: Mapping[str, Any], *, secrets: bool | None = None, rules: str | None = None
) -> Scrubber:
    """The ``Scrubber`` of a whole ``SCRUB`` setting (every key given, as the settings table completes it).

    ``secrets`` overrides the setting's ``SECRETS`` (``scan`` always looks
    for secrets); ``rules`` adds a rule set the setting's ``RULES`` does not.
    """
    if not isinstance(setting, Mapping):
        raise TypeError(f"SCRUB must be a dict, not {setting!r}")
    return build(
        secrets=setting["SECRETS"] if secrets is None else secrets,
        pii=setting["PII"],
        patterns=setting["PATTERNS"],
        keys=setting["KEYS"],
        rules=rules or setting.get("RULES"),
    )
