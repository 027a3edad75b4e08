"""One kind of secret: a compiled pattern and the cheap tests that rule a text out before it runs.

Speed is the point: the receiver runs inside a request, on prompts of 4,000
characters, and one alternation of every pattern costs the regex engine a
try at each character. So each detector does the least that can rule a
text out: a ``memchr`` for a character every match holds; ``str.find`` of a
rare literal and a ``startswith`` there before the pattern is tried; else
one pass of a pattern that starts with a literal and a rare character; for
card numbers and IBANs only the windows a text's shape allows.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import NamedTuple


class Span(NamedTuple):
    """A finding in a text: where it is and what it is."""

    start: int
    end: int
    name: str


Check = Callable[["re.Match[str]"], bool]
Windows = Callable[[str], Iterable[tuple[int, int]]]


class Detector:
    """One kind of secret: a pattern, what every match of it holds, and a check.

    ``needs``: characters each of which every match contains; the pattern
    never runs on a text that lacks one (a ``memchr`` each).

    ``anchor``: a literal every match holds ``back`` characters after its
    start. The fast test (``occurs_in``) looks at its occurrences, found by
    ``str.find``, instead of running the pattern over the whole text: up to
    ``tries`` of them one by one (the literals around each tested first:
    ``starts`` begin at the anchor, ``ends`` end with it), then one regex
    pass over the rest. A try costs the Python of a few calls, a pass over
    4,000 characters about as much as four tries: 1 try for a capital that
    names and sentences start with, more for a character prose rarely holds
    (``_``, ``x``), 0 for a common one (``-``).

    ``windows``: where in a text matches can be at all (the pattern is only
    run there, by ``occurs_in`` and ``spans`` alike). ``anchored``: each
    window starts where a match must start, so the pattern is tried once
    there (``match``) instead of at every character of it; windows that
    start inside the previous match are passed over, as ``finditer`` would. ``check``: what a match
    must pass too (a checksum, a mix of characters), so look-alikes stay.

    ``kinds``: (group, name, lead) for a pattern that finds several kinds in
    one pass: the first group that took part names the finding, and
    ``lead`` characters before the match belong to it (a pattern that starts
    at a literal after its first characters, checked by a lookbehind, so
    that it starts at a rare character); ``lead`` alone does the same for a
    pattern of one kind. A group named ``secret`` is the part replaced (a
    Bearer token keeps the word Bearer), else the whole match.

    ``keywords``: literals at least one of which every match holds (in any
    case when ``caseless``), for the one-pass prefilter; none: always run.

    ``joinable``: the pattern finds in a text joined from several with
    newlines what it finds in each of them (not so for a pattern of the
    team's own that may use ``^`` or ``$``).

    ``gated``: after its keywords, the prefilter may try the pattern itself
    in Hyperscan before Python's engine does (``prefilter.Prefilter``): for
    patterns with no cheap test of their own, which a common keyword would
    otherwise send over every prompt (gitleaks' rules). Its pattern's text
    alone must say what it matches: no flags given apart from it.
    """

    __slots__ = (
        "_group",
        "anchor",
        "anchored",
        "back",
        "caseless",
        "check",
        "ends",
        "gated",
        "joinable",
        "keywords",
        "kinds",
        "lead",
        "name",
        "needs",
        "pattern",
        "starts",
        "tries",
        "windows",
    )

    def __init__(
        self,
        name: str,
        pattern: str | re.Pattern[str],
        *,
        needs: str = "",
        anchor: str = "",
        back: int = 0,
        starts: Sequence[str] = (),
        ends: Sequence[str] = (),
        lead: int = 0,
        tries: int = 4,
        windows: Windows | None = None,
        anchored: bool = False,
        check: Check | None = None,
        kinds: Sequence[tuple[str, str, int]] = (),
        joinable: bool = True,
        flags: int = 0,
        keywords: Sequence[str] = (),
        caseless: bool = False,
        gated: bool = False,
    ) -> None:
        self.name = name
        self.pattern = re.compile(pattern, flags) if isinstance(pattern, str) else pattern
        self.needs = tuple(needs)
        self.anchor = anchor
        self.back = back
        self.starts = tuple(starts)
        self.ends = tuple(ends)
        self.lead = lead
        self.tries = tries
        self.windows = windows
        self.anchored = anchored
        self.check = check
        self.kinds = tuple(kinds)
        self.joinable = joinable
        self.keywords = tuple(keywords)
        self.caseless = caseless
        self.gated = gated
        self._group: int | str = "secret" if "secret" in self.pattern.groupindex else 0

    def __repr__(self) -> str:
        return f"Detector({self.name!r}, {self.pattern.pattern!r})"

    @property
    def names(self) -> tuple[str, ...]:
        """The names its findings may have."""
        return tuple(dict.fromkeys(name for _, name, _ in self.kinds)) or (self.name,)

    def may_occur_in(self, text: str) -> bool:
        """Whether ``text`` holds every character a match needs (cheap; no regex)."""
        return all(char in text for char in self.needs)

    def spans(self, text: str) -> Iterator[Span]:
        """Each finding in ``text``, left to right."""
        if not self.may_occur_in(text):
            return
        finditer = self.pattern.finditer
        matches: Iterable[re.Match[str]]
        if self.windows is None:
            matches = finditer(text)
        elif self.anchored:
            matches = self._anchored_matches(text)
        else:
            matches = (match for start, end in self.windows(text) for match in finditer(text, start, end))
        for match in matches:
            span = self._span(match)
            if span is not None:
                yield span

    def _anchored_matches(self, text: str) -> Iterator[re.Match[str]]:
        assert self.windows is not None
        match = self.pattern.match
        done = 0
        for start, end in self.windows(text):
            if start < done:
                continue
            found = match(text, start, end)
            if found is not None:
                done = found.end()
                yield found

    def _span(self, match: re.Match[str]) -> Span | None:
        if self.check is not None and not self.check(match):
            return None
        start, end = match.span(self._group)
        if self._group == 0:
            start -= self.lead
        name = self.name
        for kind, kind_name, lead in self.kinds:
            if match.group(kind) is not None:
                name = kind_name
                start -= lead
                break
        return Span(start, end, name) if start < end else None  # an empty match replaces nothing

    def occurs_in(self, text: str) -> bool:
        """Whether ``text`` holds at least one finding: the fast test.

        The needed characters first (a ``memchr`` each; ``Scrubber.clean``
        tests them for every detector at once), then ``occurs_after_needs``.
        """
        for char in self.needs:
            if char not in text:
                return False
        return self.occurs_after_needs(text)

    def occurs_after_needs(self, text: str) -> bool:
        """``occurs_in`` once the needed characters are known to be there.

        Up to ``tries`` occurrences of the anchor are looked at one by one
        (a ``str.find``, the literals around it, the pattern only where they
        hold); past that the anchor is common in this text and one regex
        pass over the rest costs less. Every match holds the anchor at the
        same place and the occurrences are looked at in order, so a match
        ``spans`` would find is never passed over.
        """
        if self.anchored:
            return any(self._span(found) is not None for found in self._anchored_matches(text))
        if self.windows is not None:
            return any(self._found(text, start, end) for start, end in self.windows(text))
        anchor = self.anchor
        size = len(text)
        if not anchor:
            return self._found(text, 0, size)
        back, starts, ends, match = self.back, self.starts, self.ends, self.pattern.match
        after = len(anchor)
        at = text.find(anchor)
        if at >= 0 and not self.tries:
            return self._found(text, max(at - back, 0), size)
        tries = 0
        while at >= 0:
            if (
                at >= back
                and (not starts or text.startswith(starts, at))
                and (not ends or text.endswith(ends, 0, at + after))
            ):
                found = match(text, at - back)
                if found is not None and self.confirmed(text, found, size):
                    return True
            tries += 1
            if tries == self.tries:
                return self._found(text, max(at + 1 - back, 0), size)
            at = text.find(anchor, at + 1)
        return False

    def confirmed(self, text: str, found: re.Match[str], end: int) -> bool:
        """Whether ``found``, or a later match before ``end``, is a finding (it passes the check, it is not empty)."""
        search = self.pattern.search
        while True:
            if self._span(found) is not None:
                return True
            position = found.end() if found.end() > found.start() else found.end() + 1
            later = search(text, position, end)
            if later is None:
                return False
            found = later

    def _found(self, text: str, position: int, end: int) -> bool:
        # ``search`` calls, not a ``finditer``: setting one up costs more than
        # searching a clean 4,000-character text.
        found = self.pattern.search(text, position, end)
        return found is not None and self.confirmed(text, found, end)
