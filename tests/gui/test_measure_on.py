"""Run → Measure on… without a cluster: the progress lines the app parses, the command lines it
builds, the setting it remembers, what the dialog shows (plain text), the planner's "calibrated
on N runs on A100-SXM4-80GB", and that the GUI never imports Ray. The runs against a real Ray head
are in tests/cluster/test_gui_measure_on.py."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from gui.window.cluster_runs import parse_progress_line, sweep_arguments, unexpressible
from planner.catalog import load_catalog
from planner.vocab import PeakPrecision
from profiler.result import Profile
from profiler.variant import Variant

ROOT = Path(__file__).resolve().parents[2]


def test_progress_lines_parse() -> None:
    row = parse_progress_line("progress: 37.5% [3/8] prune 0.3 structured · int8: done on node-7 (8.89 ms)")
    assert row is not None and row.ok and (row.done, row.total) == (3, 8)
    assert row.label == "prune 0.3 structured · int8" and row.host == "node-7" and row.detail == "8.89 ms"
    row = parse_progress_line("progress: 50.0% [1/2] batch 8: failed on gpu-2: CUDA is not available here")
    assert row is not None and not row.ok and row.host == "gpu-2" and row.detail == "CUDA is not available here"
    row = parse_progress_line("progress: 100.0% [2/2] fp32: failed: no node has A100-80GB")
    assert row is not None and not row.ok and row.host == "" and row.detail == "no node has A100-80GB"
    assert parse_progress_line("progress: 40% loading the model") is None
    assert parse_progress_line("error: --cluster: cannot connect to x: refused") is None


def test_sweep_arguments_say_what_the_batch_sweep_measures() -> None:
    variants = [Variant(precision="int8", prune=0.3, batch=b) for b in (2, 4)]
    args = sweep_arguments(
        "demo:digits-cnn", variants, address="10.0.0.1:6379", trust=False, shapes=((None, (1, 1, 8, 8)),),
        time_limit_s=60, json_file="/tmp/x.json",
    )  # fmt: skip
    assert args[:2] == ["sweep", "demo:digits-cnn"] and "--trust" not in args
    joined = " ".join(args)
    assert "--input-shape 1x1x8x8" in joined and "--batch 2,4" in joined and "--precision int8" in joined
    assert "--prune 0.3 --prune-method structured" in joined
    assert "--cluster 10.0.0.1:6379 --progress --json /tmp/x.json" in joined
    trusted = sweep_arguments(
        "m.pt", variants, address="auto", trust=True, shapes=(), time_limit_s=60, json_file="/tmp/x.json"
    )
    assert "--trust" in trusted  # the user's confirmation in this session, passed on
    assert unexpressible(Variant(layer_prune=(("fc1", 0.5),))) == "per-layer pruning ratios"
    assert unexpressible(variants[0]) == ""


def test_the_setting_is_remembered(settings: Any) -> None:
    assert settings.measure_on == ""  # this machine by default
    settings.set_measure_on(True, " ray://head:10001 ")
    assert settings.measure_on == "ray://head:10001"
    settings.set_measure_on(False, "ray://head:10001")
    assert settings.measure_on == "" and settings.cluster_address == "ray://head:10001"  # the address is kept
    settings.set_measure_on(True, "")
    assert settings.measure_on == ""


def test_the_dialog_shows_the_cluster_as_plain_text(qtbot: Any) -> None:
    from PySide6.QtCore import Qt

    from gui.widgets.measure_on import MeasureOnDialog

    dialog = MeasureOnDialog(False, "", None)
    qtbot.addWidget(dialog)
    assert dialog.local_radio.isChecked() and not dialog.test_button.isEnabled()
    dialog.address.setText("<b>host</b>:6379")
    with qtbot.waitSignal(dialog.test_requested) as sent:
        dialog.test_button.click()
    assert sent.args == ["<b>host</b>:6379"] and dialog.cluster_radio.isChecked() and dialog.testing
    doc = {
        "schema": "tradeoff.cluster/1", "address": "<b>host</b>:6379", "cpus": 18,
        "nodes": [
            {"host": "<i>gpu-1</i>", "address": "10.0.0.2", "alive": True, "cpus": 16, "gpus": 1, "accelerators": ["A100-80GB"]},
            {"host": "cpu-2", "address": "10.0.0.3", "alive": False, "cpus": 2, "gpus": 0, "accelerators": []},
        ],
        "gpus_by_type": {"A100-80GB": 1},
        "cluster_versions": {"ray": "2.59.0", "tradeoff": "0.9", "python": "3.12.3"},
        "client_versions": {"ray": "2.60.0", "tradeoff": "0.9", "python": "3.12.3"},
    }  # fmt: skip
    dialog.show_cluster(doc)
    text = dialog.result_text()
    assert "1 node alive (1 dead) · 18 CPUs · GPUs: 1 × A100-80GB" in text
    assert "Ray 2.59.0 on the cluster, 2.60.0 here" in text
    assert "Version mismatch: ray 2.59.0 on the cluster, 2.60.0 here" in text
    assert "<i>gpu-1</i>" in text and not dialog.testing
    for label in (dialog.state, dialog.has, dialog.versions, dialog.warnings, dialog.error):
        assert label.textFormat() == Qt.TextFormat.PlainText
    dialog.show_error("error: --cluster: cannot connect to <b>host</b>:6379: refused")
    assert dialog.error.text().startswith("error: --cluster: cannot connect") and dialog.nodes.rowCount() == 0
    assert dialog.use_cluster() and dialog.chosen_address() == "<b>host</b>:6379"


def test_run_menu_has_measure_on(make_window: Any) -> None:
    w = make_window()
    assert w.menus.measure_on_action.text() == "Measure &on…"
    dialog = w.menus.measure_on.show()
    dialog.cluster_radio.setChecked(True)
    dialog.address.setText("auto")
    dialog.accept()
    assert w.settings.measure_on == "auto" and w.menus.measure_on.address == "auto"
    w.menus.measure_on.show().local_radio.setChecked(True)
    w.menus.measure_on.dialog.accept()
    assert w.settings.measure_on == ""


def test_the_planner_names_the_accelerator_and_runs_of_a_stored_calibration(
    qapp: Any, mlp_result: dict[str, Any]
) -> None:
    from gui.planner_panel import PlannerPanel
    from planner.calibration_store import CalibrationRun, CalibrationStore

    profile = Profile.from_dict(mlp_result["profile"])
    panel = PlannerPanel(load_catalog(include_user=False))
    panel.target.setCurrentIndex(panel.target.findData("A100-SXM4-80GB"))
    panel.serve_precision.setCurrentIndex(panel.serve_precision.findData("fp16"))
    panel.set_profile(profile)
    assert panel.projection(profile) is not None
    assert panel.calibration_text.startswith("Not calibrated on A100-SXM4-80GB yet")
    store = CalibrationStore()  # under the test's own XDG_CONFIG_HOME (tests/conftest.py)
    for k, ratio in enumerate((2.0, 2.1, 2.2)):
        store.add(
            CalibrationRun(
                device="A100-SXM4-80GB", kind="gpu", precision=PeakPrecision.FP16, model="m",
                recorded_at=f"2026-12-0{k + 1}T00:00:00Z", measured_ms={"matmul": ratio, "elementwise": ratio},
                ideal_ms={"matmul": 1.0, "elementwise": 1.0}, timing_spread=0.02,
            )
        )  # fmt: skip
    projection = panel.projection(profile)
    assert projection is not None and projection.calibrated
    assert panel.calibration_text.startswith("Calibrated on 3 runs on A100-SXM4-80GB (±"), panel.calibration_text
    assert "calibrated on 3 runs on A100-SXM4-80GB (±" in panel.projection_label
    assert panel.calibration_note.isVisibleTo(panel) or not panel.isVisible()


@pytest.mark.parametrize(
    "statement",
    [
        "import gui.main_window, gui.window.cluster_runs, gui.widgets.measure_on",
        "from PySide6.QtWidgets import QApplication; app = QApplication([]); "
        "from gui.controller import RunController, InProcessRunner; from gui.main_window import MainWindow; "
        "w = MainWindow(RunController(InProcessRunner)); w.menus.measure_on.show(); w.close()",
    ],
)
def test_the_gui_never_imports_ray(statement: str, tmp_path: Path) -> None:
    code = f"import sys; {statement}; print('ray' in sys.modules)"
    env = {"QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path), "HOME": str(tmp_path)}
    import os

    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, env={**os.environ, **env}, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "False", "the app imported ray"


def test_optimize_arguments_mean_the_dialogs_search_and_the_planners_inputs() -> None:
    from gui.window.cluster_runs import optimize_arguments
    from planner.optimize.space import Budget, QualityFloor, SearchSpace, parse_budget
    from planner.options import PlanOptions
    from profiler.vocab import Precision, PruneMethod, Runtime
    from tradeoff.commands.optimize import _space
    from tradeoff.main import build_parser
    from tradeoff.options import plan_options_from_args

    space = SearchSpace(
        max_prune=0.5, prune_methods=(PruneMethod.STRUCTURED,), precisions=(Precision.FP32, Precision.INT8),
        runtimes=(None, Runtime.ONNXRUNTIME), layer_overrides=False, recover_steps=50,
    )  # fmt: skip
    options = PlanOptions(
        serve_qps=250.0, slo_ms=40.0, utilization=0.55, gpus=("L4",), precision=PeakPrecision.FP16,
        price_discount=0.3, train_samples=1e6, epochs=3.0,
    )  # fmt: skip
    floor = QualityFloor(max_accuracy_drop_pp=1.5)
    budget = Budget(seconds=600.0, variants=12)
    argv = optimize_arguments(
        "demo:digits-cnn", own_runtime="torch", floor=floor, space=space, budget=budget, options=options,
        address="auto", trust=False, shapes=(), time_limit_s=120.0, json_file="/tmp/o.json",
    )  # fmt: skip
    args = build_parser().parse_args(argv)
    assert args.cluster == "auto" and args.progress and args.json == "/tmp/o.json" and not args.trust
    parsed = _space(args)
    assert parsed.max_prune == 0.5 and parsed.precisions == space.precisions and parsed.runtimes == space.runtimes
    assert not parsed.layer_overrides and parsed.recover_steps == 50
    assert parse_budget(args.budget) == budget
    assert QualityFloor(args.min_cosine, args.max_accuracy_drop, args.min_top1_agreement) == floor
    assert plan_options_from_args(args) == options
