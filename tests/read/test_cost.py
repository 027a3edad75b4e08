"""Prices at read time: each (model, provider, day) looked up once, at its own day; the host's win."""

from __future__ import annotations

import datetime
import logging
from typing import Any

import genai_prices
import pytest

from django_sessionlog.read.figures.cost import Price, Prices

DAY = datetime.date(2026, 11, 20)


def test_a_row_is_priced_at_its_own_day_and_each_day_looked_up_once(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[tuple[str, str | None, datetime.datetime]] = []
    real = genai_prices.calc_price

    def recorded(usage: Any, model: str, *, provider_id: str | None, genai_request_timestamp: Any) -> Any:
        asked.append((model, provider_id, genai_request_timestamp))
        return real(usage, model, provider_id=provider_id, genai_request_timestamp=genai_request_timestamp)

    monkeypatch.setattr(genai_prices, "calc_price", recorded)
    prices = Prices()
    later = DAY + datetime.timedelta(days=1)
    found = [prices.price("gpt-4o-mini", "openai", day) for day in (DAY, DAY, later, DAY)]
    assert [moment.date() for _, _, moment in asked] == [DAY, later]
    assert {(model, provider) for model, provider, _ in asked} == {("gpt-4o-mini", "openai")}
    first = found[0]
    assert first is not None
    assert 0 < first.input < first.output
    assert found == [first, first, found[2], first]


def test_the_hosts_price_wins_and_the_library_is_not_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(genai_prices, "calc_price", pytest.fail)
    prices = Prices({"gpt-4o-mini": {"input_per_mtok": 1, "output_per_mtok": 2}})
    assert prices.price("gpt-4o-mini", "openai", DAY) == Price(1.0, 2.0)


def test_a_model_nobody_prices_is_none_not_a_guess() -> None:
    prices = Prices()
    assert prices.price("qwen2.5", "ollama", DAY) is None
    assert prices.price("no-such-model-anywhere", "openai", DAY) is None
    assert prices.price("", "", DAY) is None


def test_a_library_bug_leaves_the_model_unpriced_with_a_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise ZeroDivisionError("a bug in the price table")

    monkeypatch.setattr(genai_prices, "calc_price", broken)
    with caplog.at_level(logging.WARNING, logger="django_sessionlog"):
        assert Prices().price("gpt-4o-mini", "openai", DAY) is None
    assert "genai-prices could not price 'gpt-4o-mini' ('openai')" in caplog.text


def test_cached_tokens_cost_their_own_price_or_the_input_price() -> None:
    own = Price(input=2.0, output=8.0, cache_read=0.5, cache_write=None)
    # 1M input of which 400k read from cache and 100k written to it, 1M output.
    assert own.cost(1e6, 1e6, 4e5, 1e5) == pytest.approx(0.5 * 2.0 + 0.4 * 0.5 + 0.1 * 2.0 + 8.0)
