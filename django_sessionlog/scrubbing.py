"""Secrets and personal data in text, found and replaced by ``[scrubbed:NAME]``.

The detectors and the ``Scrubber`` built from them, shared by the write
path (the receiver scrubs every row before ``REDACT``) and by ``sessionlog
scan`` (the same detectors over old logs). This module knows nothing of
files, signals, rows or settings: its configuration comes in as arguments,
so both sides find the same things.

Speed is part of the job: the receiver runs inside a request, on prompts of
4,000 characters. One alternation of every pattern costs the regex engine a
try at each character; here a row is first checked as one text (the
prompt, the errors and the artifact's strings, joined), and each detector
does the least that can rule it out:

- a ``memchr`` for a character every match holds (``@`` for a password in a
  URL, ``_`` for a GitHub token), which rules most detectors out at once;
- for a rare literal (``J`` of a JWT's ``eyJ``), ``str.find`` of its first
  occurrences and a ``startswith`` there before the pattern is tried;
- otherwise one pass of a pattern that starts with a literal and a rare
  character (``k-`` of ``sk-``: the regex engine stops at each occurrence
  of a pattern's first character), from the first place it can match on;
- for card numbers and IBANs, whose patterns start with a character class
  (slow to search), the text's shape (digits, capitals, the rest) through
  one ``bytes.translate``, and the pattern only where a long enough run is.

Only a row with a finding is taken apart and rebuilt (``scrub_value``
copies on write: the host's own objects are never changed).
"""

from __future__ import annotations

import datetime
import decimal
import json
import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

from .jsonl import plain

#: Personal data, found only when named in ``PII``.
PII_NAMES = ("email", "phone", "card", "iban")
#: The order they win in where two claim the same characters: an IBAN's
#: digits are not a card number, nor is a phone number written with "+".
_PII_ORDER = ("email", "iban", "phone", "card")

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

#: What a finding becomes.
MARKER = "[scrubbed:{}]"
_MARKER_START = "[scrubbed:"
_MARKERS = re.compile(r"\[scrubbed:[^\]\n]{1,200}\]")

#: What the name of a pattern of the team's own may be (it is shown in the marker).
PATTERN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}\Z")

#: What a container seen on the path above it becomes (as the writer writes a cycle).
CYCLE = "<cycle>"


class Span(NamedTuple):
    """A finding in a text: where it is and what it is."""

    start: int
    end: int
    name: str


class Finding(NamedTuple):
    """What was found where (never the text found): ``("artifact.db.password", "key:password")``."""

    field: str
    name: str


