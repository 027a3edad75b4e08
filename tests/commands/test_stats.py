from __future__ import annotations

import json
from pathlib import Path

import pytest

from ..logs import DROP, row, sessionlog, write_log


def sample_log(tmp_path: Path) -> Path:
    return write_log(
        tmp_path / "s.jsonl",
        row(session_id="a", duration_ms=100, iterations=1),
        row(session_id="b", duration_ms=200, iterations=2, grounded_in_roster=False),
        row(session_id="c", duration_ms=300, iterations=3, kind="email", grounded_in_roster=DROP),
        row(session_id="d", duration_ms=4000, final_verdict="max_iter_exhausted", iterations=3, artifact={}),
        row(
            session_id="e",
            duration_ms=50,
            final_verdict="infra_error",
            iterations=0,
            attempts=None,
            kind="email",
        ),
        b"torn",
    )


def test_json_figures(tmp_path: Path) -> None:
    out, _, status = sessionlog("stats", "--json", str(sample_log(tmp_path)))
    figures = json.loads(out)
    assert status == 0
    assert figures["rows"] == 5
    assert figures["estimated"] is False
    assert figures["by_verdict"] == {"accepted": 3, "max_iter_exhausted": 1, "infra_error": 1}
    assert figures["by_kind"]["email"] == {"accepted": 1, "max_iter_exhausted": 0, "infra_error": 1}
    assert figures["iterations"] == {"0": 1, "1": 1, "2": 1, "3": 2}
    assert figures["roster"] == {"accepted_fills": 2, "checked": 2, "grounded": 1, "grounded_share": 0.5}
    assert figures["duration_ms"] == {"p50": 200, "p95": 4000, "p99": 4000}
    assert figures["skipped_lines"] == {"invalid": 1, "torn": 1, "other_schema": 0}
    assert figures["first"] == "2026-11-24T19:25:55.344793+00:00"


def test_table_for_people(tmp_path: Path) -> None:
    out, _, _ = sessionlog("stats", str(sample_log(tmp_path)))
    assert "sessions  5 from 5 rows" in out
    assert "skipped   1 invalid line (1 torn), 0 rows of another schema" in out
    assert any(line.split()[:3] == ["accepted", "3", "60.0%"] for line in out.splitlines())
    assert "roster    50.0% of accepted fills grounded (1 of 2 checked, 2 accepted fills)" in out
    assert "duration  p50 200 ms   p95 4.0 s   p99 4.0 s" in out


def test_since_and_until_bound_the_window(tmp_path: Path) -> None:
    log = write_log(
        tmp_path / "s.jsonl",
        row(timestamp="2026-11-01T00:00:00Z"),
        row(timestamp="2026-11-02T12:00:00Z"),
        row(timestamp="2026-11-03T00:00:00Z"),
    )
    out, _, _ = sessionlog("stats", "--json", "--since", "2026-11-02", "--until", "2026-11-03", str(log))
    assert json.loads(out)["rows"] == 1


def test_empty_log_gives_empty_figures(tmp_path: Path) -> None:
    out, _, status = sessionlog("stats", "--json", str(write_log(tmp_path / "s.jsonl")))
    assert status == 0
    assert json.loads(out)["duration_ms"] == {"p50": None, "p95": None, "p99": None}


def test_markup_and_control_characters_in_kinds_are_escaped_in_the_table(tmp_path: Path) -> None:
    log = write_log(tmp_path / "s.jsonl", row(kind="\x1b[31mred"))
    out, _, _ = sessionlog("stats", str(log))
    assert "\x1b" not in out
    assert "\\x1b[31mred" in out


def test_the_span_is_shown_in_utc_whatever_the_rows_offset(tmp_path: Path) -> None:
    log = write_log(tmp_path / "s.jsonl", row(timestamp="2026-11-24T23:30:00+05:00"))
    assert "span      2026-11-24 18:30:00 to 2026-11-24 18:30:00 UTC" in sessionlog("stats", str(log))[0]


def test_json_counts_are_integers_when_no_row_is_weighted(tmp_path: Path) -> None:
    out, _, _ = sessionlog("stats", "--json", str(sample_log(tmp_path)))
    figures = json.loads(out)
    assert '"sessions":5,' in out
    roster = figures["roster"]
    counts = [
        figures["sessions"],
        *figures["by_verdict"].values(),
        *figures["iterations"].values(),
        *figures["by_kind"]["fill"].values(),
        roster["accepted_fills"],
        roster["checked"],
        roster["grounded"],
    ]
    assert all(type(value) is int for value in counts), counts
    assert "weighting" not in figures


def test_json_counts_of_sampled_rows_are_estimates_and_say_so(tmp_path: Path) -> None:
    log = write_log(tmp_path / "s.jsonl", row(sample_rate=0.3), row(session_id="x"))
    figures = json.loads(sessionlog("stats", "--json", str(log))[0])
    assert figures["estimated"] is True
    assert figures["sessions"] == pytest.approx(1 / 0.3 + 1, abs=0.001)
    assert type(figures["sessions"]) is float
    assert "1 sampled rows count 1/sample_rate sessions each" in figures["weighting"]
