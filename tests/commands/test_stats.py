from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings

from django_sessionlog.checks import problems

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
    fills = {"accepted": 2, "checked": 2, "grounded": 1, "grounded_share": 0.5}
    assert figures["roster"] == {**fills, "by_kind": {"fill": fills}}
    assert "usage" not in figures  # no row carries usage
    assert "cost" not in figures
    assert figures["duration_ms"] == {"p50": 200, "p95": 4000, "p99": 4000}
    assert figures["skipped_lines"] == {"invalid": 1, "torn": 1, "other_schema": 0}
    assert figures["first"] == "2026-11-24T19:25:55.344793+00:00"


def test_table_for_people(tmp_path: Path) -> None:
    out, _, _ = sessionlog("stats", str(sample_log(tmp_path)))
    assert "sessions  5 from 5 rows" in out
    assert "skipped   1 invalid line (1 torn), 0 rows of another schema" in out
    assert any(line.split()[:3] == ["accepted", "3", "60.0%"] for line in out.splitlines())
    assert "roster    50.0% of accepted fill grounded (1 of 2 checked, 2 accepted)" in out
    assert "tokens" not in out
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
        roster["accepted"],
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


def test_roster_grounding_is_counted_for_every_kind_that_carries_it(tmp_path: Path) -> None:
    log = write_log(
        tmp_path / "s.jsonl",
        row(kind="fill", grounded_in_roster=True),
        row(kind="email", grounded_in_roster=False),
        row(kind="email", grounded_in_roster=True),
        row(kind="email", grounded_in_roster=DROP),
        row(kind="playbook", grounded_in_roster=DROP),
        row(kind="email", final_verdict="max_iter_exhausted", grounded_in_roster=DROP, artifact={}),
    )
    out, _, _ = sessionlog("stats", "--json", str(log))
    roster = json.loads(out)["roster"]
    assert roster["by_kind"] == {
        "email": {"accepted": 3, "checked": 2, "grounded": 1, "grounded_share": 0.5},
        "fill": {"accepted": 1, "checked": 1, "grounded": 1, "grounded_share": 1.0},
    }
    assert (roster["accepted"], roster["checked"], roster["grounded"]) == (4, 3, 2)
    text = sessionlog("stats", str(log))[0]
    assert "roster    50.0% of accepted email grounded (1 of 2 checked, 3 accepted)" in text
    assert "roster    100.0% of accepted fill grounded (1 of 1 checked, 1 accepted)" in text


def used(input_tokens: int, output_tokens: int, **parts: int) -> dict[str, int]:
    return {"input_tokens": input_tokens, "output_tokens": output_tokens, **parts}


def usage_log(tmp_path: Path) -> Path:
    """Two accepted sessions with retries, one exhausted, one model without a price."""
    accepted_after_a_retry = row(
        session_id="a",
        model="gpt-4o-mini",
        provider="openai",
        usage=used(1_500, 300),
        attempts=[
            {"iteration": 1, "verdict_kind": "validation_failed", "error": "e", "usage": used(500, 100)},
            {"iteration": 2, "verdict_kind": "accepted", "usage": used(1_000, 200)},
        ],
    )
    first_try = row(
        session_id="b",
        model="gpt-4o-mini",
        provider="openai",
        iterations=1,
        usage=used(1_000, 200),
        attempts=[{"iteration": 1, "verdict_kind": "accepted"}],
    )
    exhausted = row(
        session_id="c",
        model="gpt-4o-mini",
        provider="openai",
        final_verdict="max_iter_exhausted",
        artifact={},
        grounded_in_roster=DROP,
        usage=used(3_000, 500),
    )
    local = row(
        session_id="d",
        model="qwen2.5",
        provider="ollama",
        kind="email",
        iterations=1,
        attempts=[{"iteration": 1, "verdict_kind": "accepted"}],
        usage=used(2_000, 0),
    )
    no_usage = row(session_id="e")
    return write_log(tmp_path / "s.jsonl", accepted_after_a_retry, first_try, exhausted, local, no_usage)


