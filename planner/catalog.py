"""The hardware catalog: accelerator specs, instance prices and grid carbon intensity.

Shipped tables live in `resources/catalog/` (see its README for provenance). Users add or
override rows with CSV files of the same columns, from `$XDG_CONFIG_HOME/tradeoff-studio/catalog/`
(default `~/.config/…`) and from an explicit `--catalog FILE`; later sources replace earlier rows
with the same key (accelerator `name`; instance `provider, instance, region`; carbon
`scope, provider, region, country_iso`). A bad row is skipped and reported as `file:line: problem`
in `Catalog.warnings`; the rest load.

Units: memory in GB as vendors and providers state it (NVIDIA's "80 GB" HBM and SkyPilot's
MiB ÷ 1024 are both binary GiB, so the planner reads `memory_gb` as GiB), bandwidth in GB/s
(10^9 bytes/s), peaks in dense TFLOPS/TOPS (10^12/s), power in W, prices in USD per
instance-hour, carbon in gCO2e/kWh.
"""

from __future__ import annotations

import csv
import math
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

from planner.resources import resource_path
from planner.vocab import AcceleratorClass, AcceleratorKind, CarbonScope, PeakPrecision
from profiler.codec import decode_document
from profiler.errors import InputError

HARDWARE_SCHEMA = "tradeoff.hardware/1"
GIB = 1024**3

ACCELERATOR_COLUMNS: tuple[str, ...] = (
    "name", "vendor", "kind", "class", "memory_gb", "bandwidth_gb_s",
    "fp32_tflops", "tf32_tflops", "fp16_tflops", "bf16_tflops", "fp8_tflops", "int8_tops",
    "tdp_w", "dense_basis", "source", "as_of", "as_of_kind", "notes",
)  # fmt: skip
INSTANCE_COLUMNS: tuple[str, ...] = (
    "provider", "instance", "region", "accelerator", "gpu_model", "count", "gpu_memory_gb",
    "vcpus", "ram_gb", "usd_per_hour", "usd_per_hour_spot", "spot_basis", "quality",
    "source", "as_of", "as_of_kind", "notes",
)  # fmt: skip
CARBON_COLUMNS: tuple[str, ...] = (
    "scope", "provider", "region", "country_iso", "gco2_per_kwh", "as_of", "source", "notes",
)  # fmt: skip

_REQUIRED: dict[str, tuple[str, ...]] = {
    "accelerators": ("name", "kind", "memory_gb", "bandwidth_gb_s", "source", "as_of"),
    "instances": ("provider", "instance", "region", "accelerator", "count", "usd_per_hour", "source", "as_of"),
    "carbon": ("scope", "gco2_per_kwh", "source", "as_of"),
}
_PEAK_COLUMNS: dict[PeakPrecision, str] = {
    PeakPrecision.FP32: "fp32_tflops",
    PeakPrecision.TF32: "tf32_tflops",
    PeakPrecision.FP16: "fp16_tflops",
    PeakPrecision.BF16: "bf16_tflops",
    PeakPrecision.FP8: "fp8_tflops",
    PeakPrecision.INT8: "int8_tops",
}
_E = TypeVar("_E", AcceleratorKind, AcceleratorClass, CarbonScope)
_AS_OF = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")

#: CodeCarbon's fallback when no regional or national figure applies (IEA 2019), gCO2e/kWh.
WORLD_FALLBACK_GCO2_PER_KWH = 475.0


