"""The intervals compare uses: published values, and their coverage checked by simulation."""

from __future__ import annotations

import math
import random
import statistics
from collections import Counter
from typing import Any

import pytest

from django_sessionlog.read.figures import intervals


def test_wilson_matches_the_published_value_and_never_collapses_at_0_or_1() -> None:
    low, high = intervals.wilson(81 / 263, 263)
    assert (round(low, 4), round(high, 4)) == (0.2553, 0.3662)  # Newcombe 1998, table I
    assert intervals.wilson(0.0, 50)[0] == 0.0
    assert intervals.wilson(0.0, 50)[1] > 0.05  # a Wald interval would be [0, 0]
    assert intervals.wilson(1.0, 50)[0] < 0.95


def test_newcombe_matches_the_published_example() -> None:
    # Newcombe (1998), method 10, example (a): 56/70 against 48/80.
    low, high = intervals.newcombe(56 / 70, 70, 48 / 80, 80)
    assert (round(low, 4), round(high, 4)) == (0.0524, 0.3339)


def test_newcombe_at_the_boundaries_keeps_width() -> None:
    low, high = intervals.newcombe(0.0, 40, 0.0, 40)
    assert low < 0 < high


@pytest.mark.parametrize(("df", "expected"), [(5, 2.5706), (10, 2.2281), (30, 2.0423), (1000, 1.9623)])
def test_t_quantiles_match_the_tables(df: float, expected: float) -> None:
    assert intervals.t_quantile(0.975, df) == pytest.approx(expected, abs=2e-3)


def test_welch_is_the_difference_plus_or_minus_t_standard_errors() -> None:
    low, high = intervals.welch(2.0, 1.0 / 100, 100, 1.5, 1.0 / 100, 100)
    se = math.sqrt(0.02)
    assert (low + high) / 2 == pytest.approx(0.5)
    assert (high - low) / 2 == pytest.approx(intervals.t_quantile(0.975, 198) * se, rel=1e-6)


def test_a_bootstrap_replicate_of_a_constant_is_the_constant() -> None:
    counted = intervals.Counted({250: 40.0}, 40)
    assert intervals.bootstrap_quantile_difference(counted, counted, 0.95) == (0.0, 0.0)


def test_the_bootstrap_is_the_same_every_run() -> None:
    a = intervals.Counted({100: 10.0, 200: 20.0, 900: 5.0}, 35)
    b = intervals.Counted({120: 15.0, 260: 20.0, 700: 4.0}, 39)
    assert intervals.bootstrap_quantile_difference(
        a, b, 0.5, seed=3
    ) == intervals.bootstrap_quantile_difference(a, b, 0.5, seed=3)


# --- coverage, by simulation: does a 95% interval hold the true difference 95% of the time? ----

DRAWS = 400
#: Two-sided bounds for 400 draws of a 95% interval: about 2.7 standard errors either side.
LOW, HIGH = 0.915, 0.985


def _coverage(hits: int, draws: int) -> float:
    return hits / draws


def test_newcombe_covers_the_true_difference_of_two_rates_95_percent_of_the_time() -> None:
    rng = random.Random(20261201)
    hits = 0
    for _ in range(DRAWS):
        n_b, n_c = 300, 260
        p_b, p_c = 0.85, 0.80  # rates near 1, where a Wald interval undercovers
        x_b = sum(rng.random() < p_b for _ in range(n_b))
        x_c = sum(rng.random() < p_c for _ in range(n_c))
        low, high = intervals.newcombe(x_c / n_c, n_c, x_b / n_b, n_b)
        hits += low <= p_c - p_b <= high
    assert LOW <= _coverage(hits, DRAWS) <= HIGH, hits


