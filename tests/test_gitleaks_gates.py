"""gitleaks' rules tried in Hyperscan before Python runs them: the gate may let too much through, never too little."""

from __future__ import annotations

import random
import string
import warnings
from collections.abc import Iterator
from re import _constants as c  # type: ignore[attr-defined]
from re import _parser  # type: ignore[attr-defined]
from typing import Any

import pytest

from django_sessionlog import scrubbing
from django_sessionlog.scrubbing import gitleaks, prefilter
from django_sessionlog.scrubbing.detector import Detector

from .needs import missing


@pytest.fixture(autouse=True)
def _hyperscan() -> None:
    if not prefilter.available():
        missing("hyperscan is not installed")


PROSE = (
    "Fill the Saturday night shift with three workers. Prefer workers who asked for nights; "
    "no one who worked the Friday late shift. Answer with one JSON object.\n"
)

_CLASS = {
    c.CATEGORY_DIGIT: string.digits,
    c.CATEGORY_NOT_DIGIT: string.ascii_letters + "-_.",
    c.CATEGORY_WORD: string.ascii_letters + string.digits + "_",
    c.CATEGORY_NOT_WORD: " -.:/=",
    c.CATEGORY_SPACE: " \t\n",
    c.CATEGORY_NOT_SPACE: string.ascii_letters + string.digits,
}
_PRINTABLE = string.ascii_letters + string.digits + "-_.=/+:"


class _Cannot(Exception):
    """A construct the generator below does not make text for."""


def _chars_of(items: list[Any]) -> str:
    chars = ""
    negate = False
    for op, value in items:
        if op is c.NEGATE:
            negate = True
        elif op is c.LITERAL:
            chars += chr(value)
        elif op is c.RANGE:
            chars += "".join(chr(x) for x in range(value[0], min(value[1], 126) + 1))
        elif op is c.CATEGORY:
            chars += _CLASS[value]
    if negate:
        chars = "".join(ch for ch in _PRINTABLE + " " if ch not in chars)
    return "".join(ch for ch in chars if ch.isascii()) or "a"


def _generate(items: Any, rng: random.Random) -> Iterator[str]:
    """Text the parsed pattern matches, more or less: only what Python then matches is asserted on."""
    for op, value in items:
        if op is c.LITERAL:
            yield chr(value)
        elif op is c.NOT_LITERAL:
            yield rng.choice([ch for ch in _PRINTABLE if ord(ch) != value])
        elif op is c.ANY:
            yield rng.choice(_PRINTABLE)
        elif op is c.IN:
            yield rng.choice(_chars_of(value))
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", None)):
            low, high, body = value
            high = low + 6 if high is c.MAXREPEAT else min(high, low + 6)
            for _ in range(rng.randint(low, high)):
                yield from _generate(body, rng)
        elif op is c.SUBPATTERN:
            yield from _generate(value[-1], rng)
        elif op is getattr(c, "ATOMIC_GROUP", None):
            yield from _generate(value, rng)
        elif op is c.BRANCH:
            yield from _generate(rng.choice(value[1]), rng)
        elif op is c.CATEGORY:
            yield rng.choice(_CLASS[value])
        elif op in (c.AT, c.ASSERT, c.ASSERT_NOT):
            continue
        else:
            raise _Cannot(str(op))


