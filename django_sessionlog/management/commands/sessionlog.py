"""``manage.py sessionlog``: read, check, summarise and export session logs."""

from __future__ import annotations

import argparse
from types import ModuleType
from typing import Any, ClassVar

from django.core.management import BaseCommand, CommandError
from django.core.management.base import CommandParser

from ...cli import export, prune, query, report, schema, stats, tail, validate

SUBCOMMANDS: dict[str, ModuleType] = {
    "validate": validate,
    "tail": tail,
    "stats": stats,
    "schema": schema,
    "query": query,
    "report": report,
    "export": export,
    "prune": prune,
}


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


class Command(BaseCommand):
    help = "Read, check and summarise session.iterate.v1 logs. See each subcommand's --help."
    # Reading a log must work even while the settings are being fixed.
    requires_system_checks: ClassVar[list[str]] = []  # type: ignore[misc]

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

    def handle(self, *args: Any, **options: Any) -> None:
        SUBCOMMANDS[options["subcommand"]].run(self, options)
