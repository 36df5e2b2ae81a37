"""`tradeoff sweep` (issue 3, item 6; docs/CONTRACT.md `tradeoff.sweep/1`).

Unit tests of the grid and the Pareto front on hand-built results, then the real command run
in-process through `gui.cli.main` (it spawns the measurement worker, as the user's shell would):
the JSON document, the CSV, deltas at the same batch, failed variants keeping their rows, and
the JSON round trip.
"""

from __future__ import annotations

import csv
import io
import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from profiler.errors import InputError
from profiler.result import LatencyStats, ModelInfo, Profile, RunConfig, Totals
from profiler.sweep import (
    SWEEP_CSV_COLUMNS,
    SWEEP_SCHEMA,
    Sweep,
    build_sweep,
    grid,
    pareto_flags,
    parse_list,
)
from profiler.variant import Variant
from profiler.whatif import VariantResult

ROW_KEYS = {"config", "totals", "delta", "fidelity", "pareto", "notes", "error"}
CONFIG_KEYS = {"prune", "prune_method", "precision", "batch", "seq_len", "runtime", "device"}


# --- the grid -------------------------------------------------------------------------------------


def test_parse_list() -> None:
    assert parse_list("0,0.3, 0.5", "--prune", float) == [0.0, 0.3, 0.5]
    assert parse_list("1,4,", "--batch", int) == [1, 4]
    assert parse_list("fp32", "--precision", str) == ["fp32"]
    assert parse_list(None, "--batch", int) == [None]
    with pytest.raises(InputError, match="--batch"):
        parse_list("1,x", "--batch", int)
    with pytest.raises(InputError, match="empty"):
        parse_list(" , ", "--prune", float)


def test_grid_is_the_product_without_duplicates() -> None:
    variants = grid([0.0, 0.5], ["fp32", "int8"], [1, 4], [None])
    assert len(variants) == 8 == len(set(variants))
    assert variants[0] == Variant(batch=1)  # baseline-like first
    assert {(v.prune, v.precision, v.batch) for v in variants} == {
        (p, q, b) for p in (0.0, 0.5) for q in ("fp32", "int8") for b in (1, 4)
    }
    assert all(v.prune_method is None for v in variants if v.prune == 0)
    # 0 and 0.0 are the same ratio; None precision is fp32
    assert grid([0, 0.0, None], ["fp32", None], [None], [None]) == [Variant()]
    assert len(grid([0.0, 0.3, 0.5], ["fp32", "fp16", "int8"], [1, 2, 4, 8], [16, 32])) == 3 * 3 * 4 * 2
    v = grid([0.5], ["int8"], [None], [None], prune_method="unstructured", runtime="onnxruntime")[0]
    assert (v.method, v.runtime) == ("unstructured", "onnxruntime")


# --- the Pareto front on hand-built results ------------------------------------------------------


def _result(
    label: str, latency_ms: float | None, cosine: float, weight_bytes: int, *, batch: int = 1, error: str | None = None
) -> VariantResult:
    from profiler.fidelity import Fidelity

    variant = Variant(batch=batch)  # `label` only names the case in the list below
    if error is not None:
        return VariantResult(variant, None, None, None, {}, error=error)
    lat = None if latency_ms is None else LatencyStats(latency_ms, latency_ms, latency_ms, 10)
    profile = Profile(
        model=ModelInfo("m", "demo:m", "demo"),
        inputs=(),
        config=RunConfig(batch=batch),
        environment=None,
        totals=Totals(
            params=weight_bytes // 4,
            macs=1000,
            flops=2000,
            weight_bytes=weight_bytes,
            activation_bytes=0,
            latency_ms=lat,
        ),
        layers=(),
    )
    return VariantResult(variant, profile, profile, Fidelity(cosine, 0.0, 0.0, None, None), {"latency": 1.0})


def test_pareto_flags_mark_the_non_dominated() -> None:
    results = [
        _result("baseline", 10.0, 1.0, 400),  # best fidelity
        _result("small", 5.0, 0.99, 100),  # fastest and smallest
        _result("dominated", 6.0, 0.98, 200),  # worse than "small" on every objective
        _result("failed", None, 0.0, 0, error="tf32 exists on CUDA only"),
        _result("tie", 5.0, 0.99, 100),  # equal to "small": neither dominates the other
    ]
    assert pareto_flags(results) == [True, True, False, False, True]


def test_pareto_uses_latency_per_sample() -> None:
    # batch 4 at 12 ms is 3 ms a sample: it beats batch 1 at 5 ms on latency
    results = [_result("b1", 5.0, 0.99, 100), _result("b4", 12.0, 0.99, 100, batch=4)]
    assert pareto_flags(results) == [False, True]


