"""The engine: a ``Scrubber`` finds and replaces what its detectors find, in texts and artifacts.

Shared by the write path (the receiver scrubs every row before ``REDACT``)
and by ``sessionlog scan`` (the same detectors over old logs). It knows
nothing of files, signals, rows or settings: its configuration comes in as
arguments, so both sides find the same things. A row is first checked as
one text (the prompt, the errors and the artifact's strings, joined): most
rows hold nothing, and only a row with a finding is taken apart and rebuilt.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple

from ..jsonl import plain
from . import prefilter
from .detector import Detector, Span
from .walker import walk

#: What a finding becomes.
MARKER = "[scrubbed:{}]"
_MARKER_START = "[scrubbed:"
_MARKERS = re.compile(r"\[scrubbed:[^\]\n]{1,200}\]")
_UNKNOWN: Any = object()

#: Artifacts up to this deep are read by recursion (``Scrubber._collect``); deeper by the walk.
_PLAIN_DEPTH = 64


class _NotPlain(Exception):
    """An artifact ``Scrubber._plain_strings`` leaves to the walk."""


class Finding(NamedTuple):
    """What was found where (never the text found): ``("artifact.db.password", "key:password")``."""

    field: str
    name: str


class Scrubbed(NamedTuple):
    """A row's parts with every finding replaced."""

    prompt: str
    errors: list[str]
    artifact: Any


def normal_key(key: str) -> str:
    """A key as ``KEYS`` compares it: lower case, without separators."""
    return key.lower().replace("_", "").replace("-", "").replace(".", "").replace(" ", "")


