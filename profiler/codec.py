"""One record codec: frozen dataclasses <-> the plain JSON values of CONTRACT.md.

`encode(record)` writes a dataclass as a dict in field order (nested dataclasses as dicts,
tuples and lists as lists, enums as their string values, dicts with their values encoded,
`None` as null); `decode(cls, data, document=...)` reads it back, checking every value against
the field's type and raising one error type, `SchemaError(document, path, problem)`, for any
mismatch, with the JSON path of the offending value (`$.layers[3].macs`).

Reading is lenient where the contract says so: unknown keys are ignored (documents written by
newer versions still load) and a missing key takes the field's default when it has one. Ints
are written as ints and floats as floats: a float field accepts an int and stores a float
(`3` -> `3.0`), an int field refuses a float, and neither accepts a bool.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import types
import typing
from collections.abc import Mapping
from typing import Any, ClassVar, Self, TypeVar, cast

from .errors import InputError, StudioError

T = TypeVar("T")

__all__ = ["Record", "SchemaError", "check_schema", "decode", "decode_document", "encode", "encode_document"]


class SchemaError(InputError, ValueError):
    """A JSON document that does not match the schema it names.

    `document` is the schema name (`tradeoff.profile/1`), `path` the JSON path of the value at
    fault (`$` is the document itself), `reason` one line saying what is wrong. It is an
    `InputError` (exit 2; `str()` is `document: path: problem`) and, for older callers, a
    `ValueError`.
    """

    def __init__(self, document: str, path: str, problem: str) -> None:
        super().__init__(document, f"{path}: {problem}")  # .file = document, .problem = "path: problem"
        self.document = document
        self.path = path
        self.reason = " ".join(str(problem).split())


class Record:
    """Base of the dataclass records this codec reads and writes: `to_dict` is `encode`,
    `from_dict` is `decode` (SchemaError naming `document` and the path)."""

    __document__: ClassVar[str] = "record"

    def to_dict(self) -> dict[str, Any]:
        return encode_fields(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], *, document: str | None = None, path: str = "$") -> Self:
        return decode(cls, d, document=document or cls.__document__, path=path)


def _custom_writer(cls: type) -> bool:
    """A dataclass with its own hand-written `to_dict` (not Record's): the codec defers to it."""
    return hasattr(cls, "to_dict") and cls.to_dict is not Record.to_dict


def _custom_reader(cls: type) -> bool:
    reader = getattr(cls, "from_dict", None)
    return reader is not None and getattr(reader, "__func__", None) is not Record.from_dict.__func__  # type: ignore[attr-defined]


def encode(value: Any) -> Any:
    """A dataclass (or any value made of them) as plain JSON values, fields in order."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type) and _custom_writer(type(value)):
        return value.to_dict()  # type: ignore[attr-defined]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return encode_fields(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (tuple, list)):
        return [encode(v) for v in value]
    if isinstance(value, Mapping):
        return {str(encode(k)): encode(v) for k, v in value.items()}
    return value


def encode_fields(record: Any) -> dict[str, Any]:
    """A dataclass's fields, in order, each `encode`d (what `Record.to_dict` returns)."""
    return {f.metadata.get("json", f.name): encode(getattr(record, f.name)) for f in dataclasses.fields(record)}


def encode_document(record: Any, schema: str) -> dict[str, Any]:
    """`encode_fields(record)` with `"schema": schema` as its first key."""
    return {"schema": schema, **encode_fields(record)}


def check_schema(data: Any, schema: str) -> Mapping[str, Any]:
    """`data` as a mapping whose `schema` key names `schema`; SchemaError otherwise."""
    if not isinstance(data, Mapping):
        raise SchemaError(schema, "$", f"expected an object, found {_kind(data)}")
    if data.get("schema") != schema:
        raise SchemaError(schema, "$.schema", f"expected schema {schema!r}, found {data.get('schema')!r}")
    return data


def decode_document(cls: type[T], data: Any, schema: str) -> T:
    """Check the `schema` key, then `decode` the rest."""
    return decode(cls, check_schema(data, schema), document=schema)


def decode(tp: type[T] | Any, data: Any, *, document: str, path: str = "$") -> T:
    """`data` (plain JSON values) as a value of type `tp`; SchemaError names what does not fit."""
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):  # its own fields, even if it has a from_dict
        return cast(T, _decode_record(tp, data, document, path, defer=False))
    return cast(T, _decode(tp, data, document, path))


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "an array",
        dict: "an object",
    }.get(type(value), type(value).__name__)


