"""Odd values never lose a row: any value becomes one strict-JSON line."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import json
import types
import uuid
from typing import Any

import pytest

from django_sessionlog import IterateRequest, IterateResponse, SessionRecord, build_session_record
from django_sessionlog.jsonl import encode_line, plain
from django_sessionlog.write.encoding import as_row

from .logs import KEY_ORDER


def strict_loads(line: bytes) -> Any:
    """json.loads that refuses NaN and Infinity, as DuckDB does."""
    assert line.endswith(b"\n"), "a line ends in a newline"
    assert line.count(b"\n") == 1, "one line"

    def reject(constant: str) -> None:
        raise AssertionError(f"{constant} is not strict JSON")

    return json.loads(line.decode("utf-8"), parse_constant=reject)


def artifact_line(artifact: Any) -> tuple[bytes, dict[str, Any]]:
    record = SessionRecord(
        session_id="s1", final_verdict="accepted", attempts=[], artifact=artifact, prompt="p"
    )
    line = encode_line(as_row(record))
    return line, strict_loads(line)


def test_lone_surrogate_in_prompt_becomes_replacement_character_and_the_rest_stays() -> None:
    record = build_session_record(
        IterateRequest(trace_id="t1", kind="fill", prompt="before \ud800 after"),
        IterateResponse(iterations=1, artifact={"note": "ok"}),
    )
    row = strict_loads(encode_line(as_row(record)))
    assert row["prompt"] == "before \ufffd after"
    assert row["session_id"] == "t1"
    assert row["artifact"] == {"note": "ok"}
    assert list(row) == [k for k in KEY_ORDER if k != "grounded_in_roster"]


def test_lone_surrogates_in_artifact_keys_and_values_are_replaced_and_pairs_joined() -> None:
    _, row = artifact_line({"k\udc00": ["\ud83d\ude00", "x\udfff"]})
    assert row["artifact"] == {"k\ufffd": ["😀", "x\ufffd"]}


def test_integer_beyond_64_bits_is_kept_exactly() -> None:
    big = 2**200 + 7
    _, row = artifact_line({"n": big, "neg": -(2**64)})
    assert row["artifact"] == {"n": big, "neg": -(2**64)}


def test_integer_beyond_pythons_str_digit_limit_is_kept_exactly() -> None:
    record = SessionRecord(session_id="s1", artifact={"n": 10**5000 + 3})
    line = encode_line(as_row(record))
    assert b'"artifact":{"n":1' + b"0" * 4999 + b'3},"duration_ms":0}\n' in line


def test_decimal_is_written_as_its_exact_number() -> None:
    line, row = artifact_line({"price": decimal.Decimal("19.10"), "nan": decimal.Decimal("NaN")})
    assert b'"price":19.10' in line
    assert row["artifact"]["nan"] is None


def test_decimal_in_a_row_that_needs_the_slow_writer_is_still_exact() -> None:
    line, _ = artifact_line({"price": decimal.Decimal("19.10"), 1: "int key"})
    assert b'"price":19.10' in line


class Colour(enum.Enum):
    RED = "red"


@dataclasses.dataclass
class Point:
    x: int
    y: int


class Opaque:
    def __str__(self) -> str:
        return "opaque!"


class Score(float):
    """A float subclass, as numpy's float64 is one."""


class Count(int):
    pass


def test_other_python_types_are_coerced_to_sensible_json() -> None:
    value = {
        "when": datetime.datetime(2026, 11, 24, 19, 25, 55, tzinfo=datetime.timezone.utc),
        "day": datetime.date(2026, 11, 24),
        "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "set": {10, 3, 7},  # CPython iterates this as 10, 3, 7: the writer sorts
        "tuple": (1, "a"),
        "bytes": b"caf\xc3\xa9 \xff",
        "colour": Colour.RED,
        "point": Point(1, 2),
        "object": Opaque(),
    }
    _, row = artifact_line(value)
    assert row["artifact"] == {
        "when": "2026-11-24T19:25:55+00:00",
        "day": "2026-11-24",
        "id": "12345678-1234-5678-1234-567812345678",
        "set": [3, 7, 10],
        "tuple": [1, "a"],
        "bytes": "café \\xff",
        "colour": "red",
        "point": {"x": 1, "y": 2},
        "object": "opaque!",
    }


def test_the_same_types_are_coerced_alike_on_the_slow_path() -> None:
    unordered = {10, 3, 7}
    assert list(unordered) != sorted(unordered)  # the test means something on this Python
    value = {"set": unordered, "bytes": b"\xff", "point": Point(1, 2), "object": Opaque(), "big": 2**70}
    _, row = artifact_line(value)
    assert row["artifact"] == {
        "set": [3, 7, 10],
        "bytes": "\\xff",
        "point": {"x": 1, "y": 2},
        "object": "opaque!",
        "big": 2**70,
    }


def test_object_whose_str_raises_is_still_written() -> None:
    class Broken:
        def __str__(self) -> str:
            raise RuntimeError("no")

    _, row = artifact_line({"x": Broken()})
    assert row["artifact"] == {
        "x": "<unprintable test_object_whose_str_raises_is_still_written.<locals>.Broken>"
    }


def test_non_string_keys_are_written_as_strings() -> None:
    _, row = artifact_line({1: "a", 2.5: "b", None: "d", ("t", 1): "e"})
    assert row["artifact"] == {"1": "a", "2.5": "b", "null": "d", "['t', 1]": "e"}
    _, row = artifact_line({True: "c"})
    assert row["artifact"] == {"true": "c"}