class Scrubber:
    """Finds and replaces what its detectors find; a ``KEYS`` entry replaces a value whole.

    Build one per configuration (``build``) and keep it: compiling is the
    slow part, and what it learns of artifact keys is cached.
    """

    def __init__(
        self, detectors: Sequence[Detector], keys: Sequence[str] = (), *, one_pass: bool = True
    ) -> None:
        self.detectors = tuple(detectors)
        self._joinable = tuple(d for d in self.detectors if d.joinable)
        self._alone = tuple(d for d in self.detectors if not d.joinable)
        # With Hyperscan (and ``one_pass``), one pass finds which detectors'
        # keywords occur; the plan below keeps only those without keywords.
        self._prefilter = prefilter.build(self._joinable) if one_pass else None
        planned = (
            self._joinable
            if self._prefilter is None
            else tuple(d for d in self._joinable if d not in self._prefilter.detectors)
        )
        # The characters each detector needs (its one-character anchor too),
        # for ``clean`` to rule most detectors out with a ``memchr`` each.
        # A detector that makes one pass from its anchor's first occurrence
        # (``tries`` 0) is run inline, as most rows' texts hold its anchor.
        self._plan = tuple(
            (
                d.needs + ((d.anchor,) if len(d.anchor) == 1 and d.anchor not in d.needs else ()),
                d,
                d.anchor if d.anchor and not d.tries and d.windows is None else "",
                d.back,
                d.pattern.search,
            )
            for d in planned
        )
        self.keys = tuple(keys)
        self._keys = tuple((normal_key(entry), entry) for entry in self.keys if normal_key(entry))
        self._key_rules: dict[str, str | None] = {}
        self._line_filter: Any = _UNKNOWN  # built on first use

    def clean_rows(self, lines: Sequence[bytes], artifacts: Sequence[Any]) -> list[bool]:
        """For rows given as their JSON lines and decoded artifacts, whether each certainly holds no finding.

        ``True`` only where Hyperscan finds none of the detectors' keywords
        in the line's bytes (``prefilter.LineFilter``) and no artifact key
        is a ``KEYS`` entry; ``False`` means "look", not a finding (and is
        every answer without Hyperscan, or with a detector that has no
        keywords). ``scan`` asks this first of every row: most hold nothing.
        """
        line_filter = self._line_filter
        if line_filter is _UNKNOWN:
            line_filter = self._line_filter = (
                prefilter.build_line_filter(self.detectors) if self._prefilter is not None else None
            )
        if line_filter is None:
            return [False] * len(lines)
        verdicts: list[bool] = line_filter.clean(lines)
        if self._keys:
            rules, key_rule = self._key_rules, self.key_rule
            for index, artifact in enumerate(artifacts):
                if verdicts[index] and artifact and not _no_key_rule(rules, key_rule, artifact, 0):
                    verdicts[index] = False
        return verdicts

    @property
    def one_pass(self) -> bool:
        """Whether the fast test makes one Hyperscan pass for the detectors' keywords."""
        return self._prefilter is not None

    @property
    def names(self) -> list[str]:
        """Every name a finding may have (``key:`` names aside), once each, in order."""
        return list(dict.fromkeys(name for detector in self.detectors for name in detector.names))

    # --- text ------------------------------------------------------------

    def spans(self, text: str) -> list[Span]:
        """The findings in ``text``, in order, none overlapping another.

        Where two detectors claim the same characters the first in the list
        wins (secrets before personal data before the team's own patterns).
        A marker already in the text (``[scrubbed:jwt]``) is left as it is
        and never found again.
        """
        taken: list[Span] = []
        if _MARKER_START in text:
            taken = [Span(m.start(), m.end(), "") for m in _MARKERS.finditer(text)]
        for detector in self.detectors:
            for span in detector.spans(text):
                if not any(span.start < end and start < span.end for start, end, _ in taken):
                    taken.append(span)
        return sorted(span for span in taken if span.name)

    def scrub(self, text: str) -> str:
        """``text`` with each finding replaced by ``[scrubbed:NAME]``."""
        spans = self.spans(text)
        if not spans:
            return text
        out = []
        position = 0
        for start, end, name in spans:
            out.append(text[position:start])
            out.append(MARKER.format(name))
            position = end
        out.append(text[position:])
        return "".join(out)

    def clean(self, texts: Sequence[str]) -> bool:
        """Whether no detector can find anything in ``texts``: the fast test every row takes.

        The texts are searched as one, joined with newlines (which every
        built-in detector treats as the end of a text); a pattern of the
        team's own that might not is tried on each alone. ``False`` is not
        yet a finding (``spans`` decides, and leaves markers alone), only
        the end of the fast path.
        """
        joined = "\n".join(texts)
        if self._prefilter is not None:
            for detector in self._prefilter.candidates(joined):
                if detector.occurs_in(joined):
                    return False
        for gates, detector, one_pass, back, search in self._plan:
            for char in gates:
                if char not in joined:
                    break
            else:
                if one_pass:
                    at = joined.find(one_pass)
                    if at < 0:
                        continue
                    found = search(joined, at - back if at > back else 0)
                    if found is not None and detector.confirmed(joined, found, len(joined)):
                        return False
                elif detector.occurs_after_needs(joined):
                    return False
        for detector in self._alone:
            for text in texts:
                if detector.occurs_in(text):
                    return False
        return True

    # --- artifacts ---------------------------------------------------------

    def key_rule(self, key: str) -> str | None:
        """The ``KEYS`` entry an artifact key matches (its value is replaced whole), or ``None``."""
        rules = self._key_rules
        known = rules.get(key, _UNKNOWN)  # one lookup: another thread may clear the cache
        if known is not _UNKNOWN:
            return known  # type: ignore[no-any-return]
        normal = normal_key(key)
        found = next((entry for part, entry in self._keys if part in normal), None)
        if len(rules) >= 4096:  # keys are the host's data: bound what is kept
            rules.clear()
        rules[key] = found
        return found

    def _rule_of(self, key: Any) -> str | None:
        return self.key_rule(key) if self._keys and isinstance(key, str) else None

    def _collect(self, artifact: Any, strings: list[str]) -> bool:
        """Add the strings inside ``artifact`` to ``strings``; whether a ``KEYS`` rule would replace one.

        An artifact of plain JSON values up to ``_PLAIN_DEPTH`` deep, as
        nearly all are, is read by a short recursion (twice as fast as the
        walk: ``scan`` and the writer's fast test pay it on every row);
        anything else (deeper, a cycle, a value the writer converts) by the
        walk, which keeps its own stack.
        """
        size = len(strings)
        try:
            return self._plain_strings(artifact, None, strings, 0)
        except _NotPlain:
            del strings[size:]
        keyed = False

        def visit(text: str, rule: str | None, path: str | None) -> str:
            nonlocal keyed
            if rule is None:
                strings.append(text)
            elif text and not _is_marker(text):
                keyed = True
            return text

        walk(artifact, visit, self._rule_of)
        return keyed

    def _plain_strings(self, value: Any, rule: str | None, strings: list[str], depth: int) -> bool:
        kind = type(value)
        if kind is str:
            if rule is None:
                strings.append(value)
                return False
            return bool(value) and not _is_marker(value)
        if value is None or kind is int or kind is float or kind is bool:
            return False
        if depth >= _PLAIN_DEPTH:
            raise _NotPlain
        keyed = False
        if kind is dict:
            rule_of = self._rule_of
            for key, child in value.items():
                if type(child) is str and (not self._keys or type(key) is not str):
                    strings.append(child)
                elif self._plain_strings(child, rule_of(key), strings, depth + 1):
                    keyed = True
        elif kind is list or kind is tuple:
            for child in value:
                if self._plain_strings(child, rule, strings, depth + 1):
                    keyed = True
        else:
            raise _NotPlain
        return keyed

    def scrub_value(self, value: Any) -> Any:
        """``value`` (an artifact) with every string scrubbed, its shape and other values kept.

        Copy on write: a container with nothing to scrub in it is returned
        as it is. A value the writer would turn into JSON first (a
        dataclass, a set, bytes, an object written as its ``str()``) is
        looked at in that form, and comes back in it only when something in
        it was scrubbed. A container inside itself becomes ``"<cycle>"``,
        as the writer writes it. Any depth: the walk keeps its own stack.
        """
        return walk(value, self._scrub_string, self._rule_of)

    def _scrub_string(self, text: str, rule: str | None, path: str | None) -> str:
        if rule is None:
            return self.scrub(text)
        return text if not text or _is_marker(text) else MARKER.format(f"key:{rule}")

    # --- a row's parts -------------------------------------------------------

    def scrub_parts(self, prompt: str, errors: Sequence[str], artifact: Any) -> Scrubbed | None:
        """The prompt, the attempts' errors and the artifact scrubbed; ``None`` when nothing changes.

        ``None`` is the fast path of a clean row: nothing is copied.
        """
        texts = [prompt]
        texts += errors
        if not (artifact and self._collect(artifact, texts)) and self.clean(texts):
            return None
        scrubbed = Scrubbed(
            self.scrub(prompt),
            [self.scrub(error) for error in errors],
            self.scrub_value(artifact) if artifact else artifact,
        )
        if (
            scrubbed.prompt is prompt
            and scrubbed.artifact is artifact
            and all(new is old for new, old in zip(scrubbed.errors, errors, strict=True))
        ):
            return None
        return scrubbed

    def findings(self, prompt: str, errors: Sequence[str], artifact: Any) -> list[Finding]:
        """What the row's parts hold, field by field (``attempts[2].error``), never the text found.

        Each name is given once per field, in the order found.
        """
        texts = [prompt]
        texts += errors
        if not (artifact and self._collect(artifact, texts)) and self.clean(texts):
            return []
        found: list[Finding] = []
        _add(found, "prompt", self.spans(prompt))
        for index, error in enumerate(errors):
            _add(found, f"attempts[{index}].error", self.spans(error))
        if artifact:

            def visit(text: str, rule: str | None, path: str | None) -> str:
                field = path or "artifact"
                if rule is None:
                    _add(found, field, self.spans(text))
                elif text and not _is_marker(text):
                    _add(found, field, [Span(0, len(text), f"key:{rule}")])
                return text

            walk(artifact, visit, self._rule_of, "artifact", self._key_path)
        return found

    def _key_path(self, above: str, key: Any) -> str:
        """``above.name``, or ``above["odd key"]``; a finding in the key itself is hidden too."""
        text = self.scrub(key if isinstance(key, str) else str(plain(key)))
        if _PLAIN_KEY.match(text):
            return f"{above}.{text}"
        return f"{above}[{json.dumps(text, ensure_ascii=False)}]"


