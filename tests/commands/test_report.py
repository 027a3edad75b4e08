from __future__ import annotations

import html
import json
import os
import re
import stat
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings

from django_sessionlog.read.figures.errors import error_group

from ..browser import load, measure
from ..logs import DROP, row, sessionlog, write_log

MARKUP = '<script>alert("x")</script><img src=x onerror="alert(1)">'


def sample_log(tmp_path: Path) -> Path:
    return write_log(
        tmp_path / "s.jsonl",
        row(session_id="a1", timestamp="2026-11-20T10:00:00Z", iterations=1, duration_ms=900),
        row(session_id="a2", timestamp="2026-11-20T11:00:00Z", duration_ms=2500, grounded_in_roster=False),
        row(
            session_id="e1",
            timestamp="2026-11-22T09:00:00Z",
            kind="email",
            final_verdict="max_iter_exhausted",
            iterations=3,
            artifact=DROP,
            grounded_in_roster=DROP,
            duration_ms=7000,
            attempts=[
                {
                    "iteration": n,
                    "verdict_kind": "validation_failed",
                    "error": f"worker W-{9000 + n} is not on the roster",
                }
                for n in (1, 2, 3)
            ],
        ),
        row(
            session_id="i1",
            timestamp="2026-11-22T12:00:00Z",
            final_verdict="infra_error",
            iterations=0,
            attempts=[
                {"iteration": 0, "verdict_kind": "infra_error", "error": "provider timed out after 30s"}
            ],
            artifact=DROP,
            grounded_in_roster=DROP,
            duration_ms=30000,
        ),
        b"garbage\n",
        json.dumps(row()).encode()[:30],
    )


def failed_row(text: str) -> dict[str, Any]:
    """A failed session whose id, kind, model and error are all ``text``."""
    return row(
        session_id=text,
        kind=text,
        model=text,
        final_verdict="max_iter_exhausted",
        artifact=DROP,
        attempts=[{"iteration": 1, "verdict_kind": "validation_failed", "error": text}],
    )


def report(*args: str) -> tuple[str, str, int]:
    return sessionlog("report", "-o", "-", *args)


def test_error_groups_fold_numbers_and_ids() -> None:
    assert error_group("worker W-9123 is not on the roster") == error_group(
        "worker W-4410 is not on the roster"
    )
    assert error_group("steps[3] is empty") == "steps[#] is empty"
    assert error_group("trace 4bf92f3577b34da6 failed") == "trace # failed"
    assert error_group("missing key 'to'") != error_group("missing key 'subject'")


def test_page_has_the_headline_figures_and_every_section(tmp_path: Path) -> None:
    page, _, status = report(str(sample_log(tmp_path)))
    assert status == 0
    assert page.startswith("<!doctype html>")
    for text in [
        "Sessions per day",
        "Accept rate by kind",
        "Accept rate by model",
        "Iterations per session",
        "Duration by kind",
        "Most common errors",
        "Most retried sessions",
        "Slowest sessions",
        "Roster",
    ]:
        assert text in page
    assert "2026-11-20 10:00 to 2026-11-22 12:00 UTC" in page
    assert page.count('<svg class="chart"') == 4
    assert "50.0%</strong> of accepted fill grounded in the roster" in page
    assert 'id="cost"' not in page  # no row carries usage


def test_errors_are_grouped_with_a_count_and_example_sessions(tmp_path: Path) -> None:
    page, _, _ = report(str(sample_log(tmp_path)))
    group = re.search(
        r'<td class="num">(\d+)</td><td>validation_failed</td><td>worker W-# is not on the roster</td><td>(.*?)</td>',
        page,
    )
    assert group is not None
    assert group.group(1) == "5"  # three in e1, one in each accepted row's first attempt
    assert "e1" in group.group(2)


def test_skipped_and_torn_lines_are_counted_on_the_page(tmp_path: Path) -> None:
    page, _, _ = report(str(sample_log(tmp_path)))
    assert "Skipped 2 invalid lines (1 torn)" in page


def test_sampled_rows_are_weighted_and_the_page_says_figures_are_estimates(tmp_path: Path) -> None:
    log = write_log(
        tmp_path / "s.jsonl", row(sample_rate=0.1), row(final_verdict="infra_error", attempts=None)
    )
    page, _, _ = report(str(log))
    assert 'id="estimate-note"' in page
    assert '<div class="value">11</div>' in page  # 10 + 1 sessions


