"""A bad training input in the planner panel leaves the serving answer and says why in the panel's words."""

from __future__ import annotations

from typing import Any

from planner.catalog import load_catalog
from profiler.analyze import ProfileRequest, profile_model
from profiler.loading import load_model


def test_tokens_for_an_image_model_keep_serving_and_name_the_panel_input(qapp: Any) -> None:
    from gui.planner_panel import PlannerPanel

    panel = PlannerPanel(load_catalog(include_user=False))
    panel.set_profile(profile_model(load_model("demo:mlp"), ProfileRequest(latency=False)))
    serving_rows = panel.serving_model.rowCount()
    assert serving_rows > 0 and panel.plan is not None and panel.error is None
    panel.train_size.setText("2e10")
    panel.train_unit.setCurrentIndex(panel.train_unit.findData("tokens"))
    panel.replan()
    # the image model has no tokens: training is not projected, serving stays as it was
    assert panel.plan is not None and panel.plan.training is None
    assert panel.serving_model.rowCount() == serving_rows
    text = panel.summary.text()
    assert "Training not projected: Dataset (tokens):" in text and "use Dataset (samples)" in text
    assert "--" not in text  # no command-line flag in a GUI message
    panel.train_unit.setCurrentIndex(panel.train_unit.findData("samples"))
    panel.replan()  # fixed: training projected again, no message
    assert panel.plan is not None and panel.plan.training is not None and panel.error is None
    assert "Training not projected" not in panel.summary.text()


def test_a_models_own_inputs_do_not_carry_over_to_the_next_model(qapp: Any) -> None:
    from gui.planner_panel import PlannerPanel

    panel = PlannerPanel(load_catalog(include_user=False))
    panel.switch_model(None, "demo:gpt-small")
    panel.train_size.setText("2e10")
    panel.train_unit.setCurrentIndex(panel.train_unit.findData("tokens"))
    panel.qps.setValue(250.0)
    panel.discount.setValue(20)  # the user's price discount is not the model's: it stays
    panel.switch_model("demo:gpt-small", "demo:resnet18")
    assert panel.train_size.text() == "" and panel.train_unit.currentData() == "samples"
    assert panel.qps.value() != 250.0 and panel.discount.value() == 20
    panel.train_size.setText("1.28e6")
    panel.switch_model("demo:resnet18", "demo:gpt-small")  # back: its own inputs again
    assert panel.train_size.text() == "2e10" and panel.train_unit.currentData() == "tokens"
    assert panel.qps.value() == 250.0
    panel.switch_model("demo:gpt-small", "demo:resnet18")
    assert panel.train_size.text() == "1.28e6"


def test_a_models_inputs_survive_a_restart_and_travel_in_the_project(qapp: Any, tmp_path: Any) -> None:
    from PySide6.QtCore import QSettings

    from gui.planner_panel import PlannerPanel
    from gui.session import AppSettings

    def settings() -> AppSettings:
        return AppSettings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))

    first = PlannerPanel(load_catalog(include_user=False))
    first.use_input_store(settings())
    first.switch_model(None, "demo:gpt-small")
    first.qps.setValue(12.0)  # an input change is remembered at once
    first.serve_precision.setCurrentIndex(first.serve_precision.findData("fp8"))
    first.train_size.setText("2e10")
    first.switch_model("demo:gpt-small", "demo:resnet18")
    first.qps.setValue(300.0)
    project_state = first.state()
    first._store.qs.sync()  # what closing the app does
    del first

    again = PlannerPanel(load_catalog(include_user=False))  # a new session
    again.use_input_store(settings())
    again.switch_model(None, "demo:gpt-small")
    assert again.qps.value() == 12.0 and again.serve_precision.currentData() == "fp8"
    assert again.train_size.text() == "2e10"
    again.switch_model("demo:gpt-small", "demo:resnet18")
    assert again.qps.value() == 300.0

    # a project carries every model's inputs, not only the open one's
    fresh = PlannerPanel(load_catalog(include_user=False))
    fresh.set_state(project_state)
    fresh.switch_model(None, "demo:gpt-small")
    assert fresh.qps.value() == 12.0 and fresh.train_size.text() == "2e10"
    # a hand-edited project with odd values keeps the defaults for those, never fails
    fresh.set_state({"per_model": {"x": "not a dict", "y": {"qps": "lots"}}, "qps": "many"})
