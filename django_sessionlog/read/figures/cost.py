"""What tokens cost, looked up when reading: prices change, so a row is priced at its own day.

The host's ``SESSIONLOG["PRICES"]`` (USD per million tokens, by model) wins;
else ``genai-prices`` (the ``cost`` extra) prices the (model, provider) at
the row's date, offline, from the prices it ships. A model neither knows is
unpriced: counted and said, never guessed.

Looking a price up costs genai-prices about 70 us, more than reading the
row, so each (model, provider, day) is looked up once and the price kept as
four numbers: a row's cost is then a few multiplications.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger("django_sessionlog")

#: The keys of a price in ``PRICES``, USD per million tokens; the first two are required.
PRICE_KEYS = ("input_per_mtok", "output_per_mtok", "cache_read_per_mtok", "cache_write_per_mtok")
REQUIRED_PRICE_KEYS = PRICE_KEYS[:2]


@dataclass(frozen=True)
class Price:
    """USD per million tokens. Cached tokens without their own price cost the input price."""

    input: float
    output: float
    cache_read: float | None = None
    cache_write: float | None = None

    def cost(self, input_tokens: float, output_tokens: float, cache_read: float, cache_write: float) -> float:
        """USD for these tokens (``input_tokens`` counts the cached ones too, as the row does)."""
        read = self.input if self.cache_read is None else self.cache_read
        write = self.input if self.cache_write is None else self.cache_write
        uncached = max(0.0, input_tokens - cache_read - cache_write)
        return (
            uncached * self.input + cache_read * read + cache_write * write + output_tokens * self.output
        ) / 1e6

    @classmethod
    def from_setting(cls, value: Mapping[str, Any]) -> Price:
        def optional(key: str) -> float | None:
            return None if value.get(key) is None else float(value[key])

        return cls(
            float(value["input_per_mtok"]),
            float(value["output_per_mtok"]),
            optional("cache_read_per_mtok"),
            optional("cache_write_per_mtok"),
        )


def _as_float(value: float) -> float:
    """The price as the figures use it: an integer past a float's range is infinite, not an error later."""
    try:
        return float(value)
    except OverflowError:
        return float("inf")


def price_problems(prices: object) -> list[str]:
    """What is wrong with a ``PRICES`` value, one sentence each (the system checks say them)."""
    if not isinstance(prices, Mapping):
        return [f"must be a dict of model -> prices, not {type(prices).__name__}"]
    problems = []
    for model, price in prices.items():
        if not isinstance(model, str) or not model:
            problems.append(f"has a key {model!r} that is not a model name")
            continue
        if not isinstance(price, Mapping):
            problems.append(
                f"{model!r} must be a dict such as {{'input_per_mtok': 0.15, 'output_per_mtok': 0.6}}"
            )
            continue
        unknown = [key for key in price if key not in PRICE_KEYS]
        if unknown:
            problems.append(f"{model!r} has unknown price keys {', '.join(map(repr, unknown))}")
        missing = [key for key in REQUIRED_PRICE_KEYS if key not in price]
        if missing:
            problems.append(f"{model!r} lacks {', '.join(map(repr, missing))}")
        for key in PRICE_KEYS:
            if key not in price:
                continue
            value = price[key]
            if isinstance(value, bool) or not isinstance(value, int | float):
                problems.append(f"{model!r}: {key} must be a number of USD per million tokens, not {value!r}")
            elif not 0 <= _as_float(value) < float("inf"):
                problems.append(f"{model!r}: {key} must not be negative (or infinite), not {value!r}")
    return problems


class Prices:
    """The price of (model, provider) on a day: the host's first, then genai-prices, else ``None``."""

    def __init__(self, overrides: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self.overrides = {model: Price.from_setting(price) for model, price in (overrides or {}).items()}
        self._found: dict[tuple[str, str, datetime.date], Price | None] = {}

    def __getstate__(self) -> dict[str, Any]:
        # Sent to worker processes: the host's prices, not what was looked up.
        return {"overrides": self.overrides, "_found": {}}

    def price(self, model: str, provider: str, day: datetime.date) -> Price | None:
        key = (model, provider, day)
        try:
            return self._found[key]
        except KeyError:
            found = self._found[key] = self.overrides.get(model) or _library_price(model, provider, day)
            return found


def utc_day(moment: datetime.datetime) -> datetime.date:
    """The UTC day of a row's timestamp, the day its price is looked up for.

    A row written at 23:30 -05:00 was priced on the next UTC day: prices
    change at UTC midnight, not at the writer's.
    """
    zone = moment.tzinfo
    if zone is None or zone is _UTC:  # rows written by the app end in Z: no conversion
        return moment.date()
    return moment.astimezone(_UTC).date()


_UTC = datetime.timezone.utc


def _library_price(model: str, provider: str, day: datetime.date) -> Price | None:
    """genai-prices' price of the model on that day, as four numbers; ``None`` when it has none."""
    if not model:
        return None
    try:
        from genai_prices import Usage as LibraryUsage
        from genai_prices import calc_price
    except ImportError:
        return None
    moment = datetime.datetime(day.year, day.month, day.day, 12, tzinfo=datetime.timezone.utc)
    try:
        found = calc_price(
            LibraryUsage(input_tokens=1_000_000, output_tokens=1_000_000),
            model,
            provider_id=provider or None,
            genai_request_timestamp=moment,
        )
    except LookupError:
        return None
    except Exception:  # a library's bug must not stop a report
        logger.warning("genai-prices could not price %r (%r)", model, provider, exc_info=True)
        return None
    model_price = found.model_price

    def per_mtok(value: Any) -> float | None:
        # Tiered prices (by context length) are priced at their first tier.
        if value is None:
            return None
        base = getattr(value, "base", value)
        try:
            return float(base)
        except (TypeError, ValueError):
            return None

    input_price, output_price = per_mtok(model_price.input_mtok), per_mtok(model_price.output_mtok)
    if input_price is None or output_price is None:
        return None
    return Price(
        input_price,
        output_price,
        per_mtok(getattr(model_price, "cache_read_mtok", None)),
        per_mtok(getattr(model_price, "cache_write_mtok", None)),
    )


def library_installed() -> bool:
    try:
        import genai_prices  # noqa: F401
    except ImportError:
        return False
    return True


def unpriced_hint() -> str:
    """What to do about unpriced models; without genai-prices every model is unpriced, so that is said."""
    hint = "add them to SESSIONLOG['PRICES']"
    if not library_installed():
        hint += " or install the cost extra (pip install 'django-sessionlog[cost]') for genai-prices' prices"
    return hint
