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

from ...row import ACCEPTED
from ..sources.rules import DecodedRow, TokenUsage
from .cost import Prices, utc_day

# The sums kept per group, in this order.
SESSIONS, ACCEPTED_SESSIONS, INPUT, OUTPUT, CACHE_READ, CACHE_WRITE, REASONING = range(7)
SPLIT, SPLIT_TOKENS, RETRY_INPUT, RETRY_OUTPUT, RETRY_CACHE_READ, RETRY_CACHE_WRITE = range(7, 13)
WIDTH = 13

Group = tuple[str, str, str, datetime.date]  # kind, model, provider, day


@dataclass
class UsageFigures:
    """The sums of the rows that carry usage, by (kind, model, provider, day)."""

    groups: dict[Group, list[float]] = field(default_factory=dict)
    rows: int = 0

    def add(self, row: DecodedRow, weight: float) -> None:
        """Count a row that carries usage (the caller has checked that it does).

        Millions of rows pass here, so the sums are updated by literal index
        (the names above say which is which) and the accepted attempt is
        looked for at the end of the history, where it is.
        """
        usage: TokenUsage = row.usage  # type: ignore[assignment]
        self.rows += 1
        key = (row.kind, row.model, row.provider, utc_day(row.timestamp))
        sums = self.groups.get(key)
        if sums is None:
            sums = self.groups[key] = [0.0] * WIDTH
        input_tokens, output_tokens = usage.input_tokens, usage.output_tokens
        cache_read, cache_write = usage.cache_read_tokens, usage.cache_write_tokens
        sums[0] += weight
        sums[2] += weight * input_tokens
        sums[3] += weight * output_tokens
        if cache_read:
            sums[4] += weight * cache_read
        if cache_write:
            sums[5] += weight * cache_write
        if usage.reasoning_tokens:
            sums[6] += weight * usage.reasoning_tokens
        if row.final_verdict == ACCEPTED:
            sums[1] += weight
            # The accepted answer's own tokens: its attempt's usage (the last
            # attempt), or the row's when the session took one attempt.
            attempts = row.attempts
            if not attempts:
                return
            last = attempts[-1]
            kept = last.usage
            if kept is msgspec.UNSET:
                if len(attempts) != 1 or last.verdict_kind != ACCEPTED:
                    return  # which tokens were the accepted answer's is not known
                kept = usage
            elif last.verdict_kind != ACCEPTED:
                return
            input_tokens -= kept.input_tokens
            output_tokens -= kept.output_tokens
            cache_read -= kept.cache_read_tokens
            cache_write -= kept.cache_write_tokens
        sums[7] += weight
        sums[8] += weight * (usage.input_tokens + usage.output_tokens)
        # Outside an accepted attempt: every token of a session never accepted.
        if input_tokens > 0:
            sums[9] += weight * input_tokens
        if output_tokens > 0:
            sums[10] += weight * output_tokens
        if cache_read > 0:
            sums[11] += weight * cache_read
        if cache_write > 0:
            sums[12] += weight * cache_write

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
            # The provider too: a model may be priced at one provider and not at another.
            unpriced_models.add(
                f"{model or '(no model)'} ({provider})" if provider else model or "(no model)"
            )
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
