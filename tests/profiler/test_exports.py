"""Exports of layers, variants and cost tables: CSV and JSON in the docs/CONTRACT.md schemas,
written atomically, read back unchanged."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="module")
def objects() -> tuple[Any, Any, Any]:
    from planner.catalog import load_catalog
    from planner.options import PlanOptions
    from planner.plan import plan
    from profiler.analyze import ProfileRequest
    from profiler.loading import load_model
    from profiler.sweep import build_sweep
    from profiler.variant import Variant
    from profiler.whatif import WhatIfSession

    session = WhatIfSession(load_model("demo:mlp"), ProfileRequest(latency=False))
    try:
        results = [session.run(Variant()), session.run(Variant(prune=0.5, prune_method="structured"))]
    finally:
        session.close()
    profile = results[0].profile
    sweep = build_sweep(profile.model, profile, results)
    p = plan(profile, PlanOptions(train_samples=1e5), load_catalog())
    return profile, sweep, p


def test_layers_round_trip(objects: tuple[Any, Any, Any], tmp_path: Path) -> None:
    from profiler.exports import export_layers
    from profiler.result import Profile
    from profiler.table import LAYER_CSV_COLUMNS, layers_csv

    profile, _, _ = objects
    export_layers(profile, tmp_path / "layers.json")
    export_layers(profile, tmp_path / "layers.csv")
    doc = json.loads((tmp_path / "layers.json").read_text(encoding="utf-8"))
    assert doc["schema"] == "tradeoff.profile/1"
    back = Profile.from_dict(doc)
    assert back == profile
    back.check()
    text = (tmp_path / "layers.csv").read_text(encoding="utf-8")
    assert text == layers_csv(profile)  # the core's own CSV, not a re-derivation
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == LAYER_CSV_COLUMNS and len(rows) == len(profile.layers)
    assert sum(int(r["macs"]) for r in rows) == profile.totals.macs
    assert all(r["latency_ms"] == "" for r in rows)  # not measured: empty, never 0


def test_variants_round_trip(objects: tuple[Any, Any, Any], tmp_path: Path) -> None:
    from profiler.exports import export_variants
    from profiler.sweep import SWEEP_CSV_COLUMNS, Sweep

    _, sweep, _ = objects
    export_variants(sweep, tmp_path / "v.json")
    export_variants(sweep, tmp_path / "v.csv")
    doc = json.loads((tmp_path / "v.json").read_text())
    assert doc["schema"] == "tradeoff.sweep/1"
    assert Sweep.from_dict(doc).to_dict() == sweep.to_dict()
    for v in doc["variants"]:
        assert set(v) >= {"config", "totals", "delta", "fidelity", "pareto", "notes", "error"}
    rows = list(csv.DictReader(io.StringIO((tmp_path / "v.csv").read_text())))
    assert list(rows[0]) == SWEEP_CSV_COLUMNS and len(rows) == len(sweep.entries)
    assert [r["pareto"] for r in rows] == [str(e.pareto).lower() for e in sweep.entries]


def test_costs_round_trip(objects: tuple[Any, Any, Any], tmp_path: Path) -> None:
    from planner.plan import Plan, plan_csv_text, plan_rows
    from profiler.exports import export_costs

    _, _, p = objects
    export_costs(p, tmp_path / "plan.json", csv_text=plan_csv_text)
    export_costs(p, tmp_path / "plan.csv", csv_text=plan_csv_text)
    doc = json.loads((tmp_path / "plan.json").read_text())
    assert doc["schema"] == "tradeoff.plan/1"
    assert Plan.from_dict(doc).to_dict() == p.to_dict()
    prices = [o["usd_per_million"] for o in doc["inference"]["options"] if o["usd_per_million"] is not None]
    assert prices == sorted(prices)
    rows = list(csv.DictReader(io.StringIO((tmp_path / "plan.csv").read_text())))
    assert len(rows) == len(plan_rows(p))
    assert {r["section"] for r in rows} == {"training", "inference"}


def test_bundle_and_errors(objects: tuple[Any, Any, Any], tmp_path: Path) -> None:
    from planner.plan import plan_csv_text
    from profiler.errors import InputError
    from profiler.exports import export_bundle, export_layers

    profile, sweep, p = objects
    out = export_bundle(
        tmp_path / "out", profile=profile, sweep=sweep, plan=p, plan_csv=plan_csv_text, extra_plans={"chosen": p}
    )
    assert [x.name for x in out.paths] == [
        "layers.csv",
        "profile.json",
        "variants.csv",
        "sweep.json",
        "costs.csv",
        "plan.json",
        "costs-chosen.csv",
        "plan-chosen.json",
    ]
    assert not list((tmp_path / "out").glob(".*"))  # no temporary file left
    with pytest.raises(InputError, match="name the file .csv or .json"):
        export_layers(profile, tmp_path / "layers.txt")
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    before = sorted(tmp_path.iterdir())
    with pytest.raises(InputError) as info:
        export_layers(profile, blocker / "layers.csv")
    assert info.value.exit_code == 2
    with pytest.raises(InputError):
        export_bundle(blocker, profile=profile)
    assert sorted(tmp_path.iterdir()) == before
