"""Print the JSON Schema (draft 2020-12) of a session.iterate.v1 row.

Generated from the same definition validate uses, so services in other
languages can check rows exactly as this app does.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from django.core.management import BaseCommand

from ..rules import json_schema

HELP = "print the JSON Schema of a row"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def run(command: BaseCommand, options: dict[str, Any]) -> None:
    command.stdout.write(json.dumps(json_schema(), indent=2, ensure_ascii=False))
