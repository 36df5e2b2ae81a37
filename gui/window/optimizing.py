"""Run → Optimize…: the window's part. It opens the dialog (gui/widgets/optimize_dialog.py) for
the open model, builds the search from the dialog's inputs and the Planner tab's load and
filters, and restores a chosen variant in the main window.

The search measures in a worker of its own (the model's code never runs in the app), with the
same trust the open model has in this session (`Opening.may_run` asks first for a .py factory a
project named); the live knobs' worker is left alone. When Run → Measure on… names a Ray cluster,
the search runs as `tradeoff optimize … --cluster ADDRESS` instead (gui/window/cluster_runs.py):
its measurements are listed as they finish, Cancel cancels the remote tasks (the command reports
what was tried), and the `tradeoff.optimize/1` document fills the dialog as a local search does.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import TYPE_CHECKING, Any

from gui import plain_text
from gui.controller import TIME_LIMIT_S
from gui.widgets.optimize_dialog import OptimizeDialog, OptimizeThread
from gui.window.cluster_runs import CliOutcome, CliProcess, ClusterRowsWidget, RowProgress, optimize_arguments
from profiler.variant import Variant

if TYPE_CHECKING:
    from gui.window.main_window import MainWindow

#: the search times its confirmation a little harder than a live knob change does
OPTIMIZE_BUDGET_S = 1.0


class Optimizing:
    def __init__(self, w: MainWindow) -> None:
        self._w = w
        self.dialog: OptimizeDialog | None = None
        self.source: str | None = None  # the model the dialog's search ran on
        self.process: CliProcess | None = None  # a search on a cluster
        self.rows: ClusterRowsWidget | None = None
        self._measured = 0

    def on_optimize_action(self) -> None:
        w = self._w
        ws = w.workspace
        reference = ws.reference
        if ws.source is None or reference is None:
            plain_text.information(w, "Optimize", "Open a model and wait for its first measurement, then optimize it.")
            return
        if reference.totals.latency_ms is None:
            plain_text.information(
                w,
                "Optimize",
                "This model was counted but not run here (too large to hold): there is nothing to measure.",
            )
            return
        if not w.opening.may_run():
            return
        if self.dialog is not None and (
            (self.dialog.search_thread is not None and self.dialog.search_thread.isRunning())
            or (self.process is not None and self.process.running())
        ):
            self.dialog.raise_()
            return
        from planner.optimize.run import objective_text

        options = w.planner.options()
        labelled = _labelled(ws.source)
        dialog = OptimizeDialog(
            model_name=reference.model.name,
            objective=objective_text(options) + " (the Planner tab's load and filters)",
            labelled=labelled,
            torch_model=str(reference.model.format) != "onnx",
            parent=w,
        )
        dialog.on_start = functools.partial(self._start, dialog)
        dialog.restore_requested.connect(self._restore)
        self.dialog = dialog
        dialog.show()

    def _start(self, dialog: OptimizeDialog) -> None:
        from planner.optimize.search import Search
        from planner.optimize.trial import cost_of
        from profiler.variant_measurer import VariantMeasurer

        w = self._w
        ws = w.workspace
        options = w.planner.options()
        catalog = w.planner.catalog
        floor, space, budget = dialog.floor(), dialog.space(str(ws.knobs.device)), dialog.budget()
        request = dataclasses.replace(w.controller._base_request, shapes=ws.shapes, budget_s=OPTIMIZE_BUDGET_S)

        address = w.settings.measure_on
        if address:
            self._start_on_cluster(dialog, address)
            return

        def make_search() -> Search:
            return Search(space=space, floor=floor, cost_fn=lambda p: cost_of(p, options, catalog), budget=budget)

        measurer = functools.partial(
            VariantMeasurer, str(ws.source), trust=ws.trust, request=request, inputs=None, time_limit_s=TIME_LIMIT_S
        )
        self.source = ws.source
        dialog.run_thread(OptimizeThread(make_search, measurer, options))

    def _start_on_cluster(self, dialog: OptimizeDialog, address: str) -> None:
        w = self._w
        ws = w.workspace
        reference = ws.reference
        assert reference is not None
        process = CliProcess(w)
        budget = dialog.budget()
        arguments = optimize_arguments(
            str(ws.source), own_runtime=str(reference.config.runtime), floor=dialog.floor(),
            space=dialog.space(str(ws.knobs.device)), budget=budget, options=w.planner.options(),
            address=address, trust=ws.trust, shapes=ws.shapes, time_limit_s=TIME_LIMIT_S,
            json_file=process.json_file,
        )  # fmt: skip
        if self.rows is None:
            self.rows = ClusterRowsWidget()
        self.rows.reset([], total=0)
        self.rows.status.setText(f"On the cluster at {address}")
        self._measured = 0
        self.process = process
        self.source = ws.source
        process.row_finished.connect(self._on_process_row)
        process.finished.connect(functools.partial(self._on_process_finished, process, dialog))
        dialog.run_external(
            self.rows, process.cancel, f"Connecting to the cluster at {address} and shipping the model…"
        )
        process.start(arguments)

    def _on_process_row(self, row: RowProgress) -> None:
        self._measured += 1
        if self.rows is not None:
            self.rows.on_row(row, done=self._measured)
        if self.dialog is not None:
            where = f"done on {row.host} ({row.detail})" if row.ok else f"failed: {row.detail}"
            self.dialog.status.setText(f"[{self._measured}] {row.label}: {where}")

    def _on_process_finished(self, process: CliProcess, dialog: OptimizeDialog, outcome: CliOutcome) -> None:
        if process is not self.process:
            return
        self.process = None
        if self.rows is not None:
            self.rows.progress.setRange(0, 1)
            self.rows.progress.setValue(1)
            self.rows.progress.setFormat(f"{self._measured} measured on the cluster")
        result = None
        message = ""
        if outcome.document is not None and outcome.exit_code in (0, 130):
            from planner.optimize.result import OptimizeResult

            try:
                result = OptimizeResult.from_dict(outcome.document)
            except (ValueError, KeyError, TypeError) as exc:
                message = f"the search's document could not be read ({str(exc)[:160]})"
        elif outcome.cancelled:
            message = "cancelled before anything was measured"
        else:
            message = outcome.error or f"the command ended with exit code {outcome.exit_code}"
        dialog.show_outcome(result, message)
        if result is not None and outcome.cancelled:
            dialog.status.setText("Cancelled (the remote tasks too); " + dialog.status.text())

    def outcome_for(self, source: str | None, chosen_label: str | None) -> Any:
        """The finished search of `source` when the variant shown is its recommendation (or the
        baseline, when it recommends the baseline): what the report's page 1 then states."""
        d = self.dialog
        result = None if d is None or source is None or source != self.source else d.outcome
        if result is None or result.recommendation is None:
            return None
        rec, best = result.recommendation, result.recommended
        wanted = None if rec.is_baseline or best is None else best.variant.label()
        return result if chosen_label == wanted else None

    def _restore(self, variant: Variant) -> None:
        self._w.restore_variant(variant)
        self._w.raise_()

    def close(self) -> None:
        if self.process is not None and self.process.running():
            process = self.process
            process.cancel()
            if not process.process.waitForFinished(15000):
                process.kill()
        if self.dialog is not None:
            self.dialog.close()


def _labelled(source: str) -> bool:
    """A trained demo brings labelled held-out samples; the app passes no other samples."""
    if source.startswith("demo:"):
        from profiler.demos import TRAINED_DEMOS

        return source.split(":", 1)[1] in TRAINED_DEMOS
    return False
