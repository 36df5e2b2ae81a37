"""CSV and JSON exports of the per-layer table, the variants and the cost tables.

Each export is the result object's own `to_dict()` (the docs/CONTRACT.md schema) or its own CSV
function (`profiler.table.layers_csv`, `profiler.sweep.sweep_csv`, `planner.plan.plan_csv_text`)
written atomically (`profiler.safe_io`); nothing here recomputes a number. The format follows
the file name: `.json` or `.csv`.

CSV cells a spreadsheet would run as a formula (text starting with = + - @ TAB CR) are quoted
with a leading `'` (`profiler.textsafe.csv_safe`); the planner's CSV text, written by code
outside this package, is passed through `textsafe.csv_text_safe` here. JSON keeps the exact text.

The cost tables come from the planner, which this Qt-free core may not import (dependencies
point gui -> planner -> profiler): `export_costs` takes the Plan and the planner's CSV function
from the caller.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import InputError
from .result import Profile
from .safe_io import write_text_atomic
from .sweep import Sweep, sweep_csv
from .table import layers_csv
from .textsafe import csv_text_safe

#: default file names in an export folder, per table and format.
BUNDLE_NAMES = {
    "layers": ("layers.csv", "profile.json"),
    "variants": ("variants.csv", "sweep.json"),
    "costs": ("costs.csv", "plan.json"),
}


def json_text(document: dict[str, Any]) -> str:
    """The JSON text every export writes (indented, UTF-8, trailing newline)."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _format_of(path: str | os.PathLike[str]) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in (".csv", ".json"):
        raise InputError(str(path), "unknown export format: name the file .csv or .json")
    return suffix[1:]


def export_layers(profile: Profile, path: str | os.PathLike[str]) -> Path:
    """The per-layer table: `.csv` (profiler.table.LAYER_CSV_COLUMNS) or `.json`
    (the whole tradeoff.profile/1 document). Returns the path written."""
    text = layers_csv(profile) if _format_of(path) == "csv" else json_text(profile.to_dict())
    write_text_atomic(path, text)
    return Path(path)


def export_variants(sweep: Sweep, path: str | os.PathLike[str]) -> Path:
    """The variants explored: `.csv` (profiler.sweep.SWEEP_CSV_COLUMNS) or `.json` (tradeoff.sweep/1)."""
    text = sweep_csv(sweep) if _format_of(path) == "csv" else json_text(sweep.to_dict())
    write_text_atomic(path, text)
    return Path(path)


def export_costs(plan: Any, path: str | os.PathLike[str], *, csv_text: Callable[[Any], str]) -> Path:
    """The cost tables of a planner Plan: `.csv` (`csv_text(plan)`, i.e. planner.plan.plan_csv_text:
    one row per training and inference option; text cells that would be spreadsheet formulas
    are quoted, see `textsafe.csv_text_safe`) or `.json` (tradeoff.plan/1)."""
    text = csv_text_safe(csv_text(plan)) if _format_of(path) == "csv" else json_text(plan.to_dict())
    write_text_atomic(path, text)
    return Path(path)


@dataclass(frozen=True)
class ExportedFiles:
    """The files one `export_bundle` call wrote, in order."""

    paths: tuple[Path, ...]


def export_bundle(
    folder: str | os.PathLike[str],
    *,
    profile: Profile | None = None,
    sweep: Sweep | None = None,
    plan: Any = None,
    plan_csv: Callable[[Any], str] | None = None,
    prefix: str = "",
    extra_plans: dict[str, Any] | None = None,
) -> ExportedFiles:
    """Write every table given, as CSV and JSON, into `folder` (created when missing):
    layers.csv + profile.json, variants.csv + sweep.json, costs.csv + plan.json (names
    prefixed with `prefix`). `extra_plans` maps a name suffix to another Plan (e.g. the chosen
    variant's: costs-chosen.csv / plan-chosen.json)."""
    root = Path(folder)
    if root.exists() and not root.is_dir():
        raise InputError(str(folder), "is a file, not a folder")
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(str(folder), f"cannot create the folder: {exc.strerror or exc}") from None
    written: list[Path] = []
    if profile is not None:
        csv_name, json_name = BUNDLE_NAMES["layers"]
        written += [
            export_layers(profile, root / (prefix + csv_name)),
            export_layers(profile, root / (prefix + json_name)),
        ]
    if sweep is not None:
        csv_name, json_name = BUNDLE_NAMES["variants"]
        written += [
            export_variants(sweep, root / (prefix + csv_name)),
            export_variants(sweep, root / (prefix + json_name)),
        ]
    plans = {"": plan} if plan is not None else {}
    plans.update({f"-{k}": v for k, v in (extra_plans or {}).items() if v is not None})
    for suffix, p in plans.items():
        if plan_csv is None:
            raise ValueError("export_bundle: a plan needs plan_csv (planner.plan.plan_csv_text)")
        csv_name, json_name = BUNDLE_NAMES["costs"]
        stem_c, stem_j = Path(csv_name), Path(json_name)
        written += [
            export_costs(p, root / f"{prefix}{stem_c.stem}{suffix}{stem_c.suffix}", csv_text=plan_csv),
            export_costs(p, root / f"{prefix}{stem_j.stem}{suffix}{stem_j.suffix}", csv_text=plan_csv),
        ]
    return ExportedFiles(tuple(written))
