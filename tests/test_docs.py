"""Every code block of the README and the documentation pages, run or checked as a reader would use it.

Python blocks run; a settings example passes the system checks; the row
example is a valid row; SQL parses in DuckDB; each ``sessionlog`` command
line is accepted by the command's own parser; ``pip install`` names real
extras; a script a page tells you to run exists. The blocks that only a
dedicated test runs (the README loop, the DuckDB examples, the logrotate
stanza) are run there (``test_readme.py``, ``commands/test_schema.py``,
``write/test_sink_logrotate.py``).
"""

from __future__ import annotations

import ast
import configparser
import importlib.util
import io
import json
import re
import shlex
from types import ModuleType
from typing import Any

import pytest
from django.core.management import call_command
from django.test import override_settings

from django_sessionlog import conf
from django_sessionlog.checks import check_settings
from django_sessionlog.management.commands.sessionlog import Command
from django_sessionlog.read.sources.rules import decode_row
from django_sessionlog.testing import capture_sessions

from . import readme

BLOCKS = readme.every_block()
#: Names a fragment leaves to the host (its view, its model call, its loop's state).
HOST_NAMES = {
    "MyIterateView",
    "prompt",
    "exc_or_None",
    "iterate_request",
    "run_loop",
    "session",
    "iteration",
    "ask_model",
    "messages",
    "status",
    "history",
    "self",
    "client",  # the host's (instructor or openai) client
    "agent",  # the host's pydantic-ai agent
    "Shift",  # the host's response model
    "spark",  # a Spark session
}
#: Programs a shell block may name that no test runs (the network, another tool's CLI, the shell).
OUTSIDE = {"curl", "duckdb", "jq", "."}


def _blocks(*languages: str) -> list[readme.Block]:
    return [block for block in BLOCKS if block.language in languages]


def _ids(blocks: list[readme.Block]) -> list[str]:
    return [block.id for block in blocks]


def test_every_block_is_of_a_kind_the_tests_run() -> None:
    assert {block.language for block in BLOCKS} <= {"python", "json", "sql", "console", "sh", "text", ""}
    # text blocks are diagrams and log output, not code (usage-and-cost's is stats' output,
    # checked against stats by tests/commands/test_stats.py); the one block without a
    # language is the logrotate stanza that write/test_sink_logrotate.py runs.
    assert {block.page for block in _blocks("text")} == {
        "docs/architecture.md",
        "docs/settings.md",
        "docs/usage-and-cost.md",
    }
    [stanza] = _blocks("")
    assert [stanza.code] == readme.blocks("Rotating the log", "")


# --- Python -------------------------------------------------------------------


