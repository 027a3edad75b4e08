"""Look for secrets and personal data in existing logs, with the detectors the receiver scrubs with.

Each finding is printed as FILE:LINE: NAME in FIELD, FIELD being prompt,
attempts[N].error or artifact.PATH, and never the text found; a summary
goes to stderr. The built-in secrets are always looked for, whatever
SCRUB['SECRETS'] says (a log written before scrubbing, or by another
writer, is what this is for), with SCRUB's PII, PATTERNS and KEYS and the
--pii named here. Lines that are not valid rows are skipped and counted
(validate names them). A row whose artifact is nested deeper than the
readers decode (they stand it in as empty) is counted as not scanned, and
said. Exit status: 0 nothing found, 1 something found or a row not
scanned, 2 a file could not be read or the arguments or settings are wrong.
"""

from __future__ import annotations

import argparse
import operator
import re
from typing import Any

from django.core.management import BaseCommand, CommandError

from .. import scrubbing
from ..conf import conf
from ..read import files as log_files
from ..read.formatting import plural
from ..read.rows import Tally, iter_rows
from . import INVALID
from .arguments import add_files_argument, resolve_files, setting_error
from .output import Progress, report_unreadable, skipped_lines, to_terminal, unreadable_error, write_json

HELP = "look for secrets and personal data in logs (never printing them)"

_error = operator.attrgetter("error")
#: An artifact the line holds as empty: one that reads as empty without it was deep.
_EMPTY_ARTIFACT = re.compile(rb'"artifact"\s*:\s*(?:\{\s*\}|\[\s*\])')


def artifact_unread(line: bytes, artifact: Any) -> bool:
    """Whether the reader stood in an empty artifact for a deep one (its contents then go unscanned)."""
    return not artifact and b'"artifact"' in line and _EMPTY_ARTIFACT.search(line) is None


def pii_names(value: str) -> list[str]:
    """``--pii email,card`` or ``--pii all``: detectors of personal data to add."""
    names = [name.strip() for name in value.split(",") if name.strip()]
    if names == ["all"]:
        return list(scrubbing.PII_NAMES)
    unknown = [name for name in names if name not in scrubbing.PII_NAMES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a comma-separated list of {', '.join(scrubbing.PII_NAMES)} (or all)"
        )
    return names


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_files_argument(parser)
    parser.add_argument(
        "--pii",
        type=pii_names,
        default=[],
        metavar="NAMES",
        help=f"personal data to look for as well as SCRUB['PII']: {','.join(scrubbing.PII_NAMES)} or all",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="one JSON object per finding (never the text found), then a summary",
    )


def scrubber_for(extra_pii: list[str]) -> scrubbing.Scrubber:
    """The receiver's detectors from the settings, with every secret and the PII asked for here."""
    setting = conf.SCRUB
    try:
        if isinstance(setting, dict) and isinstance(setting.get("PII"), (list, tuple)):
            setting = {**setting, "PII": [*setting["PII"], *extra_pii]}
        return scrubbing.from_setting(setting, secrets=True)
    except (TypeError, ValueError) as exc:
        raise setting_error(f"SESSIONLOG['SCRUB'] cannot be used: {exc}") from None


def run(command: BaseCommand, options: dict[str, Any]) -> None:
    scrubber = scrubber_for(options["pii"])
    files = resolve_files(options, readable=False)
    as_json = options["json"]
    tally = Tally()
    findings = rows_with_findings = not_scanned = 0
    progress = Progress(log_files.total_size(files), "scan")
    rows = iter_rows(files, tally, on_line=progress.advance if progress.active else None)
    look = scrubber.findings
    for name, number, line, row in rows:
        attempts = row.attempts
        found = look(row.prompt, list(map(_error, attempts)) if attempts else [], row.artifact)
        if not row.artifact and artifact_unread(line, row.artifact):
            not_scanned += 1
            message = f"{name}:{number}: artifact not scanned (nested too deep to read)"
            if as_json:
                write_json(
                    command, {"type": "not_scanned", "file": name, "line": number, "field": "artifact"}
                )
            else:
                command.stderr.write(message)
        if not found:
            continue
        rows_with_findings += 1
        findings += len(found)
        for field, kind in found:
            if as_json:
                write_json(
                    command, {"type": "finding", "file": name, "line": number, "name": kind, "field": field}
                )
            else:
                command.stdout.write(to_terminal(command, f"{name}:{number}: {kind} in {field}"))
    progress.finish()
    report_unreadable(command, tally)
    if as_json:
        write_json(
            command,
            {
                "type": "summary",
                "files": len(files),
                "rows": tally.valid,
                "findings": findings,
                "rows_with_findings": rows_with_findings,
                "not_scanned": not_scanned,
                "skipped": {"invalid": tally.invalid, "torn": tally.torn, "other_schema": tally.skipped},
                "unreadable": [{"file": name, "error": reason} for name, reason in tally.unreadable],
            },
        )
    said = (
        f"{plural(findings, 'finding')} in {plural(rows_with_findings, 'row')}"
        if findings
        else "nothing found"
    )
    left_out = skipped_lines(tally)
    command.stderr.write(
        f"{plural(tally.valid, 'row')} in {plural(len(files), 'file')} scanned: {said}"
        + (f"; {left_out}" if left_out else "")
        + (
            f"; the artifact of {plural(not_scanned, 'row')} not scanned (nested too deep)"
            if not_scanned
            else ""
        )
    )
    if tally.unreadable:
        raise unreadable_error(tally)
    if findings or not_scanned:
        problems = [f"secrets or personal data in {plural(rows_with_findings, 'row')}"] if findings else []
        if not_scanned:
            problems.append(f"{plural(not_scanned, 'row')} not scanned in full")
        raise CommandError("; ".join(problems), returncode=INVALID)