class Scrubbed(NamedTuple):
    """A row's parts with every finding replaced."""

    prompt: str
    errors: list[str]
    artifact: Any


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
    run there, by ``occurs_in`` and ``spans`` alike). ``check``: what a match
    must pass too (a checksum, a mix of characters), so look-alikes stay.

    ``kinds``: (group, name, lead) for a pattern that finds several kinds in
    one pass: the first group that took part names the finding, and
    ``lead`` characters before the match belong to it (a pattern that starts
    at a literal after its first characters, checked by a lookbehind, so
    that it starts at a rare character); ``lead`` alone does the same for a
    pattern of one kind. A group named ``secret`` is the part replaced (a
    Bearer token keeps the word Bearer), else the whole match.

    ``joinable``: the pattern finds in a text joined from several with
    newlines what it finds in each of them (not so for a pattern of the
    team's own that may use ``^`` or ``$``).
    """

    __slots__ = (
        "_group",
        "anchor",
        "back",
        "check",
        "ends",
        "joinable",
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
        check: Check | None = None,
        kinds: Sequence[tuple[str, str, int]] = (),
        joinable: bool = True,
        flags: int = 0,
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
        self.check = check
        self.kinds = tuple(kinds)
        self.joinable = joinable
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
        else:
            matches = (match for start, end in self.windows(text) for match in finditer(text, start, end))
        for match in matches:
            span = self._span(match)
            if span is not None:
                yield span

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


# ---------------------------------------------------------------------------
# What a match must pass too


def _mixed(text: str) -> bool:
    """Digits, capitals and small letters all occur: a random key, not a slug."""
    return (
        any(c.isdigit() for c in text)
        and any("A" <= c <= "Z" for c in text)
        and any("a" <= c <= "z" for c in text)
    )


def luhn(digits: str) -> bool:
    """Whether a card number (digits only) passes the Luhn checksum."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        digit = ord(char) - 48
        if index % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def iban_checksum(text: str) -> bool:
    """Whether an IBAN (spaces allowed) passes the mod-97 check of ISO 13616."""
    compact = text.replace(" ", "")
    if not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1


def _openai_check(match: re.Match[str]) -> bool:
    body = match.group("openai")
    return body is None or _mixed(body)


def _digit_check(match: re.Match[str]) -> bool:
    return any(c.isdigit() for c in match.group(0))


def _bearer_check(match: re.Match[str]) -> bool:
    return any(c.isdigit() for c in match.group("secret"))


def _card_check(match: re.Match[str]) -> bool:
    digits = match.group(0).replace(" ", "").replace("-", "")
    return 13 <= len(digits) <= 19 and luhn(digits)


def _iban_check(match: re.Match[str]) -> bool:
    return iban_checksum(match.group(0))


def _phone_check(match: re.Match[str]) -> bool:
    return sum(c.isdigit() for c in match.group(0)) >= 8


# ---------------------------------------------------------------------------
# Where card numbers, IBANs and e-mail addresses can be

# A text's shape: digits, spaces and dashes as "0", capitals as "A", the rest
# as ".". A card number is a run of 13 "0"s or more; an IBAN starts "AA00".
_SHAPE = bytes(
    ord("0") if chr(byte) in "0123456789 -" else ord("A") if "A" <= chr(byte) <= "Z" else ord(".")
    for byte in range(256)
)
_shaped: tuple[str, bytes] = ("", b"")


def _shape(text: str) -> bytes:
    """The shape of ``text``, one byte a character (the last one is kept: card and IBAN share it)."""
    global _shaped
    cached_text, cached = _shaped
    if cached_text is text:
        return cached
    # "replace" makes each other character one "?", so offsets stay the text's.
    data = text.encode() if text.isascii() else text.encode("ascii", "replace")
    shape = data.translate(_SHAPE)
    _shaped = (text, shape)
    return shape


def _run_end(shape: bytes, start: int, stops: bytes) -> int:
    ends = [
        found
        for found in (shape.find(stop, start) for stop in (stops[i : i + 1] for i in range(len(stops))))
        if found >= 0
    ]
    return min(ends) if ends else len(shape)


def _card_windows(text: str) -> Iterator[tuple[int, int]]:
    """Each run of 13 digits or more (with spaces and dashes), and the character after it."""
    shape = _shape(text)
    at = shape.find(b"0000000000000")
    while at >= 0:
        end = _run_end(shape, at, b".A")
        yield at, min(end + 1, len(text))
        at = shape.find(b"0000000000000", end)


def _iban_windows(text: str) -> Iterator[tuple[int, int]]:
    """Each run of capitals, digits and spaces from two capitals and two digits on, and the character after it."""
    shape = _shape(text)
    at = shape.find(b"AA00")
    while at >= 0:
        end = _run_end(shape, at, b".")
        yield at, min(end + 1, len(text))
        at = shape.find(b"AA00", end)


_LOCAL_PART = re.compile(r"[A-Za-z0-9._%+-]{1,64}\Z")
_DOMAIN_PART = re.compile(r"[A-Za-z0-9.-]*")


def _email_windows(text: str) -> Iterator[tuple[int, int]]:
    """Around each ``@``: the local part before it, the domain after it, and one character more."""
    at = text.find("@")
    while at >= 0:
        local = _LOCAL_PART.search(text, max(0, at - 64), at)
        domain_end = _DOMAIN_PART.match(text, at + 1).end()  # type: ignore[union-attr]
        if local is not None:
            yield local.start(), min(domain_end + 1, len(text))
        at = text.find("@", max(domain_end, at + 1))


# ---------------------------------------------------------------------------
# The detectors
#
# Each pattern starts with a literal, so the regex engine searches for it as
# fast as ``str.find`` does; the boundary before it is a lookbehind placed
# after the literal (a lookbehind first would cost a try at every character).

_KEY_CHARS = "A-Za-z0-9_-"

SECRETS: tuple[Detector, ...] = (
    # The whole block, from BEGIN to END; a block cut short (the prompt was
    # trimmed, the paste stopped) is scrubbed to the end of the text.
    Detector(
        "private_key",
        r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
        r"(?:.*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|.*)",
        needs="VKY",
        anchor="-----BEGIN ",
        flags=re.DOTALL,
    ),
    # scheme://user:password@host: only the password. It runs to the last @
    # of the authority, so an @ left unescaped in a password is scrubbed too.
    Detector(
        "url_password",
        r"://[^\s:/?#@\[\]\"'<>]*:(?P<secret>[^\s/?#\"'<>]+)@(?=[^\s@/?#\"'<>])",
        needs="@:",
    ),
    # From its J: a pattern starting at "e", the commonest letter, would have
    # the regex engine stop at every one.
    Detector(
        "jwt",
        rf"J(?<=eyJ)(?<![{_KEY_CHARS}]eyJ)[{_KEY_CHARS}]{{5,}}\.eyJ[{_KEY_CHARS}]{{5,}}\.[{_KEY_CHARS}]*",
        needs=".",
        anchor="J",
        ends=("eyJ",),
        lead=2,
        tries=1,
    ),
    # "Bearer", as HTTP writes the scheme; the word stays ("Bearer
    # [scrubbed:bearer_token]"). A token has 16 characters or more and a
    # digit, so "Bearer authentication" and "Bearer of the news" stay.
    Detector(
        "bearer_token",
        r"Bearer(?<![A-Za-z0-9_-]Bearer)(?:\s*[:=]\s*|\s+)(?P<secret>[A-Za-z0-9._~+/-]{16,}=*)",
        anchor="B",
        starts=("Bearer",),
        tries=1,
        check=_bearer_check,
    ),
    # sk-ant-... (Anthropic) and other sk- keys (OpenAI: sk-proj-, sk-svcacct-,
    # legacy sk-). Not "task-force": a key starts a token, runs 20 characters
    # or more and (OpenAI's) mixes digits, capitals and small letters. The
    # pattern starts at the rarer "k", from the first "-" of the text on
    # (dashes are common: dates, ids; one pass beats a try at each).
    Detector(
        "openai_key",
        rf"k-(?<=sk-)(?<![{_KEY_CHARS}]sk-)(?:(?P<anthropic>ant-[{_KEY_CHARS}]{{20,}})"
        rf"|(?P<openai>(?!ant-)[{_KEY_CHARS}]{{20,}}))",
        anchor="-",
        back=1,
        tries=0,
        check=_openai_check,
        kinds=(("anthropic", "anthropic_key", 1), ("openai", "openai_key", 1)),
    ),
    # AKIA/ASIA and 16 more (AWS access key ids), AIza and 35 more (Google API keys).
    Detector(
        "aws_access_key_id",
        rf"A(?<![A-Za-z0-9]A)(?:(?P<aws>(?:KIA|SIA)[A-Z0-9]{{16}})(?![A-Za-z0-9])"
        rf"|(?P<google>Iza[{_KEY_CHARS}]{{35}})(?![{_KEY_CHARS}]))",
        needs="I",
        anchor="A",
        starts=("AKIA", "ASIA", "AIza"),
        tries=1,
        kinds=(("aws", "aws_access_key_id", 0), ("google", "google_api_key", 0)),
    ),
    # ghp_ gho_ ghu_ ghs_ ghr_ and github_pat_ (GitHub), sk_live_ and
    # rk_live_ (Stripe): one pass from their first underscore.
    Detector(
        "github_token",
        r"_(?:(?<=gh[pousr]_)(?<![A-Za-z0-9_]gh[pousr]_)(?P<classic>[A-Za-z0-9]{36,251})(?![A-Za-z0-9_])"
        r"|(?<=github_)(?<![A-Za-z0-9_]github_)(?P<fine>pat_[A-Za-z0-9_]{22,251})(?![A-Za-z0-9_])"
        r"|(?<=[rs]k_)(?<![A-Za-z0-9_][rs]k_)(?P<stripe>live_[A-Za-z0-9]{16,}))",
        anchor="_",
        ends=("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_", "sk_", "rk_"),
        kinds=(("classic", "github_token", 3), ("fine", "github_token", 6), ("stripe", "stripe_key", 2)),
    ),
    Detector(
        "slack_token",
        r"xox[a-z]-(?<![A-Za-z0-9]xox[a-z]-)[A-Za-z0-9-]{10,}",
        needs="x-",
        anchor="x",
        starts=("xox",),
        check=_digit_check,
    ),
)

PII: dict[str, Detector] = {
    "email": Detector(
        "email",
        r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
        r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.[A-Za-z]{2,24}(?![A-Za-z0-9-])",
        needs="@.",
        windows=_email_windows,
    ),
    # International form only: + and a country code, 8 digits or more in all,
    # so "UTC+01:00", "GMT+2" and "2+2" stay.
    "phone": Detector(
        "phone",
        r"\+(?<![A-Za-z0-9_+]\+)[1-9](?:[0-9]|[ .\-]?\([0-9]{1,5}\)|[ .\-](?=[0-9]))*(?![0-9])",
        anchor="+",
        check=_phone_check,
    ),
    # 13 to 19 digits, spaces or dashes between them, starting as card
    # numbers do (2 to 6), passing Luhn.
    "card": Detector(
        "card",
        r"[2-6](?<![0-9][2-6])(?:[ -]?[0-9]){12,18}(?![0-9])",
        windows=_card_windows,
        check=_card_check,
    ),
    "iban": Detector(
        "iban",
        r"[A-Z]{2}(?<![A-Za-z0-9][A-Z]{2})[0-9]{2}(?:[ ]?[A-Z0-9]){11,30}(?![A-Za-z0-9])",
        windows=_iban_windows,
        check=_iban_check,
    ),
}

# Values with no text worth looking at: numbers, ids, times.
_SCALARS = (
    int,
    float,
    type(None),
    decimal.Decimal,
    uuid.UUID,
    datetime.date,
    datetime.time,
    datetime.timedelta,
)

#: Deeper than this, an artifact is left to the careful path (which cuts cycles).
_DEEP = 100

#: Values of an artifact nested deeper than this are replaced whole by
#: ``TOO_DEEP`` when a row is scrubbed: they cannot be looked at without
#: exhausting the stack, and a row with its prompt, errors and the rest of
#: its artifact scrubbed is worth more than no row.
DEPTH_LIMIT = 100
TOO_DEEP = MARKER.format("too_deep")
_UNKNOWN: Any = object()


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


def _anchored(pattern: re.Pattern[str]) -> bool:
    """Whether a pattern may find in a text alone what it misses in texts joined with newlines."""
    return bool(re.search(r"\^|\$|\\[AZ]|\(\?<?[=!]|\\n|\(\?[a-zA-Z]*m", pattern.pattern))


def normal_key(key: str) -> str:
    """A key as ``KEYS`` compares it: lower case, without separators."""
    return key.lower().replace("_", "").replace("-", "").replace(".", "").replace(" ", "")


class Scrubber:
    """Finds and replaces what its detectors find; a ``KEYS`` entry replaces a value whole.

    Build one per configuration (``build``) and keep it: compiling is the
    slow part, and what it learns of artifact keys is cached.
    """

    def __init__(self, detectors: Sequence[Detector], keys: Sequence[str] = ()) -> None:
        self.detectors = tuple(detectors)
        self._joinable = tuple(d for d in self.detectors if d.joinable)
        self._alone = tuple(d for d in self.detectors if not d.joinable)
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
            for d in self._joinable
        )
        self.keys = tuple(keys)
        self._keys = tuple((normal_key(entry), entry) for entry in self.keys if normal_key(entry))
        self._key_rules: dict[str, str | None] = {}

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

    def _collect(self, value: Any, strings: list[str], depth: int) -> bool:
        """Add the strings inside ``value`` to ``strings``; whether it needs the careful path.

        True when a ``KEYS`` key holds something its rule would replace (a
        string neither empty nor a marker already), or when ``value`` is
        nested too deep to walk here (a cycle, a pathological artifact):
        ``scrub_value`` then looks at it with care. Built for speed, as every
        row's artifact goes through it: strings, numbers and the plain
        containers are told apart by their exact type.
        """
        kind = type(value)
        if kind is str:
            strings.append(value)
            return False
        if kind is int or kind is float or kind is bool or value is None:
            return False
        if depth > _DEEP:
            return True
        keyed = False
        if kind is dict:
            rules = self._key_rules if self._keys else None
            for key, child in value.items():
                if rules is not None:
                    rule = rules.get(key, _UNKNOWN)
                    if rule is _UNKNOWN:
                        rule = self._rule_of(key)
                    if rule is not None and _replaceable(child, 0):
                        keyed = True
                child_kind = type(child)
                if child_kind is str:
                    strings.append(child)
                elif child_kind is list:  # a list of strings, the commonest, without a call
                    for item in child:
                        if type(item) is str:
                            strings.append(item)
                        elif self._collect(item, strings, depth + 2):
                            keyed = True
                elif not (
                    child_kind is int or child_kind is float or child_kind is bool or child is None
                ) and self._collect(child, strings, depth + 1):
                    keyed = True
            return keyed
        if kind is list or kind is tuple:
            for child in value:
                if type(child) is str:
                    strings.append(child)
                elif self._collect(child, strings, depth + 1):
                    keyed = True
            return keyed
        if isinstance(value, str):
            strings.append(value)
            return False
        if isinstance(value, _SCALARS):
            return False
        if isinstance(value, dict):  # a subclass: walked as the dict it is
            return self._collect(dict(value), strings, depth + 1)
        if isinstance(value, (list, tuple)):
            return self._collect(list(value), strings, depth + 1)
        return self._collect(plain(value), strings, depth + 1)

    def scrub_value(self, value: Any) -> Any:
        """``value`` (an artifact) with every string scrubbed, its shape and other values kept.

        Copy on write: a container with nothing to scrub in it is returned
        as it is. A value the writer would turn into JSON first (a
        dataclass, a set, bytes, an object written as its ``str()``) is
        looked at in that form, and comes back in it only when something in
        it was scrubbed. A container inside itself becomes ``"<cycle>"``,
        as the writer writes it.
        """
        return self._scrub_value(value, None, set(), 0)

    def _scrub_value(self, value: Any, rule: str | None, open_ids: set[int], depth: int) -> Any:
        # ``rule``: the KEYS entry of the key above, which replaces strings
        # whole, in a list under it too ("tokens": [...]); a dict under it is
        # scrubbed by its own keys.
        if isinstance(value, str):
            if rule is None:
                return self.scrub(value)
            return value if not value or _is_marker(value) else MARKER.format(f"key:{rule}")
        if isinstance(value, _SCALARS):
            return value
        if depth > DEPTH_LIMIT:
            return TOO_DEEP
        if not isinstance(value, (dict, list, tuple)):
            as_json = plain(value)
            scrubbed = self._scrub_value(as_json, rule, open_ids, depth + 1)
            return value if scrubbed is as_json else scrubbed
        if id(value) in open_ids:
            return CYCLE
        open_ids.add(id(value))
        try:
            if isinstance(value, dict):
                changed = False
                items = []
                for key, child in value.items():
                    new = self._scrub_value(child, self._rule_of(key), open_ids, depth + 1)
                    changed = changed or new is not child
                    items.append((key, new))
                return dict(items) if changed else value
            children = [self._scrub_value(child, rule, open_ids, depth + 1) for child in value]
            if all(new is old for new, old in zip(children, value, strict=True)):
                return value
            return tuple(children) if type(value) is tuple else children
        finally:
            open_ids.discard(id(value))

    # --- a row's parts -------------------------------------------------------

    def scrub_parts(self, prompt: str, errors: Sequence[str], artifact: Any) -> Scrubbed | None:
        """The prompt, the attempts' errors and the artifact scrubbed; ``None`` when nothing changes.

        ``None`` is the fast path of a clean row: nothing is copied.
        """
        texts = [prompt]
        texts += errors
        if not (artifact and self._collect(artifact, texts, 0)) and self.clean(texts):
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
        if not (artifact and self._collect(artifact, texts, 0)) and self.clean(texts):
            return []
        found: list[Finding] = []
        _add(found, "prompt", self.spans(prompt))
        for index, error in enumerate(errors):
            _add(found, f"attempts[{index}].error", self.spans(error))
        if artifact:
            self._find_in(artifact, "artifact", None, found, set(), 0)
        return found

    def _find_in(
        self, value: Any, field: str, rule: str | None, found: list[Finding], open_ids: set[int], depth: int
    ) -> None:
        if isinstance(value, str):
            if rule is None:
                _add(found, field, self.spans(value))
            elif value and not _is_marker(value):
                _add(found, field, [Span(0, len(value), f"key:{rule}")])
            return
        if isinstance(value, _SCALARS):
            return
        if depth > DEPTH_LIMIT:
            _add(found, field, [Span(0, 0, "too_deep")])  # not looked at: said, never passed as clean
            return
        if not isinstance(value, (dict, list, tuple)):
            self._find_in(plain(value), field, rule, found, open_ids, depth + 1)
            return
        if id(value) in open_ids:
            return
        open_ids.add(id(value))
        if isinstance(value, dict):
            for key, child in value.items():
                self._find_in(
                    child, field + self._key_path(key), self._rule_of(key), found, open_ids, depth + 1
                )
        else:
            for index, child in enumerate(value):
                self._find_in(child, f"{field}[{index}]", rule, found, open_ids, depth + 1)
        open_ids.discard(id(value))

    def _key_path(self, key: Any) -> str:
        """``.name``, or ``["odd key"]``; a finding in the key itself is hidden too."""
        text = self.scrub(key if isinstance(key, str) else str(plain(key)))
        if _PLAIN_KEY.match(text):
            return "." + text
        return "[" + json.dumps(text, ensure_ascii=False) + "]"


