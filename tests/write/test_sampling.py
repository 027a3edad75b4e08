from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings

from django_sessionlog import IterateFailure, IterateRequest, IterateResponse, iterate_finished
from django_sessionlog.testing import capture_sessions
from django_sessionlog.write import sampling

from ..logs import REPO, row, sessionlog, write_log

IDS = [f"{n:032x}" for n in range(2000)]


@pytest.mark.slow
def test_decisions_depend_on_the_session_id_alone_and_hold_across_processes() -> None:
    here = [sampling.keeps(session_id, 0.3) for session_id in IDS]
    script = (
        "import json, sys\n"
        "from django_sessionlog.write import sampling\n"
        "ids = json.load(sys.stdin)\n"
        "print(json.dumps([sampling.keeps(i, 0.3) for i in ids]))\n"
    )
    other = subprocess.run(
        [sys.executable, "-c", script],
        input=json.dumps(IDS),
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(REPO), "PYTHONHASHSEED": "12345"},
        check=True,
    )
    assert json.loads(other.stdout) == here


def test_the_kept_share_is_close_to_the_rate() -> None:
    kept = sum(sampling.keeps(session_id, 0.25) for session_id in IDS)
    assert 0.20 * len(IDS) < kept < 0.30 * len(IDS)


def test_a_lower_rate_keeps_a_subset_of_a_higher_one() -> None:
    low = {i for i in IDS if sampling.keeps(i, 0.1)}
    high = {i for i in IDS if sampling.keeps(i, 0.5)}
    assert low <= high


def test_rate_for_falls_back_to_star_then_to_one() -> None:
    assert sampling.rate_for("fill", {"fill": 0.2, "*": 0.5}) == 0.2
    assert sampling.rate_for("email", {"fill": 0.2, "*": 0.5}) == 0.5
    assert sampling.rate_for("email", {"fill": 0.2}) == 1.0


def accepted(session_id: str, kind: str = "fill") -> None:
    iterate_finished.send(
        sender=None,
        request=IterateRequest(trace_id=session_id, kind=kind),
        response=IterateResponse(session_id, 1, []),
    )


def test_failures_are_never_dropped_even_at_rate_0() -> None:
    with override_settings(SESSIONLOG={"SAMPLE_RATES": {"*": 0.0}}), capture_sessions() as rows:
        for session_id in IDS[:50]:
            accepted(session_id)
            iterate_finished.send(
                sender=None,
                request=IterateRequest(trace_id=session_id, kind="fill"),
                failure=IterateFailure(),
            )
            iterate_finished.send(
                sender=None, request=IterateRequest(trace_id=session_id, kind="fill"), error=TimeoutError()
            )
    assert [r["final_verdict"] for r in rows] == ["max_iter_exhausted", "infra_error"] * 50
    assert all("sample_rate" not in r for r in rows)


def test_a_kept_row_carries_its_rate_as_the_last_key() -> None:
    with override_settings(SESSIONLOG={"SAMPLE_RATES": {"fill": 0.5}}), capture_sessions() as rows:
        for session_id in IDS[:200]:
            accepted(session_id)
        accepted("email-session", kind="email")
    kept_fills = [r for r in rows if r["kind"] == "fill"]
    assert [r["session_id"] for r in kept_fills] == [i for i in IDS[:200] if sampling.keeps(i, 0.5)]
    assert all(list(r)[-1] == "sample_rate" and r["sample_rate"] == 0.5 for r in kept_fills)
    assert "sample_rate" not in rows[-1]


def test_a_session_with_an_empty_id_is_kept_without_a_rate() -> None:
    with override_settings(SESSIONLOG={"SAMPLE_RATES": {"*": 0.01}}), capture_sessions() as rows:
        accepted("")
    assert len(rows) == 1
    assert "sample_rate" not in rows[0]


def test_rows_are_plain_section_1_rows_without_a_rate_below_1() -> None:
    with override_settings(SESSIONLOG={"SAMPLE_RATES": {"fill": 1.0}}), capture_sessions() as rows:
        accepted("x")
    assert "sample_rate" not in rows[0]


def test_stats_weights_sampled_rows_and_says_so(tmp_path: Path) -> None:
    log = write_log(
        tmp_path / "s.jsonl",
        row(session_id="a", sample_rate=0.25),
        row(session_id="b", final_verdict="infra_error", attempts=None),
    )
    figures = json.loads(sessionlog("stats", "--json", str(log))[0])
    assert figures["sessions"] == 5
    assert figures["rows"] == 2
    assert figures["estimated"] is True
    assert figures["by_verdict"] == {"accepted": 4, "max_iter_exhausted": 0, "infra_error": 1}
    assert "estimated" in sessionlog("stats", str(log))[0]