def test_usage_and_cost_in_json_as_the_spec_names_them(tmp_path: Path) -> None:
    figures = json.loads(sessionlog("stats", "--json", str(usage_log(tmp_path)))[0])
    usage, cost = figures["usage"], figures["cost"]
    tokens = 1_800 + 1_200 + 3_500 + 2_000
    assert usage["sessions"] == 4
    assert (usage["input_tokens"], usage["output_tokens"]) == (7_500, 1_000)
    assert usage["tokens_per_session"] == tokens / 4
    assert usage["tokens_per_accepted"] == tokens / 3
    # Outside an accepted attempt: a's first attempt (600), all of c (3,500);
    # d took one attempt of its own (the row's usage is that attempt's).
    assert usage["retry_share"] == pytest.approx((600 + 3_500) / tokens)
    # gpt-4o-mini at genai-prices' $0.15 / $0.60 per million; qwen2.5 on ollama has no price.
    priced_cost = (5_500 * 0.15 + 1_000 * 0.60) / 1e6
    assert cost["total_usd"] == pytest.approx(priced_cost)
    assert cost["per_accepted_usd"] == pytest.approx(priced_cost / 2)  # of the priced sessions
    assert cost["unpriced_sessions"] == 1
    assert cost["unpriced_models"] == ["qwen2.5 (ollama)"]
    assert set(usage["by_model"]) == {"gpt-4o-mini", "qwen2.5"}
    assert usage["by_kind"]["email"]["sessions"] == 1
    assert cost["by_model"]["qwen2.5"]["total_usd"] is None


def test_prices_setting_prices_a_local_model_and_overrides_the_library(tmp_path: Path) -> None:
    prices = {
        "qwen2.5": {"input_per_mtok": 1.0, "output_per_mtok": 2.0},
        "gpt-4o-mini": {"input_per_mtok": 10.0, "output_per_mtok": 20.0, "cache_read_per_mtok": 1.0},
    }
    with override_settings(SESSIONLOG={"PRICES": prices}):
        figures = json.loads(sessionlog("stats", "--json", str(usage_log(tmp_path)))[0])
    assert figures["cost"]["unpriced_sessions"] == 0
    assert figures["cost"]["total_usd"] == pytest.approx((2_000 * 1.0 + 5_500 * 10.0 + 1_000 * 20.0) / 1e6)


def test_cached_tokens_cost_their_own_price_or_else_the_input_price(tmp_path: Path) -> None:
    log = write_log(
        tmp_path / "s.jsonl",
        row(model="m", usage=used(1_000_000, 0, cache_read_tokens=400_000, cache_write_tokens=100_000)),
    )
    own = {
        "m": {
            "input_per_mtok": 3.0,
            "output_per_mtok": 0.0,
            "cache_read_per_mtok": 0.3,
            "cache_write_per_mtok": 3.75,
        }
    }
    with override_settings(SESSIONLOG={"PRICES": own}):
        figures = json.loads(sessionlog("stats", "--json", str(log))[0])
    assert figures["cost"]["total_usd"] == pytest.approx(0.5 * 3.0 + 0.4 * 0.3 + 0.1 * 3.75)
    plain = {"m": {"input_per_mtok": 3.0, "output_per_mtok": 0.0}}
    with override_settings(SESSIONLOG={"PRICES": plain}):
        figures = json.loads(sessionlog("stats", "--json", str(log))[0])
    assert figures["cost"]["total_usd"] == pytest.approx(3.0)


def test_usage_is_weighted_by_one_over_the_sample_rate(tmp_path: Path) -> None:
    log = write_log(
        tmp_path / "s.jsonl",
        row(session_id="a", usage=used(100, 0), sample_rate=0.25),
        row(session_id="b", usage=used(100, 0), final_verdict="max_iter_exhausted", artifact={}),
    )
    usage = json.loads(sessionlog("stats", "--json", str(log))[0])["usage"]
    assert usage["sessions"] == pytest.approx(5.0)
    assert usage["input_tokens"] == pytest.approx(500.0)
    assert usage["tokens_per_accepted"] == pytest.approx(500 / 4)


