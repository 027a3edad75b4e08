from __future__ import annotations

import datetime
import json
import random
import re
from pathlib import Path
from typing import Any

import pytest

from django_sessionlog.read.figures.errors import ErrorGroups
from django_sessionlog.read.figures.report import ReportData, gather
from django_sessionlog.read.sources.parts import split
from django_sessionlog.read.sources.rows import Tally
from django_sessionlog.read.sources.rules import DecodedRow, decode_row

from ..logs import DROP, line, row, write_log

VERDICTS = ["accepted", "max_iter_exhausted", "infra_error"]
WORDS = ["step", "shift", "worker"]


def varied_log(path: Path, count: int = 3000) -> Path:
    """Rows of every kind, verdict, model and day, with bad lines among them and a torn end."""
    rng = random.Random(5)
    items: list[dict[str, Any] | bytes] = []
    for n in range(count):
        verdict = rng.choice(VERDICTS)
        attempts: Any = [
            {
                "iteration": i,
                "verdict_kind": "validation_failed",
                "error": f"worker W-{rng.randint(1000, 9999)} is not on the roster",
            }
            for i in range(1, rng.randint(1, 4))
        ]
        items.append(
            row(
                session_id=f"s{n:05d}",
                timestamp=f"2026-11-{rng.randint(10, 20)}T{rng.randint(0, 23):02d}:00:00Z",
                kind=rng.choice(["fill", "email", "playbook"]),
                model=rng.choice(["a", "b"]),
                final_verdict=verdict,
                iterations=rng.randint(0, 5),
                duration_ms=rng.choice([100, 200, 300, rng.randint(1, 99_999)]),
                attempts=None if verdict == "infra_error" else attempts,
                artifact={"x": 1} if verdict == "accepted" else DROP,
                grounded_in_roster=rng.choice([True, False, DROP]) if verdict == "accepted" else DROP,
            )
        )
        if n % 97 == 0:
            items.append(b"garbage\n")
    items.append(json.dumps(row()).encode()[:30])
    return write_log(path, *items)


def figures(data: ReportData, tally: Tally) -> dict[str, Any]:
    summary = data.summary
    return {
        "rows": summary.rows,
        "sessions": summary.sessions,
        "span": (summary.first, summary.last),
        "by_kind": {k: dict(v) for k, v in summary.by_kind.items()},
        "iterations": dict(summary.iterations),
        "durations": {k: dict(v) for k, v in summary.durations_by_kind.items()},
        "by_day": {k: dict(v) for k, v in data.by_day.items()},
        "by_model": {k: dict(v) for k, v in data.by_model.items()},
        "roster": summary.roster(),
        "errors": [(g.text, g.verdict_kind, g.errors, g.sessions, g.examples) for g in data.errors.groups()],
        "overflow": data.errors.overflow,
        "most_retried": data.most_retried_sessions(),
        "slowest": data.slowest_sessions(),
        "tally": (tally.lines, tally.valid, tally.invalid, tally.torn, tally.skipped),
    }


@pytest.mark.parametrize("workers", [2, 3])
def test_reading_a_log_on_several_cores_gives_the_same_report_as_one_pass(
    tmp_path: Path, workers: int
) -> None:
    log = varied_log(tmp_path / "s.jsonl")
    one_pass = figures(*gather([str(log)], workers=1))
    parallel = figures(*gather([str(log)], workers=workers, parallel_from=0))
    assert parallel == one_pass
    assert one_pass["tally"][3] == 1  # the torn last line, counted once


