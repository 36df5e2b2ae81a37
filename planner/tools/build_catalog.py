"""Regenerate resources/catalog/*.csv from the sourced research tables.

    python -m planner.tools.build_catalog /work/shared/data [resources/catalog]

The committed CSVs are the data; this script only documents (and repeats) how they were
derived: dense peaks only, fp16 and bf16 split where the part has no bf16, current price rows
whose accelerator has a spec row, every row keeping its `source` and `as_of`.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

from planner.catalog import ACCELERATOR_COLUMNS, CARBON_COLUMNS, INSTANCE_COLUMNS
from planner.vocab import AcceleratorClass

#: The date the research tables were collected (data/README.md: "collected on 2026-11-22").
SPECS_RETRIEVED = "2026-11-22"

CLASS_BY_PREFIX: tuple[tuple[str, AcceleratorClass], ...] = (
    ("H100", AcceleratorClass.DATACENTER),
    ("H200", AcceleratorClass.DATACENTER),
    ("A100", AcceleratorClass.DATACENTER),
    ("B200", AcceleratorClass.DATACENTER),
    ("MI300X", AcceleratorClass.DATACENTER),
    ("V100", AcceleratorClass.DATACENTER),
    ("A10", AcceleratorClass.INFERENCE),  # A10 and A10G
    ("L4", AcceleratorClass.INFERENCE),  # L4 and L40S
    ("T4", AcceleratorClass.INFERENCE),
)

#: Parts whose source notes say "no BF16" (Volta, Turing): the fp16 peak is not a bf16 peak.
NO_BF16 = ("T4", "V100")


def _class_of(name: str, kind: str) -> str:
    if kind == "cpu":
        return str(AcceleratorClass.CPU)
    for prefix, cls in CLASS_BY_PREFIX:
        if name.startswith(prefix):
            return str(cls)
    raise ValueError(f"no accelerator class for {name}")


def accelerators(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    out = []
    for r in rows:
        half = r["fp16_bf16_dense_tflops"]
        out.append(
            {
                "name": r["gpu"],
                "vendor": r["vendor"].lower(),
                "kind": r["kind"],
                "class": _class_of(r["gpu"], r["kind"]),
                "memory_gb": r["memory_gb"],
                "bandwidth_gb_s": r["memory_bw_gbps"],
                "fp32_tflops": r["fp32_tflops"],
                "tf32_tflops": r["tf32_dense_tflops"],
                "fp16_tflops": half,
                "bf16_tflops": "" if r["gpu"].startswith(NO_BF16) else half,
                "fp8_tflops": r["fp8_dense_tflops"],
                "int8_tops": r["int8_dense_tops"],
                "tdp_w": r["tdp_w"],
                "dense_basis": r["dense_basis"],
                "source": r["source"],
                "as_of": SPECS_RETRIEVED,
                "as_of_kind": "retrieved",
                "notes": r["notes"],
            }
        )
    return out


def instances(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    out = []
    for r in rows:
        if r["status"] != "current" or not r["gpu_spec_key"]:
            continue  # historical lists and parts without a spec row cannot be projected
        region = r["region"]
        if region.startswith("all "):
            region = "all"  # Lambda, RunPod: one price in every region
        notes = "; ".join(x for x in (r["notes"], r["as_of_note"], r["price_components"]) if x)
        out.append(
            {
                "provider": r["provider"],
                "instance": r["instance_type"],
                "region": region,
                "accelerator": r["gpu_spec_key"],
                "gpu_model": r["gpu_model"],
                "count": r["gpu_count"],
                "gpu_memory_gb": r["gpu_memory_gb"],
                "vcpus": r["vcpus"],
                "ram_gb": r["ram_gib"],
                "usd_per_hour": r["on_demand_usd_per_hr"],
                "usd_per_hour_spot": r["spot_usd_per_hr"],
                "spot_basis": r["spot_basis"],
                "quality": r["quality"],
                "source": r["source"],
                "as_of": r["as_of"],
                "as_of_kind": r["as_of_kind"],
                "notes": notes,
            }
        )
    return out


def carbon(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    return [{k: r[k] for k in CARBON_COLUMNS} for r in rows]


def _write(path: Path, columns: tuple[str, ...], rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=columns, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def main(argv: list[str]) -> int:
    data = Path(argv[0]) if argv else Path("/work/shared/data")
    dest = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parents[2] / "resources" / "catalog"
    dest.mkdir(parents=True, exist_ok=True)
    _write(dest / "accelerators.csv", ACCELERATOR_COLUMNS, accelerators(_read(data / "gpu_specs.csv")))
    _write(dest / "instances.csv", INSTANCE_COLUMNS, instances(_read(data / "cloud_prices.csv")))
    _write(dest / "carbon_intensity.csv", CARBON_COLUMNS, carbon(_read(data / "grid_carbon_intensity.csv")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
