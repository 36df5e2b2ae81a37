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

The records live in `planner.catalog_records` and the CSV reader in `planner.catalog_csv`; this
module re-exports the records, so `from planner.catalog import Catalog` keeps working.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from planner.catalog_csv import CatalogLoader
from planner.catalog_records import (
    ACCELERATOR_COLUMNS,
    CARBON_COLUMNS,
    HARDWARE_SCHEMA,
    INSTANCE_COLUMNS,
    Accelerator,
    Carbon,
    Catalog,
    GridIntensity,
    Instance,
)
from planner.catalog_records import GIB as GIB
from planner.catalog_records import WORLD_FALLBACK_GCO2_PER_KWH as WORLD_FALLBACK_GCO2_PER_KWH
from planner.resources import resource_path


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
    loader = CatalogLoader()
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


__all__ = [
    "ACCELERATOR_COLUMNS", "CARBON_COLUMNS", "HARDWARE_SCHEMA", "INSTANCE_COLUMNS",
    "Accelerator", "Carbon", "Catalog", "GridIntensity", "Instance", "load_catalog",
    "shipped_catalog_dir", "user_catalog_dir",
]  # fmt: skip
