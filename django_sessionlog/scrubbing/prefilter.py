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

import logging
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
                flags.append(
                    hyperscan.HS_FLAG_SINGLEMATCH | (hyperscan.HS_FLAG_CASELESS if detector.caseless else 0)
                )
        self._database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        self._database.compile(expressions=expressions, ids=ids, flags=flags)
        self._scratch = hyperscan.Scratch(self._database)
        self._local = threading.local()

    def candidates(self, text: str) -> list[Detector]:
        """The detectors whose keywords occur in ``text``, in their order."""
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:  # one scratch a thread: Hyperscan's scratch is not shared
            scratch = self._local.scratch = self._scratch.clone()
        hits: set[int] = set()
        self._database.scan(text.encode("utf-8", "surrogatepass"), _hit, context=hits, scratch=scratch)
        return [self.detectors[index] for index in sorted(hits)]


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
