"""The built-in detectors: secrets on by default, personal data by name.

Compiled on first use (``secrets()``, ``pii()``), so importing the settings
costs nothing. Each pattern starts with a literal, so the regex engine
searches for it as fast as ``str.find`` does; the boundary before it is a
lookbehind placed after the literal (a lookbehind first would cost a try at
every character).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

from .detector import Detector

#: Personal data, found only when named in ``PII``.
PII_NAMES = ("email", "phone", "card", "iban")
#: The order they win in where two claim the same characters: an IBAN's
#: digits are not a card number, nor is a phone number written with "+".
PII_ORDER = ("email", "iban", "phone", "card")

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


_lowered: tuple[str, str] = ("", "")


def _lower(text: str) -> str:
    """``text`` in lower case (the last one is kept: the assignment and bearer detectors share it)."""
    global _lowered
    cached_text, cached = _lowered
    if cached_text is text:
        return cached
    low = text.lower()
    if len(low) != len(text):  # a character whose lower case is longer: offsets would move
        low = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
    _lowered = (text, low)
    return low


#: GitLab's token prefixes: personal, deploy, runner, pipeline trigger, CI build, feed,
#: OAuth app, incoming mail, agent, SCIM OAuth and feature-flag client tokens.
_GITLAB_PREFIXES = (
    "glpat-",
    "gldt-",
    "glrt-",
    "glptt-",
    "glcbt-",
    "glft-",
    "gloas-",
    "glimt-",
    "glagent-",
    "glsoat-",
    "glffct-",
)


#: The names a secret is assigned to, in lower case: ``password = ...``, ``API_KEY: ...``.
ASSIGNED_NAMES = (
    "password",
    "passwd",
    "pwd",
    "secret",
    "token",
    "api_key",
    "apikey",
    "api-key",
    "access_key",
    "auth_key",
    "private_key",
)


def _spots(text: str, words: tuple[str, ...]) -> list[int]:
    """Where each of ``words`` (in lower case) occurs in ``text``, in any case, in order."""
    low = _lower(text)
    spots: list[int] = []
    for word in words:
        at = low.find(word)
        while at >= 0:
            spots.append(at)
            at = low.find(word, at + 1)
    spots.sort()
    return spots


def _keyword_windows(text: str, words: tuple[str, ...], before: int, after: int) -> Iterator[tuple[int, int]]:
    """Around each occurrence of a word (any case): ``before`` characters before it, ``after`` after."""
    spots = _spots(text, words)
    if not spots:
        return
    size = len(text)
    start, end = max(spots[0] - before, 0), min(spots[0] + after, size)
    for at in spots[1:]:
        if at - before <= end:
            end = min(at + after, size)
        else:
            yield start, end
            start, end = max(at - before, 0), min(at + after, size)
    yield start, end


def _assignment_windows(text: str) -> Iterator[tuple[int, int]]:
    """Where a name of ``ASSIGNED_NAMES`` starts, in order, to the end of the longest assignment after it.

    The detector is ``anchored``: its pattern starts with the name, so it is
    tried once at each, not at each character around them (prompts say
    "token" often: that cost 125 us on a 1.6 KB prompt, this about 5).
    """
    size = len(text)
    return ((at, min(at + 260, size)) for at in _spots(text, ASSIGNED_NAMES))


def _bearer_windows(text: str) -> Iterator[tuple[int, int]]:
    return _keyword_windows(text, ("bearer",), 1, 4200)


def _assigned_check(match: re.Match[str]) -> bool:
    """A value that looks random: letters and digits both, no placeholder, not all one case of a word."""
    value = match.group("secret")
    if value.lower() in _PLACEHOLDERS or value.startswith(("${", "<", "{{", "%(", "os.", "env.")):
        return False
    has_digit = any(c.isdigit() for c in value)
    has_letter = any(c.isalpha() for c in value)
    return has_digit and has_letter and _entropy(value) >= 2.5


_PLACEHOLDERS = {"changeme", "password", "********", "xxxxxxxx", "redacted", "your_password"}


def _entropy(text: str) -> float:
    """Shannon entropy of ``text`` in bits a character (a random key of 16 characters has about 4)."""
    import math

    counts: dict[str, int] = {}
    for char in text:
        counts[char] = counts.get(char, 0) + 1
    size = len(text)
    return -sum(n / size * math.log2(n / size) for n in counts.values())


# ---------------------------------------------------------------------------
# The detectors
#
# Each pattern starts with a literal, so the regex engine searches for it as
# fast as ``str.find`` does; the boundary before it is a lookbehind placed
# after the literal (a lookbehind first would cost a try at every character).

_KEY_CHARS = "A-Za-z0-9_-"


@functools.cache
def secrets() -> tuple[Detector, ...]:
    """The secrets found by default, compiled once, at the first call."""
    return (
        # The whole block, from BEGIN to END; a block cut short (the prompt was
        # trimmed, the paste stopped) is scrubbed to the end of the text.
        Detector(
            "private_key",
            r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
            r"(?:.*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|.*)",
            needs="VKY",
            anchor="-----BEGIN ",
            flags=re.DOTALL,
            keywords=("-----BEGIN ",),
        ),
        # scheme://user:password@host: only the password. It runs to the last @
        # of the authority, so an @ left unescaped in a password is scrubbed too.
        Detector(
            "url_password",
            r"://[^\s:/?#@\[\]\"'<>]*:(?P<secret>[^\s/?#\"'<>]+)@(?=[^\s@/?#\"'<>])",
            needs="@:",
            keywords=("://",),
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
            keywords=("eyJ",),
        ),
        # "Bearer", as HTTP writes the scheme, in any case ("bearer" in
        # pasted curl); the word stays ("Bearer [scrubbed:bearer_token]").
        # A token has 16 characters or more and a digit, so "Bearer
        # authentication" and "the bearer of the news" stay.
        Detector(
            "bearer_token",
            r"(?<![A-Za-z0-9_-])(?i:bearer)(?:\s*[:=]\s*|\s+)(?P<secret>[A-Za-z0-9._~+/-]{16,}=*)",
            windows=_bearer_windows,
            check=_bearer_check,
            keywords=("bearer",),
            caseless=True,
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
            keywords=("sk-",),
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
            keywords=("AKIA", "ASIA", "AIza"),
        ),
        # ghp_ gho_ ghu_ ghs_ ghr_ and github_pat_ (GitHub), sk_live_ and
        # rk_live_ (Stripe): one pass from their first underscore.
        Detector(
            "github_token",
            r"_(?:(?<=gh[pousr]_)(?<![A-Za-z0-9_]gh[pousr]_)(?P<classic>[A-Za-z0-9]{36,251})(?![A-Za-z0-9_])"
            r"|(?<=github_)(?<![A-Za-z0-9_]github_)(?P<fine>pat_[A-Za-z0-9_]{22,251})(?![A-Za-z0-9_])"
            r"|(?<=[rs]k_)(?<![A-Za-z0-9_][rs]k_)(?P<stripe>live_[A-Za-z0-9]{16,})"
            r"|(?<=hf_)(?<![A-Za-z0-9_]hf_)(?P<huggingface>[A-Za-z]{34})(?![A-Za-z0-9_])"
            r"|(?<=npm_)(?<![A-Za-z0-9_]npm_)(?P<npm>[A-Za-z0-9]{36})(?![A-Za-z0-9_])"
            r"|(?<=do[opr]_)(?<![A-Za-z0-9_]do[opr]_)(?P<digitalocean>v1_[a-f0-9]{64})(?![A-Za-z0-9_]))",
            anchor="_",
            ends=(
                "ghp_",
                "gho_",
                "ghu_",
                "ghs_",
                "ghr_",
                "github_",
                "sk_",
                "rk_",
                "hf_",
                "npm_",
                "do_",
                "dop_",
                "doo_",
                "dor_",
            ),
            kinds=(
                ("classic", "github_token", 3),
                ("fine", "github_token", 6),
                ("stripe", "stripe_key", 2),
                ("huggingface", "huggingface_token", 2),
                ("npm", "npm_token", 3),
                ("digitalocean", "digitalocean_token", 3),
            ),
            keywords=(
                "ghp_",
                "gho_",
                "ghu_",
                "ghs_",
                "ghr_",
                "github_pat_",
                "k_live_",
                "hf_",
                "npm_",
                "_v1_",
            ),
        ),
        Detector(
            "slack_token",
            r"xox[a-z]-(?<![A-Za-z0-9]xox[a-z]-)[A-Za-z0-9-]{10,}",
            needs="x-",
            anchor="x",
            starts=("xox",),
            check=_digit_check,
            keywords=("xox",),
        ),
        # GitLab's tokens: glpat- (personal), gldt- (deploy), glrt- (runner),
        # glptt- (pipeline trigger), glcbt- (CI job), glft- (feed), gloas- (OAuth secret).
        Detector(
            "gitlab_token",
            r"gl(?<![A-Za-z0-9_-]gl)(?:pat|dt|rt|ptt|ft|oas|imt|agent|soat|ffct|cbt-[0-9a-zA-Z]{1,5}_?)-?"
            r"[0-9a-zA-Z_-]{20,}",
            anchor="gl",
            starts=_GITLAB_PREFIXES,
            tries=2,
            check=_digit_check,
            keywords=_GITLAB_PREFIXES,
        ),
        # SendGrid: SG., 22 key characters, a dot, 43 more.
        Detector(
            "sendgrid_key",
            rf"SG\.(?<![A-Za-z0-9_-]SG\.)[{_KEY_CHARS}]{{22}}\.[{_KEY_CHARS}]{{43}}(?![{_KEY_CHARS}])",
            anchor="SG.",
            tries=2,
            keywords=("SG.",),
        ),
        # Google OAuth access tokens: ya29. and 20 or more token characters.
        Detector(
            "google_oauth_token",
            rf"ya29\.(?<![A-Za-z0-9_-]ya29\.)[{_KEY_CHARS}]{{20,}}",
            anchor="ya29.",
            tries=2,
            keywords=("ya29.",),
        ),
        # Databricks: dapi and 32 hex digits (a -N suffix too).
        Detector(
            "databricks_token",
            r"dapi(?<![A-Za-z0-9_-]dapi)[a-f0-9]{32}(?:-[0-9])?(?![A-Za-z0-9])",
            anchor="dapi",
            tries=2,
            keywords=("dapi",),
        ),
        # Azure storage: the AccountKey (and SharedAccessKey) of a connection string.
        Detector(
            "azure_storage_key",
            r"Key=(?:(?<=AccountKey=)|(?<=SharedAccessKey=))(?P<secret>[A-Za-z0-9+/]{20,}={0,2})",
            anchor="Key=",
            tries=2,
            keywords=("Key=",),
        ),
        # password=..., API_KEY: "...", "client_secret": "..." in pasted config
        # and code: the value after a name that says secret, when it looks
        # random (letters and digits, entropy); the name stays.
        Detector(
            "assigned_secret",
            r"(?i:(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|auth[_-]?key|private[_-]?key))"
            r"(?:[_.-][A-Za-z0-9_.-]{0,20})?[\"']?[ \t]{0,3}(?::=|=>|=|:)[ \t]{0,3}[\"'`]?"
            r"(?P<secret>[A-Za-z0-9_\-+/=.~!@#%^&*]{8,200})",
            windows=_assignment_windows,
            anchored=True,
            check=_assigned_check,
            keywords=ASSIGNED_NAMES,
            caseless=True,
        ),
    )


@functools.cache
def pii() -> dict[str, Detector]:
    """The detectors of personal data by name, compiled once, at the first call."""
    return {
        "email": Detector(
            "email",
            r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
            r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.[A-Za-z]{2,24}(?![A-Za-z0-9-])",
            needs="@.",
            windows=_email_windows,
            keywords=("@",),
        ),
        # International form only: + and a country code, 8 digits or more in all,
        # so "UTC+01:00", "GMT+2" and "2+2" stay.
        "phone": Detector(
            "phone",
            r"\+(?<![A-Za-z0-9_+]\+)[1-9](?:[0-9]|[ .\-]?\([0-9]{1,5}\)|[ .\-](?=[0-9]))*(?![0-9])",
            anchor="+",
            check=_phone_check,
            keywords=("+",),
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
