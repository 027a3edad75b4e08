"""One walk over an artifact, at any depth: the writer's scrub, ``scan``'s findings and the fast test.

An explicit stack instead of recursion, so an artifact thousands of levels
deep is walked like any other (recursion would exhaust Python's stack and
cost the row). Each string is handed to ``visit`` with the ``KEYS`` rule it
falls under and, when asked, its path (``artifact.steps[1].note``); what
``visit`` returns replaces it. Copy on write: a container in which nothing
changed is returned as it is, so the host's objects are never changed and a
clean artifact costs no copy.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from collections.abc import Callable
from typing import Any

from ..jsonl import plain

#: What a container seen on the path above it becomes (as the writer writes a cycle).
CYCLE = "<cycle>"

#: Values with no text worth looking at: numbers, ids, times.
SCALARS = (
    int,
    float,
    type(None),
    decimal.Decimal,
    uuid.UUID,
    datetime.date,
    datetime.time,
    datetime.timedelta,
)

#: (a string, the KEYS entry above it or None, its path or None) -> what replaces it.
Visit = Callable[[str, "str | None", "str | None"], str]
#: A key -> the KEYS entry it matches, or None.
RuleOf = Callable[[Any], "str | None"]
#: (the path above, a key) -> the path of the value under it.
KeyPath = Callable[[str, Any], str]

_LEAF: Any = object()


class _Frame:
    """A container being walked: its children, those done, and whether any changed."""

    __slots__ = ("changed", "children", "converted", "index", "is_dict", "original", "out", "path", "rule")

    def __init__(
        self, original: Any, converted: Any, rule: str | None, path: str | None, is_dict: bool
    ) -> None:
        self.original = original
        self.converted = converted
        self.is_dict = is_dict
        self.children: list[tuple[Any, Any]] = (
            list(converted.items()) if is_dict else list(enumerate(converted))
        )
        self.index = 0
        self.out: list[Any] = []
        self.changed = False
        self.rule = rule
        self.path = path


def walk(
    root: Any,
    visit: Visit,
    rule_of: RuleOf,
    path: str | None = None,
    key_path: KeyPath | None = None,
) -> Any:
    """``root`` with each string inside it replaced by what ``visit`` makes of it.

    ``rule_of`` names the ``KEYS`` rule of a dict's key: it applies to the
    strings under that key, in a list under it too (``"tokens": [...]``); a
    dict under it is ruled by its own keys. ``path``: the root's path, or
    ``None`` to build no paths (the writer's scrub and the fast test); a
    key's step is made by ``key_path``. A value the writer would turn into
    JSON first (a dataclass, a set, bytes, an object written as ``str()``)
    is walked in that form and comes back in it only when something in it
    changed. A container inside itself becomes ``"<cycle>"``.
    """
    stack: list[_Frame] = []
    open_ids: set[int] = set()
    value, rule, here = root, None, path
    while True:
        # Down: a leaf becomes its result; a container becomes a frame.
        result = _LEAF
        original = value
        kind = type(value)
        if kind is str:
            result = visit(value, rule, here)
        elif value is None or kind is int or kind is float or kind is bool:
            result = value
        else:
            if not (kind is dict or kind is list or kind is tuple):
                if isinstance(value, str):
                    result = visit(value, rule, here)
                elif isinstance(value, SCALARS):
                    result = value
                elif isinstance(value, dict):
                    value = dict(value)
                elif isinstance(value, (list, tuple)):
                    value = list(value)
                else:
                    value = plain(value)
                    if isinstance(value, str):
                        result = visit(value, rule, here)
                        if result is value:
                            result = original
                    elif not isinstance(value, (dict, list, tuple)):
                        result = original
            if result is _LEAF:
                if id(original) in open_ids:
                    result = CYCLE
                else:
                    open_ids.add(id(original))
                    frame = _Frame(original, value, rule, here, isinstance(value, dict))
                    stack.append(frame)
        # Up: hand results to the frames above; take the next child.
        while True:
            if result is not _LEAF:
                if not stack:
                    return result
                frame = stack[-1]
                key, child = frame.children[frame.index]
                if result is not child:
                    frame.changed = True
                frame.out.append(result)
                frame.index += 1
                result = _LEAF
            frame = stack[-1]
            if frame.index < len(frame.children):
                key, value = frame.children[frame.index]
                if frame.is_dict:
                    rule = rule_of(key)
                    if frame.path is not None and key_path is not None:
                        here = key_path(frame.path, key)
                    else:
                        here = None
                else:
                    rule = frame.rule
                    here = None if frame.path is None else f"{frame.path}[{key}]"
                break
            stack.pop()
            open_ids.discard(id(frame.original))
            result = _rebuilt(frame)
            if not stack:
                return result


def _rebuilt(frame: _Frame) -> Any:
    """The frame's container as it comes out: itself when nothing in it changed."""
    converted_changed = frame.converted is not frame.original
    if not frame.changed:
        return frame.original
    if frame.is_dict:
        return dict(zip((key for key, _ in frame.children), frame.out, strict=True))
    if type(frame.converted) is tuple and not converted_changed:
        return tuple(frame.out)
    return frame.out
