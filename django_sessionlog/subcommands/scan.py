"""Look for secrets and personal data in existing logs, with the detectors the receiver scrubs with.

Each finding is printed as FILE:LINE: NAME in FIELD, FIELD being prompt,
attempts[N].error or artifact.PATH, and never the text found; a summary
goes to stderr. The built-in secrets are always looked for, whatever
SCRUB['SECRETS'] says (a log written before scrubbing, or by another
writer, is what this is for), with SCRUB's PII, PATTERNS and KEYS and the
--pii named here. A line that is not a valid row (a row cut short by a full
disk, one with a bad field, another schema's) is searched whole, FIELD then
being ``line`` or a path in it (``line.prompt``): a secret is no less there
for a bad field. Exit status: 0 nothing found, 1 something found, 2 a file
could not be read or the arguments or settings are wrong.
"""

from __future__ import annotations

import argparse
import itertools
import operator
from collections.abc import Iterator
from typing import Any

import orjson
from django.core.management import BaseCommand, CommandError

from .. import scrubbing
from ..conf import conf
from ..read.formatting import plural
from ..read.sources import files as log_files
from ..read.sources.rows import Tally, iter_rows
from ..read.sources.rules import DEEP, DecodedRow, deep_values
from . import INVALID
from .arguments import add_files_argument, resolve_files, setting_error
from .output import Progress, report_unreadable, skipped_lines, to_terminal, unreadable_error, write_json

HELP = "look for secrets and personal data in logs (never printing them)"

_error = operator.attrgetter("error")

#: What ``iter_rows`` yields: file, line number, the line, the row (``None`` for a line that is not one).
Row = tuple[str, int, bytes, DecodedRow | None]


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
        "--rules",
        choices=["gitleaks"],
        default=None,
        help="a rule set to look for as well as SCRUB['RULES']: gitleaks (its ~220 rules)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="one JSON object per finding (never the text found), then a summary",
    )


def scrubber_for(extra_pii: list[str], rules: str | None = None) -> scrubbing.Scrubber:
    """The receiver's detectors from the settings, with every secret and the PII and rules asked for here."""
    setting = conf.SCRUB
    try:
        if isinstance(setting, dict) and isinstance(setting.get("PII"), (list, tuple)):
            setting = {**setting, "PII": [*setting["PII"], *extra_pii]}
        return scrubbing.from_setting(setting, secrets=True, rules=rules)
    except (TypeError, ValueError) as exc:
        raise setting_error(f"SESSIONLOG['SCRUB'] cannot be used: {exc}") from None


def run(command: BaseCommand, options: dict[str, Any]) -> None:
    scrubber = scrubber_for(options["pii"], options.get("rules"))
    files = resolve_files(options, readable=False)
    as_json = options["json"]
    tally = Tally()
    findings = rows_with_findings = lines_with_findings = 0
    progress = Progress(log_files.total_size(files), "scan")
    rows = iter_rows(files, tally, on_line=progress.advance if progress.active else None, others=True)
    look = scrubber.findings
    for name, number, line, row in without_clean_rows(scrubber, rows):
        if row is None:
            found = line_findings(scrubber, line)
        else:
            attempts = row.attempts
            found = look(row.prompt, list(map(_error, attempts)) if attempts else [], row.artifact)
            if not row.artifact and b'"artifact"' in line:
                found = deep_artifact(scrubber, line, found)
        if any(len(field) > DEEP for field, _ in found):
            found = shallow_fields(found, "artifact" if row is not None else "line")
        if not found:
            continue
        if row is None:
            lines_with_findings += 1
        else:
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
                "invalid_lines_with_findings": lines_with_findings,
                "skipped": {"invalid": tally.invalid, "torn": tally.torn, "other_schema": tally.skipped},
                "unreadable": [{"file": name, "error": reason} for name, reason in tally.unreadable],
            },
        )
    where = " and ".join(
        [plural(rows_with_findings, "row")] * bool(rows_with_findings)
        + [plural(lines_with_findings, "invalid line")] * bool(lines_with_findings)
    )
    said = f"{plural(findings, 'finding')} in {where}" if findings else "nothing found"
    others = skipped_lines(tally, searched=True)
    command.stderr.write(
        f"{plural(tally.valid, 'row')} in {plural(len(files), 'file')} scanned: {said}"
        + (f"; {others}" if others else "")
    )
    if tally.unreadable:
        raise unreadable_error(tally)
    if findings:
        raise CommandError(f"secrets or personal data in {where}", returncode=INVALID)


#: Rows whose lines are searched in one Hyperscan pass (``Scrubber.clean_rows``).
BATCH = 64


def without_clean_rows(scrubber: scrubbing.Scrubber, rows: Iterator[Row]) -> Iterator[Row]:
    """The rows that may hold a finding (those ``Scrubber.clean_rows`` does not rule out) and every other line, in order."""
    while batch := list(itertools.islice(rows, BATCH)):
        valid = [entry for entry in batch if entry[3] is not None]
        verdicts = iter(
            scrubber.clean_rows([line for _, _, line, _ in valid], [row.artifact for *_, row in valid])  # type: ignore[union-attr]
        )
        for entry in batch:
            if entry[3] is None or not next(verdicts):
                yield entry


def line_findings(scrubber: scrubbing.Scrubber, line: bytes) -> list[scrubbing.Finding]:
    """What a line that is not a valid row holds: its JSON searched as a row's artifact is, else its text.

    Fields are said from the line (``line.prompt``, ``line.attempts[0].error``);
    a line that is not JSON (cut short, garbage) is searched as text, ``line``.
    """
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError:  # not JSON, or nested deeper than orjson goes
        value = line.decode("utf-8", "replace")
    if isinstance(value, str):
        return [
            scrubbing.Finding("line", name) for name in dict.fromkeys(s.name for s in scrubber.spans(value))
        ]
    found = scrubber.findings("", [], value)
    return [scrubbing.Finding("line" + field[len("artifact") :], name) for field, name in found]


def deep_artifact(
    scrubber: scrubbing.Scrubber, line: bytes, found: list[scrubbing.Finding]
) -> list[scrubbing.Finding]:
    """The findings with an artifact too deep to decode looked at as text.

    The reader stands ``{}`` in for an artifact nested deeper than the
    Python's stack lets it decode; its text is scanned whole here, so the
    row is never passed as clean. A secret written with JSON escapes inside
    it is not seen.
    """
    names = dict.fromkeys(span.name for text in deep_values(line) for span in scrubber.spans(text))
    return found + [scrubbing.Finding("artifact", name) for name in names]


def shallow_fields(found: list[scrubbing.Finding], root: str = "artifact") -> list[scrubbing.Finding]:
    """The findings with each path nested more than ``DEEP`` levels said as ``root`` (``artifact``, or ``line``).

    Whether such an artifact decodes depends on the Python; it is reported
    the same way on every one (and a path thousands of keys long helps nobody).
    """
    shallow = (
        scrubbing.Finding(root, name) if field.count(".") + field.count("[") > DEEP else (field, name)
        for field, name in found
    )
    return [scrubbing.Finding(*finding) for finding in dict.fromkeys(shallow)]