_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")


def _no_key_rule(
    rules: dict[str, str | None], key_rule: Callable[[str], str | None], value: Any, depth: int
) -> bool:
    """Whether no key inside ``value`` (a decoded JSON dict or list) is a ``KEYS`` entry.

    A recursion, as ``_plain_strings``: past ``_PLAIN_DEPTH`` the answer is
    ``False`` and the row takes the walk, which keeps its own stack. The
    cache of ``key_rule`` is read here first: through ``_rule_of`` the two
    calls a key cost ``scan`` 0.60x -> 0.56x validate (bench/scan.py).
    """
    if depth >= _PLAIN_DEPTH:
        return False
    depth += 1
    for key, child in value.items() if type(value) is dict else enumerate(value):
        if type(key) is str:
            rule = rules.get(key, _UNKNOWN)
            if (rule if rule is not _UNKNOWN else key_rule(key)) is not None:
                return False
        kind = type(child)
        if (kind is dict or kind is list) and not _no_key_rule(rules, key_rule, child, depth):
            return False
    return True


def _add(found: list[Finding], field: str, spans: Iterable[Span]) -> None:
    for span in spans:
        finding = Finding(field, span.name)
        if finding not in found:
            found.append(finding)


def _is_marker(text: str) -> bool:
    return text.startswith(_MARKER_START) and text.endswith("]")
