from __future__ import annotations

import pytest
from django.test import override_settings

from django_sessionlog import conf as conf_module
from django_sessionlog.checks import check_settings
from django_sessionlog.conf import DEFAULTS, SCRUB_OPTIONS, Settings, conf
from django_sessionlog.scrubbing import DEFAULT_KEYS


def test_defaults_apply_when_a_key_is_absent() -> None:
    with override_settings(SESSIONLOG={}):
        assert conf.PATH == ""
        assert conf.DAEMON == "validatord"
        assert conf.FILE_MODE == 0o640
        assert conf.RAISE_ERRORS is False
        assert conf.TRACE_HEADER == "X-Lakehouse-Trace-Id"
        assert conf.OTEL_SPANS is False
        assert dict(conf.SAMPLE_RATES) == {}
        assert {
            "SECRETS": True,
            "PII": [],
            "PATTERNS": {},
            "KEYS": list(DEFAULT_KEYS),
            "RULES": None,
        } == conf.SCRUB


def test_a_partial_scrub_dict_takes_the_defaults_for_the_keys_it_leaves_out() -> None:
    with override_settings(SESSIONLOG={"SCRUB": {"PII": ["email"]}}):
        assert {
            "SECRETS": True,
            "PII": ["email"],
            "PATTERNS": {},
            "KEYS": list(DEFAULT_KEYS),
            "RULES": None,
        } == conf.SCRUB
    with override_settings(SESSIONLOG={"SCRUB": "on"}):
        assert conf.SCRUB == "on"  # for the checks to report and the scrubber to refuse


def test_settings_are_read_at_access_time() -> None:
    with override_settings(SESSIONLOG={"DAEMON": "a"}):
        assert conf.DAEMON == "a"
        with override_settings(SESSIONLOG={"DAEMON": "b"}):
            assert conf.DAEMON == "b"
        assert conf.DAEMON == "a"


def test_a_setting_that_is_not_a_dict_falls_back_to_defaults_for_the_check_to_report() -> None:
    with override_settings(SESSIONLOG="oops"):
        assert DEFAULTS["PATH"] == conf.PATH


def test_path_object_is_read_as_a_string() -> None:
    from pathlib import Path

    with override_settings(SESSIONLOG={"PATH": Path("/var/log/s.jsonl")}):
        assert conf.PATH == "/var/log/s.jsonl"


def test_changing_what_scrub_returns_never_changes_the_defaults() -> None:
    with override_settings(SESSIONLOG={}):
        conf.SCRUB["KEYS"].append("mine")
        assert "mine" not in conf.SCRUB["KEYS"]


def test_each_default_is_stated_once_in_the_package_in_the_settings_table() -> None:
    import pathlib

    package = pathlib.Path(conf_module.__file__).parent
    for literal in ('"validatord"', "0o640", '"X-Lakehouse-Trace-Id"'):
        found = [
            (path.name, line.strip())
            for path in sorted(package.rglob("*.py"))
            for line in path.read_text(encoding="utf-8").splitlines()
            if literal in line
        ]
        assert len(found) == 1, found
        assert found[0][0] == "conf.py"
        assert found[0][1].split(" = Setting(")[0] in DEFAULTS


def test_every_row_of_the_table_is_read_by_its_accessor() -> None:
    with override_settings(SESSIONLOG={}):
        for row in Settings.table():
            assert getattr(conf, row.name) == row.read(row.default)
    assert list(DEFAULTS) == [row.name for row in Settings.table()]
    assert DEFAULTS["SCRUB"] == {option.name: option.default for option in SCRUB_OPTIONS}


def test_a_wrong_type_message_shows_the_tables_default() -> None:
    with override_settings(SESSIONLOG={"FILE_MODE": "640", "DAEMON": 3}):
        [mode, daemon] = sorted(check_settings(), key=lambda m: m.msg)
    assert "an integer such as 0o640" in daemon.msg + mode.msg
    assert {mode.hint, daemon.hint} == {"The default is 0o640.", "The default is 'validatord'."}


@pytest.mark.parametrize(
    ("key", "value", "read"),
    [
        ("RAISE_ERRORS", "False", False),
        ("FILE_MODE", "0o640", 0o640),
        ("OTEL_SPANS", "yes", False),
        ("FILE_MODE", True, 0o640),
    ],
)
def test_a_value_of_the_wrong_type_reads_as_the_default(key: str, value: object, read: object) -> None:
    """E003 says so at start-up; until it is fixed, ``"False"`` must not raise into views, nor a text mode cost every row."""
    with override_settings(SESSIONLOG={"PATH": "/tmp/s.jsonl", key: value}):
        assert getattr(conf, key) == read
