"""gitleaks' rule set as data: its ``gitleaks.toml`` (vendored, MIT) read into detectors, opt-in.

gitleaks keeps about 220 rules for services the built-in detectors do not
name (Adafruit to Zendesk). They are loaded as they are, not rewritten: each
rule becomes a detector ``gitleaks:<rule id>`` whose keywords go into the
one Hyperscan pass, so a rule's Go regex only runs on a text holding one
of them. A rule's ``secretGroup`` is what gets replaced, its ``entropy`` is
the least Shannon entropy (bits a character) that secret must have, and its
allowlists' ``regexes`` and ``stopwords`` leave look-alikes alone. A Go
regex Python's ``re`` cannot read, once the few spellings that differ are
translated (``\\z``, flags in the middle), is skipped and counted.
"""

from __future__ import annotations

import functools
import logging
import math
import re
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from importlib import resources
from typing import Any

import tomllib

from .detector import Detector, Span

logger = logging.getLogger("django_sessionlog")

#: The value of ``SCRUB['RULES']`` that adds them.
NAME = "gitleaks"
#: The prefix of their findings' names: ``[scrubbed:gitleaks:linear-api-key]``.
PREFIX = "gitleaks:"

_FLAGS_INSIDE = re.compile(r"\(\?([imsU]+)\)")
#: Go's ASCII classes inside a set (``[[:alnum:]_]``), as Python's ranges.
_POSIX_CLASSES = {
    "alnum": "0-9A-Za-z",
    "alpha": "A-Za-z",
    "ascii": "\\x00-\\x7f",
    "blank": "\\t ",
    "cntrl": "\\x00-\\x1f\\x7f",
    "digit": "0-9",
    "graph": "!-~",
    "lower": "a-z",
    "print": " -~",
    "punct": "!-/:-@\\[-`{-~",
    "space": "\\t\\n\\v\\f\\r ",
    "upper": "A-Z",
    "word": "0-9A-Za-z_",
    "xdigit": "0-9A-Fa-f",
}
_POSIX_CLASS = re.compile(r"\[:(" + "|".join(_POSIX_CLASSES) + r"):\]")


def translate(go: str) -> str:
    """A Go (RE2) regex in Python's spelling: ``\\z`` is ``\\Z``; ``(?i)`` past the start scopes the rest of its group; ``[[:alnum:]]`` is ``[0-9A-Za-z]``.

    Python refuses global flags anywhere but at the start; in Go they hold
    from where they stand to the end of the group around them, which
    ``(?i:...)`` around that rest says in Python.
    """
    out: list[str] = []
    closes: list[int] = [0]  # extra ')' each open group owes at its end (the outermost: the text's end)
    index = 0
    in_class = False
    size = len(go)
    while index < size:
        char = go[index]
        if char == "\\" and index + 1 < size:
            pair = go[index : index + 2]
            out.append(r"\Z" if pair == r"\z" else pair)
            index += 2
            continue
        if in_class:
            posix = _POSIX_CLASS.match(go, index)
            if posix is not None:  # Python reads "[[:alnum:]]" as a set of "[:alnum" and a "]"
                out.append(_POSIX_CLASSES[posix.group(1)])
                index = posix.end()
                continue
            if char == "]":
                in_class = False
            out.append(char)
        elif char == "[":
            in_class = True
            out.append(char)
            if go.startswith("^]", index + 1) or go.startswith("]", index + 1):
                skip = 2 if go[index + 1] == "^" else 1
                out.append(go[index + 1 : index + 1 + skip])
                index += skip
        elif char == "(":
            flags = _FLAGS_INSIDE.match(go, index)
            if flags is not None and index > 0:
                out.append(f"(?{flags.group(1)}:")
                closes[-1] += 1
                index = flags.end()
                continue
            closes.append(0)
            out.append(char)
        elif char == ")":
            out.append(")" * closes.pop())
            out.append(char)
            if not closes:
                closes.append(0)
        else:
            out.append(char)
        index += 1
    out.append(")" * sum(closes))
    return "".join(out)


def entropy(text: str) -> float:
    """Shannon entropy in bits a character, as gitleaks computes it."""
    if not text:
        return 0.0
    size = len(text)
    return -sum(count / size * math.log2(count / size) for count in Counter(text).values())


