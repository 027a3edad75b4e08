"""``manage.py sessionlog``: read, check, summarise and export session logs."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from collections.abc import Callable
from typing import Any, ClassVar

from django.core.management import BaseCommand, CommandError
from django.core.management.base import CommandParser, OutputWrapper

from ... import __version__
from ...subcommands import (
    USAGE,
    Subcommand,
    compare,
    export,
    prune,
    query,
    report,
    scan,
    schema,
    stats,
    tail,
    validate,
)

SUBCOMMANDS: dict[str, Subcommand] = {
    "validate": validate,
    "tail": tail,
    "stats": stats,
    "schema": schema,
    "query": query,
    "report": report,
    "compare": compare,
    "export": export,
    "prune": prune,
    "scan": scan,
}

#: Interrupted by Ctrl-C: the shell's status for a death by SIGINT.
INTERRUPTED = 130


class OutputFailed(Exception):
    """Standard output refused what the command wrote (closed, a full disk, an I/O error).

    Not an ``OSError``, so no handler meant for a log that cannot be read
    takes it for one; ``Command.run_from_argv`` says it in one line.
    """


class CommandLineOutput(OutputWrapper):
    """The command line's standard output, whose failures are ``OutputFailed``.

    ``>&-`` leaves ``sys.stdout`` as None and ``>/dev/full`` fails with
    ENOSPC: both are the user's output, not the log, and neither is a bug to
    show a traceback for.
    """

    def write(  # type: ignore[override]  # OutputWrapper's signature, as its stubs give it
        self, msg: str = "", style_func: Callable[[str], str] | None = None, ending: str | None = None
    ) -> None:
        if self._out is None:
            raise OutputFailed("standard output is closed")
        try:
            super().write(msg, style_func, ending)
        except OSError as exc:
            raise OutputFailed(str(exc)) from None

    def flush(self) -> None:
        if self._out is None:
            return
        try:
            super().flush()
        except OSError as exc:
            raise OutputFailed(str(exc)) from None


class SubcommandParser(CommandParser):
    """A subcommand's parser: bad arguments exit with status 2 everywhere.

    Django 5 tells subparsers whether they run from the command line (then
    argparse prints the usage and exits 2); on Django 4.2, and from
    ``call_command``, the error is a CommandError with status 2.
    """

    def error(self, message: str) -> Any:
        if self.called_from_command_line:
            super().error(message)
        raise CommandError(f"Error: {message}", returncode=2)


def add_django_options(parser: argparse.ArgumentParser) -> None:
    """Django's own options, accepted after the subcommand too (``validate FILE --traceback``).

    They default to ``SUPPRESS``, so one given before the subcommand is not
    overwritten by the subcommand's parser. ``--settings`` and
    ``--pythonpath`` are applied by Django wherever they stand; they are
    named here so the subcommand's parser does not refuse them.
    """
    group = parser.add_argument_group("Django's options (also accepted before the subcommand)")
    group.add_argument(
        "-v", "--verbosity", type=int, choices=[0, 1, 2, 3], default=argparse.SUPPRESS, help="verbosity level"
    )
    group.add_argument(
        "--settings", default=argparse.SUPPRESS, help="the settings module, as for any command"
    )
    group.add_argument("--pythonpath", default=argparse.SUPPRESS, help="a folder to add to the Python path")
    for flag, text in (
        ("--traceback", "raise on CommandError exceptions"),
        ("--no-color", "do not colour the output"),
        ("--force-color", "colour the output even when it is not a terminal"),
    ):
        group.add_argument(flag, action="store_true", default=argparse.SUPPRESS, help=text)


class Command(BaseCommand):
    help = "Read, check and summarise session.iterate.v1 logs. See each subcommand's --help."
    # Reading a log must work even while the settings are being fixed.
    requires_system_checks: ClassVar[list[str]] = []  # type: ignore[misc]

    def get_version(self) -> str:
        return __version__

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        # Django builds the parser itself; only its error() changes, so that
        # a bad subcommand is exit status 2 from call_command too.
        parser.__class__ = SubcommandParser
        return parser

    def add_arguments(self, parser: CommandParser) -> None:
        subparsers = parser.add_subparsers(
            dest="subcommand", metavar="SUBCOMMAND", required=True, parser_class=SubcommandParser
        )
        for name, module in SUBCOMMANDS.items():
            subparser = subparsers.add_parser(
                name,
                help=module.HELP,
                description=module.__doc__,
                formatter_class=argparse.RawDescriptionHelpFormatter,
            )
            module.add_arguments(subparser)
            add_django_options(subparser)

    def run_from_argv(self, argv: list[str]) -> None:
        """The command line: a closed pipe or Ctrl-C ends quietly, as for any Unix tool.

        ``sessionlog tail -n 1000 | head`` closes the pipe early; with
        SIGPIPE's default action the process ends as ``cat`` would, with no
        BrokenPipeError traceback. A file name that is not valid UTF-8 is
        printed with escapes instead of failing the print. An output that
        cannot be written (``>&-``, ``>/dev/full``) is one line on stderr and
        status 2, as for a log that cannot be read: the command did not do
        its work, and 1 means "the check failed" (validate, compare, scan).
        """
        if hasattr(signal, "SIGPIPE"):
            signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        for stream in (sys.stdout, sys.stderr):
            reconfigure = getattr(stream, "reconfigure", None)
            if reconfigure is not None:
                reconfigure(errors="backslashreplace")
        if sys.stdout is None:
            _hold_descriptor(1)
        self.stdout = CommandLineOutput(sys.stdout)
        try:
            try:
                super().run_from_argv(argv)
            finally:
                self.stdout.flush()  # what is still buffered fails here, not in Python's exit
        except KeyboardInterrupt:
            sys.exit(INTERRUPTED)
        except OutputFailed as exc:
            _quiet_stdout()
            with contextlib.suppress(AttributeError, OSError):  # stderr gone too: the status says it
                self.stderr.write(f"sessionlog: cannot write the output: {exc}")
            sys.exit(USAGE)

    def handle(self, *args: Any, **options: Any) -> None:
        SUBCOMMANDS[options["subcommand"]].run(self, options)


def _hold_descriptor(fd: int) -> None:
    """Put os.devnull on a closed descriptor, so no file the command opens is given its number.

    With stdout closed, the next file opened would be descriptor 1, where
    anything writing to "standard output" below Python would land.
    """
    try:
        os.fstat(fd)
    except OSError:
        spare = os.open(os.devnull, os.O_WRONLY)
        if spare != fd:
            os.dup2(spare, fd)
            os.close(spare)


def _quiet_stdout() -> None:
    """Point standard output at os.devnull, so Python's own flush at exit does not fail again.

    That flush would print "Exception ignored" and change the status to 120.
    """
    try:
        spare = os.open(os.devnull, os.O_WRONLY)
        os.dup2(spare, sys.stdout.fileno())
        os.close(spare)
    except (AttributeError, OSError, ValueError):
        pass  # no stdout at all: nothing is left to flush
