"""Catalog records: accelerators, instances, grid carbon intensity and the merged `Catalog`.

The column tuples name the CSV columns of the shipped tables (`resources/catalog/`); reading
and validating those files is `planner.catalog_csv`, and loading them in order is
`planner.catalog.load_catalog`. Units are those of `planner.catalog`'s docstring.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import cached_property
from typing import Any

from planner.vocab import AcceleratorClass, AcceleratorKind, CarbonScope, PeakPrecision
from profiler.codec import decode_document

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

_PEAK_COLUMNS: dict[PeakPrecision, str] = {
    PeakPrecision.FP32: "fp32_tflops",
    PeakPrecision.TF32: "tf32_tflops",
    PeakPrecision.FP16: "fp16_tflops",
    PeakPrecision.BF16: "bf16_tflops",
    PeakPrecision.FP8: "fp8_tflops",
    PeakPrecision.INT8: "int8_tops",
}

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


def _opt_float(value: Any) -> float | None:
    return None if value is None or value == "" else float(value)
