from __future__ import annotations

from django_sessionlog.read.figures.stats import percentile


def test_percentile_is_the_nearest_rank_of_the_counted_values() -> None:
    counts = {value: 1.0 for value in range(1, 101)}
    assert percentile(counts, 50) == 50
    assert percentile(counts, 95) == 95
    assert percentile(counts, 99) == 99
    assert percentile(counts, 100) == 100


def test_percentile_honours_weights() -> None:
    assert percentile({10: 1.0, 1000: 9.0}, 50) == 1000
    assert percentile({10: 9.0, 1000: 1.0}, 50) == 10
    assert percentile({10: 9.0, 1000: 1.0}, 95) == 1000


def test_percentile_of_nothing_is_none() -> None:
    assert percentile({}, 50) is None
