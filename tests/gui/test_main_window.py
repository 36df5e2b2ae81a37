"""The main window on the real widgets (offscreen), with an in-process runner."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from window_factory import scripted_runner

from gui.controller import InProcessRunner
from gui.models.roles import RAW_ROLE
from gui.session import PROJECT_SCHEMA
from gui.state.layer_data import COL_LAT, COL_MACS
from profiler.events import Failed, FailureKind
from profiler.variant import Variant

TIMEOUT_MS = 30_000


def _open(qtbot: Any, w: Any, source: str = "demo:mlp") -> Any:
    with qtbot.waitSignal(w.result_shown, timeout=TIMEOUT_MS) as blocker:
        w.open_model(source)
    return blocker.args[0]


def _macs_in_heatmap(w: Any) -> list[Any]:
    m = w.table.model
    return [m.index(r, COL_MACS).data(RAW_ROLE) for r in range(m.rowCount())]


def test_open_demo_change_batch_heatmap_and_deltas_change(qtbot: Any, make_window: Any) -> None:
    w = make_window()
    w.show()
    base = _open(qtbot, w)
    assert base.variant == Variant()
    assert w.heatmap.model.rowCount() > 0 and w.table.model.rowCount() == len(base.profile.layers)
    macs_before = _macs_in_heatmap(w)
    assert w.deltas.values["ratio_macs"] == 1.0
    assert w.deltas.cards["usd"].value.text().startswith("$")
    with qtbot.waitSignal(w.result_shown, timeout=TIMEOUT_MS) as blocker:
        w.knobs.batch_slider.setValue(3)  # batch 8
    result = blocker.args[0]
    assert result.variant.batch == 8
    assert _macs_in_heatmap(w) == [8 * m for m in macs_before]
    assert w.deltas.values["ratio_macs"] == 8.0
    assert w.deltas.cards["macs"].change.text() == "+700%"
    assert any(w.table.model.index(r, COL_LAT).data(RAW_ROLE) for r in range(w.table.model.rowCount()))
    # the batch chart has both batches, the Pareto chart both variants
    assert [b for b, _ in w.batch_chart.points] == [1, 8]
    assert len(w.pareto_chart.entries) == 2
    # clicking back through the Pareto chart restores the baseline without measuring
    w.restore_variant(Variant())
    assert _macs_in_heatmap(w) == macs_before
    assert w.knobs.batch_slider.value() == 0


def test_layer_details_and_override(qtbot: Any, make_window: Any) -> None:
    w = make_window()
    _open(qtbot, w)
    w._on_layer_selected("fc1")
    html = w.details.text.toPlainText()
    assert "fc1" in html and "784" in html and "Bound" in html
    with qtbot.waitSignal(w.result_shown, timeout=TIMEOUT_MS) as blocker:
        w._on_prune_override("fc1", 0.5)
    assert dict(blocker.args[0].variant.layer_prune) == {"fc1": 0.5}
    assert "fc1 50%" in w.knobs.overrides_label.text()


def test_planner_sliders_recompute_without_measuring(qtbot: Any, make_window: Any) -> None:
    w = make_window()
    _open(qtbot, w)
    runner = w.controller.runner
    submitted = len(runner.submitted)
    before = w.deltas.values["usd_per_million"]
    w.planner.discount.setValue(50)
    qtbot.waitUntil(lambda: abs(w.deltas.values["usd_per_million"] - before / 2) < 1e-12, timeout=2000)
    w.planner.util.setValue(30)
    qtbot.wait(50)
    assert len(runner.submitted) == submitted  # nothing re-measured
    assert w.planner.serving_model.rowCount() > 0


def test_project_round_trip_and_damaged_file(qtbot: Any, make_window: Any, tmp_path: Path, prompts: Any) -> None:
    w = make_window()
    _open(qtbot, w)
    with qtbot.waitSignal(w.result_shown, timeout=TIMEOUT_MS):
        w.knobs.batch_slider.setValue(1)
    w.planner.discount.setValue(20)
    path = tmp_path / "p.tradeoff"
    assert w.save_project(path)
    doc = json.loads(path.read_text())
    assert doc["schema"] == PROJECT_SCHEMA and len(doc["variants"]) == 2
    assert doc["planner"]["discount_percent"] == 20

    w2 = make_window()
    assert w2.open_project(path)
    assert len(w2.workspace.results) == 2 and w2.knobs.variant.batch == 2
    assert w2.planner.discount.value() == 20
    assert w2.table.model.rowCount() == len(w.workspace.current.profile.layers)
    assert not w2.controller.runner.submitted  # shown from the file, not re-measured

    bad = tmp_path / "bad.tradeoff"
    bad.write_text('{"schema": "tradeoff.project/1", "model": ')
    assert not w2.open_project(bad)
    assert prompts.asked[-1][0] == "error" and "damaged" in prompts.asked[-1][1]


def test_autosave_and_restore_after_crash(qtbot: Any, make_window: Any, settings: Any, prompts: Any) -> None:
    w = make_window()
    w.start("demo:mlp")
    qtbot.waitUntil(lambda: w.workspace.current is not None, timeout=TIMEOUT_MS)
    w.autosave()
    assert w.autosave_path.is_file()
    # no clean exit recorded: the next start offers the autosave
    w2 = make_window()
    w2.start("demo:resnet18")
    assert "restore" in [a[0] for a in prompts.asked]
    assert w2.workspace.source == "demo:mlp" and w2.workspace.results
    w2.close()
    assert str(settings.qs.value("session/running")) == "false"


def test_first_start_opens_the_trained_digits_demo(qtbot: Any, make_window: Any) -> None:
    class Recording(InProcessRunner):
        def submit(self, task: str, payload: Any = None, **kw: Any) -> int:
            self.submitted.append((task, dict(payload or {})))
            self._next_id += 1
            return self._next_id

    w = make_window(Recording)
    from gui.app import DEMO_SOURCE

    w.start(DEMO_SOURCE)
    assert w.controller.runner.submitted[0][1]["source"] == "demo:digits-cnn"
    assert w.windowTitle().startswith("digits-cnn")


def test_pickle_asks_for_trust_then_reopens(qtbot: Any, make_window: Any, prompts: Any, tmp_path: Path) -> None:
    model = tmp_path / "m.pt"
    model.write_bytes(b"x")
    # the app reacts to the failure's kind (profiler.events.Failed), not its wording
    w = make_window(
        scripted_runner(
            [
                Failed(
                    failure=FailureKind.NEEDS_TRUST,
                    file=str(model),
                    stage="load",
                    message=f"{model}: holds a pickled Python object, and loading it runs code from the file: "
                    "pass --trust only if you trust where it came from",
                )
            ]
        )
    )
    prompts.trust = False
    with qtbot.waitSignal(w.model_failed, timeout=5000):
        w.open_model(str(model))
    assert prompts.asked[0] == ("trust", str(model))
    assert w.controller.runner.submitted[-1][1]["trust"] is False


def test_dynamic_dimension_asks_for_a_shape(qtbot: Any, make_window: Any, prompts: Any, tmp_path: Path) -> None:
    model = tmp_path / "m.onnx"
    model.write_bytes(b"x")
    w = make_window(
        scripted_runner(
            [
                Failed(
                    failure=FailureKind.MISSING_DIM,
                    file=str(model),
                    message=f"{model}: input 'x' dimension 2 ('height') has no value: pass --input-shape x=…",
                    fields={"missing_dim": {"input": "x", "dim": 2, "symbol": "height", "declared": [1, 3, None, 32]}},
                ),
                Failed(failure=FailureKind.UNUSABLE_INPUT, file=str(model), message=f"{model}: still wrong"),
            ]
        )
    )
    with qtbot.waitSignal(w.model_failed, timeout=5000):
        w.open_model(str(model))
    assert ("shape", "x") in prompts.asked
    assert w.controller.runner.submitted[-1][1]["request"]["shapes"] == [["x", [1, 3, 32, 32]]]


def test_worker_crash_keeps_previous_results(qtbot: Any, make_window: Any, prompts: Any) -> None:
    failures: list[Failed] = []
    w = make_window(scripted_runner(failures))
    _open(qtbot, w)
    macs = _macs_in_heatmap(w)
    failures.append(
        Failed(
            failure=FailureKind.MODEL_FAILED,
            fields={"worker_died": True, "exitcode": -9},
            message="the measurement process died (signal SIGKILL; perhaps it ran out of memory)",
        )
    )
    with qtbot.waitSignal(w.controller.run_failed, timeout=5000):
        w.knobs.batch_slider.setValue(2)
    assert _macs_in_heatmap(w) == macs
    assert "previous results are kept" in w.statusBar().currentMessage()
    assert prompts.asked[-1][0] == "error"
    with qtbot.waitSignal(w.result_shown, timeout=TIMEOUT_MS):  # and the app carries on
        w.knobs.batch_slider.setValue(3)


def test_theme_switch_and_missing_file(qtbot: Any, make_window: Any, prompts: Any, settings: Any) -> None:
    w = make_window()
    w.set_theme("dark")
    assert settings.theme == "dark"
    w.set_theme("light")
    w.open_model("/no/such/model.onnx")
    assert prompts.asked[-1] == ("error", "/no/such/model.onnx: no such file")