def test_the_table_says_tokens_retries_cost_and_what_is_unpriced(tmp_path: Path) -> None:
    out, _, status = sessionlog("stats", str(usage_log(tmp_path)))
    assert status == 0
    assert "tokens    7,500 in, 1,000 out over 4 sessions with usage" in out
    assert "retries   48.2% of tokens spent outside an accepted attempt" in out
    assert (
        "unpriced  1 session of models without a price (qwen2.5 (ollama)): add them to SESSIONLOG['PRICES']"
        in out
    )
    assert any(line.startswith("gpt-4o-mini") for line in out.splitlines())


def test_without_genai_prices_every_model_is_unpriced_and_the_cost_extra_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "genai_prices", None)  # as if the cost extra were not installed
    log = str(usage_log(tmp_path))
    out = sessionlog("stats", log)[0]
    assert "cost      - in all" in out
    assert (
        "unpriced  4 sessions of models without a price (gpt-4o-mini (openai), qwen2.5 (ollama)): "
        "add them to SESSIONLOG['PRICES'] or install the cost extra "
        "(pip install 'django-sessionlog[cost]') for genai-prices' prices"
    ) in out
    page = sessionlog("report", log, "-o", "-")[0]
    assert "install the cost extra (<code>pip install 'django-sessionlog[cost]'</code>)" in page


@pytest.mark.parametrize(
    ("prices", "said"),
    [
        ({"m": {"input_per_mtok": 1, "output": 2}}, "'m' has unknown price keys 'output'"),
        ({"m": {"input_per_mtok": -1, "output_per_mtok": 2}}, "'m': input_per_mtok must not be negative"),
        ({"m": {"input_per_mtok": "1", "output_per_mtok": 2}}, "'m': input_per_mtok must be a number"),
        ({"m": 0.15}, "'m' must be a dict"),
    ],
)
def test_wrong_prices_are_exit_2_in_one_line_and_a_check_error(
    tmp_path: Path, prices: dict[str, Any], said: str
) -> None:
    with override_settings(SESSIONLOG={"PRICES": prices}):
        _, err, status = sessionlog("stats", str(usage_log(tmp_path)))
        found = problems()
    assert status == 2
    assert said in err
    assert len(err.strip().splitlines()) == 1
    assert any(said in p for p in found)
    assert all(p.endswith(("[django_sessionlog.E016]", "[django_sessionlog.E017]")) for p in found)


def test_the_usage_docs_show_what_stats_prints(tmp_path: Path) -> None:
    page = (Path(__file__).resolve().parents[2] / "docs" / "usage-and-cost.md").read_text(encoding="utf-8")
    shown = page.split("`sessionlog stats` adds", 1)[1].split("```text\n", 1)[1].split("```", 1)[0]
    out = sessionlog("stats", str(usage_log(tmp_path)))[0]
    assert shown.strip().splitlines() == [
        line for line in out.splitlines() if line.startswith(("tokens ", "retries ", "cost ", "unpriced "))
    ]


def test_a_row_is_priced_on_its_utc_day_not_the_writers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """23:30 at -05:00 on the 30th is 04:30 UTC on the 1st: prices change at UTC midnight."""
    import genai_prices

    days = []
    real = genai_prices.calc_price

    def recorded(usage: Any, model: str, **options: Any) -> Any:
        days.append(options["genai_request_timestamp"].date().isoformat())
        return real(usage, model, **options)

    monkeypatch.setattr(genai_prices, "calc_price", recorded)
    log = write_log(
        tmp_path / "s.jsonl",
        row(model="gpt-4o-mini", provider="openai", timestamp="2026-11-30T23:30:00-05:00", usage=used(10, 1)),
    )
    figures = json.loads(sessionlog("stats", "--json", str(log))[0])
    assert days == ["2026-12-01"]
    assert figures["cost"]["unpriced_sessions"] == 0
