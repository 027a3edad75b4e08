"""Delete log files older than a retention period (rows hold people's data).

Needs {date} in SESSIONLOG['PATH']. Deletes this host's files of that
pattern whose date is more than DAYS days before today (UTC), printing
each; --dry-run only lists them. A file whose name does not match the
pattern exactly (a compressed copy, a file you put there) is never touched.

  sessionlog prune --older-than 30 --dry-run
"""

from __future__ import annotations

import argparse
import datetime
import glob
import os
from typing import Any

from django.core.management import BaseCommand, CommandError

from .. import paths
from ..conf import conf
from ..read.formatting import plural, size
from . import USAGE
from .arguments import setting_error, whole_number

HELP = "delete dated log files older than DAYS days"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--older-than",
        type=whole_number(0, of="days"),
        required=True,
        metavar="DAYS",
        help="retention in days",
    )
    parser.add_argument("--dry-run", action="store_true", help="list what would be deleted, delete nothing")


def collapsed(template: str) -> str:
    """``template`` without repeated separators or ``.`` parts: the form ``glob`` gives its matches in.

    ``glob("pr//s-*")`` answers ``pr/s-...``, which a pattern built from
    ``pr//s-`` never matches, so prune deleted nothing. Unlike
    ``os.path.normpath``, ``..`` is kept (past a symlink it is not the
    folder before it), and so is a leading ``//``, which POSIX lets mean
    something else than ``/``.
    """
    normal = template.replace(os.altsep, os.sep) if os.altsep else template
    double = os.sep * 2
    if normal.startswith(double) and not normal.startswith(os.sep * 3):
        lead = double
    else:
        lead = os.sep if normal.startswith(os.sep) else ""
    return lead + os.sep.join(part for part in normal.split(os.sep) if part not in ("", "."))


def expired(template: str, days: int, today: datetime.date) -> list[str]:
    """This host's files of ``template`` dated more than ``days`` days before ``today``."""
    template = collapsed(template)
    pattern = paths.date_pattern(template)
    try:
        cutoff = today - datetime.timedelta(days=days)
    except OverflowError:  # before year 1: no file is that old
        return []
    found = []
    for path in sorted(glob.glob(paths.as_glob(template, any_host=False))):
        match = pattern.match(path)
        if match is None:
            continue
        try:
            dated = datetime.date.fromisoformat(match["date"])
        except ValueError:  # 2026-13-45 matches the shape, not the calendar
            continue
        if dated < cutoff:
            found.append(path)
    return found


def run(command: BaseCommand, options: dict[str, Any]) -> None:
    template = conf.PATH
    if "{date}" not in template:
        raise setting_error(
            f"prune needs {{date}} in SESSIONLOG['PATH'] (it is {template!r}): without a date in the file "
            "names there is nothing to tell old files by; rotate with logrotate instead"
        )
    today = datetime.datetime.now(datetime.timezone.utc).date()
    doomed = expired(template, options["older_than"], today)
    verb = "would delete" if options["dry_run"] else "deleted"
    freed, done, failed = 0, 0, []
    for path in doomed:
        try:
            length = os.path.getsize(path)
            if not options["dry_run"]:
                os.unlink(path)
        except FileNotFoundError:
            continue  # gone already: what prune wanted
        except OSError as exc:
            failed.append(f"{path}: {exc.strerror}")
            continue
        freed += length
        done += 1
        command.stdout.write(f"{verb} {path}")
    days = options["older_than"]
    command.stderr.write(f"{verb} {plural(done, 'file')} ({size(freed)}) older than {plural(days, 'day')}")
    for problem in failed:
        command.stderr.write(f"could not delete {problem}")
    if failed:
        raise CommandError(f"{plural(len(failed), 'file')} could not be deleted", returncode=USAGE)
