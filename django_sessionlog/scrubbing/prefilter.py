"""One pass over a row's text that says which detectors could find anything in it (Hyperscan, when installed).

Each detector names literals every match of it holds (``keywords``: ``ghp_``,
``ya29.``, ``password`` in any case). Python's regex engine pays a pass
over the text per detector; Hyperscan finds every detector's literals in
one pass (under a microsecond for a 4,000-character prompt), so the fast
test runs only the detectors whose literals occur: most rows hold none.
Without Hyperscan (``pip install 'django-sessionlog[scrub]'``) the
detectors' own cheap tests run instead: the same findings, more slowly.
"""

from __future__ import annotations

import bisect
import itertools
import logging
import re
import threading
from collections.abc import Sequence
from typing import Any

from .detector import Detector

logger = logging.getLogger("django_sessionlog")


def available() -> bool:
    """Whether Hyperscan can be imported."""
    try:
        import hyperscan  # noqa: F401
    except ImportError:
        return False
    return True


class _Database:
    """One compiled Hyperscan block database, every expression reported once, with a scratch per thread.

    Hyperscan's scratch space may not be shared by threads scanning at once.
    """

    def __init__(self, expressions: list[bytes], ids: list[int], flags: list[int]) -> None:
        import hyperscan

        self.terminated = hyperscan.ScanTerminated
        self._database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        self._database.compile(
            expressions=expressions,
            ids=ids,
            flags=[flag | hyperscan.HS_FLAG_SINGLEMATCH for flag in flags],
        )
        self._scratch = hyperscan.Scratch(self._database)
        self._local = threading.local()

    def scan(self, data: bytes, on_match: Any, context: Any) -> None:
        """Call ``on_match(id, start, end, flags, context)`` per hit; ``terminated`` when it returns true."""
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = self._scratch.clone()
        self._database.scan(data, on_match, context=context, scratch=scratch)


class Prefilter:
    """The detectors that have keywords, behind one Hyperscan database of them all."""

    def __init__(self, detectors: Sequence[Detector]) -> None:
        import hyperscan

        self.detectors = tuple(detectors)
        expressions: list[bytes] = []
        ids: list[int] = []
        flags: list[int] = []
        for index, detector in enumerate(self.detectors):
            for keyword in detector.keywords:
                expressions.append(_literal(keyword))
                ids.append(index)
                flags.append(hyperscan.HS_FLAG_CASELESS if detector.caseless else 0)
        self._database = _Database(expressions, ids, flags)
        self._gates: dict[int, _Database | None] = {}  # compiled on a detector's first keyword hit

    def candidates(self, text: str) -> list[Detector]:
        """The detectors whose keywords occur in ``text`` (and, if ``gated``, whose pattern may match), in order."""
        hits: set[int] = set()
        data = text.encode("utf-8", "surrogatepass")
        self._database.scan(data, _hit, hits)
        if hits and text.isascii():
            for index in [index for index in hits if self.detectors[index].gated]:
                if not self._may_match(index, data):
                    hits.discard(index)
        return [self.detectors[index] for index in sorted(hits)]

    def _may_match(self, index: int, data: bytes) -> bool:
        """Whether a gated detector's pattern may match ``data`` (an ASCII text), by Hyperscan.

        Its pattern is compiled in prefilter mode, which reports every match
        and perhaps more (lookarounds and back references it cannot run are
        widened). On ASCII text Hyperscan's ``\\w``, ``\\d``, ``\\b`` and case
        folding are Python's; its ``\\s`` may lack a few control characters
        Python's has, so a text holding one is always let through
        (``_PYTHON_SPACE``). A pattern Hyperscan cannot compile always is.
        """
        gate = self._gates.get(index, _UNCOMPILED)
        if gate is _UNCOMPILED:
            gate = self._gates[index] = _gate(self.detectors[index])
        if gate is None:
            return True
        found: set[int] = set()
        gate.scan(data, _hit, found)
        return bool(found)


