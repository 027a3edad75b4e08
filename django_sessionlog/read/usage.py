"""Tokens and their cost over many rows: per session, per accepted session, and the share retries burn.

Per row only sums are kept, by (kind, model, provider, day): a price is
the same for every row of a model and day, so the cost is computed once
per group when the figures are asked for, not once per row, and the
figures of two parts of a log add up (``merge``).

The retry share is the share of all tokens spent outside an accepted
attempt: the attempts that failed, and every attempt of a session that
never was accepted. It is taken over the rows whose split is known: a
failed session, or an accepted one whose accepted attempt carries usage
(or that took one attempt).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import msgspec

from ..row import ACCEPTED
from .cost import Prices
from .rules import Row, TokenUsage

# The sums kept per group, in this order.
SESSIONS, ACCEPTED_SESSIONS, INPUT, OUTPUT, CACHE_READ, CACHE_WRITE, REASONING = range(7)
SPLIT, SPLIT_TOKENS, RETRY_INPUT, RETRY_OUTPUT, RETRY_CACHE_READ, RETRY_CACHE_WRITE = range(7, 13)
WIDTH = 13

Group = tuple[str, str, str, datetime.date]  # kind, model, provider, day


def _accepted_usage(row: Row) -> TokenUsage | msgspec.UnsetType:
    """The accepted attempt's usage (the row's own when it took one attempt); UNSET when not known."""
    attempts = row.attempts or ()
    for attempt in reversed(attempts):
        if attempt.verdict_kind == ACCEPTED:
            if attempt.usage is not msgspec.UNSET:
                return attempt.usage
            return row.usage if len(attempts) == 1 else msgspec.UNSET
    return msgspec.UNSET


@dataclass
class UsageFigures:
    """The sums of the rows that carry usage, by (kind, model, provider, day)."""

    groups: dict[Group, list[float]] = field(default_factory=dict)
    rows: int = 0

    def add(self, row: Row, weight: float) -> None:
        usage = row.usage
        if usage is msgspec.UNSET:
            return
        self.rows += 1
        key = (row.kind, row.model, row.provider, row.timestamp.date())
        sums = self.groups.get(key)
        if sums is None:
            sums = self.groups[key] = [0.0] * WIDTH
        accepted = row.final_verdict == ACCEPTED
        sums[SESSIONS] += weight
        sums[INPUT] += weight * usage.input_tokens
        sums[OUTPUT] += weight * usage.output_tokens
        sums[CACHE_READ] += weight * usage.cache_read_tokens
        sums[CACHE_WRITE] += weight * usage.cache_write_tokens
        sums[REASONING] += weight * usage.reasoning_tokens
        if accepted:
            sums[ACCEPTED_SESSIONS] += weight
            kept = _accepted_usage(row)
            if kept is msgspec.UNSET:
                return  # accepted, but which of its tokens were the accepted answer's is not known
        else:
            kept = None  # every token of a session never accepted is spent on retries
        sums[SPLIT] += weight
        sums[SPLIT_TOKENS] += weight * (usage.input_tokens + usage.output_tokens)
        if kept is None:
            sums[RETRY_INPUT] += weight * usage.input_tokens
            sums[RETRY_OUTPUT] += weight * usage.output_tokens
            sums[RETRY_CACHE_READ] += weight * usage.cache_read_tokens
            sums[RETRY_CACHE_WRITE] += weight * usage.cache_write_tokens
        else:
            sums[RETRY_INPUT] += weight * max(0, usage.input_tokens - kept.input_tokens)
            sums[RETRY_OUTPUT] += weight * max(0, usage.output_tokens - kept.output_tokens)
            sums[RETRY_CACHE_READ] += weight * max(0, usage.cache_read_tokens - kept.cache_read_tokens)
            sums[RETRY_CACHE_WRITE] += weight * max(0, usage.cache_write_tokens - kept.cache_write_tokens)

    def merge(self, other: UsageFigures) -> None:
        self.rows += other.rows
        for key, sums in other.groups.items():
            mine = self.groups.get(key)
            if mine is None:
                self.groups[key] = list(sums)
            else:
                for index, value in enumerate(sums):
                    mine[index] += value

    def __bool__(self) -> bool:
        return self.rows > 0

    def figures(self, prices: Prices, *, by: str | None = None, n: Any = round) -> dict[str, Any]:
        """The figures, overall or (``by`` "kind" or "model") one entry per kind or model."""
        if by is None:
            return _figures(self.groups.items(), prices, n)
        parts: dict[str, list[tuple[Group, list[float]]]] = {}
        for key, sums in self.groups.items():
            parts.setdefault(key[0] if by == "kind" else key[1], []).append((key, sums))
        found = {name: _figures(items, prices, n) for name, items in parts.items()}
        return dict(sorted(found.items(), key=lambda item: -(item[1]["cost"]["total_usd"] or 0.0)))


def _figures(items: Iterable[tuple[Group, list[float]]], prices: Prices, n: Any) -> dict[str, Any]:
    totals = [0.0] * WIDTH
    cost = retry_cost = priced_accepted = 0.0
    unpriced_sessions = 0.0
    unpriced_models: set[str] = set()
    for (_, model, provider, day), sums in items:
        for index, value in enumerate(sums):
            totals[index] += value
        price = prices.price(model, provider, day)
        if price is None:
            unpriced_sessions += sums[SESSIONS]
            unpriced_models.add(model or "(no model)")
            continue
        cost += price.cost(sums[INPUT], sums[OUTPUT], sums[CACHE_READ], sums[CACHE_WRITE])
        retry_cost += price.cost(
            sums[RETRY_INPUT], sums[RETRY_OUTPUT], sums[RETRY_CACHE_READ], sums[RETRY_CACHE_WRITE]
        )
        priced_accepted += sums[ACCEPTED_SESSIONS]
    sessions, accepted = totals[SESSIONS], totals[ACCEPTED_SESSIONS]
    tokens = totals[INPUT] + totals[OUTPUT]
    retry_tokens = totals[RETRY_INPUT] + totals[RETRY_OUTPUT]
    priced = sessions - unpriced_sessions
    return {
        "usage": {
            "sessions": n(sessions),
            "input_tokens": n(totals[INPUT]),
            "output_tokens": n(totals[OUTPUT]),
            "cache_read_tokens": n(totals[CACHE_READ]),
            "cache_write_tokens": n(totals[CACHE_WRITE]),
            "reasoning_tokens": n(totals[REASONING]),
            "tokens_per_session": tokens / sessions if sessions else None,
            "tokens_per_accepted": tokens / accepted if accepted else None,
            "retry_share": retry_tokens / totals[SPLIT_TOKENS] if totals[SPLIT_TOKENS] else None,
        },
        "cost": {
            "total_usd": cost if priced else None,
            "per_accepted_usd": cost / priced_accepted if priced and priced_accepted else None,
            "retry_usd": retry_cost if priced else None,
            "unpriced_sessions": n(unpriced_sessions),
            "unpriced_models": sorted(unpriced_models),
        },
    }


def usage_json(figures: UsageFigures, prices: Prices, n: Any = round) -> dict[str, Any]:
    """``stats --json``'s ``usage`` and ``cost`` objects, with their ``by_kind`` and ``by_model``."""
    overall = figures.figures(prices, n=n)
    for by in ("kind", "model"):
        parts = figures.figures(prices, by=by, n=n)
        overall["usage"][f"by_{by}"] = {name: part["usage"] for name, part in parts.items()}
        overall["cost"][f"by_{by}"] = {name: part["cost"] for name, part in parts.items()}
    return overall
