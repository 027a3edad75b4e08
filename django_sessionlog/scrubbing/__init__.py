"""Secrets and personal data in text, found and replaced: one package, one job per module.

- ``detector``: one kind of secret, a pattern and the cheap tests before it;
- ``catalogue``: the built-in detectors, compiled on first use;
- ``engine``: the ``Scrubber`` over texts and a row's parts;
- ``walker``: one walk over an artifact at any depth, for all of them;
- ``prefilter``: one Hyperscan pass over every detector's keywords, when installed;
- ``gitleaks``: gitleaks' rule set (vendored data), opt-in as ``SCRUB['RULES']``;
- ``config``: a ``Scrubber`` from ``SCRUB``'s parts, and their problems.

Importing it compiles nothing: the settings import it for their checks.
"""

from __future__ import annotations

from typing import Any

from . import gitleaks, prefilter
from .catalogue import PII_NAMES, iban_checksum, luhn
from .config import (
    DEFAULT_KEYS,
    PATTERN_NAME,
    backtracking_problem,
    build,
    from_setting,
    pattern_problem,
    rules_problem,
)
from .detector import Detector, Span
from .engine import MARKER, Finding, Scrubbed, Scrubber, normal_key
from .walker import CYCLE, walk

__all__ = [
    "CYCLE",
    "DEFAULT_KEYS",
    "MARKER",
    "PATTERN_NAME",
    "PII_NAMES",
    "Detector",
    "Finding",
    "Scrubbed",
    "Scrubber",
    "Span",
    "backtracking_problem",
    "build",
    "from_setting",
    "gitleaks",
    "iban_checksum",
    "luhn",
    "normal_key",
    "pattern_problem",
    "prefilter",
    "rules_problem",
    "walk",
]


def __getattr__(name: str) -> Any:
    """``SECRETS`` and ``PII``, the built-in detectors, compiled at their first use."""
    from . import catalogue

    if name == "SECRETS":
        return catalogue.secrets()
    if name == "PII":
        return catalogue.pii()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