def _decode(tp: Any, data: Any, document: str, path: str) -> Any:
    def fail(expected: str) -> SchemaError:
        return SchemaError(document, path, f"expected {expected}, found {_kind(data)}")

    if tp is Any:
        return data
    origin = typing.get_origin(tp)
    if origin is typing.Union or origin is types.UnionType:
        args = typing.get_args(tp)
        if data is None:
            if type(None) in args:
                return None
            raise fail(" or ".join(_name(a) for a in args))
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1:
            return _decode(rest[0], data, document, path)
        for a in rest:
            try:
                return _decode(a, data, document, path)
            except SchemaError:
                continue
        raise fail(" or ".join(_name(a) for a in rest))
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return _decode_record(tp, data, document, path)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        try:
            return tp(data)
        except ValueError:
            allowed = ", ".join(str(m.value) for m in tp)
            raise SchemaError(document, path, f"{data!r} is not one of {allowed}") from None
    if tp is bool:
        if isinstance(data, bool):
            return data
        raise fail("a boolean")
    if tp is int:
        if isinstance(data, int) and not isinstance(data, bool):
            return data
        raise fail("an integer")
    if tp is float:
        if isinstance(data, (int, float)) and not isinstance(data, bool):
            return float(data)
        raise fail("a number")
    if tp is str:
        if isinstance(data, str):
            return data
        raise fail("a string")
    if origin is tuple or origin is list:
        if not isinstance(data, (list, tuple)):
            raise fail("an array")
        args = typing.get_args(tp)
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            if len(data) != len(args):
                raise SchemaError(document, path, f"expected {len(args)} items, found {len(data)}")
            items = [_decode(a, v, document, f"{path}[{i}]") for i, (a, v) in enumerate(zip(args, data, strict=True))]
        else:
            item = args[0] if args else Any
            items = [_decode(item, v, document, f"{path}[{i}]") for i, v in enumerate(data)]
        return tuple(items) if origin is tuple else items
    if origin is dict or origin is Mapping:
        if not isinstance(data, Mapping):
            raise fail("an object")
        key_tp, value_tp = typing.get_args(tp) or (Any, Any)
        return {
            _decode(key_tp, k, document, f"{path}.{k}"): _decode(value_tp, v, document, f"{path}.{k}")
            for k, v in data.items()
        }
    raise TypeError(f"codec: no rule for type {tp!r} at {path}")  # a bug in a record, not in the data


def _decode_record(cls: type, data: Any, document: str, path: str, *, defer: bool = True) -> Any:
    if not isinstance(data, Mapping):
        raise SchemaError(document, path, f"expected an object, found {_kind(data)}")
    if defer and _custom_reader(cls):
        try:
            return cls.from_dict(data)  # type: ignore[attr-defined]
        except SchemaError:
            raise
        except (KeyError, ValueError, TypeError, AttributeError, StudioError) as exc:
            where = f"{path}.{exc.args[0]}" if isinstance(exc, KeyError) and exc.args else path
            problem = "missing" if isinstance(exc, KeyError) else str(exc)
            raise SchemaError(document, where, problem) from exc
    hints = _hints(cls)
    kw: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        key = f.metadata.get("json", f.name)
        if key not in data:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise SchemaError(document, f"{path}.{key}", "missing")
            continue
        kw[f.name] = _decode(hints[f.name], data[key], document, f"{path}.{key}")
    try:
        return cls(**kw)
    except SchemaError:
        raise
    except (ValueError, TypeError, StudioError) as exc:  # the record's own invariants (__post_init__)
        raise SchemaError(document, path, str(exc)) from exc


def _name(tp: Any) -> str:
    if tp is type(None):
        return "null"
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return "one of " + ", ".join(str(m.value) for m in tp)
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}.get(
        tp, getattr(tp, "__name__", str(tp))
    )
