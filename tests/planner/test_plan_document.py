from __future__ import annotations

import argparse
import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from plan_fixtures import llama2_7b, mlp

from planner.catalog import Catalog
from planner.options import PlanOptions
from planner.plan import PLAN_SCHEMA, Plan, plan, plan_rows, write_plan_csv
from planner.render import hardware_document, render_plan_table
from planner.vocab import PeakPrecision
from profiler.errors import InputError
from tradeoff.options import add_plan_arguments, catalog_from_args, plan_options_from_args

ROOT = Path(__file__).resolve().parents[2]


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_plan_arguments(parser)
    return parser.parse_args(list(argv))


def test_plan_json_round_trip_and_contract_fields(catalog: Catalog) -> None:
    p = plan(
        llama2_7b(seq=256), PlanOptions(train_tokens=2e9, serve_qps=5, slo_ms=60_000, gpus=("H100", "L4")), catalog
    )
    p.check()
    doc = json.loads(json.dumps(p.to_dict()))
    assert doc["schema"] == PLAN_SCHEMA
    for key in ("mfu", "utilization", "pue", "precision", "catalog_as_of"):
        assert key in doc["assumptions"]
    for key in ("flops", "flops_6nd", "tokens", "samples", "epochs", "options"):
        assert key in doc["training"]
    t = doc["training"]["options"][0]
    for key in ("instance", "provider", "region", "accelerator", "gpus_per_instance", "instances", "gpus", "hours",
                "gpu_hours", "usd_on_demand", "usd_spot", "energy_kwh", "co2_kg", "fits_memory"):  # fmt: skip
        assert key in t
    i = doc["inference"]["options"][0]
    for key in ("instance", "provider", "region", "accelerator", "precision", "batch", "latency_ms", "throughput_per_s",
                "usd_per_million", "instances_needed", "usd_per_month", "meets_slo", "fits_memory"):  # fmt: skip
        assert key in i
    assert i["latency_source"] == "projected"
    again = Plan.from_dict(doc)
    assert again == p
    again.check()


def test_plan_without_training_size_has_null_training(catalog: Catalog) -> None:
    doc = plan(mlp(), PlanOptions(), catalog).to_dict()
    assert doc["training"] is None and doc["inference"]["options"]


def test_csv_has_one_row_per_option(catalog: Catalog, tmp_path: Path) -> None:
    p = plan(mlp(), PlanOptions(train_samples=1e6, gpus=("L4",)), catalog)
    out = tmp_path / "plan.csv"
    write_plan_csv(p, out)
    with out.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(plan_rows(p)) == len(p.training.options) + len(p.inference.options)  # type: ignore[union-attr]
    assert {r["section"] for r in rows} == {"training", "inference"}
    buf = io.StringIO()
    write_plan_csv(p, buf)
    assert buf.getvalue() == out.read_text()


def test_options_from_args() -> None:
    args = parse("--train-tokens", "2e12", "--mfu", "0.5", "--gpu", "A100-80GB, H100", "--provider", "aws",
                 "--region", "us-east-1", "--serve-qps", "100", "--slo-ms", "50", "--utilization", "0.7",
                 "--serve-precision", "bf16", "--train-gpus", "64", "--catalog", "x.csv")  # fmt: skip
    o = plan_options_from_args(args)
    assert o.train_tokens == 2e12 and o.mfu == 0.5 and o.gpus == ("A100-80GB", "H100")
    assert o.providers == ("aws",) and o.region == "us-east-1" and o.serve_qps == 100 and o.slo_ms == 50
    assert o.utilization == 0.7 and o.precision is PeakPrecision.BF16 and o.train_gpus == 64
    assert o.catalog_file == "x.csv" and o.epochs == 1.0
    assert plan_options_from_args(parse()) == PlanOptions()
    assert PlanOptions.from_dict(json.loads(json.dumps(o.to_dict()))) == o


