"""The subcommands of ``manage.py sessionlog``, one module each.

Each module is a ``Subcommand``: its docstring is the subcommand's
description, ``HELP`` its one line in the list, ``add_arguments`` its
options and ``run`` the work. ``management/commands/sessionlog.py`` only
wires them up, and mypy checks every module against the protocol there.
"""

from __future__ import annotations

import argparse
from typing import Any, Protocol

from django.core.management import BaseCommand

#: Exit statuses: 0 all well; 1 what was checked failed (invalid rows, a worse
#: candidate, findings of ``scan``); 2 bad arguments, settings or files.
OK, INVALID, USAGE = 0, 1, 2


class Subcommand(Protocol):
    HELP: str

    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, command: BaseCommand, options: dict[str, Any]) -> None: ...
