from __future__ import annotations

import io
import random

from django_sessionlog.read.sources.backwards import lines_from_end


def test_lines_from_end_gives_every_line_last_first_for_any_block_size() -> None:
    rng = random.Random(7)
    for _ in range(500):
        data = bytes(rng.choice(b"ab\n") for _ in range(rng.randint(0, 40)))
        expected = list(reversed(io.BytesIO(data).readlines()))
        for block in (1, 3, 8, 1 << 16):
            assert list(lines_from_end(io.BytesIO(data), len(data), block)) == expected