def test_nan_and_infinities_become_null_so_the_file_stays_strict_json() -> None:
    _, row = artifact_line({"nan": float("nan"), "inf": float("inf"), "ninf": -float("inf"), "ok": 1.5})
    assert row["artifact"] == {"nan": None, "inf": None, "ninf": None, "ok": 1.5}


def test_nan_is_null_on_the_slow_path_too() -> None:
    _, row = artifact_line({"nan": float("nan"), "big": 2**70})
    assert row["artifact"]["nan"] is None


@pytest.mark.parametrize("depth", [300, 5000])
def test_artifact_nested_deeper_than_orjson_allows_is_kept_whole(depth: int) -> None:
    artifact: dict[str, Any] = {}
    node = artifact
    for _ in range(depth):
        node["k"] = {}
        node = node["k"]
    node["leaf"] = [1, 2]
    record = SessionRecord(session_id="s1", artifact=artifact)
    line = encode_line(as_row(record))
    assert line.count(b'{"k":') == depth
    assert line.endswith(b'{"leaf":[1,2]}' + b"}" * depth + b',"duration_ms":0}\n')
    if depth < 500:  # deeper than Python's own json parser can recurse
        assert strict_loads(line)["artifact"]["k"]["k"]["k"] is not None


def test_a_cycle_is_cut_instead_of_looping() -> None:
    artifact: dict[str, Any] = {"name": "loop"}
    artifact["self"] = artifact
    _, row = artifact_line(artifact)
    assert row["artifact"] == {"name": "loop", "self": "<cycle>"}


def test_a_shared_but_acyclic_value_is_written_twice() -> None:
    shared = {"deep": [2**70]}
    _, row = artifact_line({"a": shared, "b": shared})
    assert row["artifact"] == {"a": {"deep": [2**70]}, "b": {"deep": [2**70]}}


def test_multi_megabyte_prompt_is_trimmed_to_4000_characters_in_the_line() -> None:
    record = build_session_record(IterateRequest(prompt="é" * 3_000_000), IterateResponse())
    row = strict_loads(encode_line(as_row(record)))
    assert len(row["prompt"]) == 4000
    assert row["prompt"].endswith("…")


def test_control_characters_and_line_separators_stay_inside_one_line() -> None:
    line, row = artifact_line({"text": "a\nb\rc\u2028d\u2029e\x00"})
    assert row["artifact"]["text"] == "a\nb\rc\u2028d\u2029e\x00"
    assert line.count(b"\n") == 1


def test_containers_made_on_the_slow_path_are_not_mistaken_for_cycles() -> None:
    _, row = artifact_line({"sets": frozenset({frozenset({1}), frozenset({2})}), "big": 2**70})
    assert sorted(row["artifact"]["sets"]) == [[1], [2]]


def test_float_and_int_subclasses_stay_numbers() -> None:
    _, row = artifact_line({"score": Score(1.5), "count": Count(3)})
    assert row["artifact"] == {"score": 1.5, "count": 3}


def test_a_timedelta_is_written_as_seconds() -> None:
    _, row = artifact_line({"waited": datetime.timedelta(minutes=1, milliseconds=500)})
    assert row["artifact"] == {"waited": 60.5}


class Level(enum.IntEnum):
    HIGH = 3


class FakeNumpyScalar:
    """Stands for a numpy value, which the writer recognises without importing numpy."""

    def tolist(self) -> list[int]:
        return [1, 2]


FakeNumpyScalar.__module__ = "numpy"


@pytest.mark.parametrize("slow", [False, True], ids=["orjson", "slow writer"])
def test_every_kind_of_value_is_written_alike_by_both_writers(slow: bool) -> None:
    # 2**70 sends the whole row to the slow writer; each value must come out
    # as orjson (with ``plain``) writes it.
    value: dict[Any, Any] = {
        "false": False,
        "none": None,
        "true": True,
        "score": Score(1.5),
        "count": Count(3),
        "level": Level.HIGH,
        "numpy": FakeNumpyScalar(),
        "mapping": types.MappingProxyType({"a": 1}),
        "unsortable": {1, "a"},
        "bytearray": bytearray(b"ab"),
        "memoryview": memoryview(b"cd"),
        "time": datetime.time(19, 25),
        "decimal": decimal.Decimal("0.10"),
        "not a number": decimal.Decimal("NaN"),
        "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "class": Point,
    }
    if slow:  # orjson takes neither
        value |= {"big": 2**70, uuid.UUID("12345678-1234-5678-1234-567812345678"): "a uuid key"}
    line, row = artifact_line(value)
    assert (b'"big"' in line) is slow
    assert row["artifact"]["false"] is False  # not 0, which == False
    assert row["artifact"]["true"] is True
    unsortable = row["artifact"].pop("unsortable")
    assert sorted(unsortable, key=str) == [1, "a"]
    assert row["artifact"] == {
        "false": False,
        "none": None,
        "true": True,
        "score": 1.5,
        "count": 3,
        "level": 3,
        "numpy": [1, 2],
        "mapping": {"a": 1},
        "bytearray": "ab",
        "memoryview": "cd",
        "time": "19:25:00",
        "decimal": 0.1,
        "not a number": None,
        "uuid": "12345678-1234-5678-1234-567812345678",
        "class": str(Point),
    } | ({"big": 2**70, "12345678-1234-5678-1234-567812345678": "a uuid key"} if slow else {})


def test_plain_gives_number_subclasses_as_their_base_type() -> None:
    # The scrubber walks the artifact with ``plain``; a float or int subclass
    # (numpy's float64 is one) must stay a number.
    assert type(plain(Score(1.5))) is float
    assert plain(Score(1.5)) == 1.5
    assert type(plain(Count(3))) is int
    assert plain(Count(3)) == 3
    assert plain(Level.HIGH) == 3