def test_pareto_never_ranks_noise_as_a_gain() -> None:
    import dataclasses

    from profiler.comparison import RatioEstimate

    base = _result("baseline", 10.0, 1.0, 400)
    base = dataclasses.replace(base, latency_ratio=RatioEstimate.identity())
    # timed 5 % faster, but the interval spans 1: it ties with the baseline, dominating nothing
    noise = dataclasses.replace(
        _result("noise", 9.5, 1.0, 400), baseline=base.profile, latency_ratio=RatioEstimate(0.95, 0.88, 1.03, False)
    )
    assert pareto_flags([base, noise]) == [True, True]
    # the same change, measured as significant, does dominate
    real = dataclasses.replace(noise, latency_ratio=RatioEstimate(0.95, 0.93, 0.97, True))
    assert pareto_flags([base, real]) == [False, True]


def test_sweep_check_and_document_of_hand_built_results() -> None:
    results = [_result("a", 10.0, 1.0, 400), _result("b", 5.0, 0.99, 100), _result("c", None, 0, 0, error="boom")]
    sweep = build_sweep(ModelInfo("m", "demo:m", "demo"), results[0].profile, results)  # type: ignore[arg-type]
    sweep.check()
    doc = sweep.to_dict()
    assert doc["schema"] == SWEEP_SCHEMA
    failed = doc["variants"][2]
    assert failed["error"] == "boom" and failed["pareto"] is False
    assert failed["totals"] is None and failed["delta"] is None and failed["fidelity"] is None
    assert Sweep.from_dict(json.loads(json.dumps(doc))).to_dict() == doc
    with pytest.raises(InputError, match="schema"):
        Sweep.from_dict({**doc, "schema": "tradeoff.profile/1"})


# --- the real command -----------------------------------------------------------------------------


def _sweep(argv: list[str]) -> int:
    from tradeoff.main import main

    with warnings.catch_warnings():
        return main(["sweep", *argv])


@pytest.fixture(scope="module")
def grid_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, dict[str, Any], str]]:
    out = tmp_path_factory.mktemp("sweep")
    code = _sweep(
        [
            "demo:mlp",
            "--prune",
            "0,0.5",
            "--precision",
            "fp32,int8",
            "--batch",
            "1,4",
            "--json",
            str(out / "out.json"),
            "--csv",
            str(out / "out.csv"),
        ]
    )
    doc = json.loads((out / "out.json").read_text(encoding="utf-8")) if (out / "out.json").exists() else {}
    text = (out / "out.csv").read_text(encoding="utf-8") if (out / "out.csv").exists() else ""
    yield code, doc, text


def _row(doc: dict[str, Any], prune: float, precision: str, batch: int) -> dict[str, Any]:
    rows = [
        v
        for v in doc["variants"]
        if (v["config"]["prune"], v["config"]["precision"], v["config"]["batch"]) == (prune, precision, batch)
    ]
    assert len(rows) == 1, [v["config"] for v in doc["variants"]]
    return rows[0]


def test_sweep_grid_writes_the_contract_document(grid_run: tuple[int, dict[str, Any], str]) -> None:
    code, doc, _ = grid_run
    assert code == 0
    assert doc["schema"] == "tradeoff.sweep/1"
    assert doc["model"] == {"name": "mlp", "source": "demo:mlp", "format": "demo"}
    assert doc["baseline"]["config"]["batch"] == 1 and doc["baseline"]["config"]["precision"] == "fp32"
    assert doc["baseline"]["totals"]["params"] == 535818
    assert len(doc["variants"]) == 8
    for v in doc["variants"]:
        assert ROW_KEYS <= set(v), v.keys()
        assert CONFIG_KEYS <= set(v["config"])
        assert v["error"] is None, v["error"]
        assert set(v["delta"]) >= {"latency", "params", "macs"}
        assert v["fidelity"]["cosine"] is not None and isinstance(v["pareto"], bool) and isinstance(v["notes"], list)
        assert v["totals"]["latency_ms"]["median"] > 0
        assert v["config"]["runtime"] == "torch" and v["config"]["device"] == "cpu"
        assert v["config"]["prune_method"] == ("structured" if v["config"]["prune"] else None)
    assert {(v["config"]["prune"], v["config"]["precision"], v["config"]["batch"]) for v in doc["variants"]} == {
        (p, q, b) for p in (0.0, 0.5) for q in ("fp32", "int8") for b in (1, 4)
    }
    assert any(v["pareto"] for v in doc["variants"])


