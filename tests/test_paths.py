from __future__ import annotations

from django_sessionlog import paths


def test_fill_puts_the_day_and_host_in() -> None:
    assert (
        paths.fill("/var/log/{host}/s-{date}.jsonl", "2026-11-24", "web1")
        == "/var/log/web1/s-2026-11-24.jsonl"
    )


def test_row_date_is_the_utc_day_of_the_timestamp() -> None:
    assert paths.row_date("2026-11-24T23:59:59Z") == "2026-11-24"
    assert paths.row_date("2026-11-25T01:00:00+02:00") == "2026-11-24"
    assert len(paths.row_date("not a time")) == 10


def test_date_pattern_matches_only_the_template_with_a_real_date() -> None:
    pattern = paths.date_pattern("/var/log/s-{host}-{date}.jsonl", host="web1")
    match = pattern.match("/var/log/s-web1-2026-11-24.jsonl")
    assert match is not None
    assert match["date"] == "2026-11-24"
    assert pattern.match("/var/log/s-web2-2026-11-24.jsonl") is None
    assert pattern.match("/var/log/s-web1-2026-11-24.jsonl.gz") is None
    assert pattern.match("/var/log/s-web1-latest.jsonl") is None


def test_host_name_is_safe_in_a_file_name() -> None:
    assert "/" not in paths.host_name()
    assert paths.host_name()


def test_unknown_placeholders_are_found() -> None:
    assert paths.unknown_placeholders("{date}-{host}-{pid}") == ["pid"]


def test_a_known_placeholder_with_a_format_spec_or_conversion_is_unknown() -> None:
    """The writer fills only ``{date}`` and ``{host}``: ``{date:%Y-%m}`` would name a file after its braces."""
    assert paths.unknown_placeholders("s-{date:%Y-%m}-{host!r}-{date}.jsonl") == ["date:%Y-%m", "host!r"]


def test_row_date_of_a_timestamp_that_is_not_text_is_today() -> None:
    assert paths.row_date(12345) == paths.today()  # type: ignore[arg-type]
