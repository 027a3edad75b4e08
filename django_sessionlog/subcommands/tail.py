"""Show the last rows of the log, and with -f every new one as it is written.

Reads from the end of the file, so the last rows of a multi-gigabyte log
come as fast as those of a small one. -f follows like tail -F: across
logrotate's rename, copytruncate, and a file that does not exist yet.
Control characters from a row are shown escaped, never sent to the
terminal.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import os
from collections.abc import Callable, Iterator
from typing import Any

from django.core.management import BaseCommand, CommandError
from django.core.management.color import Style

from .. import paths
from ..conf import conf
from ..read.formatting import duration, utc
from ..read.sources.backwards import lines_from_end
from ..read.sources.files import READ_ERRORS, open_log, seekable
from ..read.sources.follow import follow
from ..read.sources.rows import Tally, counted, problems_of
from ..read.sources.rules import DecodedRow
from ..read.sources.window import Window
from ..row import ACCEPTED, INFRA_ERROR, MAX_ITER_EXHAUSTED, VERDICTS
from . import USAGE
from .arguments import current_file, parse_when, seconds, whole_number
from .output import safe, skipped_lines, to_terminal

HELP = "show the last rows, and follow new ones with -f"

Match = Callable[[DecodedRow], bool]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "file", nargs="?", metavar="FILE", help="the log (default: today's SESSIONLOG['PATH'])"
    )
    parser.add_argument(
        "-n", "--lines", type=whole_number(0), default=10, metavar="N", help="how many rows (default 10)"
    )
    parser.add_argument("-f", "--follow", action="store_true", help="keep printing rows as they are appended")
    parser.add_argument("--json", action="store_true", help="print the raw JSON lines, for jq")
    parser.add_argument("--verdict", action="append", choices=VERDICTS, help="only this verdict (repeatable)")
    parser.add_argument("--kind", action="append", metavar="KIND", help="only this kind (repeatable)")
    parser.add_argument("--since", type=parse_when, metavar="WHEN", help="only sessions at or after WHEN")
    parser.add_argument(
        "--poll-interval",
        type=seconds,
        default=0.25,
        metavar="SECONDS",
        help="how often -f looks (default 0.25)",
    )


def run(command: BaseCommand, options: dict[str, Any]) -> None:
    name = options["file"] or current_file()
    matches = _matcher(options)
    show = _printer(command, options["json"])
    templated = not options["file"] and paths.is_template(conf.PATH)
    if options["follow"] and (name.endswith(".gz") or name == "-"):
        raise CommandError("-f follows a plain file, not a .gz file or standard input", returncode=USAGE)
    if os.path.isdir(name):  # -f would wait for it to become a file, forever
        raise CommandError(f"{name}: is a folder, not a log file", returncode=USAGE)
    handle, end = _open(name, options["follow"])
    tally = Tally()
    try:
        if handle is not None:
            with _reading(name):
                rows, partial = _last_rows(handle, end, options["lines"], matches, tally, options["follow"])
            for line in rows:
                show(line)
            end -= partial  # follow from the start of a row still being written
            left_out = skipped_lines(tally)
            if left_out:  # a log of garbage must not look empty
                command.stderr.write(f"{name}: {left_out}")
        if options["follow"]:
            current = (lambda: paths.fill(conf.PATH, paths.today())) if templated else (lambda: name)
            lines = follow(current, handle=handle, offset=end, poll_interval=options["poll_interval"])
            for line in _read_through(name, lines):
                row, problems = counted(line, tally)
                if row is not None and matches(row):
                    show(line)
                elif problems:  # said as it comes: -f has no end to say it at
                    command.stderr.write(f"{name}: left out an invalid line: {problems[0]}")
    except KeyboardInterrupt:
        return
    finally:
        if handle is not None and name != "-":
            handle.close()  # follow() may have closed it already: harmless


@contextlib.contextmanager
def _reading(name: str) -> Iterator[None]:
    """A failure to read the log, as exit status 2 naming it.

    Only around reads: an error writing the output is not the log's (it
    was said as "cannot read" the log).
    """
    try:
        yield
    except READ_ERRORS as exc:
        raise CommandError(f"{name}: cannot read: {exc}", returncode=USAGE) from None


def _read_through(name: str, lines: Iterator[bytes]) -> Iterator[bytes]:
    """``lines``, with a read error as ``_reading`` says it; what the caller does with each is outside."""
    with _reading(name):
        yield from lines


def _open(name: str, following: bool) -> tuple[Any, int]:
    try:
        handle = open_log(name)
    except OSError as exc:
        if following:
            return None, 0  # follow waits for it to appear (and says why if it is not just missing)
        if isinstance(exc, FileNotFoundError):
            raise CommandError(f"{name}: no such file", returncode=USAGE) from None
        raise CommandError(f"{name}: cannot read: {exc.strerror}", returncode=USAGE) from None
    if not seekable(name):
        return handle, -1
    return handle, os.fstat(handle.fileno()).st_size


def _last_rows(
    handle: Any, end: int, wanted: int, matches: Match, tally: Tally, following: bool = False
) -> tuple[list[bytes], int]:
    """The last ``wanted`` matching rows, oldest first, and the length of a row still being written.

    Lines read on the way that are not rows are counted in ``tally``. A last
    line without ``\\n`` is classified as every reader classifies it (a
    complete row is a row, anything else a torn write), except under
    ``following``: -f holds it back as a row still being written, and prints
    it once its newline arrives.
    """
    if end < 0:  # compressed or piped: no seeking back, so read it through
        kept: collections.deque[bytes] = collections.deque(maxlen=wanted)
        for line in handle:
            row, _ = counted(line, tally)
            if row is not None and matches(row):
                kept.append(line)
        return list(kept), 0
    found: list[bytes] = []
    partial = 0
    for line in lines_from_end(handle, end):
        if following and not line.endswith(b"\n"):
            partial = len(line)  # still being written: -f prints it once it is whole
            continue
        if len(found) == wanted:
            break
        row, _ = counted(line, tally)
        if row is not None and matches(row):
            found.append(line)
    found.reverse()
    return found, partial


def _matcher(options: dict[str, Any]) -> Match:
    verdicts = set(options["verdict"] or ())
    kinds = set(options["kind"] or ())
    inside = Window(since=options["since"]).test()

    def matches(row: DecodedRow) -> bool:
        return (
            (not verdicts or row.final_verdict in verdicts)
            and (not kinds or row.kind in kinds)
            and (inside is None or inside(row))
        )

    return matches


def _printer(command: BaseCommand, as_json: bool) -> Callable[[bytes], None]:
    def show(line: bytes) -> None:
        if as_json:
            text = line.decode("utf-8", "replace").removesuffix("\n")
            command.stdout.write(to_terminal(command, text, json=True))
        else:
            row, _ = problems_of(line)
            assert row is not None
            command.stdout.write(format_row(row, command.style))
        command.stdout.flush()

    return show


_VERDICT_STYLE = {ACCEPTED: "SUCCESS", MAX_ITER_EXHAUSTED: "WARNING", INFRA_ERROR: "ERROR"}


def format_row(row: DecodedRow, style: Style) -> str:
    """One line for a person: time, session, kind, model, verdict, effort, roster."""
    when = utc(row.timestamp, "%Y-%m-%d %H:%M:%S")
    model = safe(row.model) + (f"/{safe(row.provider)}" if row.provider else "")
    verdict = getattr(style, _VERDICT_STYLE[row.final_verdict])(f"{row.final_verdict:<18}")
    parts = [
        when,
        # Padded so the columns line up (a W3C trace id is 32 characters);
        # never cut: the id is the key to the live trace.
        f"{safe(row.session_id) or '-':<32}",
        f"{safe(row.kind):<8}",
        f"{model:<24}",
        verdict,
        f"{row.iterations}/{row.max_iterations}",
        f"{duration(row.duration_ms):>8}",
    ]
    if row.grounded_in_roster is True:
        parts.append("roster ok")
    elif row.grounded_in_roster is False:
        parts.append(style.ERROR("roster MISS"))
    if row.final_verdict != ACCEPTED and row.attempts:
        last_error = next((a.error for a in reversed(row.attempts) if a.error), "")
        if last_error:
            parts.append(f"· {safe(last_error)[:80]}")
    return "  ".join(parts)