@dataclass(frozen=True)
class Accelerator:
    """One accelerator (or reference CPU). Peaks are dense, in TFLOPS (TOPS for int8)."""

    name: str
    vendor: str
    kind: AcceleratorKind
    accelerator_class: AcceleratorClass
    memory_gb: float | None
    bandwidth_gb_s: float | None
    fp32_tflops: float | None
    tf32_tflops: float | None
    fp16_tflops: float | None
    bf16_tflops: float | None
    fp8_tflops: float | None
    int8_tops: float | None
    tdp_w: float | None
    source: str
    as_of: str
    as_of_kind: str = ""
    dense_basis: str = ""
    notes: str = ""
    origin: str = ""

    def peak_tflops(self, precision: PeakPrecision) -> float | None:
        """Dense peak at `precision` in TFLOPS (TOPS for int8), None when the part has none."""
        value: float | None = getattr(self, _PEAK_COLUMNS[precision])
        return value

    def peak_flops_per_s(self, precision: PeakPrecision) -> float | None:
        tflops = self.peak_tflops(precision)
        return None if tflops is None else tflops * 1e12

    @property
    def bandwidth_bytes_per_s(self) -> float | None:
        return None if self.bandwidth_gb_s is None else self.bandwidth_gb_s * 1e9

    @property
    def memory_bytes(self) -> float | None:
        return None if self.memory_gb is None else self.memory_gb * GIB

    @property
    def projectable(self) -> bool:
        """True when a roofline projection is possible: a bandwidth and at least one peak."""
        return bool(self.bandwidth_gb_s) and any(self.peak_tflops(p) for p in PeakPrecision)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "vendor": self.vendor, "kind": str(self.kind),
            "class": str(self.accelerator_class), "memory_gb": self.memory_gb,
            "bandwidth_gb_s": self.bandwidth_gb_s,
            "peak_tflops": {str(p): self.peak_tflops(p) for p in PeakPrecision},
            "tdp_w": self.tdp_w, "dense_basis": self.dense_basis, "source": self.source,
            "as_of": self.as_of, "as_of_kind": self.as_of_kind, "notes": self.notes,
            "origin": self.origin,
        }  # fmt: skip

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Accelerator:
        peaks = d.get("peak_tflops", {})
        return cls(
            name=str(d["name"]), vendor=str(d.get("vendor", "")), kind=AcceleratorKind(d["kind"]),
            accelerator_class=AcceleratorClass(d["class"]), memory_gb=_opt_float(d.get("memory_gb")),
            bandwidth_gb_s=_opt_float(d.get("bandwidth_gb_s")),
            **{col: _opt_float(peaks.get(str(p))) for p, col in _PEAK_COLUMNS.items()},
            tdp_w=_opt_float(d.get("tdp_w")), source=str(d["source"]), as_of=str(d["as_of"]),
            as_of_kind=str(d.get("as_of_kind", "")), dense_basis=str(d.get("dense_basis", "")),
            notes=str(d.get("notes", "")), origin=str(d.get("origin", "")),
        )  # fmt: skip


@dataclass(frozen=True)
class Instance:
    """One rentable machine type in one region. Prices are USD per instance-hour."""

    provider: str
    instance: str
    region: str
    accelerator: str
    count: int
    usd_per_hour: float
    source: str
    as_of: str
    gpu_model: str = ""
    gpu_memory_gb: float | None = None
    vcpus: int | None = None
    ram_gb: float | None = None
    usd_per_hour_spot: float | None = None
    spot_basis: str = ""
    quality: str = "ok"
    as_of_kind: str = ""
    notes: str = ""
    origin: str = ""

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.provider.lower(), self.instance.lower(), self.region.lower())

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Instance:
        return cls(
            provider=str(d["provider"]), instance=str(d["instance"]), region=str(d["region"]),
            accelerator=str(d["accelerator"]), count=int(d["count"]),
            usd_per_hour=float(d["usd_per_hour"]), source=str(d["source"]), as_of=str(d["as_of"]),
            gpu_model=str(d.get("gpu_model", "")), gpu_memory_gb=_opt_float(d.get("gpu_memory_gb")),
            vcpus=None if d.get("vcpus") is None else int(d["vcpus"]),
            ram_gb=_opt_float(d.get("ram_gb")), usd_per_hour_spot=_opt_float(d.get("usd_per_hour_spot")),
            spot_basis=str(d.get("spot_basis", "")), quality=str(d.get("quality", "ok")),
            as_of_kind=str(d.get("as_of_kind", "")), notes=str(d.get("notes", "")),
            origin=str(d.get("origin", "")),
        )  # fmt: skip


@dataclass(frozen=True)
class GridIntensity:
    """Carbon intensity of electricity, gCO2e/kWh, for a cloud region, a country or the world."""

    scope: CarbonScope
    provider: str
    region: str
    country_iso: str
    gco2_per_kwh: float
    source: str
    as_of: str
    notes: str = ""
    origin: str = ""

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (str(self.scope), self.provider.lower(), self.region.lower(), self.country_iso.upper())

    def to_dict(self) -> dict[str, Any]:
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        d["scope"] = str(self.scope)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> GridIntensity:
        return cls(
            scope=CarbonScope(d["scope"]), provider=str(d.get("provider", "")), region=str(d.get("region", "")),
            country_iso=str(d.get("country_iso", "")), gco2_per_kwh=float(d["gco2_per_kwh"]),
            source=str(d["source"]), as_of=str(d["as_of"]), notes=str(d.get("notes", "")),
            origin=str(d.get("origin", "")),
        )  # fmt: skip


@dataclass(frozen=True)
class Carbon:
    """The intensity chosen for one region and how it was chosen."""

    gco2_per_kwh: float
    basis: str  # "cloud_region", "country:<ISO>" or "world"
    source: str


