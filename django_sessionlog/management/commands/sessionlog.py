"""``manage.py sessionlog``: read, check, summarise and export session logs."""

from __future__ import annotations

import argparse
import signal
import sys
from typing import Any, ClassVar

from django.core.management import BaseCommand, CommandError
from django.core.management.base import CommandParser

from ... import __version__
from ...subcommands import (
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
        printed with escapes instead of failing the print.
        """
        if hasattr(signal, "SIGPIPE"):
            signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        for stream in (sys.stdout, sys.stderr):
            reconfigure = getattr(stream, "reconfigure", None)
            if reconfigure is not None:
                reconfigure(errors="backslashreplace")
        try:
            super().run_from_argv(argv)
        except KeyboardInterrupt:
            sys.exit(INTERRUPTED)

    def handle(self, *args: Any, **options: Any) -> None:
        SUBCOMMANDS[options["subcommand"]].run(self, options)
