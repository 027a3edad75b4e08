"""What the subcommands print: safe text for a terminal, JSON lines, messages, progress."""

from __future__ import annotations

import re
import sys
import time
from typing import Any, TextIO

from django.core.management import BaseCommand, CommandError

from ..jsonl import encode_line
from ..read.formatting import plural
from ..read.sources.rows import Tally
from . import USAGE

# Characters a row may carry that a terminal would act on instead of show:
# C0/C1 controls (escape sequences), line and paragraph separators, and the
# bidirectional overrides of "trojan source" text.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def safe(text: str) -> str:
    """``text`` with every control character shown as an escape, never acted on."""
    return _UNSAFE.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(char) or (
        f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
    )


def json_safe(text: str) -> str:
    """Raw JSON with every character a terminal would act on written as ``\\uXXXX``.

    Still the same JSON (orjson leaves C1 controls, U+2028 and bidirectional
    overrides raw inside strings; outside strings they cannot occur).
    """
    return _UNSAFE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def to_terminal(command: BaseCommand, text: str, *, json: bool = False) -> str:
    """``text`` made safe when standard output is a terminal, as it is otherwise.

    Piped output stays byte for byte what the log holds (``jq`` reads it);
    only a person's terminal gets the escapes.
    """
    if not command.stdout.isatty():
        return text
    return json_safe(text) if json else safe(text)


def write_json(command: BaseCommand, value: Any) -> None:
    """One JSON line; values JSON has no type for (Decimal, timedelta, ...) as the writer writes them.

    To a terminal, what it would act on (C1 controls, bidirectional
    overrides, which orjson leaves raw in strings) is written escaped.
    """
    text = encode_line(value).decode().removesuffix("\n")
    command.stdout.write(to_terminal(command, text, json=True))


def report_unreadable(command: BaseCommand, tally: Tally) -> None:
    for name, reason in tally.unreadable:
        command.stderr.write(f"{name}: cannot read: {reason}")


def unreadable_error(tally: Tally) -> CommandError:
    """Exit status 2 for files that could not be read to the end (each already named on stderr)."""
    return CommandError(f"{plural(len(tally.unreadable), 'file')} could not be read", returncode=USAGE)


def skipped_lines(tally: Tally, searched: bool = False) -> str:
    """What reading left out, for stderr ("" when nothing was); ``searched``: ``scan`` searched it as text."""
    parts = []
    if tally.invalid:
        torn = f" ({tally.torn} torn)" if tally.torn else ""
        parts.append(plural(tally.invalid, "invalid line") + torn)
    if tally.skipped:
        parts.append(plural(tally.skipped, "row") + " of another schema")
    if not parts:
        return ""
    lines = " and ".join(parts)
    if searched:
        return f"{lines} searched whole, not as rows (run `sessionlog validate` to see them)"
    return f"left out {lines} (run `sessionlog validate` to see them)"


class Progress:
    """A progress bar on stderr, for big inputs read by a person at a terminal."""

    MIN_BYTES = 64 << 20

    def __init__(self, total: int, label: str, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.total = total
        self.label = label
        self.done = 0
        self.rows = 0
        self.started = self.shown = time.monotonic()
        self.active = total >= self.MIN_BYTES and self.stream.isatty()

    def advance(self, size: int) -> None:
        self.done += size
        self.rows += 1
        if self.rows & 0x3FFF == 0:
            now = time.monotonic()
            if now - self.shown >= 0.2:
                self.shown = now
                self._draw(now)

    def _draw(self, now: float) -> None:
        fraction = min(1.0, self.done / self.total)
        filled = int(fraction * 30)
        rate = self.rows / max(now - self.started, 1e-9)
        self.stream.write(
            f"\r{self.label} [{'#' * filled}{'.' * (30 - filled)}] {fraction:4.0%} "
            f"{self.done / 1e9:.2f}/{self.total / 1e9:.2f} GB {rate / 1000:.0f}k rows/s"
        )
        self.stream.flush()

    def finish(self) -> None:
        if self.active:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