class RuleDetector(Detector):
    """A gitleaks rule: the group it replaces (its ``secretGroup``, else the first that took part)."""

    __slots__ = ("secret_group",)

    def __init__(self, name: str, pattern: re.Pattern[str], secret_group: int, **options: Any) -> None:
        super().__init__(name, pattern, **options)
        self.secret_group = secret_group

    def may_occur_in(self, text: str) -> bool:
        """Only a text holding one of its keywords, as gitleaks runs a rule (and as ``Scrubber.clean`` asks).

        Without this a token would be found in a row another finding had
        opened, and left in a row like it that held nothing else.
        """
        if self.keywords:
            lowered = _lowered(text)
            if not any(keyword in lowered for keyword in self.keywords):
                return False
        return super().may_occur_in(text)

    def secret_span(self, match: re.Match[str]) -> tuple[int, int]:
        """Where the secret is in ``match``: gitleaks' ``secretGroup``, else its first group that took part."""
        if self.secret_group:
            return match.span(self.secret_group)
        for group in range(1, (match.re.groups or 0) + 1):
            if match.start(group) >= 0:
                return match.span(group)
        return match.span()

    def _span(self, match: re.Match[str]) -> Span | None:
        if self.check is not None and not self.check(match):
            return None
        start, end = self.secret_span(match)
        return Span(start, end, self.name) if 0 <= start < end else None


_last_lowered: tuple[str, str] = ("", "")


def _lowered(text: str) -> str:
    """``text.lower()``, kept for the next rule: ``spans`` asks every rule of the same text in turn."""
    global _last_lowered
    last = _last_lowered  # one read: another thread may replace the pair
    if last[0] is text:
        return last[1]
    lowered = text.lower()
    _last_lowered = (text, lowered)
    return lowered


def _allowed(rule: dict[str, Any]) -> Callable[[str, str], bool]:
    """Whether a rule's allowlists let a finding go (the secret, the whole match): their regexes and stopwords."""
    tests: list[tuple[bool, list[Callable[[str, str], bool]]]] = []
    for allowlist in rule.get("allowlists", ()):
        parts: list[Callable[[str, str], bool]] = []
        on_match = allowlist.get("regexTarget") in ("match", "line")
        for regex in allowlist.get("regexes", ()):
            try:
                pattern = _compile(regex)
            except re.error:
                continue
            parts.append(_regex_test(pattern, on_match))
        stopwords = tuple(word.lower() for word in allowlist.get("stopwords", ()))
        if stopwords:
            parts.append(_stopword_test(stopwords))
        if parts:
            tests.append((allowlist.get("condition", "OR").upper() == "AND", parts))

    def allowed(secret: str, whole: str) -> bool:
        for every, parts in tests:
            if every and all(part(secret, whole) for part in parts):
                return True
            if not every and any(part(secret, whole) for part in parts):
                return True
        return False

    return allowed


def _regex_test(pattern: re.Pattern[str], on_match: bool) -> Callable[[str, str], bool]:
    def test(secret: str, whole: str) -> bool:
        return pattern.search(whole if on_match else secret) is not None

    return test


def _stopword_test(words: tuple[str, ...]) -> Callable[[str, str], bool]:
    def test(secret: str, whole: str) -> bool:
        low = secret.lower()
        return any(word in low for word in words)

    return test


def _compile(go: str) -> re.Pattern[str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # "possible nested set": plain in Go's syntax
        return re.compile(translate(go))


def _detector(rule: dict[str, Any], pattern: re.Pattern[str]) -> RuleDetector:
    minimum = float(rule.get("entropy", 0) or 0)
    allowed = _allowed(rule)
    holder: list[RuleDetector] = []

    def check(match: re.Match[str]) -> bool:
        start, end = holder[0].secret_span(match)
        secret = match.string[start:end]
        if minimum and entropy(secret) < minimum:
            return False
        return not allowed(secret, match.group())

    detector = RuleDetector(
        PREFIX + rule["id"],
        pattern,
        int(rule.get("secretGroup", 0) or 0),
        check=check,
        keywords=tuple(keyword.lower() for keyword in rule.get("keywords", ())),
        caseless=True,  # gitleaks compares its keywords with the lower-cased text
        gated=True,  # its regex has no cheap test, and keywords like "s." are in most prose
    )
    holder.append(detector)
    return detector


def _text() -> str:
    return resources.files(__package__).joinpath("rules", "gitleaks.toml").read_text("utf-8")


@functools.cache
def load() -> tuple[tuple[RuleDetector, ...], tuple[str, ...]]:
    """Every rule Python can run as a detector, and the ids of those skipped (compiled once, at first use)."""
    detectors: list[RuleDetector] = []
    skipped: list[str] = []
    for rule in tomllib.loads(_text())["rules"]:
        if "regex" not in rule:  # a rule of file paths only: nothing to find in a text
            skipped.append(rule["id"])
            continue
        try:
            pattern = _compile(rule["regex"])
        except re.error:
            skipped.append(rule["id"])
            continue
        detectors.append(_detector(rule, pattern))
    if skipped:
        logger.debug("gitleaks rules Python's re cannot run, skipped: %s", ", ".join(skipped))
    return tuple(detectors), tuple(skipped)


def detectors() -> Sequence[Detector]:
    """gitleaks' rules as detectors, in its file's order."""
    return load()[0]
