"""File → Export report, Export data, Record trace, Open in TensorBoard: the window's side of
gui/report/export.py. A failure of the report code is a message, never a crash of the app."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QFileDialog

if TYPE_CHECKING:
    from gui.window.main_window import MainWindow


class Exporting:
    """The export actions; remembers the last trace's log folder for TensorBoard."""

    def __init__(self, w: MainWindow) -> None:
        self._w = w
        self.last_trace_logdir = ""

    def report_context(self) -> dict[str, Any]:
        """What the PDF report needs: the workspace (model, variants, results), the plan, the
        planner inputs, the target's projection and the current layer figures."""
        w = self._w
        current = w.workspace.current
        return {
            "workspace": w.workspace,
            "current": current,
            "plan": w.planner.plan,
            "planner_inputs": w.planner.state(),
            "target": w.planner.target_name,
            "projection": w.planner.projection(current.profile if current else None),
            "discount": w.planner.discount_fraction,
            "layer_data": w.layer_data,
        }

    def export_report(self) -> None:
        try:
            from gui.report.export import export_report_dialog

            export_report_dialog(self._w)
        except Exception as exc:  # the report is another module: its failure must not take the app down
            self._w.prompts.error("Cannot export the report", f"{type(exc).__name__}: {exc}")

    def export_data(self) -> None:
        try:
            from gui.report.export import export_data_dialog

            export_data_dialog(self._w)
        except Exception as exc:
            self._w.prompts.error("Tradeoff Studio", f"{type(exc).__name__}: {exc}")

    def record_trace(self) -> None:
        w = self._w
        if w.workspace.source and not w.opening.may_run():
            w.statusBar().showMessage(f"No trace: {w.workspace.source} runs Python code and was not trusted", 10000)
            return
        try:
            from gui.report.export import record_trace_dialog

            result = record_trace_dialog(w)
        except Exception as exc:
            w.prompts.error("Tradeoff Studio", f"{type(exc).__name__}: {exc}")
            return
        if result is not None:
            self.last_trace_logdir = str(result.logdir)

    def open_tensorboard(self) -> None:
        w = self._w
        logdir = self.last_trace_logdir or QFileDialog.getExistingDirectory(w, "Trace log folder")
        if not logdir:
            return
        try:
            from gui.report.export import open_in_tensorboard

            open_in_tensorboard(w, logdir)
        except Exception as exc:
            w.prompts.error("Tradeoff Studio", f"{type(exc).__name__}: {exc}")
