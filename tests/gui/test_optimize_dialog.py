"""Run → Optimize… on the real widgets and a real measurement worker (demo:digits-cnn, trained,
labelled): the search runs off the GUI thread, fills the table and the chart as variants come
back, recommends one with its reasons, can be cancelled keeping what was tried, and restores a
chosen variant in the main window."""

from __future__ import annotations

from typing import Any

import pytest


def _opened(qtbot: Any, make_window: Any) -> Any:
    w = make_window()
    with qtbot.waitSignal(w.result_shown, timeout=120_000):
        w.open_model("demo:digits-cnn")
    return w


@pytest.mark.slow
def test_optimize_runs_recommends_and_restores(qtbot: Any, make_window: Any) -> None:
    w = _opened(qtbot, make_window)
    w.planner.qps.setValue(1e7)  # a load at which the fleet size depends on the variant
    w.menus.optimize_action.trigger()
    dialog = w.optimizing.dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.labelled and dialog.floor_kind.currentData() == "accuracy"
    assert "Planner tab" in dialog.objective.text()
    dialog.budget_variants.setValue(6)
    dialog.onnxruntime.setChecked(False)
    dialog.overrides.setChecked(False)  # no sensitivity pass: the budget goes to the global ratio
    dialog.start_button.click()
    _wait_done(qtbot, dialog)
    result = dialog.outcome
    assert result is not None and 2 <= len(result.trials) <= 6
    assert dialog.table.rowCount() == len(result.trials)
    assert result.trials[0].phase == "baseline" and result.trials[0].timed
    assert dialog.recommendation.text().startswith("Recommendation: ")
    assert "Why: " in dialog.recommendation.text() and "Bound by: " in dialog.recommendation.text()
    assert dialog.recommendation.textFormat().name == "PlainText"  # variant labels name model layers
    assert len(dialog.points_ok.data) + len(dialog.points_bad.data) >= 2
    assert dialog.export_button.isEnabled()
    # restore a pruned row in the main window: its knobs follow and it is measured there
    pruned = next(t for t in result.trials if t.variant.pruned and not t.variant.layer_prune)
    dialog._select_trial(pruned.index)
    with qtbot.waitSignal(w.result_shown, timeout=120_000) as shown:
        dialog.restore_button.click()
    assert shown.args[0].variant.prune == pruned.variant.prune
    assert abs(w.knobs.variant.prune - pruned.variant.prune) < 1e-9


@pytest.mark.slow
def test_cancel_keeps_what_was_tried(qtbot: Any, make_window: Any) -> None:
    w = _opened(qtbot, make_window)
    w.menus.optimize_action.trigger()
    dialog = w.optimizing.dialog
    dialog.onnxruntime.setChecked(False)
    dialog.start_button.click()
    qtbot.waitUntil(lambda: len(dialog.trials) >= 2, timeout=180_000)
    dialog.cancel_button.click()
    _wait_done(qtbot, dialog)
    assert dialog.outcome is not None
    assert dialog.outcome.stopped_because == "cancelled"
    assert len(dialog.outcome.trials) >= 2
    assert dialog.table.rowCount() == len(dialog.outcome.trials)


def _wait_done(qtbot: Any, dialog: Any) -> None:
    """Until the dialog's search ends (its Start button comes back with a result)."""
    qtbot.waitUntil(lambda: dialog.start_button.isEnabled() and dialog.outcome is not None, timeout=240_000)


def test_the_dialogs_inputs_make_the_search(qtbot: Any) -> None:
    from gui.widgets.optimize_dialog import OptimizeDialog

    d = OptimizeDialog(model_name="m <b>x</b>", objective="o", labelled=True, torch_model=True)
    qtbot.addWidget(d)
    assert d.windowTitle() == "Optimize — m <b>x</b>"
    d.recover_steps.setValue(100)
    d.precisions["bf16"].setChecked(True)
    space = d.space()
    assert space.recover_steps == 100 and "bf16" in space.precisions and space.runtimes == (None, "onnxruntime")
    d.floor_kind.setCurrentIndex(1)
    d.floor_value.setValue(0.995)
    assert d.floor().min_cosine == 0.995 and d.floor().max_accuracy_drop_pp is None
    d.budget_min.setValue(3)
    d.budget_variants.setValue(12)
    assert d.budget().seconds == 180 and d.budget().variants == 12
    onnx = OptimizeDialog(model_name="m", objective="o", labelled=False, torch_model=False)
    qtbot.addWidget(onnx)
    assert onnx.floor_kind.currentData() == "cosine"
    space = onnx.space()
    assert space.max_prune == 0.0 and space.runtimes == (None,) and space.recover_steps is None