def test_without_sampling_there_is_no_estimate_note(tmp_path: Path) -> None:
    page, _, _ = report(str(sample_log(tmp_path)))
    assert "estimate-note" not in page


def test_session_ids_link_to_the_trace_url_url_encoded(tmp_path: Path) -> None:
    log = write_log(tmp_path / "s.jsonl", row(session_id="a b/c?d"))
    with override_settings(SESSIONLOG={"TRACE_URL": "https://langfuse.example.com/trace/{session_id}"}):
        page, _, _ = report(str(log))
    assert 'href="https://langfuse.example.com/trace/a%20b%2Fc%3Fd"' in page


def test_a_non_http_trace_url_never_becomes_a_link(tmp_path: Path) -> None:
    log = write_log(tmp_path / "s.jsonl", row())
    with override_settings(SESSIONLOG={"TRACE_URL": "javascript:alert(1)//{session_id}"}):
        page, _, _ = report(str(log))
    assert "javascript:" not in page
    assert "<a " not in page


def test_the_page_loads_nothing_from_the_network(tmp_path: Path) -> None:
    page, _, _ = report(str(sample_log(tmp_path)))
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "<link" not in page
    assert "@import" not in page
    assert "url(" not in page
    assert "default-src 'none'" in html.unescape(page)


def test_markup_in_rows_is_escaped(tmp_path: Path) -> None:
    log = write_log(tmp_path / "s.jsonl", failed_row(MARKUP))
    page, _, _ = report(str(log))
    assert MARKUP not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert page.count("<script") == 1  # the page's own


def test_since_and_until_bound_the_report(tmp_path: Path) -> None:
    page, _, _ = report(str(sample_log(tmp_path)), "--since", "2026-11-21", "--until", "2026-11-23")
    assert "2 rows" in page
    assert "a1" not in page


def test_writes_the_default_file_atomically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _, err, status = sessionlog("report", str(sample_log(tmp_path)))
    assert status == 0
    assert (tmp_path / "sessionlog-report.html").read_text().startswith("<!doctype html>")
    assert "wrote sessionlog-report.html: 4 sessions" in err
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize(("file_mode", "expected"), [(None, 0o640), (0o600, 0o600), (0o664, 0o644)])
def test_the_page_holds_prompts_so_it_gets_the_logs_file_mode_less_the_umask(
    tmp_path: Path, file_mode: int | None, expected: int
) -> None:
    settings = {"PATH": ""} if file_mode is None else {"PATH": "", "FILE_MODE": file_mode}
    page = tmp_path / "page.html"
    old_umask = os.umask(0o022)
    try:
        with override_settings(SESSIONLOG=settings):
            _, _, status = sessionlog("report", str(sample_log(tmp_path)), "-o", str(page))
    finally:
        os.umask(old_umask)
    assert status == 0
    assert stat.S_IMODE(page.stat().st_mode) == expected


def test_an_empty_log_still_gives_a_page(tmp_path: Path) -> None:
    page, _, status = report(str(write_log(tmp_path / "s.jsonl")))
    assert status == 0
    assert "No sessions." in page


# --- as a person sees it: a real browser ---------------------------------------