@dataclass(frozen=True)
class Catalog:
    """The merged catalog in use, with the files it came from and the rows it skipped."""

    accelerators: tuple[Accelerator, ...]
    instances: tuple[Instance, ...]
    carbon: tuple[GridIntensity, ...] = ()
    files: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @cached_property
    def _by_name(self) -> dict[str, Accelerator]:
        return {a.name.lower(): a for a in self.accelerators}

    def accelerator(self, name: str) -> Accelerator | None:
        """The accelerator named `name` (case-insensitive), or None."""
        return self._by_name.get(name.lower())

    @property
    def as_of(self) -> str:
        """The newest `as_of` among the instance prices ('' for an empty catalog)."""
        return max((i.as_of for i in self.instances), default="")

    def grid_intensity(self, provider: str, region: str) -> Carbon:
        """gCO2e/kWh for a provider's region: the region's own figure where CodeCarbon has one
        (GCP), else the figure of the country the region is in (CodeCarbon's method for AWS and
        Azure; the country comes from any row naming that region), else the world average."""
        prov, reg = provider.lower(), region.lower()
        rows = [c for c in self.carbon if c.provider.lower() == prov and c.region.lower() == reg]
        for c in rows:
            if c.scope is CarbonScope.CLOUD_REGION:
                return Carbon(c.gco2_per_kwh, str(CarbonScope.CLOUD_REGION), c.source)
        countries = {c.country_iso.upper() for c in rows if c.country_iso}
        for c in self.carbon:
            if c.scope is CarbonScope.COUNTRY and c.country_iso.upper() in countries:
                return Carbon(c.gco2_per_kwh, f"country:{c.country_iso.upper()}", c.source)
        for c in self.carbon:
            if c.scope is CarbonScope.WORLD:
                return Carbon(c.gco2_per_kwh, str(CarbonScope.WORLD), c.source)
        return Carbon(WORLD_FALLBACK_GCO2_PER_KWH, str(CarbonScope.WORLD), "CodeCarbon fallback (IEA 2019)")

    def to_dict(self) -> dict[str, Any]:
        """The `tradeoff.hardware/1` document of this catalog."""
        return {
            "schema": HARDWARE_SCHEMA,
            "as_of": self.as_of,
            "accelerators": [a.to_dict() for a in self.accelerators],
            "instances": [i.to_dict() for i in self.instances],
            "carbon": [c.to_dict() for c in self.carbon],
            "files": list(self.files),
            "warnings": list(self.warnings),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Catalog:
        """SchemaError (an InputError and a ValueError) names the path of the first bad value.
        The rows keep their own readers (their JSON differs from their fields); `as_of` is derived."""
        return decode_document(cls, d, HARDWARE_SCHEMA)

    def check(self) -> None:
        """Assert the invariants a loaded catalog keeps."""
        names = [a.name.lower() for a in self.accelerators]
        assert len(names) == len(set(names)), "duplicate accelerator names"
        keys = [i.key for i in self.instances]
        assert len(keys) == len(set(keys)), "duplicate instance keys"
        for i in self.instances:
            assert i.accelerator.lower() in self._by_name, f"instance {i.instance}: unknown accelerator"
            assert i.count >= 1 and i.usd_per_hour > 0, f"instance {i.instance}: count or price"
        for a in self.accelerators:
            assert a.kind is not AcceleratorKind.GPU or a.projectable, f"{a.name}: no peak or bandwidth"


# ----------------------------------------------------------------------------- loading


def user_catalog_dir() -> Path:
    """`$XDG_CONFIG_HOME/tradeoff-studio/catalog` (default `~/.config/tradeoff-studio/catalog`)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "tradeoff-studio" / "catalog"


def shipped_catalog_dir() -> Path:
    return resource_path("catalog")


def load_catalog(
    extra: str | Path | Sequence[str | Path] | None = None,
    *,
    user_dir: Path | None = None,
    include_user: bool = True,
    shipped_dir: Path | None = None,
) -> Catalog:
    """Load the shipped tables, then merge the user's CSVs over them, then `extra`.

    A missing, unreadable or unrecognised `extra` file raises `InputError(file, problem)`; the
    same problem in a file of the user config dir, and any bad row anywhere, becomes a warning
    `file:line: problem` and is skipped.
    """
    shipped = shipped_dir or shipped_catalog_dir()
    loader = _Loader()
    for name in ("accelerators.csv", "instances.csv", "carbon_intensity.csv"):
        loader.load_file(shipped / name, strict=False)
    if include_user:
        udir = user_dir or user_catalog_dir()
        if udir.is_dir():
            for path in sorted(udir.glob("*.csv")):
                loader.load_file(path, strict=False)
    extras: Sequence[str | Path] = () if extra is None else ([extra] if isinstance(extra, (str, Path)) else extra)
    for extra_path in extras:
        loader.load_file(Path(extra_path), strict=True)
    return loader.catalog()


class _RowError(ValueError):
    pass


class _Loader:
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


def _opt_float(value: Any) -> float | None:
    return None if value is None or value == "" else float(value)


__all__ = [
    "ACCELERATOR_COLUMNS", "CARBON_COLUMNS", "HARDWARE_SCHEMA", "INSTANCE_COLUMNS",
    "Accelerator", "Carbon", "Catalog", "GridIntensity", "Instance", "load_catalog",
    "shipped_catalog_dir", "user_catalog_dir",
]  # fmt: skip
