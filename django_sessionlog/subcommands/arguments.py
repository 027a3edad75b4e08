"""The arguments the subcommands share, and turning them into what to read.

Files and globs (default: the files of ``SESSIONLOG['PATH']``), times
(``--since``/``--until``), and the types that refuse nonsense with a message
(argparse turns their ``ArgumentTypeError`` into exit status 2).
"""

from __future__ import annotations

import argparse
import datetime
import re
import sys
from collections.abc import Callable
from typing import Any

from django.core.management import CommandError

from .. import paths
from ..checks import problems
from ..conf import conf
from ..read.figures.cost import Prices, price_problems
from ..read.sources import files as log_files
from ..read.sources.window import Window
from . import USAGE


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


def prices() -> Prices:
    """The prices of ``SESSIONLOG["PRICES"]`` over genai-prices'; a wrong setting is exit 2 in one line."""
    setting = conf.PRICES
    found = price_problems(setting)
    if found:
        raise CommandError(f"SESSIONLOG['PRICES'] {found[0]}", returncode=USAGE)
    return Prices(setting)


def resolve_files(options: dict[str, Any], *, readable: bool = True) -> list[str]:
    """The files a command reads, each one openable (unless ``readable`` is false).

    A file that cannot be opened stops the command before it prints
    anything: half a result on stdout with exit status 2 is worse than
    none. ``validate`` reads on (``readable=False``): it checks every file
    it can and says which it could not.
    """
    try:
        names = log_files.expand(options["files"], conf.PATH)
    except log_files.NoFiles as exc:
        if options["files"]:
            raise CommandError(str(exc), returncode=USAGE) from None
        raise setting_error(str(exc)) from None
    if readable:
        refused = [f"{name}: cannot read: {reason}" for name, reason in log_files.unopenable(names)]
        if refused:
            raise CommandError("; ".join(refused), returncode=USAGE)
    return names


def current_file() -> str:
    """This host's file of today, for ``tail`` without a file named."""
    if not conf.PATH:
        raise setting_error("no file named, and SESSIONLOG['PATH'] is not set")
    if paths.is_template(conf.PATH):
        return paths.fill(conf.PATH, paths.today())
    return conf.PATH


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


def whole_number(least: int, of: str = "") -> Callable[[str], int]:
    """An argparse type: a whole number, ``least`` or more (``of`` names its unit in messages).

    A huge number is taken as the largest there is ("all"), so no later
    arithmetic overflows on it.
    """

    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{value!r} is not a whole number{' of ' + of if of else ''}"
            ) from None
        if number < least:
            raise argparse.ArgumentTypeError(f"{value!r}: it must be {least} or more")
        return min(number, sys.maxsize)

    parse.__name__ = f"whole number ({least} or more)"  # argparse names the type in its messages
    return parse


def add_time_window(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--since", type=parse_when, metavar="WHEN", help="only sessions at or after WHEN")
    parser.add_argument(
        "--until", type=parse_when, metavar="WHEN", help="only sessions before WHEN (a date means its start)"
    )


def time_window(options: dict[str, Any]) -> Window:
    """``--since`` and ``--until``; exit status 2 when the window is empty by construction."""
    since, until = options.get("since"), options.get("until")
    if since is not None and until is not None and since >= until:
        raise CommandError(
            f"--since ({since.isoformat()}) is not before --until ({until.isoformat()})", returncode=USAGE
        )
    return Window(since, until)