def test_sweep_deltas_are_ratios_at_the_same_batch(grid_run: tuple[int, dict[str, Any], str]) -> None:
    _, doc, _ = grid_run
    for batch in (1, 4):
        identity = _row(doc, 0.0, "fp32", batch)
        assert identity["delta"]["latency"] == 1.0 and identity["delta"]["macs"] == 1.0
        assert (
            identity["fidelity"]["cosine"] == pytest.approx(1.0, abs=1e-12)
            and identity["fidelity"]["max_abs_error"] == 0
        )
        assert any("identity" in n for n in identity["notes"])
        base = identity["totals"]
        for prune, precision in ((0.0, "int8"), (0.5, "fp32"), (0.5, "int8")):
            v = _row(doc, prune, precision, batch)
            t = v["totals"]
            assert v["delta"]["macs"] == pytest.approx(t["macs"] / base["macs"], abs=1e-6)
            assert v["delta"]["params"] == pytest.approx(t["params"] / base["params"], abs=1e-6)
            # Latency's delta is the interleaved experiment's ratio (variant and baseline timed
            # alternately), and the row's latency is the variant's in that experiment.
            ratio = v["latency_ratio"]
            assert v["delta"]["latency"] == ratio["value"]
            assert ratio["ci_low"] <= ratio["value"] <= ratio["ci_high"]
            assert t["latency_ms"] == v["comparison"]["variant_ms"]
            # both are stored to 6 decimals: a large ratio inverts to a small number known to 1e-6
            assert v["throughput_ratio"]["value"] == pytest.approx(1 / ratio["value"], rel=1e-5, abs=1e-6)
    assert _row(doc, 0.0, "fp32", 4)["totals"]["macs"] == 4 * _row(doc, 0.0, "fp32", 1)["totals"]["macs"]
    assert _row(doc, 0.5, "fp32", 1)["delta"]["params"] < 0.6
    assert _row(doc, 0.0, "int8", 4)["delta"]["weight_bytes"] == pytest.approx(0.25, abs=0.01)
    assert _row(doc, 0.5, "fp32", 4)["prune_report"]["ratio_asked"] == 0.5


def test_sweep_csv_has_one_row_per_variant(grid_run: tuple[int, dict[str, Any], str]) -> None:
    _, doc, text = grid_run
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == SWEEP_CSV_COLUMNS
    assert len(rows) == 1 + 8
    table = [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
    assert [r["label"] for r in table] == [v["label"] for v in doc["variants"]]
    assert all(r["error"] == "" and r["pareto"] in ("true", "false") for r in table)
    assert {r["batch"] for r in table} == {"1", "4"}


def test_sweep_json_round_trip(grid_run: tuple[int, dict[str, Any], str]) -> None:
    _, doc, _ = grid_run
    assert Sweep.from_dict(doc).to_dict() == doc
    assert Sweep.from_dict(json.loads(json.dumps(Sweep.from_dict(doc).to_dict()))).to_dict() == doc


def test_sweep_keeps_a_failed_variant_row_and_goes_on(capfd: pytest.CaptureFixture[str]) -> None:
    """tf32 on the CPU cannot run: its row keeps the error; `--json -` leaves stdout pure JSON."""
    code = _sweep(["demo:mlp", "--precision", "fp32,tf32", "--no-latency", "--json", "-"])
    out, err = capfd.readouterr()
    assert code == 0, err
    doc = json.loads(out)
    assert len(doc["variants"]) == 2
    good, bad = doc["variants"]
    assert good["error"] is None and good["totals"]["params"] == 535818
    assert good["totals"]["latency_ms"] is None  # --no-latency
    assert bad["config"]["precision"] == "tf32"
    assert "tf32" in bad["error"] and "\n" not in bad["error"]
    assert bad["totals"] is None and bad["delta"] is None and bad["fidelity"] is None and bad["pareto"] is False
    assert Sweep.from_dict(doc).to_dict() == doc


def test_sweep_of_an_onnx_file_keeps_the_structured_error(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnxruntime")
    from profiler.demos import build_demo

    model = tmp_path / "mlp.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(build_demo("mlp"), (torch.randn(1, 1, 28, 28),), str(model), input_names=["x"], dynamo=False)
    code = _sweep(
        [
            str(model),
            "--prune",
            "0,0.5",
            "--no-latency",
            "--json",
            str(tmp_path / "s.json"),
            "--csv",
            str(tmp_path / "s.csv"),
        ]
    )
    assert code == 0
    doc = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))
    assert doc["model"]["format"] == "onnx"
    first, pruned = doc["variants"]
    assert first["error"] is None and first["config"]["runtime"] == "onnxruntime"
    assert pruned["config"]["prune"] == 0.5 and pruned["config"]["prune_method"] == "structured"
    assert "unstructured" in pruned["error"] and "nn.Module" in pruned["error"]
    assert pruned["totals"] is None and pruned["pareto"] is False
    rows = list(csv.DictReader(io.StringIO((tmp_path / "s.csv").read_text(encoding="utf-8"))))
    assert len(rows) == 2 and rows[1]["error"] == pruned["error"]


def test_sweep_with_only_failing_variants_is_an_error(capfd: pytest.CaptureFixture[str]) -> None:
    code = _sweep(["demo:mlp", "--precision", "tf32", "--no-latency"])
    _, err = capfd.readouterr()
    assert code == 2
    assert err.startswith("error: demo:mlp:") and "tf32" in err and len(err.strip().splitlines()) == 1


def test_sweep_bad_list_is_a_usage_error(capfd: pytest.CaptureFixture[str]) -> None:
    assert _sweep(["demo:mlp", "--batch", "1,0"]) == 2
    assert "--batch" in capfd.readouterr().err
    assert _sweep(["demo:mlp", "--prune", "0,1.5"]) == 2
    assert "--prune" in capfd.readouterr().err