def _samples(detector: Detector, count: int, rng: random.Random) -> list[str]:
    """Texts of prose around text made from the detector's pattern, some with their letters' case swapped."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # "possible nested set": plain in gitleaks' Go
        parsed = _parser.parse(detector.pattern.pattern)
    texts: list[str] = []
    for index in range(count):
        try:
            made = "".join(_generate(parsed, rng))
        except _Cannot:
            return texts
        if index % 3 == 2:
            made = made.swapcase()
        before, after = rng.choice([("", ""), (" ", " "), ("key: ", "\n"), ('"', '"'), ("=", ";")])
        texts.append(PROSE + before + made + after + PROSE)
    return texts


def _gated() -> tuple[prefilter.Prefilter, list[int]]:
    database = prefilter.Prefilter(gitleaks.detectors())
    return database, [i for i, detector in enumerate(database.detectors) if detector.gated]


def test_every_gitleaks_rule_compiles_as_a_gate() -> None:
    database, gated = _gated()
    assert len(gated) == len(gitleaks.detectors())
    refused = [database.detectors[i].name for i in gated if prefilter._gate(database.detectors[i]) is None]
    assert refused == []


def test_a_gate_lets_through_every_text_the_rule_matches() -> None:
    """The rule the line filter and the keyword pass hold to: what Python would find is never ruled out."""
    rng = random.Random(11)
    database, gated = _gated()
    tried = 0
    for index in gated:
        detector = database.detectors[index]
        for text in _samples(detector, 24, rng):
            if detector.pattern.search(text) is None:
                continue
            tried += 1
            assert database._may_match(index, text.encode()), (detector.name, text)
    assert tried > 2_000  # most rules give matching texts: the property is really exercised


def test_a_gate_rules_out_prose_the_rule_does_not_match() -> None:
    database, gated = _gated()
    vault = next(i for i in gated if database.detectors[i].name == "gitleaks:vault-service-token")
    assert "s." in PROSE  # the rule's keyword: without the gate, its regex runs over this text
    assert not database._may_match(vault, PROSE.encode())
    assert gitleaks.detectors()[0] not in database.candidates(PROSE * 20)
    assert all(not d.gated for d in database.candidates(PROSE * 20))


@pytest.mark.parametrize("char", ["\x0b", "\x0c", "\x1c", "\x1f"])
def test_a_control_character_pythons_space_class_holds_opens_every_gate(char: str) -> None:
    database, gated = _gated()
    vault = next(i for i in gated if database.detectors[i].name == "gitleaks:vault-service-token")
    assert database._may_match(vault, (PROSE + char).encode())


def test_text_outside_ascii_is_not_gated() -> None:
    """Hyperscan without UTF-8 mode reads bytes; Python's classes are Unicode: only ASCII text is gated."""
    database, _ = _gated()
    names = {d.name for d in database.candidates(PROSE + "Müller")}
    assert "gitleaks:vault-service-token" in names
    assert "gitleaks:vault-service-token" not in {d.name for d in database.candidates(PROSE + "Muller")}


def test_the_fast_test_says_with_gates_what_it_says_without(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every text made from a rule, with its keyword in it: ``clean`` answers alike, and never over a finding."""
    rng = random.Random(5)
    scrubber = scrubbing.build(rules="gitleaks")
    texts = [PROSE, PROSE * 10]
    for detector in gitleaks.detectors():
        keyword = rng.choice(detector.keywords) if detector.keywords else ""
        texts += [keyword + " " + text for text in _samples(detector, 2, rng)]
    gated = [scrubber.clean([text]) for text in texts]
    monkeypatch.setattr(prefilter.Prefilter, "_may_match", lambda self, index, data: True)
    assert [scrubber.clean([text]) for text in texts] == gated
    assert False in gated
    assert True in gated
    for text, clean in zip(texts, gated, strict=True):
        if clean:
            assert not scrubber.spans(text), text


def test_a_rule_finds_nothing_in_a_text_without_its_keywords() -> None:
    """As gitleaks runs its rules, and as the fast test asks: found in no row, or in every row like it."""
    token = "pat" + "Ex4mpleKey0Abc" + "." + "0123456789abcdef" * 4
    scrubber = scrubbing.build(rules="gitleaks")
    opened = "sk-proj-" + "Ex4mpleKey" * 4  # a finding of its own, which sends the row to spans
    assert "[scrubbed:gitleaks:" not in scrubber.scrub(f"{opened} pat {token}")
    assert (
        scrubber.scrub(f"airtable {token}") == "airtable [scrubbed:gitleaks:airtable-personnal-access-token]"
    )
