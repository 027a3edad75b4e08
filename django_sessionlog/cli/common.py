"""What the subcommands share: file arguments, times, safe text, progress."""

from __future__ import annotations

import argparse
import datetime
import re
import sys
import time
from typing import Any, TextIO

from django.core.management import BaseCommand, CommandError

from .. import paths, reader
from ..checks import problems
from ..conf import conf
from ..encoding import encode_line

#: Exit statuses (SPEC section 5).
OK, INVALID, USAGE = 0, 1, 2


def add_files_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "files",
        nargs="*",
        metavar="FILE",
        help="log files or globs; .gz files are read too, - is standard input "
        "(default: every file of SESSIONLOG['PATH'])",
    )


def setting_error(message: str) -> CommandError:
    """An exit-2 error about ``SESSIONLOG``, naming what the system checks find wrong with it.

    The commands skip the checks (a log must be readable while settings are
    being fixed), so ``PATH is not set`` also says ``unknown key 'PTAH'``.
    """
    found = problems()
    return CommandError("; ".join([message, *found]), returncode=USAGE)


def resolve_files(options: dict[str, Any], *, readable: bool = True) -> list[str]:
    """The files a command reads, each one openable (unless ``readable`` is false).

    A file that cannot be opened stops the command before it prints
    anything: half a result on stdout with exit status 2 is worse than
    none. ``validate`` reads on (``readable=False``): it checks every file
    it can and says which it could not.
    """
    try:
        files = reader.expand(options["files"], conf.PATH)
    except reader.NoFiles as exc:
        if options["files"]:
            raise CommandError(str(exc), returncode=USAGE) from None
        raise setting_error(str(exc)) from None
    if readable:
        problems = [f"{name}: cannot read: {reason}" for name, reason in reader.unopenable(files)]
        if problems:
            raise CommandError("; ".join(problems), returncode=USAGE)
    return files


def unreadable_error(tally: reader.Tally) -> CommandError:
    """Exit status 2 for files that could not be read to the end (each already named on stderr)."""
    return CommandError(f"{plural(len(tally.unreadable), 'file')} could not be read", returncode=USAGE)


def current_file() -> str:
    """This host's file of today, for ``tail`` without a file named."""
    if not conf.PATH:
        raise setting_error("no file named, and SESSIONLOG['PATH'] is not set")
    if paths.is_template(conf.PATH):
        return paths.fill(conf.PATH, paths.today())
    return conf.PATH


def plural(count: float, noun: str, many: str | None = None) -> str:
    """``1 row``, ``2 rows``, ``1,204 files``: the count with the noun that fits it."""
    shown = f"{count:,}" if isinstance(count, int) else f"{count:,.1f}".removesuffix(".0")
    return f"{shown} {noun if count == 1 else many or noun + 's'}"


def size(count: int) -> str:
    """Bytes for a person: ``0 bytes``, ``812 bytes``, ``4.2 kB``, ``1.3 GB``."""
    if count < 1000:
        return plural(count, "byte")
    amount, unit = float(count), "B"
    for unit in ("kB", "MB", "GB", "TB"):  # noqa: B007 (the last unit is the one shown)
        amount /= 1000
        if amount < 999.95:
            break
    return f"{amount:,.1f} {unit}"


_RELATIVE = re.compile(r"(\d+)([smhdw])\Z")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_WHEN = "a date (2026-11-24), a time (2026-11-24T18:00:00Z) or an age (90m, 6h, 7d)"


def parse_when(value: str) -> datetime.datetime:
    """A point in time: ``2026-11-24``, an RFC 3339 time, or ``90m``/``6h``/``7d`` ago.

    A date or a time without a zone is UTC, as the log is. A time that
    cannot be shown in UTC (before year 1, after 9999) is refused here, so
    no command meets it later.
    """
    relative = _RELATIVE.match(value.strip())
    try:
        if relative:
            amount, unit = relative.groups()
            now = datetime.datetime.now(datetime.timezone.utc)
            return now - datetime.timedelta(**{_UNITS[unit]: int(amount)})
        moment = datetime.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        if moment.tzinfo is None:
            return moment.replace(tzinfo=datetime.timezone.utc)
        moment.astimezone(datetime.timezone.utc)
        return moment
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not {_WHEN}") from None
    except OverflowError:
        raise argparse.ArgumentTypeError(f"{value!r} is outside the years 1 to 9999") from None


def seconds(value: str) -> float:
    """A positive, finite number of seconds, at most an hour (``--poll-interval``)."""
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of seconds") from None
    if not 0 < number <= 3600:  # also refuses nan and inf
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of seconds above 0 and at most 3600")
    return number


def count(value: str) -> int:
    """A whole number, 0 or more (``-n``); a huge one means "all"."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < 0:
        raise argparse.ArgumentTypeError(f"{value!r}: it must be 0 or more")
    return min(number, sys.maxsize)


def add_time_window(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--since", type=parse_when, metavar="WHEN", help="only sessions at or after WHEN")
    parser.add_argument(
        "--until", type=parse_when, metavar="WHEN", help="only sessions before WHEN (a date means its start)"
    )


def time_window(options: dict[str, Any]) -> tuple[datetime.datetime | None, datetime.datetime | None]:
    """``--since`` and ``--until``; exit status 2 when the window is empty by construction."""
    since, until = options.get("since"), options.get("until")
    if since is not None and until is not None and since >= until:
        raise CommandError(
            f"--since ({since.isoformat()}) is not before --until ({until.isoformat()})", returncode=USAGE
        )
    return since, until


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
    """One JSON line; values JSON has no type for (Decimal, timedelta, ...) as the writer writes them."""
    command.stdout.write(encode_line(value).decode(), ending="")


def report_unreadable(command: BaseCommand, tally: reader.Tally) -> None:
    for name, reason in tally.unreadable:
        command.stderr.write(f"{name}: cannot read: {reason}")


def skipped_lines(tally: reader.Tally) -> str:
    """What reading left out, for stderr ("" when nothing was)."""
    parts = []
    if tally.invalid:
        torn = f" ({tally.torn} torn)" if tally.torn else ""
        parts.append(plural(tally.invalid, "invalid line") + torn)
    if tally.skipped:
        parts.append(plural(tally.skipped, "row") + " of another schema")
    if not parts:
        return ""
    return "left out " + " and ".join(parts) + " (run `sessionlog validate` to see them)"


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
