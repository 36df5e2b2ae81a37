"""Reading catalog CSV files: header checks, row validation and merging by key.

A bad file raises `InputError(file, problem)` (or becomes a warning when not strict); a bad
row is skipped and reported as `file:line: problem`. `CatalogLoader` collects the rows of
successive files, later rows replacing earlier ones with the same key.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeVar

from planner.catalog_records import _PEAK_COLUMNS, Accelerator, Catalog, GridIntensity, Instance
from planner.vocab import AcceleratorClass, AcceleratorKind, CarbonScope
from profiler.errors import InputError

_REQUIRED: dict[str, tuple[str, ...]] = {
    "accelerators": ("name", "kind", "memory_gb", "bandwidth_gb_s", "source", "as_of"),
    "instances": ("provider", "instance", "region", "accelerator", "count", "usd_per_hour", "source", "as_of"),
    "carbon": ("scope", "gco2_per_kwh", "source", "as_of"),
}
_E = TypeVar("_E", AcceleratorKind, AcceleratorClass, CarbonScope)
_AS_OF = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


class _RowError(ValueError):
    pass


class CatalogLoader:
    """Rows merged from successive CSV files by key, with the files read and the warnings met."""

    def __init__(self) -> None:
        self.accelerators: dict[str, Accelerator] = {}
        self.instances: dict[tuple[str, str, str], Instance] = {}
        self.carbon: dict[tuple[str, str, str, str], GridIntensity] = {}
        self.files: list[str] = []
        self.warnings: list[str] = []

    def load_file(self, path: Path, *, strict: bool) -> None:
        try:
            text = _read_text(path)
            lines = list(csv.reader(text.splitlines(keepends=True)))
            if not lines or not any(cell.strip() for cell in lines[0]):
                raise InputError(str(path), "empty file: expected a CSV header line")
            header = [h.strip() for h in lines[0]]
            table = _table_of(header)
            if table is None:
                raise InputError(
                    str(path),
                    "not a catalog table: the header needs the columns of accelerators.csv "
                    "(bandwidth_gb_s), instances.csv (usd_per_hour) or carbon_intensity.csv (gco2_per_kwh)",
                )
            missing = [c for c in _REQUIRED[table] if c not in header]
            if missing:
                raise InputError(f"{path}:1", f"missing column(s) {', '.join(missing)}")
        except InputError as exc:
            if strict:
                raise
            self.warnings.append(str(exc))
            return
        self.files.append(str(path))
        parse = {"accelerators": self._accelerator, "instances": self._instance, "carbon": self._carbon}[table]
        for line_no, cells in _numbered_rows(text):
            if not any(c.strip() for c in cells):
                continue
            where = f"{path}:{line_no}"
            if len(cells) != len(header):
                self.warnings.append(f"{where}: expected {len(header)} fields, found {len(cells)}")
                continue
            row = {h: c.strip() for h, c in zip(header, cells, strict=True)}
            try:
                parse(row, where)
            except _RowError as exc:
                self.warnings.append(f"{where}: {exc}")

    def _accelerator(self, row: dict[str, str], where: str) -> None:
        kind = _enum(AcceleratorKind, row, "kind")
        default_class = AcceleratorClass.CPU if kind is AcceleratorKind.CPU else AcceleratorClass.DATACENTER
        acc = Accelerator(
            name=_text(row, "name"),
            vendor=row.get("vendor", ""),
            kind=kind,
            accelerator_class=_enum(AcceleratorClass, row, "class") if row.get("class") else default_class,
            memory_gb=_number(row, "memory_gb", positive=True),
            bandwidth_gb_s=_number(row, "bandwidth_gb_s", positive=True),
            **{col: _number(row, col, positive=True) for col in _PEAK_COLUMNS.values()},
            tdp_w=_number(row, "tdp_w", positive=True),
            source=_text(row, "source"),
            as_of=_as_of(row),
            as_of_kind=row.get("as_of_kind", ""),
            dense_basis=row.get("dense_basis", ""),
            notes=row.get("notes", ""),
            origin=where,
        )
        if kind is AcceleratorKind.GPU:
            if acc.memory_gb is None or acc.bandwidth_gb_s is None:
                raise _RowError("a gpu row needs memory_gb and bandwidth_gb_s")
            if not acc.projectable:
                raise _RowError("a gpu row needs at least one dense peak (fp32_tflops … int8_tops)")
        self._replace(self.accelerators, acc.name.lower(), acc, where)

    def _instance(self, row: dict[str, str], where: str) -> None:
        count = _integer(row, "count")
        price = _number(row, "usd_per_hour", positive=True)
        if count is None or count < 1:
            raise _RowError("column count: needs a whole number ≥ 1")
        if price is None:
            raise _RowError("column usd_per_hour: needs an on-demand price > 0")
        inst = Instance(
            provider=_text(row, "provider"),
            instance=_text(row, "instance"),
            region=_text(row, "region"),
            accelerator=_text(row, "accelerator"),
            count=count,
            usd_per_hour=price,
            source=_text(row, "source"),
            as_of=_as_of(row),
            gpu_model=row.get("gpu_model", ""),
            gpu_memory_gb=_number(row, "gpu_memory_gb", positive=True),
            vcpus=_integer(row, "vcpus"),
            ram_gb=_number(row, "ram_gb", positive=True),
            usd_per_hour_spot=_number(row, "usd_per_hour_spot", positive=True),
            spot_basis=row.get("spot_basis", ""),
            quality=row.get("quality", "") or "ok",
            as_of_kind=row.get("as_of_kind", ""),
            notes=row.get("notes", ""),
            origin=where,
        )
        self._replace(self.instances, inst.key, inst, where)

    def _carbon(self, row: dict[str, str], where: str) -> None:
        value = _number(row, "gco2_per_kwh", positive=False)
        if value is None:
            raise _RowError("column gco2_per_kwh: needs a number")
        c = GridIntensity(
            scope=_enum(CarbonScope, row, "scope"),
            provider=row.get("provider", ""),
            region=row.get("region", ""),
            country_iso=row.get("country_iso", ""),
            gco2_per_kwh=value,
            source=_text(row, "source"),
            as_of=_as_of(row),
            notes=row.get("notes", ""),
            origin=where,
        )
        self._replace(self.carbon, c.key, c, where)

    def _replace(self, table: dict[Any, Any], key: Any, row: Any, where: str) -> None:
        old = table.get(key)
        if old is not None and old.origin.rsplit(":", 1)[0] == where.rsplit(":", 1)[0]:
            self.warnings.append(f"{where}: repeats the row of line {old.origin.rsplit(':', 1)[1]}; the later row wins")
        table[key] = row

    def catalog(self) -> Catalog:
        instances = []
        for inst in self.instances.values():
            acc = self.accelerators.get(inst.accelerator.lower())
            if acc is None:
                self.warnings.append(
                    f"{inst.origin}: unknown accelerator {inst.accelerator!r} (not in accelerators.csv)"
                )
            elif not acc.projectable:
                self.warnings.append(
                    f"{inst.origin}: accelerator {acc.name!r} has no peak or bandwidth to project with"
                )
            else:
                instances.append(inst)
        return Catalog(
            accelerators=tuple(self.accelerators.values()),
            instances=tuple(instances),
            carbon=tuple(self.carbon.values()),
            files=tuple(self.files),
            warnings=tuple(self.warnings),
        )


def _read_text(path: Path) -> str:
    if not path.exists():
        raise InputError(str(path), "no such file")
    if path.is_dir():
        raise InputError(str(path), "is a directory, expected a CSV file")
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(str(path), "not a UTF-8 text file") from None
    except OSError as exc:
        raise InputError(str(path), f"cannot read: {exc.strerror or exc}") from None


def _table_of(header: Iterable[str]) -> str | None:
    cols = set(header)
    if "usd_per_hour" in cols:
        return "instances"
    if "bandwidth_gb_s" in cols or "fp32_tflops" in cols:
        return "accelerators"
    if "gco2_per_kwh" in cols:
        return "carbon"
    return None


def _numbered_rows(text: str) -> Iterable[tuple[int, list[str]]]:
    """Data rows with the line each starts on (quoted fields may span lines)."""
    reader = csv.reader(text.splitlines(keepends=True))
    next(reader, None)
    start = reader.line_num + 1
    for cells in reader:
        yield start, cells
        start = reader.line_num + 1


def _text(row: dict[str, str], col: str) -> str:
    value = row.get(col, "")
    if not value:
        raise _RowError(f"column {col}: empty")
    return value


def _number(row: dict[str, str], col: str, *, positive: bool) -> float | None:
    raw = row.get(col, "")
    if raw == "":
        return None
    try:
        value = float(raw)
    except ValueError:
        raise _RowError(f"column {col}: {raw!r} is not a number") from None
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        raise _RowError(f"column {col}: {raw!r} must be {'> 0' if positive else '≥ 0'}")
    return value


def _integer(row: dict[str, str], col: str) -> int | None:
    raw = row.get(col, "")
    if raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise _RowError(f"column {col}: {raw!r} is not a whole number") from None
    if value < 0:
        raise _RowError(f"column {col}: {raw!r} must be ≥ 0")
    return value


def _enum(kind: type[_E], row: dict[str, str], col: str) -> _E:
    raw = row.get(col, "")
    try:
        return kind(raw.lower())
    except ValueError:
        allowed = ", ".join(str(m) for m in kind)
        raise _RowError(f"column {col}: {raw!r} is not one of {allowed}") from None


def _as_of(row: dict[str, str]) -> str:
    raw = _text(row, "as_of")
    if not _AS_OF.match(raw):
        raise _RowError(f"column as_of: {raw!r} is not a date (YYYY, YYYY-MM or YYYY-MM-DD)")
    return raw
