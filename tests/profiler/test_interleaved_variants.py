"""The what-if engine compares each variant with the baseline in one interleaved run."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from profiler.analyze import ProfileRequest, profile_model
from profiler.comparison import Comparison, RatioEstimate
from profiler.comparison import baseline_stale as _baseline_stale
from profiler.loading import load_model
from profiler.result import Environment, LatencyStats
from profiler.sweep import SWEEP_CSV_COLUMNS, SweepDocument, build_sweep, sweep_csv
from profiler.variant import Variant
from profiler.whatif import VariantResult, WhatIfSession


@pytest.fixture(scope="module")
def session() -> WhatIfSession:
    loaded = load_model("demo:mlp")
    s = WhatIfSession(loaded, ProfileRequest(threads=1, layer_latency=False, budget_s=0.4))
    yield s
    s.close()


def test_a_variant_carries_the_interleaved_ratio_and_its_experiment(session: WhatIfSession) -> None:
    r = session.run(Variant(prune=0.5))
    assert r.error is None and r.latency_ratio is not None and r.comparison is not None
    ratio, cmp = r.latency_ratio, r.comparison
    assert ratio.ci_low <= ratio.value <= ratio.ci_high
    assert cmp.rounds == ratio.rounds >= 6
    assert r.delta["latency"] == ratio.value
    # The variant's latency shown is the experiment's, so value and ratio come from one run.
    assert r.profile is not None and r.profile.totals.latency_ms == cmp.variant_ms
    assert r.throughput_ratio == ratio.inverse()
    assert cmp.baseline_ms.samples == cmp.variant_ms.samples == cmp.rounds * cmp.calls_per_round
    back = VariantResult.from_dict(r.to_dict())
    assert back.latency_ratio == ratio and back.comparison == cmp
    env = r.profile.environment
    assert env is not None and env.foreign_cpu_percent is not None  # psutil reads /proc here
    assert r.profile.timed_as is not None and "nn.Module" in r.profile.timed_as


def test_the_identity_variant_is_the_baseline_with_ratio_one(session: WhatIfSession) -> None:
    r = session.run(Variant())
    assert r.latency_ratio == RatioEstimate.identity() and r.comparison is None


def test_without_latency_there_is_no_comparison() -> None:
    loaded = load_model("demo:mlp")
    s = WhatIfSession(loaded, ProfileRequest(latency=False))
    try:
        r = s.run(Variant(prune=0.3))
        assert r.error is None and r.latency_ratio is None and r.comparison is None
    finally:
        s.close()


def test_sweep_documents_and_csv_carry_the_ratio(session: WhatIfSession) -> None:
    results = [session.run(Variant()), session.run(Variant(prune=0.5))]
    base = results[0].baseline
    assert base is not None
    sweep = build_sweep(session.loaded.info, base, results)
    doc = sweep.to_dict()
    row = doc["variants"][1]
    assert set(row["latency_ratio"]) >= {"value", "ci_low", "ci_high", "significant"}
    assert row["comparison"]["rounds"] >= 6
    assert SweepDocument.from_dict(doc).variants[1]["latency_ratio"] == row["latency_ratio"]
    bad = dict(doc, variants=[dict(row, latency_ratio={"value": "fast"})])
    with pytest.raises(ValueError, match=r"variants\[0\]"):
        SweepDocument.from_dict(bad)
    lines = sweep_csv(sweep).splitlines()
    header = lines[0].split(",")
    assert header == SWEEP_CSV_COLUMNS
    cells = dict(zip(header, lines[2].split(","), strict=True))
    assert float(cells["latency_ratio_ci_low"]) == row["latency_ratio"]["ci_low"]
    assert cells["latency_change_significant"] in ("true", "false")


def _env(foreign: float | None, mhz: float | None = None) -> Environment:
    return Environment("cpu", 2, 2, None, None, None, "3.11", "Linux", foreign_cpu_percent=foreign, cpu_mhz=mhz)


def _cmp(base_ms: float, foreign: float | None, mhz: float | None = None) -> Comparison:
    stats = LatencyStats(base_ms, base_ms * 0.98, base_ms * 1.02, 20)
    return Comparison(stats, stats, 10, 2, foreign, mhz, False)


def test_the_baseline_is_stale_when_the_machine_changed() -> None:
    base = profile_model(load_model("demo:mlp"), ProfileRequest(latency=False))
    lat = LatencyStats(10.0, 9.5, 10.5, 30)
    base = dataclasses.replace(
        base, totals=dataclasses.replace(base.totals, latency_ms=lat), environment=_env(3.0, 2600)
    )
    assert _baseline_stale(base, _cmp(10.1, 4.0, 2600)) is None
    assert "CPU use went from 3 % to 60 %" in (_baseline_stale(base, _cmp(10.1, 60.0, 2600)) or "")
    assert "CPU clock" in (_baseline_stale(base, _cmp(10.1, 4.0, 1800)) or "")
    assert "median moved" in (_baseline_stale(base, _cmp(14.0, 4.0, 2600)) or "")


def test_export_is_timed_as_users_run_it_and_variants_keep_that(tmp_path: Path) -> None:
    import torch

    from profiler.demos import build_demo, demo_spec

    model = build_demo("mlp").eval()
    example = tuple(torch.randn(*shape) for _, shape, _ in demo_spec("mlp").inputs)
    path = tmp_path / "mlp.pt2"
    torch.export.save(torch.export.export(model, example), str(path))
    loaded = load_model(str(path), trust=True)
    assert loaded.run_module is not None and loaded.timed_module is loaded.run_module
    s = WhatIfSession(loaded, ProfileRequest(threads=1, layer_runs=1, budget_s=0.3))
    try:
        r = s.run(Variant(precision="bf16"))
        assert r.error is None and r.baseline is not None and r.profile is not None
        assert (r.baseline.timed_as or "").startswith("ep.module()")
        assert (r.profile.timed_as or "").startswith("ep.module()")
        assert "unflattened copy" in (r.baseline.layer_latency_note or "")
        assert r.latency_ratio is not None and r.latency_ratio.rounds >= 6
        target, *_ = s.transform(Variant(precision="bf16"))
        # the users' module got the same change as the instrumented copy
        assert {p.dtype for p in target.run_module.parameters()} == {torch.bfloat16}
        assert {p.dtype for p in target.module.parameters()} == {torch.bfloat16}
        pruned = s.run(Variant(prune=0.5, prune_method="unstructured"))
        assert pruned.error is not None and "no Linear or convolution layers" in pruned.error
    finally:
        s.close()