@pytest.mark.browser
def test_the_page_renders_its_charts_in_a_browser_without_script_errors(tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    assert sessionlog("report", "-o", str(target), str(sample_log(tmp_path)))[2] == 0
    page = load(target)
    assert page.console == []
    assert 'data-report-ready="4"' in page.dom  # the page's script ran and found four charts
    assert page.dom.count("<rect") > 10


@pytest.mark.browser
def test_markup_in_rows_changes_nothing_in_the_rendered_page(tmp_path: Path) -> None:
    hostile = write_log(tmp_path / "hostile.jsonl", failed_row(MARKUP))
    plain = write_log(tmp_path / "plain.jsonl", failed_row("x"))
    pages = {}
    for log in (hostile, plain):
        target = tmp_path / f"{log.stem}.html"
        assert sessionlog("report", "-o", str(target), str(log))[2] == 0
        pages[log.stem] = load(target)
    hostile_page, plain_page = pages["hostile"], pages["plain"]
    assert hostile_page.console == []

    def elements(dom: str) -> list[str]:
        return re.findall(r"<([a-zA-Z][a-zA-Z0-9]*)", dom)

    assert elements(hostile_page.dom) == elements(plain_page.dom)  # same elements, in the same order
    assert "<img" not in hostile_page.dom
    assert hostile_page.dom.count("<script") == 1
    assert "alert(1)" in hostile_page.dom  # shown as text


@pytest.mark.browser
def test_long_ids_models_and_errors_fit_a_1280_pixel_window(tmp_path: Path) -> None:
    long_rows = [
        row(
            session_id=session_id,
            kind="k" * 40,
            model="m" * 70,
            iterations=n % 9 + 1,
            max_iterations=9,
            duration_ms=1000 * n,
            attempts=[{"iteration": 1, "verdict_kind": "no_json", "error": "no JSON in " + "w" * 250}],
        )
        for n, session_id in enumerate(
            ["a" * 128, "req-" + "x" * 60, "4bf92f3577b34da6a3ce929d0e0e4736", "s1"] * 3
        )
    ]
    page = tmp_path / "page.html"
    assert sessionlog("report", "-o", str(page), str(write_log(tmp_path / "s.jsonl", *long_rows)))[2] == 0
    layout = measure(
        page,
        "{page: document.documentElement.scrollWidth, window: window.innerWidth, "
        "id: document.querySelector('#most-retried tbody td').getBoundingClientRect().width, "
        "w3c: Array.from(document.querySelectorAll('#most-retried td .id')).filter(function (e) {"
        " return e.textContent.length === 32; }).map(function (e) { return e.getClientRects().length; })}",
        width=1280,
    )
    assert layout["window"] == 1280
    assert layout["page"] <= layout["window"], "no horizontal scrollbar"
    assert layout["id"] >= 250, "a session id gets room for a line of characters, not one a line"
    assert layout["w3c"], "the table shows the W3C-style ids"
    assert set(layout["w3c"]) == {1}, "a 32-hex trace id is shown on one line"


def test_an_output_path_that_cannot_be_written_exits_2(tmp_path: Path) -> None:
    _, err, status = sessionlog(
        "report", "-o", str(tmp_path / "missing" / "r.html"), str(sample_log(tmp_path))
    )
    assert status == 2
    assert "cannot write the report" in err


def test_the_cost_section_shows_which_models_and_kinds_spend_most_and_on_retries(tmp_path: Path) -> None:
    from .test_stats import usage_log

    page = sessionlog("report", str(usage_log(tmp_path)), "-o", "-")[0]
    assert 'id="cost"' in page
    cost = page[page.index('id="cost"') :]
    # gpt-4o-mini: (5,500 in x $0.15 + 1,000 out x $0.60) / 1e6 = $0.001425, over 2 accepted sessions.
    assert '<div class="label">cost</div><div class="value">$0.0014</div>' in cost
    assert '<div class="label">per accepted session</div><div class="value">$0.0007</div>' in cost
    assert '<div class="label">tokens on retries</div><div class="value">48.2%</div>' in cost
    assert "<strong>1 sessions</strong> of models without a price (qwen2.5 (ollama))" in cost
    by_model = re.findall(
        r'<tr><td>([^<]+)</td><td class="num">(\d+)</td>', cost[: cost.index('id="cost-by-kind"')]
    )
    assert by_model == [("gpt-4o-mini", "3"), ("qwen2.5", "1")]  # the most expensive first


def test_the_cost_section_escapes_model_names(tmp_path: Path) -> None:
    log = write_log(
        tmp_path / "s.jsonl", row(model="<script>x</script>", usage={"input_tokens": 1, "output_tokens": 1})
    )
    page = sessionlog("report", str(log), "-o", "-")[0]
    assert "<script>x</script>" not in page
    assert "&lt;script&gt;x&lt;/script&gt;" in page


def test_roster_grounding_is_shown_for_every_kind_that_carries_it(tmp_path: Path) -> None:
    log = write_log(
        tmp_path / "s.jsonl",
        row(kind="fill", grounded_in_roster=True),
        row(kind="email", grounded_in_roster=False),
        row(kind="email", grounded_in_roster=True),
        row(kind="email", grounded_in_roster=DROP),
        row(kind="playbook", grounded_in_roster=DROP),
    )
    page = report(str(log))[0]
    assert "50.0%</strong> of accepted email grounded in the roster (1 of 2 checked; 3 accepted)" in page
    assert "100.0%</strong> of accepted fill grounded in the roster (1 of 1 checked; 1 accepted)" in page
    assert "of accepted playbook" not in page  # no playbook row carries a roster check