@pytest.mark.parametrize(
    ("argv", "option", "problem"),
    [
        (("--mfu", "1.5"), "--mfu", "must be in (0, 1]"),
        (("--mfu", "0"), "--mfu", "must be in (0, 1]"),
        (("--utilization", "-1"), "--utilization", "must be in (0, 1]"),
        (("--train-tokens", "lots"), "--train-tokens", "'lots' is not a number"),
        (("--train-tokens", "inf"), "--train-tokens", "'inf' is not a finite number"),
        (("--epochs", "0"), "--epochs", "must be a number > 0"),
        (("--train-gpus", "2.5"), "--train-gpus", "'2.5' is not a whole number"),
        (("--serve-precision", "fp4"), "--serve-precision", "'fp4' is not one of auto, measured, fp32, tf32, fp16, bf16, fp8, int8"),
        (("--pue", "0.9"), "--pue", "must be a number ≥ 1"),
        (("--train-tokens", "1e9", "--train-samples", "5"), "--train-tokens", "give either --train-tokens or --train-samples, not both"),
    ],
)  # fmt: skip
def test_bad_option_values_raise_input_error(argv: tuple[str, ...], option: str, problem: str) -> None:
    with pytest.raises(InputError) as exc:
        plan_options_from_args(parse(*argv))
    assert (exc.value.file, exc.value.problem) == (option, problem)
    assert str(exc.value) == f"{option}: {problem}"


def test_catalog_from_args_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.csv"
    with pytest.raises(InputError) as exc:
        catalog_from_args(parse("--catalog", str(missing)))
    assert exc.value.file == str(missing)


def test_render_plan_table(catalog: Catalog) -> None:
    p = plan(llama2_7b(seq=128), PlanOptions(train_tokens=1e9, serve_qps=3, gpus=("H100",)), catalog)
    text = render_plan_table(p)
    assert "projected" in text and "decoder LM" in text and "Training on" in text
    first = p.inference.options[0]
    lines = text.splitlines()
    assert first.instance in next(line for line in lines if line.lstrip().startswith("1 "))
    # the answer leads, and it is the first row
    assert p.answer is not None and p.answer.serving is not None and p.answer.serving.headline in text
    assert lines.index(p.answer.serving.headline) < lines.index(next(x for x in lines if x.startswith("Serving at")))
    plain = render_plan_table(plan(mlp(), PlanOptions(), catalog))
    assert "Training" not in plain and "$/M inf" in plain


def test_hardware_document_schema(catalog: Catalog) -> None:
    doc = json.loads(json.dumps(hardware_document(catalog)))
    assert doc["schema"] == "tradeoff.hardware/1" and doc["accelerators"] and doc["instances"]


def test_planner_imports_neither_torch_nor_qt() -> None:
    code = (
        "import sys, planner.plan, planner.render, planner.catalog, planner.roofline;"
        "bad = [m for m in ('torch', 'PySide6', 'pyqtgraph', 'gui') if m in sys.modules];"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, env={"PYTHONPATH": str(ROOT)})


def test_plan_with_calibration_against_a_user_cpu_row(tmp_path: Path) -> None:
    from dataclasses import replace

    from planner.catalog import load_catalog

    extra = tmp_path / "cpu.csv"
    extra.write_text(
        "name,kind,class,memory_gb,bandwidth_gb_s,fp32_tflops,source,as_of\n"
        "my-laptop,cpu,cpu,,20,0.1,measured by me,2026-11-23\n"
    )
    cat = load_catalog(extra=extra, include_user=False)
    assert cat.warnings == ()
    prof = mlp()
    measured = replace(prof, layers=tuple(replace(r, latency_ms=2.0) for r in prof.layers))
    p = plan(measured, PlanOptions(calibrate_with="my-laptop", gpus=("L4",)), cat)
    p.check()
    assert p.calibration is not None and p.calibration.device == "my-laptop"
    assert all(o.latency_source == "projected-calibrated" for o in p.inference.options)
    assert Plan.from_dict(json.loads(json.dumps(p.to_dict()))) == p
    with pytest.raises(InputError) as exc:
        plan(measured, PlanOptions(calibrate_with="Xeon-Platinum-8160"), cat)  # no bandwidth in its row
    assert exc.value.file == "--calibrate"
    with pytest.raises(InputError, match="no per-layer latency"):
        plan(prof, PlanOptions(calibrate_with="my-laptop"), cat)


def test_profile_without_work_is_an_input_error(catalog: Catalog) -> None:
    from plan_fixtures import make_profile

    with pytest.raises(InputError, match="no layer with FLOPs or bytes"):
        plan(make_profile([]), PlanOptions(), catalog)
