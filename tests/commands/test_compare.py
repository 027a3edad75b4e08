"""sessionlog compare as users run it: sides, exit codes, the table, --json and the page."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from ..browser import load, measure
from ..logs import DROP, Terminal, row, sessionlog, write_log
from ..read.test_compare import sessions

METRIC_NAMES = [
    "accept_rate",
    "first_try_accept_rate",
    "infra_error_rate",
    "mean_iterations",
    "p50_duration_ms",
    "p95_duration_ms",
    "tokens_per_session",
    "cost_per_accepted_usd",
]


@pytest.fixture
def regressed(tmp_path: Path) -> Path:
    """Fills got worse after 2026-11-15, emails did not change."""
    rng = random.Random(1)
    rows: list[dict[str, Any]] = []
    for kind, before, after in (("fill", 0.86, 0.72), ("email", 0.9, 0.9)):
        rows += sessions(rng, 600, before, kind=kind, day="2026-11-10", prefix=f"{kind}-b")
        rows += sessions(rng, 600, after, kind=kind, day="2026-11-20", prefix=f"{kind}-c")
    return write_log(tmp_path / "sessions.jsonl", *rows)


SIDES = ["--baseline", "..2026-11-15", "--candidate", "2026-11-15.."]


def test_json_is_the_documents_shape(regressed: Path) -> None:
    out, _, status = sessionlog("compare", str(regressed), *SIDES, "--json")
    assert status == 0
    document = json.loads(out)
    assert set(document) == {"baseline", "candidate", "overall", "kinds", "errors", "regressions", "settings"}
    assert list(document["overall"]) == METRIC_NAMES
    assert set(document["kinds"]) == {"fill", "email"}
    accept = document["kinds"]["fill"]["accept_rate"]
    assert set(accept) == {"baseline", "candidate", "difference", "interval", "verdict"}
    assert accept["verdict"] == "worse"
    assert accept["interval"][0] <= accept["difference"] <= accept["interval"][1] < 0
    assert "fill.accept_rate" in document["regressions"]
    assert document["baseline"]["side"] == "..2026-11-15"
    assert document["baseline"]["rows"] == 1200
    assert len(document["baseline"]["retry_curve"]) == 3
    assert document["settings"]["methods"]["accept_rate"].startswith("Newcombe")


def test_fail_on_regression_is_exit_1_only_when_something_is_worse(regressed: Path, tmp_path: Path) -> None:
    _, err, status = sessionlog("compare", str(regressed), *SIDES, "--fail-on-regression")
    assert status == 1
    assert "fill.accept_rate" in err
    assert sessionlog("compare", str(regressed), *SIDES)[2] == 0  # without the flag: a report, not a gate
    same = ["--baseline", "kind=email", "--candidate", "kind=email"]
    assert sessionlog("compare", str(regressed), *same, "--fail-on-regression")[2] == 0


def test_the_table_fits_80_columns_and_is_plain_text_off_a_terminal(regressed: Path) -> None:
    out, _, _ = sessionlog("compare", str(regressed), *SIDES)
    assert max(len(line) for line in out.splitlines()) <= 80
    assert "\x1b" not in out
    fill = out[out.index("kind fill") :]
    assert re.search(r"accept rate\s+\d+\.\d%\s+\d+\.\d%\s+-\d+\.\dpt\s+\[-\d+\.\d, -\d+\.\d\]\s+worse", fill)


def test_verdicts_are_coloured_on_a_terminal(regressed: Path) -> None:
    terminal = Terminal()
    call_command("sessionlog", "compare", str(regressed), *SIDES, "--force-color", stdout=terminal)
    shown = terminal.buffer.getvalue()
    assert "\x1b[" in shown
    assert re.search(r"\x1b\[[0-9;]*mworse\x1b\[0m", shown)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--baseline", "colour=red", "--candidate", "kind=fill"], "unknown field 'colour'"),
        (["--baseline", "kind=fill", "--candidate", "2026-13-45.."], "bad side"),
        (["--baseline", "..2026-11-01,..2026-11-02", "--candidate", "kind=fill"], "two windows"),
        (["--baseline", "", "--candidate", "kind=fill"], "empty term"),
        (["--baseline", "kind=fill", "--candidate", "2026-11-05..2026-11-01"], "ends before it starts"),
        (["--baseline", "kind=fill"], "--candidate"),
        (["--baseline", "kind=fill", "--candidate", "kind=a", "--min-change", "2"], "from 0 to below 1"),
        (["--baseline", "kind=fill", "--candidate", "kind=a", "--min-change", "x"], "is not a number"),
        (["--baseline", "kind=fill", "--candidate", "kind=a", "--min-sessions", "0"], "1 or more"),
    ],
)
def test_bad_sides_and_options_are_exit_2_with_a_message(
    regressed: Path, arguments: list[str], message: str
) -> None:
    out, err, status = sessionlog("compare", str(regressed), *arguments)
    assert status == 2
    assert message in err
    assert out == ""


def test_an_unreadable_log_is_exit_2_and_prints_nothing(tmp_path: Path) -> None:
    out, err, status = sessionlog("compare", str(tmp_path / "missing.jsonl"), *SIDES)
    assert (out, status) == ("", 2)
    assert "cannot read" in err


def test_sides_with_no_sessions_are_too_few_not_an_error(regressed: Path) -> None:
    out, _, status = sessionlog(
        "compare", str(regressed), "--baseline", "model=nobody", "--candidate", "kind=fill", "--json"
    )
    assert status == 0
    assert {m["verdict"] for m in json.loads(out)["overall"].values()} == {"too_few"}


def test_the_page_is_written_with_the_logs_file_mode(regressed: Path, tmp_path: Path) -> None:
    page = tmp_path / "compare.html"
    _, err, status = sessionlog("compare", str(regressed), *SIDES, "-o", str(page))
    assert status == 0
    assert f"wrote {page}" in err
    html = page.read_text()
    assert "Content-Security-Policy" in html
    assert "http://" not in html.replace("http://www.w3.org", "")
    assert oct(page.stat().st_mode & 0o777) in {"0o640", "0o600"}


@pytest.mark.browser
def test_the_page_draws_its_forest_plot_and_both_retry_curves_in_a_browser(
    regressed: Path, tmp_path: Path
) -> None:
    page = tmp_path / "compare.html"
    assert sessionlog("compare", str(regressed), *SIDES, "-o", str(page))[2] == 0
    shown = load(page)
    assert shown.console == []
    assert (
        'data-report-ready="3"' in shown.dom
    )  # the page's script ran and found the forest plot and 2 curves
    layout = measure(
        page,
        "{entries: Array.from(document.querySelectorAll('svg.forest g.entry')).map(function (g) {"
        " return g.getAttribute('data-verdict'); }),"
        " curves: document.querySelectorAll('svg.curve polyline').length,"
        " page: document.documentElement.scrollWidth, window: window.innerWidth}",
    )
    assert layout["entries"] == ["worse", "unchanged", "worse"]  # all kinds, email, fill
    assert layout["curves"] == 2
    assert layout["page"] <= layout["window"]


@pytest.mark.browser
def test_markup_in_rows_is_shown_as_text_on_the_page(tmp_path: Path) -> None:
    markup = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
    rows = [row(session_id=f"a{n}", kind=markup, model="a") for n in range(40)]
    rows += [row(session_id=f"b{n}", kind=markup, model="b") for n in range(40)]
    page = tmp_path / "compare.html"
    assert (
        sessionlog(
            "compare",
            str(write_log(tmp_path / "s.jsonl", *rows)),
            "--baseline",
            "model=a",
            "--candidate",
            "model=b",
            "-o",
            str(page),
        )[2]
        == 0
    )
    shown = load(page)
    assert shown.console == []
    assert "<img" not in shown.dom
    assert shown.dom.count("<script") == 1
    assert "alert(2)" in shown.dom  # as text


def test_o_dash_writes_only_the_page_to_standard_output(regressed: Path) -> None:
    out, _, status = sessionlog("compare", str(regressed), *SIDES, "-o", "-")
    assert status == 0
    assert out.startswith("<!doctype html>")
    assert "accepted by attempt" not in out
    assert sessionlog("compare", str(regressed), *SIDES, "-o", "-", "--json")[2] == 2


def test_long_durations_and_many_attempts_keep_the_table_within_80_columns(tmp_path: Path) -> None:
    rows = [
        row(
            session_id=f"{side}{n}",
            model=side,
            iterations=1 + n % 10,
            max_iterations=10,
            duration_ms=171_000 + n * 997,
        )
        for side in "ab"
        for n in range(200)
    ]
    out, _, _ = sessionlog(
        "compare",
        str(write_log(tmp_path / "s.jsonl", *rows)),
        "--baseline",
        "model=a",
        "--candidate",
        "model=b",
    )
    assert max(len(line) for line in out.splitlines()) <= 80
    assert re.search(r"p50 duration \(ms\)\s+\d{3},\d{3}\s+\d{3},\d{3}\s", out)
    assert out.count("accepted by attempt") == 2  # ten attempts, eight a line


def test_json_to_a_terminal_escapes_what_a_terminal_would_act_on(tmp_path: Path) -> None:
    rows = [row(session_id=f"{m}{n}", model=m, kind="k\u202ed") for m in "ab" for n in range(40)]
    terminal = Terminal()
    call_command(
        "sessionlog",
        "compare",
        str(write_log(tmp_path / "s.jsonl", *rows)),
        "--baseline",
        "model=a",
        "--candidate",
        "model=b",
        "--json",
        stdout=terminal,
    )
    shown = terminal.buffer.getvalue()
    assert "\u202e" not in shown
    assert "k\\u202ed" in shown
    assert "k\u202ed" in json.loads(shown)["kinds"]


def usage_sessions(
    rng: random.Random, count: int, tokens: int, *, day: str, model: str
) -> list[dict[str, Any]]:
    found = []
    for n in range(count):
        accepted = rng.random() < 0.8
        spent = int(rng.gauss(tokens, tokens / 5))
        found.append(
            row(
                session_id=f"{model}-{day}-{n}",
                timestamp=f"{day}T{n % 24:02d}:00:00Z",
                model=model,
                provider="openai",
                final_verdict="accepted" if accepted else "max_iter_exhausted",
                artifact={"a": 1} if accepted else {},
                grounded_in_roster=DROP,
                usage={"input_tokens": spent, "output_tokens": spent // 10},
            )
        )
    return found


def test_tokens_and_cost_per_accepted_session_grow_and_are_worse(tmp_path: Path) -> None:
    rng = random.Random(3)
    log = write_log(
        tmp_path / "s.jsonl",
        *usage_sessions(rng, 200, 1_000, day="2026-11-10", model="gpt-4o-mini"),
        *usage_sessions(rng, 200, 1_500, day="2026-11-20", model="gpt-4o-mini"),
    )
    document = json.loads(sessionlog("compare", str(log), *SIDES, "--json")[0])
    tokens, cost = document["overall"]["tokens_per_session"], document["overall"]["cost_per_accepted_usd"]
    assert tokens["verdict"] == "worse"
    assert tokens["baseline"] == pytest.approx(1_100, rel=0.05)
    assert tokens["interval"][0] <= tokens["difference"] <= tokens["interval"][1]
    assert cost["verdict"] == "worse"
    assert cost["candidate"] > cost["baseline"] > 0
    assert {"tokens_per_session", "cost_per_accepted_usd"} <= {
        r.split(".")[-1] for r in document["regressions"]
    }
    text = sessionlog("compare", str(log), *SIDES)[0]
    assert any(line.lstrip().startswith("tokens per session") for line in text.splitlines())
    assert max(len(line) for line in text.splitlines()) <= 80


def test_without_usage_the_usage_metrics_are_too_few(regressed: Path) -> None:
    document = json.loads(sessionlog("compare", str(regressed), *SIDES, "--json")[0])
    for name in ("tokens_per_session", "cost_per_accepted_usd"):
        assert document["overall"][name]["verdict"] == "too_few"
        assert document["overall"][name]["baseline"] is None
    assert document["overall"]["accept_rate"]["verdict"] != "too_few"


def test_cost_is_too_few_when_the_model_has_no_price(tmp_path: Path) -> None:
    rng = random.Random(4)
    log = write_log(
        tmp_path / "s.jsonl",
        *usage_sessions(rng, 100, 1_000, day="2026-11-10", model="local-model"),
        *usage_sessions(rng, 100, 1_000, day="2026-11-20", model="local-model"),
    )
    overall = json.loads(sessionlog("compare", str(log), *SIDES, "--json")[0])["overall"]
    assert overall["cost_per_accepted_usd"]["verdict"] == "too_few"
    assert overall["tokens_per_session"]["verdict"] == "unchanged"
