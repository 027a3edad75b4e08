"""Reading a log from its end, for ``tail -n``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO


def lines_from_end(handle: IO[bytes], end: int, block: int = 1 << 16) -> Iterator[bytes]:
    """The lines before byte ``end`` of a seekable file, last first.

    Reads backwards a block at a time, so the last rows of a multi-gigabyte
    log cost what they cost in a small one. A last line without ``\\n``
    (a row being written, or a torn one) comes first, without a newline.
    """
    position, head, is_last_piece = end, b"", True
    while position > 0:
        step = min(block, position)
        position -= step
        handle.seek(position)
        pieces = (handle.read(step) + head).split(b"\n")
        head = pieces[0]  # may go on in the block before this one
        for piece in reversed(pieces[1:]):
            if is_last_piece:
                is_last_piece = False
                if piece:
                    yield piece
            else:
                yield piece + b"\n"
    if not is_last_piece:
        yield head + b"\n"
    elif head:
        yield head