@pytest.mark.parametrize("block", _blocks("python"), ids=_ids(_blocks("python")))
def test_each_python_block_runs_as_far_as_the_host_s_own_names(
    block: readme.Block, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-docs")  # a host has one; nothing is sent
    code = compile(block.code, block.id, "exec")
    namespace: dict[str, Any] = {"__name__": "docs_example"}
    missing = None
    with capture_sessions():
        try:
            exec(code, namespace)
        except NameError as exc:
            missing = exc.name
    assert missing is None or missing in HOST_NAMES, f"{block.id}: {missing!r} is not defined"
    if "SESSIONLOG" in namespace:
        with override_settings(SESSIONLOG=namespace["SESSIONLOG"]):
            problems = check_settings()
        # Only a dotted path into the host's own code may not import here.
        assert [p.id for p in problems if "staffing." not in p.msg] == [], block.id


@pytest.mark.parametrize("page", ["README.md", "docs/getting-started.md"])
def test_the_smallest_example_logs_one_accepted_session(page: str) -> None:
    [code] = readme.blocks("The smallest example", "python", readme.ROOT / page)
    with capture_sessions() as rows:
        exec(compile(code, page, "exec"), {})
    [row] = rows
    assert (row["kind"], row["final_verdict"], row["artifact"]) == (
        "fill",
        "accepted",
        {"workers": ["W-1001"]},
    )
    assert re.fullmatch(r"[0-9a-f]{32}", row["session_id"])


# --- The row, SQL --------------------------------------------------------------


@pytest.mark.parametrize("block", _blocks("json"), ids=_ids(_blocks("json")))
def test_each_json_example_is_a_valid_row(block: readme.Block) -> None:
    value = json.loads(block.code)
    row = decode_row(json.dumps(value, ensure_ascii=False).encode())
    assert row.schema == "session.iterate.v1"


@pytest.mark.parametrize("block", _blocks("sql"), ids=_ids(_blocks("sql")))
def test_each_sql_block_parses_in_duckdb(block: readme.Block) -> None:
    duckdb = pytest.importorskip("duckdb")
    statements = duckdb.extract_statements(block.code)
    assert len(statements) >= len(readme.statements(block.code)) > 0


# --- Command lines ---------------------------------------------------------------


def _command_lines(block: readme.Block) -> list[list[str]]:
    """Each command of a shell or console block, as words, without pipes, redirections and comments."""
    text = block.code.replace("\\\n", " ")
    if block.language == "console":
        lines = [line[2:] for line in text.splitlines() if line.startswith("$ ")]
        assert lines, f"{block.id}: a console block shows at least one command"
    else:
        lines = text.splitlines()
    commands = []
    for line in lines:
        words = shlex.split(line, comments=True)
        while words:
            cut = next((i for i, w in enumerate(words) if w in {"&&", "|", ">", ">>"}), len(words))
            command, rest = words[:cut], words[cut + 1 :]
            if command:
                commands.append(command)
            # What follows a redirection is a file name, then maybe more of the line.
            words = rest[1:] if cut < len(words) and words[cut] in {">", ">>"} else rest
    return commands


def _extras() -> set[str]:
    config = configparser.ConfigParser()
    config.read(readme.ROOT / "setup.cfg")
    return set(config["options.extras_require"])


def _check_command(words: list[str], where: str) -> None:
    while words and re.fullmatch(r"[A-Z_]+=\S*", words[0]):
        words = words[1:]  # VAR=value before the command
    program, *args = words
    if program in {"python", "python3"} and args[:1] != ["-m"]:
        script = readme.ROOT / args[0] if args[0] != "manage.py" else None
        assert script is None or script.is_file(), f"{where}: no {args[0]}"
        if args[1:2] == ["sessionlog"]:
            parser = Command().create_parser("manage.py", "sessionlog")
            parser.parse_args(args[2:])  # a CommandError (exit status 2) when an option is wrong
        return
    if program == "bash":
        assert (readme.ROOT / args[0]).is_file(), f"{where}: no {args[0]}"
    elif program == "pip":
        assert args[0] == "install", where
        for requirement in args[1:]:
            if requirement.startswith("-"):
                continue
            named = re.fullmatch(r"(django-sessionlog|\.)(?:\[([\w,-]+)\])?", requirement)
            if named:
                assert set(filter(None, (named[2] or "").split(","))) <= _extras(), f"{where}: {requirement}"
    elif [program, *args[:2]] == ["python3", "-m", "venv"] or program in {"python", "python3"}:
        pass
    else:
        assert program in OUTSIDE, f"{where}: a command no test knows: {words}"


@pytest.mark.parametrize("block", _blocks("sh", "console"), ids=_ids(_blocks("sh", "console")))
def test_each_command_line_names_real_scripts_extras_and_options(block: readme.Block) -> None:
    for words in _command_lines(block):
        _check_command(words, block.id)


def test_a_wrong_option_in_a_command_line_would_fail() -> None:
    from django.core.management import CommandError

    with pytest.raises(CommandError):
        _check_command(["python", "manage.py", "sessionlog", "tail", "--no-such-option"], "here")
    with pytest.raises(AssertionError):
        _check_command(["pip", "install", "django-sessionlog[nope]"], "here")


# --- Settings, checks, the schema: the pages say what the code does ---------------


def _extension() -> ModuleType:
    """docs/_ext/sessionlog_docs.py, the Sphinx extension that renders pages from the code."""
    path = readme.DOCS / "_ext" / "sessionlog_docs.py"
    spec = importlib.util.spec_from_file_location("sessionlog_docs", path)
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _meaning_rows() -> dict[str, set[str]]:
    """The settings page's "What each key does" table: key -> the check ids it names."""
    text = readme.section("What each key does")
    rows = re.findall(r"^\| `([A-Z_]+)` \| .* \| ([E0-9, ]+) \|$", text, re.MULTILINE)
    return {key: set(ids.replace(" ", "").split(",")) for key, ids in rows}


def test_the_settings_page_says_what_every_key_does_in_the_table_s_order() -> None:
    assert list(_meaning_rows()) == [setting.name for setting in conf.Settings.table()]


def test_every_key_s_first_check_is_the_one_a_wrong_type_gets() -> None:
    for key, ids in _meaning_rows().items():
        with override_settings(SESSIONLOG={key: object()}):
            first = check_settings()[0].id or ""
        assert first.removeprefix("django_sessionlog.") in ids, key


def _emitted_check_ids() -> set[str]:
    """The ids the code can give: the number passed last to each ``_error(...)`` / ``_scrub_error(...)``."""
    found: set[str] = set()
    for name in ("conf.py", "checks.py"):
        source = (readme.ROOT / "django_sessionlog" / name).read_text(encoding="utf-8")
        found |= set(re.findall(r'id="django_sessionlog\.(E\d{3})"', source))
        for node in ast.walk(ast.parse(source)):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            if node.func.id in {"_error", "_scrub_error"} and len(node.args) == 3:
                number = node.args[2]
                choices = [number.body, number.orelse] if isinstance(number, ast.IfExp) else [number]
                found |= {
                    f"E{c.value:03d}"
                    for c in choices
                    if isinstance(c, ast.Constant) and isinstance(c.value, int)
                }
    return found


def test_the_settings_page_names_every_check_id_the_code_has() -> None:
    emitted = _emitted_check_ids()
    listed = {number for number, _ in _extension().check_ids()}
    assert emitted == listed, "conf's docstring lists every check id, and only those"
    named = set().union(*_meaning_rows().values())
    assert listed - named == {"E001", "E002"}, "each other check belongs to a key"


def test_the_rendered_settings_table_has_every_key_and_its_default() -> None:
    table = _extension().settings_table()
    for setting in conf.Settings.table():
        assert f"| `{setting.name}` | `{setting.shown(setting.default)}` |" in table.replace("\\|", "|")


def test_the_row_page_shows_what_sessionlog_schema_prints() -> None:
    out = io.StringIO()
    call_command("sessionlog", "schema", stdout=out)
    assert json.loads(_extension().schema()) == json.loads(out.getvalue())
    assert "_generated/schema.json" in (readme.DOCS / "row.md").read_text(encoding="utf-8")


# --- Links, the changelog -----------------------------------------------------------


def test_every_relative_link_of_the_readme_names_a_file() -> None:
    text = readme.README.read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text)
    local = [t for t in targets if not re.match(r"[a-z]+://", t)]
    assert local, "the README links the pages"
    assert [t for t in local if not (readme.ROOT / t).is_file()] == []


def test_the_changelog_is_in_keep_a_changelog_form() -> None:
    text = (readme.ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    headings = re.findall(r"^(#{2,3}) (.+)$", text, re.MULTILINE)
    assert headings[0] == ("##", "[Unreleased]")
    kinds = {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}
    for level, title in headings:
        if level == "##":
            assert title == "[Unreleased]" or re.fullmatch(r"\[\d+\.\d+\.\d+\] - \d{4}-\d{2}-\d{2}", title), (
                title
            )
        else:
            assert title in kinds, title
    assert "keepachangelog.com" in text


def test_the_changelog_says_only_what_a_user_sees() -> None:
    """Entries are list items under a kind; no issue numbers, spec sections, benchmarks or test files."""
    text = (readme.ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    releases = text[text.index("## [Unreleased]") :]
    for block in re.split(r"\n\s*\n", releases):
        first = block.strip().splitlines()[0] if block.strip() else "#"
        assert first.startswith(("#", "- ")), first
    assert re.findall(r"\bissues? \d+|\bSPEC\b|SPEC\.md|bench/|tests/", releases, re.IGNORECASE) == []