class LineFilter:
    """Whether a row's raw JSON line certainly holds no keyword of the detectors given.

    ``scan`` reads millions of rows that hold nothing; collecting each
    row's strings, joining and encoding them costs more than decoding the
    row. The line as the file holds it already contains every string of
    the row, so one Hyperscan pass over its bytes for every keyword rules
    most rows out; a line with a hit takes the usual path. The bytes hide a
    keyword only where JSON escapes a character of it (``\\u0041``, ``\\/``):
    such a line is a hit too. Caseless keywords are ASCII-caseless here
    as in the decoded row's pass (``Prefilter``), so the two agree. The
    row's own usage keys (``"input_tokens":``) are no hit for ``token``:
    a JSON key is no text a detector reads (``KEYS`` are matched on the
    decoded artifact's keys instead).
    """

    def __init__(self, detectors: Sequence[Detector]) -> None:
        import hyperscan

        expressions = [_ESCAPES]
        flags = [0]
        for detector in detectors:
            for keyword in detector.keywords:
                expression = _literal(keyword)
                if keyword.lower() == "token":
                    expression += _NOT_A_COUNT_KEY
                expressions.append(expression)
                flags.append(hyperscan.HS_FLAG_CASELESS if detector.caseless else 0)
        self._database = _Database(expressions, list(range(len(expressions))), flags)

    def clean(self, lines: Sequence[bytes]) -> list[bool]:
        """For each line, whether no keyword (nor an escape that could hide one) occurs in it.

        The lines are searched as one text while none has a hit (a call
        into Hyperscan costs as much as half a row's bytes); from the first
        line with a hit, one at a time. No expression matches across a
        line's ``\\n``, so a hit is the line's where it ends.
        """
        database = self._database
        verdicts = [True] * len(lines)
        where: list[int] = []
        try:
            database.scan(b"".join(lines), _stop, where)
            return verdicts
        except database.terminated:  # the first hit stops the pass
            pass
        # The line whose bytes hold the hit's last byte: line i ends before ends[i].
        hit = bisect.bisect_right(list(itertools.accumulate(map(len, lines))), where[0] - 1)
        verdicts[hit] = False
        for index in range(hit + 1, len(lines)):
            try:
                database.scan(lines[index], _stop, where)
            except database.terminated:
                verdicts[index] = False
        return verdicts


#: A JSON escape that can stand for a keyword's character: ``\\u0041`` for any, ``\\/`` for ``/``.
_ESCAPES = rb"\\[u/]"
#: After ``token``, anything but the end of a key ``..._tokens":``: a key is no text a detector reads.
_NOT_A_COUNT_KEY = rb'(?:[^s]|s[^"]|s"[^:])'
#: What a keyword may hold for its bytes to be the bytes of its text in a JSON line.
_PLAIN_KEYWORD = re.compile(r"[ !#-\[\]-~]+\Z")


def _stop(index: int, start: int, end: int, flags: int, where: Any) -> bool:
    where.append(end)
    return True


def build_line_filter(detectors: Sequence[Detector]) -> LineFilter | None:
    """A ``LineFilter``, or ``None`` where it cannot decide for every detector (or without Hyperscan).

    A detector without keywords (personal data, a team's own pattern) may
    find anything anywhere, and a keyword holding ``"``, ``\\`` or a
    character outside printable ASCII is not its own bytes in JSON: no
    filter then.
    """
    if not detectors or not available():
        return None
    if not all(
        detector.keywords and all(_PLAIN_KEYWORD.match(keyword) for keyword in detector.keywords)
        for detector in detectors
    ):
        return None
    try:
        return LineFilter(detectors)
    except Exception:  # a Hyperscan that cannot compile here: scan takes the usual path
        logger.warning("Hyperscan could not compile the line filter; scanning without it", exc_info=True)
        return None


#: Characters Python's ``\\s`` matches that Hyperscan's may not: a text holding one passes every gate.
_PYTHON_SPACE = rb"[\x0b\x0c\x1c-\x1f]"
_UNCOMPILED: Any = object()


def _gate(detector: Detector) -> _Database | None:
    """A gated detector's pattern (and ``_PYTHON_SPACE``) in Hyperscan, or ``None`` where it cannot stand in."""
    import hyperscan

    pattern = detector.pattern
    try:
        return _Database(
            [pattern.pattern.encode("ascii"), _PYTHON_SPACE],
            [0, 1],
            [hyperscan.HS_FLAG_PREFILTER | hyperscan.HS_FLAG_ALLOWEMPTY, 0],
        )
    except (hyperscan.error, UnicodeEncodeError):
        logger.debug("Hyperscan cannot compile %s's pattern; it runs on every keyword hit", detector.name)
        return None


def _hit(index: int, start: int, end: int, flags: int, hits: Any) -> None:
    hits.add(index)


def _literal(keyword: str) -> bytes:
    """A keyword as a Hyperscan expression matching it literally."""
    return "".join(f"\\x{byte:02x}" for byte in keyword.encode("utf-8")).encode("ascii")


def build(detectors: Sequence[Detector]) -> Prefilter | None:
    """A prefilter of the detectors with keywords, or ``None`` without Hyperscan (or when it fails)."""
    with_keywords = [detector for detector in detectors if detector.keywords]
    if not with_keywords or not available():
        return None
    try:
        return Prefilter(with_keywords)
    except Exception:  # a Hyperscan that cannot compile here: the detectors' own tests still run
        logger.warning(
            "Hyperscan could not compile the scrubbing keywords; scrubbing without it", exc_info=True
        )
        return None