def test_parts_whose_error_groups_and_examples_differ_add_up_to_one_pass(tmp_path: Path) -> None:
    # The first half's errors and example sessions appear only there, the
    # second half's only there: a merge that drops later examples or sends
    # later groups to the overflow group gives a different report.
    def erring(n: int, text: str) -> dict[str, Any]:
        error = {"iteration": 1, "verdict_kind": "validation_failed", "error": f"{text} {n}"}
        return row(session_id=f"{text}-{n}", final_verdict="max_iter_exhausted", attempts=[error, error])

    first = [erring(n, "worker W-#### is not on the roster") for n in range(4)]
    second = [erring(n, "steps[#] is empty") for n in range(4)]
    log = write_log(tmp_path / "s.jsonl", *first, *second)
    halfway = len(b"".join(json.dumps(r).encode() + b"\n" for r in first))
    parts_read = gather([str(log)], workers=2, parallel_from=0)
    assert reader_parts(log) == [(0, halfway), (halfway, log.stat().st_size)]
    assert figures(*parts_read) == figures(*gather([str(log)], workers=1))
    groups = parts_read[0].errors.groups()
    assert [(g.text, g.errors, g.sessions, len(g.examples)) for g in groups] == [
        ("steps[#] is empty #", 8.0, 4.0, 3),
        ("worker W-#### is not on the roster #", 8.0, 4.0, 3),
    ]
    assert parts_read[0].errors.overflow == 0


def reader_parts(log: Path) -> list[tuple[int, int | None]]:
    return [(p.start, p.end) for p in split(str(log), 2)]


def test_one_pass_gives_the_figures_a_plain_reading_of_the_rows_gives(tmp_path: Path) -> None:
    # The figures worked out again from the JSON lines in the plainest way
    # (json, sorted, dicts), with local-time offsets that move a row to the
    # day before in UTC, a day with no rows, ties in the top lists and
    # attempts whose error is left out.
    rng = random.Random(11)
    items: list[dict[str, Any] | bytes] = []
    for n in range(400):
        verdict = rng.choice(VERDICTS)
        attempts = [
            {"iteration": i, "verdict_kind": rng.choice(["validation_failed", "no_json"])}
            | (
                {}
                if rng.random() < 0.3
                else {"error": f"{rng.choice(WORDS)} {rng.randint(1, 3)} needs W-{n}"}
            )
            for i in range(1, rng.randint(1, 5))
        ]
        items.append(
            row(
                session_id=f"s{n:04d}",
                timestamp=f"2026-11-{rng.choice([10, 11, 14, 15])}T0{rng.randint(0, 9)}:30:00"
                + rng.choice(["Z", "+05:00", "-08:00"]),
                model=rng.choice(["a", "b", "c"]),
                final_verdict=verdict,
                iterations=rng.randint(0, 30),
                duration_ms=rng.choice([100, 200, 300]),
                attempts=None if verdict == "infra_error" else attempts,
            )
        )
        if n % 50 == 0:
            items.append(b"not json\n")
    log = write_log(tmp_path / "s.jsonl", *items)
    data, _ = gather([str(log)], workers=1)

    rows = [json.loads(text) for text in log.read_bytes().splitlines() if text != b"not json"]
    for number, value in enumerate(rows):
        value["number"] = number
        value["moment"] = datetime.datetime.fromisoformat(value["timestamp"]).astimezone(
            datetime.timezone.utc
        )

    def counted(key: str) -> dict[Any, dict[str, float]]:
        table: dict[Any, dict[str, float]] = {}
        for value in rows:
            verdicts = table.setdefault(value["moment"].date() if key == "day" else value[key], {})
            verdicts[value["final_verdict"]] = verdicts.get(value["final_verdict"], 0) + 1
        return table

    assert {day: dict(v) for day, v in data.by_day.items()} == counted("day")
    assert {model: dict(v) for model, v in data.by_model.items()} == counted("model")
    first, last = min(counted("day")), max(counted("day"))
    every_day = [str(first + datetime.timedelta(days=n)) for n in range((last - first).days + 1)]
    assert [day for day, _ in data.days()] == every_day
    assert dict(data.days()) == {
        day: counted("day").get(datetime.date.fromisoformat(day), {}) for day in every_day
    }
    assert dict(data.days())["2026-11-12"] == {}  # no row that day: a gap the bars keep

    def brief(value: dict[str, Any]) -> tuple[Any, ...]:
        fields = ("session_id", "moment", "kind", "model", "final_verdict", "iterations", "max_iterations")
        return (*(value[f] for f in fields), value["duration_ms"])

    # Ties go to the row read first.
    retried = sorted(rows, key=lambda v: (-v["iterations"], -v["duration_ms"], v["number"]))
    slowest = sorted(rows, key=lambda v: (-v["duration_ms"], v["number"]))
    assert [tuple(b) for b in data.most_retried_sessions()] == [brief(v) for v in retried[:10]]
    assert [tuple(b) for b in data.slowest_sessions()] == [brief(v) for v in slowest[:10]]

    groups: dict[tuple[str, str], list[Any]] = {}
    for value in rows:
        seen = set()
        for attempt in value["attempts"] or []:
            if "error" not in attempt:
                continue
            label = (re.sub(r"\d+", "#", attempt["error"]), attempt["verdict_kind"])
            group = groups.setdefault(label, [0, 0, []])
            group[0] += 1
            if label not in seen:
                seen.add(label)
                group[1] += 1
                if len(group[2]) < 3:
                    group[2].append(value["session_id"])
    expected = sorted(((text, kind, *g) for (text, kind), g in groups.items()), key=lambda g: (-g[2], g[0]))
    assert [
        (g.text, g.verdict_kind, g.errors, g.sessions, g.examples) for g in data.errors.groups()
    ] == expected
    assert len(expected) == 6  # three messages, each with two verdict kinds
    assert len({g[2] for g in expected}) > 1  # groups of different sizes, so the order is tested


