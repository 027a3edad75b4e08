from __future__ import annotations

from django.test import override_settings

from django_sessionlog.conf import DEFAULTS, conf
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
        assert {"SECRETS": True, "PII": [], "PATTERNS": {}, "KEYS": list(DEFAULT_KEYS)} == conf.SCRUB


def test_a_partial_scrub_dict_takes_the_defaults_for_the_keys_it_leaves_out() -> None:
    with override_settings(SESSIONLOG={"SCRUB": {"PII": ["email"]}}):
        assert {"SECRETS": True, "PII": ["email"], "PATTERNS": {}, "KEYS": list(DEFAULT_KEYS)} == conf.SCRUB
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
