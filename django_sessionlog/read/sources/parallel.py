"""Figures over big logs gathered on every core: each part of a log counted in a process of its own.

Decoding is most of the cost of a figure and Python runs it on one core,
so a big plain log is cut at line boundaries (``parts``) and each part is
counted in a worker process; the parts' figures add up (``merge``) to what
one pass gives. ``report`` and ``compare`` read their logs through here.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol, TypeVar

from .files import seekable
from .parts import Part, split
from .rows import Tally, iter_rows
from .rules import DecodedRow
from .window import Window

if TYPE_CHECKING:
    from typing_extensions import Self

#: Below this much input in all, the logs are read in one process: starting
#: workers by forkserver (Python 3.14's default) or spawn costs more than the
#: other cores save. Measured by ``bench/parallel.py``: on two cores the pool
#: of two workers is 1.3x to 1.7x slower at 64 to 256 MB and pays from about
#: 512 MB. A file this big is also cut into a part per worker.
PARALLEL_FROM = 512 << 20

#: What gzip makes of a log: 47.6 MB of ``bench/make_log.py`` rows become 8.8 MB.
GZIP_RATIO = 5

#: Forking starts a worker far cheaper (no imports): with fork the pool pays from here.
FORK_PARALLEL_FROM = 64 << 20

#: Row numbers of the parts of a log start this far apart (more rows than a part can hold).
PART_STRIDE = 1 << 40


class Figures(Protocol):
    def add(self, row: DecodedRow, weight: float) -> None: ...

    def merge(self, other: Self) -> None: ...


F = TypeVar("F", bound=Figures)


def gather(
    names: Sequence[str],
    window: Window,
    figures: Callable[[int], F],
    *,
    workers: int | None = None,
    parallel_from: int = PARALLEL_FROM,
    start_method: str | None = None,
) -> tuple[F, Tally]:
    """``figures(first_row_number)`` filled with the rows of ``names`` in ``window``, and the tally.

    A pool of workers starts only when the files hold ``parallel_from``
    bytes in all (a compressed file at ``GZIP_RATIO`` times its size,
    standard input at nothing); a plain file that big is cut into parts.

    ``figures`` must pickle (a class, or a ``functools.partial`` of one):
    the workers make their own. Each part's row numbers start after the
    previous part's, so figures that break ties by reading order come out
    as from one pass. ``start_method`` is for tests; see
    ``start_method_for_workers``.
    """
    workers = workers or os.cpu_count() or 1
    method = start_method or start_method_for_workers()
    if method == "fork":
        parallel_from = min(parallel_from, FORK_PARALLEL_FROM)
    sizes = [_work(name) for name in names]
    if workers < 2 or sum(sizes) < parallel_from:
        # Small work, however many files: no pool to start.
        return count([Part(name) for name in names], window, figures, 0)
    parts: list[Part] = []
    for name, size in zip(names, sizes, strict=True):
        parts.extend(split(name, workers) if seekable(name) and size >= parallel_from else [Part(name)])
    if len(parts) < 2:
        return count(parts, window, figures, 0)
    context = multiprocessing.get_context(method)
    total = len(parts)
    with concurrent.futures.ProcessPoolExecutor(max_workers=min(workers, total), mp_context=context) as pool:
        results = list(
            pool.map(
                count,
                [[part] for part in parts],
                [window] * total,
                [figures] * total,
                [index * PART_STRIDE for index in range(total)],
            )
        )
    gathered, tally = results[0]
    for more, more_tally in results[1:]:
        gathered.merge(more)
        tally.add(more_tally)
    return gathered, tally


def count(
    parts: Sequence[Part], window: Window, figures: Callable[[int], F], first_row_number: int
) -> tuple[F, Tally]:
    """The figures of ``parts`` in one process."""
    inside = window.test()
    tally = Tally()
    gathered = figures(first_row_number)
    add = gathered.add
    for _, _, _, row in iter_rows(parts, tally):
        if inside is None or inside(row):
            add(row, row.weight)
    return gathered, tally


def start_method_for_workers() -> str:
    """How to start the worker processes: Python's default, but never a fork of a threaded process.

    Forking copies one thread of a process that may run others (a web
    worker, Celery, a host's own threads); a lock another thread held stays
    held in the child forever, which Python 3.12 warns of. Then the workers
    come from the fork server (a clean single-threaded process), as they do
    by default from Python 3.14 on, or are spawned where there is none.
    """
    method = (
        multiprocessing.get_start_method(allow_none=True) or multiprocessing.get_context().get_start_method()
    )
    if method == "fork" and threading.active_count() > 1:
        return "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    return method


def _work(name: str) -> int:
    """About how many bytes of JSON lines reading ``name`` decodes."""
    if name == "-":
        return 0
    return _size(name) * (GZIP_RATIO if name.endswith(".gz") else 1)


def _size(name: str) -> int:
    try:
        return os.path.getsize(name)
    except OSError:
        return 0