@pytest.mark.parametrize(("distinct", "overflow"), [(2, 0.0), (3, 5.0)])
def test_errors_past_the_group_limit_are_counted_as_overflow(distinct: int, overflow: float) -> None:
    groups = ErrorGroups(limit=2)
    for n in range(distinct):
        error = {"iteration": 1, "verdict_kind": "validation_failed", "error": f"problem {'xyz'[n]}"}
        groups.add(decoded(session_id=f"s{n}", attempts=[error] * (n + 3)), 1.0)
    assert [(g.text, g.errors) for g in groups.groups()] == [("problem y", 4.0), ("problem x", 3.0)]
    assert groups.overflow == overflow


def decoded(**changes: Any) -> DecodedRow:
    return decode_row(line(row(**changes)))


@pytest.mark.parametrize(
    ("rows", "retried", "slowest"),
    [
        # D ties the most retried list's smallest entry on iterations and beats
        # it on duration, but is not slow enough for the slowest list.
        ([("A", 5, 400), ("B", 9, 1000), ("C", 1, 2000), ("D", 5, 500)], ["B", "D"], ["C", "B"]),
        # D is retried too little, but slower than the slowest list's smallest entry.
        (
            [("A", 9, 100), ("B", 9, 100), ("C", 1, 1000), ("E", 1, 400), ("D", 1, 500)],
            ["A", "B"],
            ["C", "D"],
        ),
    ],
)
def test_a_row_that_beats_the_smallest_entry_of_a_full_top_list_enters_it(
    rows: list[tuple[str, int, int]], retried: list[str], slowest: list[str]
) -> None:
    data = ReportData(top=2)
    for session_id, iterations, duration_ms in rows:
        data.add(decoded(session_id=session_id, iterations=iterations, duration_ms=duration_ms))
    assert [b.session_id for b in data.most_retried_sessions()] == retried
    assert [b.session_id for b in data.slowest_sessions()] == slowest


def test_the_tallies_of_parts_and_files_add_up(tmp_path: Path) -> None:
    # Rows of another schema all through two logs, each ending in a torn
    # line: read in parts, every part's counts are added, none replaced.
    def log(name: str) -> Path:
        items: list[dict[str, Any] | bytes] = []
        for n in range(200):
            items.append(row(session_id=f"{name}{n}"))
            if n % 20 == 0:
                items.append(row(schema="session.iterate.v2", session_id=f"{name}v2-{n}"))
        items.append(json.dumps(row()).encode()[:30])
        return write_log(tmp_path / f"{name}.jsonl", *items)

    names = [str(log("a")), str(log("b"))]
    for workers in (1, 3):
        _, tally = gather(names, workers=workers, parallel_from=0)
        assert (tally.valid, tally.skipped, tally.torn) == (400, 20, 2), workers
