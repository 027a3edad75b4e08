from __future__ import annotations

import json
import math
import subprocess
from pathlib import Path

import duckdb
import jsonschema
import pytest
from django.test import override_settings

from django_sessionlog.row import MIN_SAMPLE_RATE

from .. import needs, readme
from ..logs import django_admin, line, row, sessionlog, write_log


def test_schema_is_a_valid_draft_2020_12_json_schema() -> None:
    out, _, status = sessionlog("schema")
    schema = json.loads(out)
    assert status == 0
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_schema_names_every_key_of_the_row_and_what_is_required() -> None:
    schema = json.loads(sessionlog("schema")[0])
    assert set(schema["properties"]) == set(row(sample_rate=0.5, usage={}))
    assert "artifact" not in schema["required"]
    assert "grounded_in_roster" not in schema["required"]
    assert "attempts" in schema["required"]
    assert schema["properties"]["final_verdict"]["enum"] == ["accepted", "infra_error", "max_iter_exhausted"]
    assert schema["properties"]["prompt"]["maxLength"] == 4000


def test_the_schema_holds_usage_and_accepts_and_refuses_as_validate_does() -> None:
    schema = json.loads(sessionlog("schema")[0])
    validator = jsonschema.Draft202012Validator(schema)
    counts = {"input_tokens": 10, "output_tokens": 4, "cache_read_tokens": 2}
    good = row(usage=counts)
    good["attempts"][0]["usage"] = counts
    validator.validate(good)
    usage = schema["$defs"]["TokenUsage"]
    assert usage["required"] == ["input_tokens", "output_tokens"]
    assert list(usage["properties"]) == [
        "input_tokens",
        "output_tokens",
        "cache_read_tokens",
        "cache_write_tokens",
        "reasoning_tokens",
    ]
    assert "part of input_tokens" in usage["properties"]["cache_read_tokens"]["description"]
    for bad in ({"input_tokens": -1, "output_tokens": 0}, {"input_tokens": 1}, None):
        assert not validator.is_valid(row(usage=bad))


def test_the_duckdb_view_reads_usage_and_has_it_null_where_absent(tmp_path: Path) -> None:
    """No usage is null; a part the writer left out (it was 0) is 0, so arithmetic on the parts works."""
    counts = {"input_tokens": 10, "output_tokens": 4}
    with_usage = row(session_id="a", usage=counts)
    with_usage["attempts"][1]["usage"] = counts
    log = write_log(tmp_path / "s.jsonl", row(session_id="b"), with_usage)
    view = sessionlog("schema", "--duckdb", str(log))[0]
    connection = duckdb.connect()
    connection.execute(view)
    found = connection.execute(
        "SELECT session_id, usage.input_tokens, usage.cache_read_tokens, attempts[2].usage.output_tokens, "
        "usage.input_tokens - usage.cache_read_tokens, attempts[1].usage FROM sessions ORDER BY session_id"
    ).fetchall()
    assert found == [("a", 10, 0, 4, 10, None), ("b", None, None, None, None, None)]


RATES = {
    "least": MIN_SAMPLE_RATE,
    "half": 0.5,
    "one": 1.0,
    "below-least": math.nextafter(MIN_SAMPLE_RATE, 0.0),
    "tiny": 1e-310,
    "zero": 0.0,
    "above-one": math.nextafter(1.0, 2.0),
}
ACCEPTED_RATES = {"least", "half", "one"}


def test_validate_the_json_schema_and_the_duckdb_view_agree_on_the_sample_rates_they_accept(
    tmp_path: Path,
) -> None:
    rows = {name: row(session_id=name, sample_rate=rate) for name, rate in RATES.items()}
    validator = jsonschema.Draft202012Validator(json.loads(sessionlog("schema")[0]))
    by_validate, by_schema = set(), set()
    for name, value in rows.items():
        if sessionlog("validate", str(write_log(tmp_path / f"{name}.jsonl", value)))[2] == 0:
            by_validate.add(name)
        if validator.is_valid(value):
            by_schema.add(name)
    log = write_log(tmp_path / "all.jsonl", *rows.values())
    connection = duckdb.connect()
    connection.execute(_duckdb_view(log))
    by_view = {name for (name,) in connection.execute("SELECT session_id FROM sessions").fetchall()}
    assert by_validate == by_schema == by_view == ACCEPTED_RATES


def test_the_smallest_sample_rate_weighs_a_finite_number_of_sessions(tmp_path: Path) -> None:
    log = write_log(tmp_path / "s.jsonl", row(sample_rate=MIN_SAMPLE_RATE), row(session_id="x"))
    figures = json.loads(sessionlog("stats", "--json", str(log))[0])
    assert figures["sessions"] == 2.0**64 + 1
    assert figures["by_verdict"]["accepted"] == 2.0**64 + 1


