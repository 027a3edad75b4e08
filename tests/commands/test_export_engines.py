"""An export with usage, read by the engines past one machine: Spark, pyarrow and polars.

Each must see the rows, the sums of tokens and the column types that the
app's own ``stats`` gives. They run in one tox environment
(``SESSIONLOG_ENGINES=1``, py312-django52, which installs them) and are
deselected elsewhere; Spark also needs Java, which ``runtests.sh`` installs
(Debian's headless JRE): without it the Spark test is skipped on a laptop and
fails under CI.
"""

from __future__ import annotations

import json
import os
import random
import shutil
from pathlib import Path
from typing import Any

import pytest

from .. import needs
from ..logs import DROP, row, sessionlog, write_log

# Deselected (not skipped) outside the one environment that installs them:
# see ``pytest_collection_modifyitems`` in ``tests/conftest.py``.
pytestmark = [pytest.mark.slow, pytest.mark.engines]


def sessions(count: int) -> list[dict[str, Any]]:
    rng = random.Random(5)
    found = []
    for n in range(count):
        accepted = n % 4 != 0
        carries = n % 5 != 0  # some rows carry no usage: null in Parquet
        changes: dict[str, Any] = {
            "session_id": f"s{n}",
            "timestamp": f"2026-11-{20 + n % 3:02d}T{n % 24:02d}:00:00Z",
            "model": rng.choice(["gpt-4o-mini", "qwen2.5"]),
            "final_verdict": "accepted" if accepted else "max_iter_exhausted",
            "artifact": {"n": n} if accepted else {},
            "grounded_in_roster": True if accepted else DROP,
        }
        if carries:
            counts = {"input_tokens": rng.randint(100, 5_000), "output_tokens": rng.randint(10, 500)}
            if n % 3 == 0:
                counts["cache_read_tokens"] = counts["input_tokens"] // 2
            changes["usage"] = counts
        found.append(row(**changes))
    return found


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    folder = tmp_path_factory.mktemp("engines")
    log = write_log(folder / "s.jsonl", *sessions(300))
    _, err, status = sessionlog("export", str(log), "--to", str(folder / "out"))
    assert status == 0, err
    stats = json.loads(sessionlog("stats", "--json", str(log))[0])
    return folder / "out", stats


def expected(stats: dict[str, Any]) -> tuple[int, int, int, int]:
    usage = stats["usage"]
    return stats["rows"], usage["sessions"], usage["input_tokens"], usage["output_tokens"]


def test_pyarrow_reads_the_export_with_usage(exported: tuple[Path, dict[str, Any]]) -> None:
    import pyarrow as pa
    import pyarrow.dataset as ds

    folder, stats = exported
    table = ds.dataset(folder, format="parquet", partitioning="hive").to_table()
    usage = table.column("usage")
    assert usage.type.field("input_tokens").type == pa.int64()
    carrying = [u for u in usage.to_pylist() if u is not None]
    assert (
        table.num_rows,
        len(carrying),
        sum(u["input_tokens"] for u in carrying),
        sum(u["output_tokens"] for u in carrying),
    ) == expected(stats)
    # A part the writer left out (it was 0) is 0, never null, on a row with usage.
    assert all(u["cache_read_tokens"] is not None for u in carrying)
    assert any(u["cache_read_tokens"] == 0 for u in carrying)


def test_polars_reads_the_export_with_usage(exported: tuple[Path, dict[str, Any]]) -> None:
    import polars as pl

    folder, stats = exported
    frame = pl.read_parquet(str(folder / "**" / "*.parquet"), hive_partitioning=True)
    tokens = frame.select(
        pl.len().alias("rows"),
        pl.col("usage").is_not_null().sum().alias("sessions"),
        pl.col("usage").struct.field("input_tokens").sum().alias("input"),
        pl.col("usage").struct.field("output_tokens").sum().alias("output"),
    ).row(0)
    assert tokens == expected(stats)
    assert frame.schema["usage"] == pl.Struct(
        {
            name: pl.Int64
            for name in (
                "input_tokens",
                "output_tokens",
                "cache_read_tokens",
                "cache_write_tokens",
                "reasoning_tokens",
            )
        }
    )


def test_spark_reads_the_export_and_its_sums_match_stats(exported: tuple[Path, dict[str, Any]]) -> None:
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        needs.missing("Spark needs Java: apt-get install -y openjdk-17-jre-headless (runtests.sh does)")
    from pyspark.sql import SparkSession, functions
    from pyspark.sql.types import LongType, StructType

    folder, stats = exported
    spark = (
        SparkSession.builder.master("local[1]")
        .appName("sessionlog-export")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    try:
        frame = spark.read.parquet(str(folder))
        found = frame.agg(
            functions.count(functions.lit(1)),
            functions.count("usage"),
            functions.sum("usage.input_tokens"),
            functions.sum("usage.output_tokens"),
        ).collect()[0]
        assert tuple(found) == expected(stats)
        usage_type = frame.schema["usage"].dataType
        assert isinstance(usage_type, StructType)
        assert isinstance(usage_type["input_tokens"].dataType, LongType)
        by_verdict = {r[0]: r[1] for r in frame.groupBy("final_verdict").count().collect()}
        assert by_verdict == {k: v for k, v in stats["by_verdict"].items() if v}
        assert {str(r[0]) for r in frame.select("date").distinct().collect()} == {
            "2026-11-20",
            "2026-11-21",
            "2026-11-22",
        }
    finally:
        spark.stop()
