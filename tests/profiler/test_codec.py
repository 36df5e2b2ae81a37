"""The record codec (profiler.codec): types in and out, one SchemaError with the path."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from profiler.codec import Record, SchemaError, decode, encode
from profiler.result import RunConfig
from profiler.vocab import BYTES_PER_ELEMENT, Device, Precision


@dataclass(frozen=True)
class _Inner(Record):
    __document__ = "test/1"

    n: int
    x: float = 0.0


@dataclass(frozen=True)
class _Outer(Record):
    __document__ = "test/1"

    name: str
    precision: Precision
    inner: _Inner | None
    rows: tuple[_Inner, ...] = ()
    pairs: tuple[tuple[str, float], ...] = ()
    counts: dict[str, int] = field(default_factory=dict)
    extra: Any = None


def test_encode_keeps_field_order_enums_as_strings_and_tuples_as_lists() -> None:
    o = _Outer("m", Precision.INT8, _Inner(1, 2.0), rows=(_Inner(3),), pairs=(("a", 0.5),), counts={"k": 2})
    d = o.to_dict()
    assert list(d) == ["name", "precision", "inner", "rows", "pairs", "counts", "extra"]
    assert json.dumps(d) == (
        '{"name": "m", "precision": "int8", "inner": {"n": 1, "x": 2.0}, "rows": [{"n": 3, "x": 0.0}], '
        '"pairs": [["a", 0.5]], "counts": {"k": 2}, "extra": null}'
    )
    assert type(d["precision"]) is str
    assert _Outer.from_dict(json.loads(json.dumps(d))) == o


def test_decode_ints_floats_and_defaults() -> None:
    assert _Inner.from_dict({"n": 2, "x": 3}) == _Inner(2, 3.0)
    assert isinstance(_Inner.from_dict({"n": 2, "x": 3}).x, float)
    assert _Inner.from_dict({"n": 2, "unknown": "ignored"}) == _Inner(2)


@pytest.mark.parametrize(
    ("data", "path", "reason"),
    [
        ({"n": 1.5}, "$.n", "expected an integer, found a number"),
        ({"n": True}, "$.n", "expected an integer, found a boolean"),
        ({"n": 1, "x": "1"}, "$.x", "expected a number, found a string"),
        ({}, "$.n", "missing"),
        ([], "$", "expected an object, found an array"),
    ],
)
def test_bad_values_name_the_path(data: Any, path: str, reason: str) -> None:
    with pytest.raises(SchemaError) as info:
        _Inner.from_dict(data)
    assert (info.value.document, info.value.path, info.value.reason) == ("test/1", path, reason)


def test_nested_paths_and_enums() -> None:
    good = {"name": "m", "precision": "fp16", "inner": None, "rows": [{"n": 1}, {"n": "2"}]}
    with pytest.raises(SchemaError) as info:
        _Outer.from_dict(good)
    assert info.value.path == "$.rows[1].n"
    with pytest.raises(SchemaError) as info:
        _Outer.from_dict({**good, "rows": [], "precision": "fp4"})
    assert info.value.path == "$.precision" and "fp32, tf32, fp16, bf16, int8" in info.value.reason
    with pytest.raises(SchemaError) as info:
        _Outer.from_dict({**good, "rows": [], "pairs": [["a", 1, 2]]})
    assert info.value.path == "$.pairs[0]"
    with pytest.raises(SchemaError) as info:
        decode(dict[str, int], {"a": 1, "b": None}, document="d")
    assert info.value.path == "$.b"


def test_strings_at_the_edges_become_enums() -> None:
    c = RunConfig(device="cpu", precision="bf16")
    assert c.device is Device.CPU and c.precision is Precision.BF16
    assert c == RunConfig(device=Device.CPU, precision=Precision.BF16)
    with pytest.raises(ValueError, match="precision: 'fp7' is not one of"):
        RunConfig(precision="fp7")
    assert encode(c)["precision"] == "bf16"


def test_element_sizes_live_in_one_table() -> None:
    assert {str(p): p.bytes_per_element for p in Precision} == {"fp32": 4, "tf32": 4, "fp16": 2, "bf16": 2, "int8": 1}
    assert all(p.bytes_per_element == BYTES_PER_ELEMENT[p] for p in Precision)
