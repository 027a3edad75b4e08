"""Timestamps with 7 to 9 fraction digits: every reader puts a row in the day and second DuckDB puts it in.

DuckDB truncates the fraction to the microsecond; msgspec rounds it. The
readers take back a rounding up onto a whole second (the only one that
moves a row across a day or a bound given to the second) and leave the
others a microsecond above DuckDB's, which costs no check per row.
"""

from __future__ import annotations

import datetime
import json
import re
from pathlib import Path

import orjson
import pytest

from django_sessionlog.read.sources.rules import decode_row

from ..logs import django_admin, line, row, sessionlog, write_log

UTC = datetime.timezone.utc
EDGE = "2026-11-24T23:59:59.9999996Z"

#: Each seventh digit, ties, nine digits, offsets, lower case, no fraction, six digits.
STAMPS = [
    *(f"2026-11-24T19:25:55.123456{digit}Z" for digit in "0123456789"),
    "2026-11-24T19:25:55.0000005Z",
    "2026-11-24T19:25:55.9999995Z",
    "2026-11-24T19:25:55.999999999Z",
    "2026-11-24T19:25:55.12345678+02:00",
    "2026-11-24t19:25:55.123456789z",
    "2026-11-24T19:25:55Z",
    "2026-11-24T19:25:55.5Z",
    "2026-11-24T19:25:55.123456Z",
    EDGE,
]


def layouts(stamp: str, number: int) -> list[bytes]:
    """The row as orjson writes it, as json.dumps writes it, and with its keys in another order."""
    value = row(session_id=f"s{number}", timestamp=stamp)
    others = {k: v for k, v in value.items() if k != "artifact"}
    nested_first = {"artifact": {"timestamp": "2026-01-01T00:00:00.1234559Z"}, **others}
    timestamp_last = {**{k: v for k, v in value.items() if k != "timestamp"}, "timestamp": stamp}
    return [
        orjson.dumps(value) + b"\n",
        line(value),
        orjson.dumps(nested_first) + b"\n",
        line(timestamp_last),
    ]


def truncated(stamp: str) -> datetime.datetime:
    """The timestamp as DuckDB reads it: its fraction cut to six digits."""
    match = re.fullmatch(r"(.{10})[Tt](.{8})(?:\.(\d+))?(.+)", stamp)
    assert match is not None
    date, clock, digits, zone = match.groups()
    zone = "+00:00" if zone in "Zz" else zone
    return datetime.datetime.fromisoformat(f"{date}T{clock}.{((digits or '') + '000000')[:6]}{zone}")


def test_python_readers_put_every_timestamp_in_duckdbs_second_and_day(tmp_path: Path) -> None:
    lines = [text for number, stamp in enumerate(STAMPS) for text in layouts(stamp, number)]
    log = write_log(tmp_path / "s.jsonl", *lines)
    out, err, status = sessionlog(
        "query", "--json", "SELECT session_id, CAST(timestamp AS VARCHAR) AS t FROM sessions", str(log)
    )
    assert (status, err) == (0, "")
    by_duckdb = [datetime.datetime.fromisoformat(json.loads(text)["t"]) for text in out.splitlines()]
    by_python = [decode_row(text).timestamp.astimezone(UTC) for text in lines]
    assert len(by_duckdb) == len(by_python) == 4 * len(STAMPS)
    for duckdb, python in zip(by_duckdb, by_python, strict=True):
        assert python.replace(microsecond=0) == duckdb.replace(microsecond=0)
        assert python.date() == duckdb.date()
        assert datetime.timedelta(0) <= python - duckdb <= datetime.timedelta(microseconds=1)


@pytest.mark.parametrize("stamp", STAMPS)
def test_the_fraction_is_within_a_microsecond_above_its_truncation(stamp: str) -> None:
    for text in layouts(stamp, 0):
        difference = decode_row(text).timestamp - truncated(stamp)
        assert datetime.timedelta(0) <= difference <= datetime.timedelta(microseconds=1), text


@pytest.mark.parametrize("stamp", ["2026-11-24T19:25:55.9999995Z", "2026-11-24T19:25:55.999999999Z", EDGE])
def test_a_fraction_rounded_up_onto_a_whole_second_is_truncated(stamp: str) -> None:
    for text in layouts(stamp, 0):
        assert decode_row(text).timestamp == truncated(stamp), text


def test_a_row_a_hair_before_midnight_is_on_its_own_day_for_every_reader(tmp_path: Path) -> None:
    log = write_log(tmp_path / "s.jsonl", row(session_id="edge", timestamp=EDGE))
    figures = json.loads(sessionlog("stats", "--json", str(log))[0])
    assert figures["first"] == figures["last"] == "2026-11-24T23:59:59.999999+00:00"
    assert json.loads(sessionlog("stats", "--json", "--since", "2026-11-25", str(log))[0])["rows"] == 0
    assert json.loads(sessionlog("stats", "--json", "--until", "2026-11-25", str(log))[0])["rows"] == 1
    assert sessionlog("tail", str(log))[0].startswith("2026-11-24 23:59:59  edge")
    _, err, status = sessionlog("export", str(log), "--to", str(tmp_path / "out"), "--since", "2026-11-25")
    assert (status, err) == (0, "exported 0 rows from 1 file into 0 Parquet files\n")
    sessionlog("export", str(log), "--to", str(tmp_path / "out"))
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["date=2026-11-24"]


@pytest.mark.slow
def test_on_the_command_line_stats_and_export_agree_on_the_day(tmp_path: Path) -> None:
    log = write_log(tmp_path / "s.jsonl", row(session_id="edge", timestamp=EDGE))
    result = django_admin("sessionlog", "stats", "--json", "--since", "2026-11-25", str(log))
    assert json.loads(result.stdout)["rows"] == 0
    result = django_admin(
        "sessionlog", "export", str(log), "--to", str(tmp_path / "out"), "--since", "2026-11-25"
    )
    assert (result.returncode, result.stderr) == (0, "exported 0 rows from 1 file into 0 Parquet files\n")
    result = django_admin("sessionlog", "tail", str(log))
    assert result.stdout.startswith("2026-11-24 23:59:59")