def test_welch_covers_the_true_difference_of_mean_iterations_95_percent_of_the_time() -> None:
    rng = random.Random(7)
    values, weights_b, weights_c = [1, 2, 3, 4], [0.6, 0.25, 0.1, 0.05], [0.5, 0.3, 0.12, 0.08]
    true = sum(v * w for v, w in zip(values, weights_c, strict=True)) - sum(
        v * w for v, w in zip(values, weights_b, strict=True)
    )
    hits = 0
    for _ in range(DRAWS):
        b = rng.choices(values, weights_b, k=200)
        c = rng.choices(values, weights_c, k=150)
        mean_b, mean_c = sum(b) / len(b), sum(c) / len(c)
        var_b = sum((x - mean_b) ** 2 for x in b) / (len(b) - 1)
        var_c = sum((x - mean_c) ** 2 for x in c) / (len(c) - 1)
        low, high = intervals.welch(mean_c, var_c / len(c), len(c), mean_b, var_b / len(b), len(b))
        hits += low <= true <= high
    assert LOW <= _coverage(hits, DRAWS) <= HIGH, hits


@pytest.mark.slow
@pytest.mark.parametrize(("q", "sigma_c"), [(0.5, 0.6), (0.95, 0.6)])
def test_the_bootstrap_covers_the_true_difference_of_duration_percentiles(q: float, sigma_c: float) -> None:
    # Log-normal durations in milliseconds; the true quantile is exp(mu + sigma * z_q).
    rng = random.Random(11)
    z = statistics.NormalDist().inv_cdf(q)
    mu_b, sigma_b, mu_c = math.log(800), 0.5, math.log(900)
    true = math.exp(mu_c + sigma_c * z) - math.exp(mu_b + sigma_b * z)
    hits, draws = 0, 300
    for draw in range(draws):
        b = Counter(round(rng.lognormvariate(mu_b, sigma_b)) for _ in range(400))
        c = Counter(round(rng.lognormvariate(mu_c, sigma_c)) for _ in range(400))
        low, high = intervals.bootstrap_quantile_difference(
            intervals.Counted(c, 400), intervals.Counted(b, 400), q, seed=draw, replicates=1000
        )
        hits += low - 0.5 <= true <= high + 0.5  # durations are whole milliseconds
    assert 0.90 <= hits / draws <= 0.99, hits


def _usage_bucket(rng: random.Random, n: int, accept: float, tokens: float, weight_of_accepted: float) -> Any:
    from django_sessionlog.read.figures.compare import Bucket

    bucket = Bucket()
    for _ in range(n):
        accepted = rng.random() < accept
        if accepted and rng.random() >= 1 / weight_of_accepted:
            continue  # sampled out: the kept ones stand for weight_of_accepted sessions each
        spent = int(rng.expovariate(1 / tokens)) + 1
        bucket.add_usage(accepted, spent, weight_of_accepted if accepted else 1.0, spent * 2e-6)
    return bucket


@pytest.mark.parametrize("weight", [1.0, 4.0], ids=["plain", "sampled"])
def test_the_usage_metrics_cover_the_true_difference_95_percent_of_the_time(weight: float) -> None:
    """Tokens per session (Welch) and cost per accepted session (linearized ratio), skewed costs."""
    from django_sessionlog.read.figures.compare import _usage_values

    rng = random.Random(11)
    (accept_b, tokens_b), (accept_c, tokens_c) = (0.8, 1_000.0), (0.7, 1_200.0)
    true_tokens = tokens_c - tokens_b
    true_cost = (tokens_c + 1) * 2e-6 / accept_c - (tokens_b + 1) * 2e-6 / accept_b
    hits_tokens = hits_cost = 0
    for _ in range(DRAWS):
        b = _usage_bucket(rng, 300, accept_b, tokens_b, weight)
        c = _usage_bucket(rng, 300, accept_c, tokens_c, weight)
        _, _, found = _usage_values("tokens_per_session", b, c)
        assert found is not None
        hits_tokens += found[0] <= true_tokens <= found[1]
        _, _, found = _usage_values("cost_per_accepted_usd", b, c)
        assert found is not None
        hits_cost += found[0] <= true_cost <= found[1]
    assert LOW <= _coverage(hits_cost, DRAWS) <= HIGH, hits_cost
    assert LOW <= _coverage(hits_tokens, DRAWS) <= HIGH, hits_tokens
