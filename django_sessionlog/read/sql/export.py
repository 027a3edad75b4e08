"""The log as Parquet, partitioned by day, for the warehouse.

``DIR/date=YYYY-MM-DD/<host>--<source>.parquet``: each source file's rows
of a day go to one file named after the host that exported them and the
source, so exporting a growing log again (an hourly cron job, or one that
ran twice) replaces exactly the files that source made before, and other
sources and other hosts exporting into the same folder (a shared mount, a
bucket synced from each host) are never touched. A whole-day overwrite
would wipe the other hosts' rows; appending would duplicate ours.

The rows are the lines ``validate`` accepts (``staging``), typed with
the same column types as ``query``, written by DuckDB, and put in place
with an atomic rename so a reader never sees half a file.
"""

from __future__ import annotations

import concurrent.futures
import glob
import hashlib
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from ... import paths
from ..outfiles import narrowed
from ..sources.rows import Tally
from ..sources.window import Window
from . import duckdb_sql
from .staging import pinned, stage


def export_name(source: str, host: str | None = None) -> str:
    """The Parquet file name of a source: its host, its name, and a hash of its full path.

    The hash keeps two ``sessions.jsonl`` in different folders apart; the
    readable part tells a person where the rows came from.
    """
    stem = os.path.basename(source)
    for suffix in (".gz", ".jsonl", ".json", ".ndjson"):
        stem = stem.removesuffix(suffix)
    stem = re.sub(r"[^A-Za-z0-9._-]", "_", stem) or "log"
    digest = hashlib.sha256(os.path.abspath(source).encode("utf-8", "surrogatepass")).hexdigest()[:10]
    return f"{host or paths.host_name()}--{stem}-{digest}.parquet"


@dataclass
class Exported:
    tally: Tally = field(default_factory=Tally)
    files: list[str] = field(default_factory=list)
    rows: int = 0
    unread: int = 0  # valid rows DuckDB did not write (should stay 0)


def export(
    duckdb: ModuleType,
    sources: list[str],
    to: str,
    *,
    window: Window = Window(),
    file_mode: int,
) -> Exported:
    """Export each source into ``to``; see the module's docstring.

    The Parquet files hold what the log holds: they get its ``file_mode``.

    DuckDB writes a source's days in one ``COPY ... PARTITION_BY`` (its
    writers run in parallel, faster than a ``COPY`` per day); each file it
    makes is then moved into place under the source's own name.

    Most logs are clean, so DuckDB starts writing from the log itself while
    the check pass reads it on another core (DuckDB releases the GIL). Only
    when the check finds a line DuckDB must not see (or a row longer than
    DuckDB was told to expect) is that output thrown away and the days
    written again from a copy of the valid lines; the first such line stops
    the first write at once, so a dirty log costs little more than the
    check, the copy and one write.
    """
    days = window.whole_days()
    result = Exported()
    for source in sources:
        name = export_name(source)
        with tempfile.TemporaryDirectory(prefix="sessionlog-export-") as folder:
            optimistic = os.path.join(folder, "optimistic")
            connection = duckdb_sql.connect(duckdb)
            with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
                writing = pool.submit(
                    _write_days,
                    connection,
                    [source],
                    duckdb_sql.DEFAULT_MAXIMUM_OBJECT_SIZE,
                    days,
                    optimistic,
                )
                staged = stage([source], folder, days, on_copy=connection.interrupt)
                written_rows = 0
                try:
                    written_rows = writing.result()
                    # DuckDB may have read rows the check did not: a live log grew
                    # between the two. They were never checked, so write again
                    # from a copy of exactly the lines that were.
                    usable = (
                        staged.files == [source]
                        and staged.longest < duckdb_sql.DEFAULT_MAXIMUM_OBJECT_SIZE
                        and written_rows == staged.rows
                    )
                except duckdb.Error:
                    usable = False
            result.tally.add(staged.tally)
            result.rows += staged.rows
            if not staged.rows or not staged.files:  # nothing valid, or unreadable
                continue
            written = optimistic
            if not usable:
                written = os.path.join(folder, "checked")
                written_rows = _write_days(
                    duckdb_sql.connect(duckdb), pinned(staged), staged.maximum_object_size, days, written
                )
            # Fewer rows than the check counted means DuckDB could not read
            # rows validate accepts, and is said.
            result.unread += max(0, staged.rows - written_rows)
            for partition in sorted(os.listdir(written)):
                parts = sorted(glob.glob(os.path.join(written, partition, "*.parquet")))
                if len(parts) > 1:  # DuckDB split a big day: one file per source and day is the promise
                    merged = os.path.join(folder, "merged.parquet")
                    listed = "[" + ", ".join(duckdb_sql.literal(p) for p in parts) + "]"
                    duckdb_sql.connect(duckdb).execute(
                        f"COPY (SELECT * FROM read_parquet({listed})) TO {duckdb_sql.literal(merged)} (FORMAT parquet)"
                    )
                    parts = [merged]
                mode = narrowed(file_mode, folder)
                result.files.append(_put(parts[0], os.path.join(to, partition), name, mode))
    result.files.sort()
    return result


def _write_days(
    connection: Any,
    files: list[str],
    maximum_object_size: int,
    days: Window,
    out: str,
) -> int:
    """Have DuckDB write the rows of ``files`` as ``out/date=YYYY-MM-DD/*.parquet``; the rows written."""
    select = duckdb_sql.read_json_sql(files, maximum_object_size, days)
    # Rows of a day need not keep the log's order in their file (a query
    # sorts), and without that promise DuckDB writes in parallel: about
    # 10 to 15 percent faster here.
    connection.execute("SET preserve_insertion_order = false")
    copied = connection.execute(
        f"COPY (SELECT *, strftime(timestamp, '%Y-%m-%d') AS date FROM ({select})) "
        f"TO {duckdb_sql.literal(out)} (FORMAT parquet, PARTITION_BY (date))"
    ).fetchone()
    return int(copied[0]) if copied else 0


def _put(made: str, partition: str, name: str, mode: int) -> str:
    """Move a finished Parquet file into its partition under ``name``, atomically.

    It is first moved next to its final place under a name no ``*.parquet``
    glob matches (a copy when the temporary folder is on another file
    system), then renamed over the old file in one step.
    """
    os.makedirs(partition, exist_ok=True)
    target = os.path.join(partition, name)
    temporary = os.path.join(partition, f".{name}.{os.getpid()}.tmp")
    try:
        os.chmod(made, mode)  # still in our private folder: nobody has seen it yet
        shutil.move(made, temporary)
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return target
