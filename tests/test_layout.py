"""The tree shows the two paths, and the imports keep to them.

``write/`` runs inside a request and must never fail it: it imports neither
the read side nor the commands (nor DuckDB, REST framework or templates).
``read/`` never imports the write path, and its stages (``sources`` ->
``figures`` -> ``pages``; ``sources`` -> ``sql``) import only earlier ones.
The modules both share (the row, paths, the JSON encoder, the scrubbing
detectors, tracing) import nothing of either. OpenTelemetry is imported by ``tracing.py`` alone, so it stays
optional in one place; likewise instructor by ``contrib/instructor.py`` and
pydantic-ai by ``contrib/pydantic_ai.py``, each library's one adapter.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "django_sessionlog"


def imported(path: Path) -> set[str]:
    """The absolute names of the package's own modules that ``path`` imports."""
    module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    package = module.rsplit(".", 1)[0] if path.name != "__init__.py" else module
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            names.add(target)
            names.update(f"{target}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


RULES = [
    # (modules, what they never import)
    (
        "write",
        [
            "django_sessionlog.read",
            "django_sessionlog.subcommands",
            "duckdb",
            "rest_framework",
            "django.template",
            "django_sessionlog.contrib",
        ],
    ),
    ("read", ["django_sessionlog.write", "django_sessionlog.subcommands", "rest_framework"]),
    ("row.py", ["django_sessionlog.write", "django_sessionlog.read", "django", "django_sessionlog.conf"]),
    ("paths.py", ["django_sessionlog.write", "django_sessionlog.read", "django"]),
    ("jsonl.py", ["django_sessionlog.write", "django_sessionlog.read", "django", "django_sessionlog.row"]),
    # The detectors, shared by the receiver and `sessionlog scan`: their
    # configuration comes in as arguments, never from settings.
    (
        "scrubbing",
        [
            "django_sessionlog.write",
            "django_sessionlog.read",
            "django_sessionlog.subcommands",
            "django_sessionlog.conf",
            "django",
        ],
    ),
    ("subcommands", ["django_sessionlog.write", "rest_framework"]),
    # The read path's stages, in order: a stage never imports a later one, and
    # the two ends (the pages, SQL and Parquet) never import each other.
    (
        "read/sources",
        [
            "django_sessionlog.read.figures",
            "django_sessionlog.read.pages",
            "django_sessionlog.read.sql",
            "django.template",
            "duckdb",
        ],
    ),
    (
        "read/figures",
        ["django_sessionlog.read.pages", "django_sessionlog.read.sql", "django.template", "duckdb"],
    ),
    ("read/pages", ["django_sessionlog.read.sql", "duckdb"]),
    ("read/sql", ["django_sessionlog.read.figures", "django_sessionlog.read.pages", "django.template"]),
    # What both adapters share imports neither library.
    ("contrib/recording.py", ["instructor", "pydantic_ai", "openai", "django_sessionlog.read"]),
    # A host's production code may import the capture helper: never the test runner.
    ("testing.py", ["pytest", "_pytest"]),
    (
        "tracing.py",
        ["django_sessionlog.write", "django_sessionlog.read", "django_sessionlog.subcommands", "django"],
    ),
]


@pytest.mark.parametrize(("where", "never"), RULES, ids=[where for where, _ in RULES])
def test_a_part_never_imports_what_it_must_not(where: str, never: list[str]) -> None:
    root = PACKAGE / where
    files = [root] if root.is_file() else sorted(root.rglob("*.py"))
    assert files
    found = {
        (path.relative_to(PACKAGE).as_posix(), name)
        for path in files
        for name in imported(path)
        if any(name == bad or name.startswith(bad + ".") for bad in never)
    }
    assert found == set()


def test_only_tracing_imports_opentelemetry() -> None:
    found = {
        path.relative_to(PACKAGE).as_posix()
        for path in sorted(PACKAGE.rglob("*.py"))
        for name in imported(path)
        if name == "opentelemetry" or name.startswith("opentelemetry.")
    }
    assert found == {"tracing.py"}


@pytest.mark.parametrize(
    ("library", "adapter"),
    [("instructor", "contrib/instructor.py"), ("pydantic_ai", "contrib/pydantic_ai.py")],
)
def test_each_integrations_library_is_imported_by_its_adapter_alone(library: str, adapter: str) -> None:
    found = {
        path.relative_to(PACKAGE).as_posix()
        for path in sorted(PACKAGE.rglob("*.py"))
        for name in imported(path)
        if name == library or name.startswith(library + ".")
    }
    assert found == {adapter}


def test_the_checker_sees_relative_imports() -> None:
    assert "django_sessionlog.write.encoding" in imported(PACKAGE / "write" / "sink.py")
    assert "django_sessionlog.jsonl" in imported(PACKAGE / "write" / "sink.py")