@pytest.mark.slow
def test_a_row_whose_weight_would_be_infinite_is_invalid_for_stats_and_compare(tmp_path: Path) -> None:
    log = write_log(tmp_path / "s.jsonl", row(sample_rate=1e-310), row(session_id="x"))
    result = django_admin("sessionlog", "stats", str(log))
    assert result.returncode == 0, result.stderr
    assert "skipped   1 invalid line (0 torn)" in result.stdout
    result = django_admin("sessionlog", "stats", "--json", str(log))
    assert json.loads(result.stdout)["sessions"] == 1
    result = django_admin(
        "sessionlog", "compare", "--json", "--baseline", "kind=fill", "--candidate", "kind=fill", str(log)
    )
    assert result.returncode == 0, result.stderr
    assert "null,null" not in result.stdout
    assert json.loads(result.stdout)["baseline"]["sessions"] == 1


# --- schema --duckdb: the view for DuckDB outside the app --


def test_duckdb_view_without_duckdb_flag_takes_no_files(tmp_path: Path) -> None:
    _, err, status = sessionlog("schema", str(tmp_path / "x.jsonl"))
    assert status == 2
    assert "--duckdb" in err


def test_duckdb_view_of_the_configured_path_reads_it_as_one_glob(tmp_path: Path) -> None:
    template = str(tmp_path / "sessions-{host}-{date}.jsonl")
    with override_settings(SESSIONLOG={"PATH": template}):
        out, _, status = sessionlog("schema", "--duckdb")
    assert status == 0
    assert out.startswith("CREATE OR REPLACE VIEW sessions AS\n")
    assert out.rstrip().endswith(";")
    assert f"['{tmp_path}/sessions-*-[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9].jsonl']" in out


def test_duckdb_view_makes_named_files_absolute_and_keeps_remote_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    out, _, status = sessionlog("schema", "--duckdb", "logs/*.jsonl", "s3://bucket/sessions/*.jsonl.gz")
    assert status == 0
    assert f"['{tmp_path}/logs/*.jsonl', 's3://bucket/sessions/*.jsonl.gz']" in out


@pytest.mark.parametrize(
    ("args", "settings", "message"),
    [
        (["-"], {"PATH": ""}, "name files, not -"),
        ([], {"PATH": ""}, "SESSIONLOG['PATH'] is not set"),
        ([], {"PTAH": "x.jsonl"}, "unknown key 'PTAH' (did you mean 'PATH'?)"),
    ],
)
def test_duckdb_view_of_nothing_is_exit_2(args: list[str], settings: dict[str, str], message: str) -> None:
    with override_settings(SESSIONLOG=settings):
        _, err, status = sessionlog("schema", "--duckdb", *args)
    assert status == 2
    assert message in err


def _log_whose_first_rows_hold_no_error(path: Path) -> Path:
    """25,000 rows with no attempt error, artifact or roster answer, then three with, garbage, a torn row."""
    quiet = row(attempts=[{"iteration": 1, "verdict_kind": "accepted"}])
    del quiet["artifact"], quiet["grounded_in_roster"]
    lines = [line({**quiet, "session_id": f"quiet-{n}"}) for n in range(25_000)]
    lines += [line(row(session_id=f"phantom-{n}", kind="fill")) for n in range(3)]
    lines += [b"not json at all\n", line(row(session_id="torn"))[:60]]
    return write_log(path, *lines)


def _duckdb_view(log: Path) -> str:
    out, err, status = sessionlog("schema", "--duckdb", str(log))
    assert status == 0, err
    return out


def test_plain_read_json_fails_on_such_a_log_which_is_why_the_view_exists(tmp_path: Path) -> None:
    log = _log_whose_first_rows_hold_no_error(tmp_path / "sessions.jsonl")
    with pytest.raises(duckdb.BinderException, match='Could not find key "error"'):
        duckdb.connect().execute(
            f"SELECT a.error FROM read_json('{log}', format = 'newline_delimited', ignore_errors = true), "
            "unnest(attempts) AS t(a)"
        )


def test_every_readme_duckdb_example_runs_as_written_on_the_view(tmp_path: Path) -> None:
    log = _log_whose_first_rows_hold_no_error(tmp_path / "sessions.jsonl")
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    connection.execute(_duckdb_view(log))
    [sql] = readme.blocks("Querying with DuckDB directly", "sql")
    phantom, by_kind = readme.statements(sql)
    assert [r[0] for r in connection.sql(phantom).fetchall()] == ["phantom-0", "phantom-1", "phantom-2"]
    assert connection.sql(by_kind).fetchall() == [("fill", 2.0, 1834.0)]
    columns = connection.sql("DESCRIBE sessions").fetchall()
    assert dict((name, kind) for name, kind, *_ in columns)["artifact"] == "JSON"


@pytest.mark.slow
def test_the_duckdb_cli_runs_the_readme_examples_on_the_view(tmp_path: Path) -> None:
    cli = needs.tool("duckdb")
    log = _log_whose_first_rows_hold_no_error(tmp_path / "sessions.jsonl")
    view = tmp_path / "sessions.sql"
    view.write_text(_duckdb_view(log))
    [sql] = readme.blocks("Querying with DuckDB directly", "sql")
    phantom, _ = readme.statements(sql)
    result = subprocess.run(
        [cli, "-init", str(view), "-csv", "-noheader"],
        input=phantom,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert [r.split(",")[0] for r in result.stdout.splitlines()] == ["phantom-0", "phantom-1", "phantom-2"]