_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")


def _add(found: list[Finding], field: str, spans: Iterable[Span]) -> None:
    for span in spans:
        finding = Finding(field, span.name)
        if finding not in found:
            found.append(finding)


def _is_marker(text: str) -> bool:
    return text.startswith(_MARKER_START) and text.endswith("]")


def _replaceable(value: Any, depth: int) -> bool:
    """Whether a ``KEYS`` rule would replace something in ``value``: a string, or one in a list under it."""
    if isinstance(value, str):
        return bool(value) and not _is_marker(value)
    if isinstance(value, (dict, *_SCALARS)):
        return False
    if depth > _DEEP:
        return True
    if isinstance(value, (list, tuple)):
        return any(_replaceable(child, depth + 1) for child in value)
    return _replaceable(plain(value), depth + 1)


# ---------------------------------------------------------------------------
# Building one


def build(
    *,
    secrets: bool = True,
    pii: Sequence[str] = (),
    patterns: Mapping[str, str] | None = None,
    keys: Sequence[str] = DEFAULT_KEYS,
) -> Scrubber:
    """A ``Scrubber``: the default secrets (unless ``secrets`` is false), the PII named, the patterns and keys given.

    Raises ``ValueError`` or ``TypeError`` for anything it cannot use, so a
    broken configuration is never taken for "nothing to scrub".
    """
    if not isinstance(secrets, bool):
        raise TypeError(f"SECRETS must be True or False, not {secrets!r}")
    if isinstance(pii, str) or not isinstance(pii, Sequence):
        raise TypeError(f"PII must be a list of {', '.join(PII_NAMES)}, not {pii!r}")
    unknown = [name for name in pii if name not in PII]
    if unknown:
        raise ValueError(f"PII holds {unknown!r}; known: {', '.join(PII_NAMES)}")
    if patterns is None:
        patterns = {}
    if not isinstance(patterns, Mapping):
        raise TypeError(f"PATTERNS must be a dict of NAME -> regular expression, not {patterns!r}")
    if isinstance(keys, str) or not isinstance(keys, Sequence) or not all(isinstance(k, str) for k in keys):
        raise TypeError(f"KEYS must be a list of strings, not {keys!r}")
    detectors: list[Detector] = list(SECRETS) if secrets else []
    detectors += [PII[name] for name in _PII_ORDER if name in pii]
    for name, regex in patterns.items():
        problem = pattern_problem(name, regex)
        if problem:
            raise ValueError(f"PATTERNS: {problem}")
        compiled = re.compile(regex)
        detectors.append(Detector(name, compiled, joinable=not _anchored(compiled)))
    return Scrubber(detectors, keys)


def from_setting(setting: Mapping[str, Any], *, secrets: bool | None = None) -> Scrubber:
    """The ``Scrubber`` of a whole ``SCRUB`` setting (every key given, as the settings table completes it).

    ``secrets`` overrides the setting's ``SECRETS`` (``scan`` always looks
    for secrets).
    """
    if not isinstance(setting, Mapping):
        raise TypeError(f"SCRUB must be a dict, not {setting!r}")
    return build(
        secrets=setting["SECRETS"] if secrets is None else secrets,
        pii=setting["PII"],
        patterns=setting["PATTERNS"],
        keys=setting["KEYS"],
    )
