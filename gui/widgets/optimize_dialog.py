"""Run → Optimize…: the cheapest variant that keeps the quality asked for, found by the same
search as `tradeoff optimize` (planner/optimize/), shown as it runs.

The dialog states the objective (the Planner tab's load and filters), takes the quality floor,
the space and the budget, and runs the search on a thread (`OptimizeThread`) that measures each
variant in a measurement worker of its own (tradeoff.worker_runs.VariantMeasurer): the model's
code never runs in the app. Every tried variant appears in the table and on the cost–quality
chart as it comes back; Cancel stops the search and keeps them. Any row can be restored in the
main window (its knobs set and measured there). Variant labels name layers of the model: they
are plain text everywhere.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QThread, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gui import plain_text
from gui.charts.base import brush, make_plot, pen
from planner.optimize.result import OptimizeResult, pareto_front, quality_text
from planner.optimize.space import Budget, QualityFloor, SearchSpace
from planner.optimize.trial import Trial
from profiler import units
from profiler.vocab import Precision, PruneMethod, Runtime

COLUMNS = ("#", "step", "variant", "quality", "cost", "fleet", "timed here", "keeps the floor")
FLOOR_KINDS = (
    ("accuracy", "Accuracy drop at most (points)"),
    ("cosine", "Output cosine at least"),
    ("top1", "Top-1 agreement at least (%)"),
)


class OptimizeThread(QThread):
    """Drives one search to its end off the GUI thread; results arrive as Qt signals."""

    asked = Signal(int, str, str)  # trial number, step, variant label
    told = Signal(object)  # Trial
    progressed = Signal(float, str)  # fraction of the current variant, message
    done = Signal(object)  # OptimizeResult, or None when nothing could be measured
    failed = Signal(str)  # one line

    def __init__(self, make_search: Callable[[], Any], measurer: Callable[..., Any], options: Any) -> None:
        super().__init__()
        self._make_search = make_search
        self._measurer = measurer
        self._options = options
        self._stop = False
        self.search: Any = None

    def stop(self) -> None:
        self._stop = True

    def run(self) -> None:
        from planner.optimize.run import drive, gather
        from profiler.errors import StudioError
        from profiler.events import Progress

        def on_event(event: Any) -> None:
            if isinstance(event, Progress):
                self.progressed.emit(float(event.fraction), str(event.message))

        try:
            self.search = search = self._make_search()
            with self._measurer(on_event=on_event, should_stop=lambda: self._stop) as m:

                def measure(variant: Any, timed: bool) -> Any:
                    result = m.measure(variant, timed)
                    return result

                def on_ask(ask: Any, n: int) -> None:
                    if search.trials:
                        self.told.emit(search.trials[-1])
                    self.asked.emit(n + 1, ask.phase, ask.variant.label())

                drive(search, measure, should_stop=lambda: self._stop, on_ask=on_ask)
            if search.trials:
                self.told.emit(search.trials[-1])
            if search.baseline_profile is None:
                first = search.trials[0].error if search.trials else "nothing ran"
                self.failed.emit(f"the baseline could not be measured: {first}")
                self.done.emit(None)
                return
            self.done.emit(gather(search, search.baseline_profile.model, self._options))
        except StudioError as exc:
            self.failed.emit(str(exc))
            self.done.emit(None)
        except Exception as exc:  # noqa: BLE001 — the dialog shows one line, the app goes on
            self.failed.emit(f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}")
            self.done.emit(None)


class OptimizeDialog(QDialog):
    """The search's inputs, its progress, the cost–quality chart and every trial."""

    restore_requested = Signal(object)  # Variant

    def __init__(
        self, *, model_name: str, objective: str, labelled: bool, torch_model: bool, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(plain_text.window_title(f"Optimize — {model_name}"))
        self.resize(1100, 720)
        self.labelled = labelled
        self.search_thread: OptimizeThread | None = None
        self.outcome: OptimizeResult | None = None
        self.trials: list[Trial] = []
        self.on_start: Callable[[], None] | None = None
        #: a search the window runs elsewhere (a Ray cluster, gui/window/cluster_runs.py): how to cancel it
        self.external_cancel: Callable[[], None] | None = None
        self.external_running = False
        self.measured_where = "here"  # "on the cluster" for a search run there

        form = QFormLayout()
        self.objective = plain_text.label(objective, objectName="Muted")
        self.objective.setWordWrap(True)
        form.addRow("Objective", self.objective)
        self.floor_kind = QComboBox()
        for key, text in FLOOR_KINDS:
            self.floor_kind.addItem(text, key)
        self.floor_value = QDoubleSpinBox(decimals=4)
        self.floor_kind.currentIndexChanged.connect(self._floor_kind_changed)
        self.floor_kind.setCurrentIndex(0 if labelled else 1)
        self._floor_kind_changed()
        if not labelled:  # accuracy needs labelled samples: a trained demo's, or the user's
            self.floor_kind.model().item(0).setEnabled(False)  # type: ignore[attr-defined]
        row = QHBoxLayout()
        row.addWidget(self.floor_kind)
        row.addWidget(self.floor_value)
        form.addRow("Quality floor", row)
        self.max_prune = QDoubleSpinBox(decimals=2, minimum=0.0, maximum=0.95, singleStep=0.05, value=0.7)
        self.max_prune.setEnabled(torch_model)
        self.overrides = _checkbox("per-layer ratios (protect sensitive layers)", torch_model)
        self.overrides.setEnabled(torch_model)
        row = QHBoxLayout()
        row.addWidget(self.max_prune)
        row.addWidget(self.overrides)
        form.addRow("Largest pruning ratio", row)
        self.recover_steps = QSpinBox(minimum=0, maximum=2000, singleStep=50, value=0)
        self.recover_steps.setSpecialValueText("off")
        self.recover_steps.setSuffix(" steps")
        self.recover_steps.setEnabled(torch_model and labelled)
        self.recover_steps.setToolTip(
            "After structured pruning, train each pruned variant this many steps towards the baseline's outputs "
            "(knowledge distillation) on two thirds of the model's samples; quality is measured on the other third. "
            "A few steps on a small sample is not a training run. Needs the model's own labelled samples (the trained demo)."
        )
        form.addRow("Recover pruned variants", self.recover_steps)
        self.precisions: dict[str, QCheckBox] = {}
        row = QHBoxLayout()
        for p in (Precision.FP32, Precision.FP16, Precision.BF16, Precision.INT8):
            box = _checkbox(str(p), p in (Precision.FP32, Precision.INT8))
            self.precisions[str(p)] = box
            row.addWidget(box)
        self.onnxruntime = _checkbox("also on ONNX Runtime", torch_model)
        self.onnxruntime.setEnabled(torch_model)
        row.addWidget(self.onnxruntime)
        form.addRow("Precisions", row)
        self.budget_min = QSpinBox(minimum=1, maximum=240, value=10, suffix=" min")
        self.budget_variants = QSpinBox(minimum=2, maximum=500, value=40, suffix=" variants")
        row = QHBoxLayout()
        row.addWidget(self.budget_min)
        row.addWidget(self.budget_variants)
        form.addRow("Budget (whichever first)", row)

        self.start_button = QPushButton("Start")
        self.start_button.setDefault(True)
        self.cancel_button = _button("Cancel", False)
        self.restore_button = _button("Restore in the main window", False)
        self.export_button = _button("Export JSON/CSV…", False)
        self.start_button.clicked.connect(self._start_clicked)
        self.cancel_button.clicked.connect(self.cancel)
        self.restore_button.clicked.connect(self._restore_clicked)
        self.export_button.clicked.connect(self._export_clicked)
        buttons = QHBoxLayout()
        for b in (self.start_button, self.cancel_button, self.restore_button, self.export_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        self.progress = QProgressBar(maximum=1000, textVisible=True)
        self.status = plain_text.label("", objectName="Muted")
        self.recommendation = plain_text.label("")
        self.recommendation.setWordWrap(True)

        self.plot = make_plot("Variants tried: projected cost vs measured quality", "cost", "quality")
        self.plot.addLegend(offset=(-10, -10))  # bottom right: dear and poor, where no point wants to be
        self.points_bad = pg.ScatterPlotItem(symbol="x", size=9, pen=pen("#999999", 1.5), name="below the floor")
        self.points_ok = pg.ScatterPlotItem(
            symbol="o", size=9, brush=brush("#3b82f6"), pen=pen("#1e40af", 1), name="keeps the floor"
        )
        self.front = pg.PlotDataItem(pen=pen("#3b82f6", 1.5), name="Pareto front")
        self.points_base = pg.ScatterPlotItem(
            symbol="s", size=12, brush=brush("#ffffff", 0), pen=pen("#111827", 2), name="baseline"
        )
        self.points_rec = pg.ScatterPlotItem(
            symbol="star", size=18, brush=brush("#f59e0b"), pen=pen("#92400e", 1), name="recommended"
        )
        self.plot.getViewBox().setDefaultPadding(0.08)
        for item in (self.front, self.points_bad, self.points_ok, self.points_base, self.points_rec):
            self.plot.addItem(item)
        self._labels: list[pg.TextItem] = []

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        for col in range(len(COLUMNS)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(lambda: self.restore_button.setEnabled(bool(self._selected())))
        self.table.doubleClicked.connect(self._restore_clicked)

        split = QSplitter()
        split.addWidget(self.plot)
        split.addWidget(self.table)
        split.setSizes([600, 600])
        self.split = split
        self.side_panel: QWidget | None = None
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addLayout(buttons)
        lay.addWidget(self.progress)
        lay.addWidget(self.status)
        lay.addWidget(self.recommendation)
        lay.addWidget(split, 1)

    # --- inputs -------------------------------------------------------------------------------

    def _floor_kind_changed(self) -> None:
        kind = self.floor_kind.currentData()
        if kind == "accuracy":
            self.floor_value.setRange(0.0, 100.0)
            self.floor_value.setDecimals(1)
            self.floor_value.setValue(1.0)
        elif kind == "cosine":
            self.floor_value.setRange(0.0, 1.0)
            self.floor_value.setDecimals(4)
            self.floor_value.setSingleStep(0.001)
            self.floor_value.setValue(0.99)
        else:
            self.floor_value.setRange(0.0, 100.0)
            self.floor_value.setDecimals(1)
            self.floor_value.setValue(99.0)

    def floor(self) -> QualityFloor:
        kind, value = self.floor_kind.currentData(), float(self.floor_value.value())
        if kind == "accuracy":
            return QualityFloor(max_accuracy_drop_pp=value)
        if kind == "cosine":
            return QualityFloor(min_cosine=value)
        return QualityFloor(min_top1_agreement=value / 100)

    def space(self, device: str = "cpu") -> SearchSpace:
        precisions = tuple(Precision(p) for p, box in self.precisions.items() if box.isChecked()) or (Precision.FP32,)
        runtimes: tuple[Runtime | None, ...] = (None, Runtime.ONNXRUNTIME) if self.onnxruntime.isChecked() else (None,)
        return SearchSpace(
            max_prune=round(float(self.max_prune.value()), 2) if self.max_prune.isEnabled() else 0.0,
            prune_methods=(PruneMethod.STRUCTURED,),
            precisions=precisions,
            runtimes=runtimes,
            layer_overrides=self.overrides.isChecked(),
            device=device,  # type: ignore[arg-type]
            recover_steps=self.recover_steps.value() or None if self.recover_steps.isEnabled() else None,
        )

    def budget(self) -> Budget:
        return Budget(seconds=60.0 * self.budget_min.value(), variants=self.budget_variants.value())

    # --- running ------------------------------------------------------------------------------

    def _start_clicked(self) -> None:
        if self.on_start is not None:
            self.on_start()

    def run_thread(self, thread: OptimizeThread) -> None:
        """Start `thread` (made by the window from this dialog's inputs) and follow it."""
        self.trials.clear()
        self.table.setRowCount(0)
        self.outcome = None
        self.recommendation.setText("")
        self._redraw()
        self.search_thread = thread
        self._set_where("here")
        if self.side_panel is not None:  # a cluster run's rows: this search runs here
            self.side_panel.hide()
        self.progress.setRange(0, 1000)
        thread.asked.connect(self._on_asked)
        thread.told.connect(self._on_told)
        thread.progressed.connect(self._on_progress)
        thread.done.connect(self._on_done)
        thread.failed.connect(self._on_failed)
        self.start_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.export_button.setEnabled(False)
        self._current = ""
        thread.start()

    def run_external(
        self, panel: QWidget, cancel: Callable[[], None], status: str, where: str = "on the cluster"
    ) -> None:
        """A search the window runs elsewhere (on a cluster): `panel` shows its rows beside the
        chart, `cancel` stops it; the window calls `show_outcome` (or `show_failure`) at the end."""
        self.trials.clear()
        self.table.setRowCount(0)
        self.outcome = None
        self.recommendation.setText("")
        self._redraw()
        if self.side_panel is not panel:
            if self.side_panel is not None:
                self.side_panel.hide()
            self.split.addWidget(panel)
            self.split.setSizes([470, 400, 330])
            self.side_panel = panel
        panel.show()
        self.external_cancel = cancel
        self.external_running = True
        self._set_where(where)
        self.start_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.export_button.setEnabled(False)
        self.progress.setRange(0, 0)  # busy: the search decides how many variants it measures
        self.status.setText(status)

    def _set_where(self, where: str) -> None:
        self.measured_where = where
        self.table.setHorizontalHeaderLabels([c.replace("here", where) for c in COLUMNS])

    def show_outcome(self, result: OptimizeResult | None, message: str = "") -> None:
        """The end of a search run elsewhere: its result (or None, and `message` saying why)."""
        self.external_running = False
        self.progress.setRange(0, 1000)
        if result is None and message:
            self._on_failed(message)
        self._on_done(result)

    def cancel(self) -> None:
        if self.external_running and self.external_cancel is not None:
            self.external_cancel()
            self.cancel_button.setEnabled(False)
            self.status.setText("Cancelling: the command line cancels the remote tasks (what was tried is kept)…")
            return
        if self.search_thread is not None and self.search_thread.isRunning():
            self.search_thread.stop()
            self.status.setText("Stopping after the variant being measured… (what was tried is kept)")

    def _on_asked(self, n: int, phase: str, label: str) -> None:
        self._current = f"[{n}] {phase}: {label}"
        self.status.setText(self._current)

    def _on_progress(self, fraction: float, message: str) -> None:
        self.progress.setValue(int(1000 * max(0.0, min(1.0, fraction))))
        self.progress.setFormat(f"{self._current[:60]} — {message[:40]} %p%")

    def _on_told(self, trial: Trial) -> None:
        if any(t.index == trial.index for t in self.trials):
            return
        self.trials.append(trial)
        self._add_row(trial)
        self._redraw()

    def _on_failed(self, message: str) -> None:
        self.status.setText("Optimize failed: " + message)

    def _on_done(self, result: OptimizeResult | None) -> None:
        self.start_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.progress.setValue(1000)
        self.progress.setFormat("done")
        if result is None:
            return
        self.outcome = result
        self.trials = list(result.trials)
        self.table.setRowCount(0)
        for t in self.trials:
            self._add_row(t)
        self._redraw()
        self.export_button.setEnabled(True)
        m = result.measurements
        self.status.setText(
            f"{len(result.trials)} variants tried ({m.screened} screened, {m.timed} timed, {m.failed} failed) in "
            f"{units.duration_s(m.seconds)}; stopped: {result.stopped_because}. Costs are projected by the planner; "
            f"quality and latency are measured {self.measured_where}."
        )
        rec, best = result.recommendation, result.recommended
        if rec is None or best is None:
            self.recommendation.setText("No recommendation: " + result.stopped_because)
            return
        base = result.baseline
        ref = None if base is None or base.fidelity is None else base.fidelity.accuracy
        latency = (
            ""
            if best.timed
            else f"\nNot timed {self.measured_where}: the search stopped before confirming it beside the baseline."
        )
        if best.latency_ratio is not None and not rec.is_baseline:
            lr = best.latency_ratio
            latency = (
                f"\nLatency {self.measured_where}: {lr.value:.3f}× the baseline's [{lr.ci_low:.3f}, {lr.ci_high:.3f}]"
                + ("" if lr.significant else " — no measurable change")
            )
        self.recommendation.setText(
            f"Recommendation: {rec.label}{' (the baseline)' if rec.is_baseline else ''} — {quality_text(best, ref)}\n"
            f"Why: {rec.why}\nBound by: {rec.bound}{latency}"
        )
        self._select_trial(rec.trial)

    # --- views --------------------------------------------------------------------------------

    def _add_row(self, t: Trial) -> None:
        r = self.table.rowCount()
        self.table.insertRow(r)
        c = t.cost
        basis = None if c is None else c.basis
        cells = (
            str(t.index),
            t.phase,
            t.label,
            quality_text(t) if t.error is None else "failed",
            "—" if c is None else units.usd(c.value, per="/month" if basis == "usd_per_month" else " /M"),
            "—" if c is None or c.instance is None else f"{c.instances or 1} × {c.instance}",
            "yes" if t.timed else "",
            "yes" if t.feasible else ("; ".join(t.why_not) or (t.error or "no"))[:120],
        )
        for col, text in enumerate(cells):
            item = QTableWidgetItem(text)  # a table item is never rich text
            item.setToolTip(plain_text.tip(t.error or text))
            self.table.setItem(r, col, item)

    def _redraw(self) -> None:
        for label in self._labels:
            self.plot.removeItem(label)
        self._labels.clear()
        ok = [t for t in self.trials if t.ok and t.quality is not None]
        accuracy = any(t.fidelity is not None and t.fidelity.accuracy is not None for t in ok)
        self.plot.setLabel("left", "accuracy (%)" if accuracy else "output cosine to the baseline")
        basis = ok[0].cost.basis if ok and ok[0].cost else "usd_per_month"
        self.plot.setLabel("bottom", "projected $ per month" if basis == "usd_per_month" else "projected $ per million")

        def xy(t: Trial) -> tuple[float, float]:
            assert t.cost is not None and t.cost.value is not None and t.quality is not None
            return t.cost.value, 100 * t.quality if accuracy else t.quality

        def spots(ts: list[Trial]) -> list[dict[str, Any]]:
            return [{"pos": xy(t), "data": t.index} for t in ts]

        ys = [xy(t)[1] for t in ok]
        if ys:  # a flat quality (every variant at 99.44 %) gets a readable span, not repeated ticks
            lo, hi = min(ys), max(ys)
            least = 1.0 if accuracy else 0.002
            if hi - lo < least:
                mid = (hi + lo) / 2
                self.plot.setYRange(mid - least, mid + least, padding=0.05)
            else:
                self.plot.enableAutoRange(axis="y")
        self.points_bad.setData(spots([t for t in ok if not t.feasible]))
        self.points_ok.setData(spots([t for t in ok if t.feasible]))
        front = [self.trials[i] for i in pareto_front(ok)] if ok else []
        front = [t for t in front if t.index < len(self.trials)]
        self.front.setData([xy(t)[0] for t in front], [xy(t)[1] for t in front])
        base = next((t for t in ok if t.phase == "baseline"), None)
        self.points_base.setData(spots([base]) if base is not None else [])
        rec = self.outcome.recommended if self.outcome is not None else None
        self.points_rec.setData(spots([rec]) if rec is not None and rec.ok else [])
        for k, t in enumerate(front[:8]):  # the front's points named (above, below in turn); the table has the rest
            item = pg.TextItem(_short(t.label), anchor=(0, 1) if k % 2 == 0 else (0, 0), color="#555555")
            item.setPos(*xy(t))
            self.plot.addItem(item)
            self._labels.append(item)

    def _selected(self) -> Trial | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        cell = self.table.item(rows[0].row(), 0)
        index = int(cell.text()) if cell is not None else -1
        return next((t for t in self.trials if t.index == index), None)

    def _select_trial(self, index: int) -> None:
        for r in range(self.table.rowCount()):
            cell = self.table.item(r, 0)
            if cell is not None and cell.text() == str(index):
                self.table.selectRow(r)
                return

    def _restore_clicked(self) -> None:
        t = self._selected()
        if t is not None:
            self.restore_requested.emit(t.variant)

    def _export_clicked(self) -> None:
        if self.outcome is None:
            return
        from planner.optimize.result import optimize_csv
        from profiler.safe_io import write_text_atomic

        path, _ = QFileDialog.getSaveFileName(self, "Export the search", "optimize.json", "JSON (*.json);;CSV (*.csv)")
        if not path:
            return
        text = (
            optimize_csv(self.outcome)
            if path.lower().endswith(".csv")
            else json.dumps(self.outcome.to_dict(), indent=2) + "\n"
        )
        try:
            write_text_atomic(path, text)
        except OSError as exc:
            plain_text.warning(self, "Export failed", f"{Path(path).name}: {exc.strerror or exc}")
            return
        self.status.setText(f"Exported to {path}")

    def closeEvent(self, event: Any) -> None:  # noqa: N802 — Qt's name
        if self.external_running and self.external_cancel is not None:
            self.external_cancel()
        if self.search_thread is not None and self.search_thread.isRunning():
            self.search_thread.stop()
            self.search_thread.wait(15000)
        super().closeEvent(event)


def _short(label: str, limit: int = 40) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _checkbox(text: str, checked: bool) -> QCheckBox:
    box = QCheckBox(text)
    box.setChecked(checked)
    return box


def _button(text: str, enabled: bool) -> QPushButton:
    button = QPushButton(text)
    button.setEnabled(enabled)
    return button
