"""The main window, "Tradeoff Studio": its layout and the parts it is made of.

The window lays out the knobs, the deltas strip, the views and the status bar, and holds the
plain state (`Workspace`, `LayerData`, gui/state/) the views show. What it does is in its parts:

- gui/window/menus.py — the menu bar and its actions;
- gui/window/opening.py — opening models and projects, trust and shape questions, recent files,
  saving, the autosave and restoring it after a crash;
- gui/window/results.py — run events, the layer views, deltas, charts and details, the knobs;
- gui/window/exporting.py — the PDF report, data export, trace and TensorBoard.
- gui/window/comparing.py — Run → Compare with…: the open model against a second one.
- gui/window/optimizing.py — Run → Optimize…: the cheapest variant that keeps a quality floor.
- gui/window/batch_sweep.py — Batch tab → Sweep batch: the variant shown at every batch.

It never measures or loads torch itself. Every question to the user goes through `Prompts`
(tests replace it), every error becomes a dialog or a status message. Names, paths and error
messages are shown as plain text (gui/plain_text.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, Qt, Signal
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QMainWindow,
    QMenu,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from gui import plain_text, theme
from gui.charts.batch_chart import BatchChart
from gui.charts.pareto_chart import ParetoChart
from gui.charts.roofline_chart import RooflineChart
from gui.controller import RunController
from gui.planner_panel import PlannerPanel
from gui.session import AppSettings, data_dir, instance_autosave_path, release_instance
from gui.state.layer_data import LayerData
from gui.state.workspace import Workspace
from gui.widgets.deltas_strip import DeltasStrip
from gui.widgets.details import LayerDetailsWidget
from gui.widgets.dialogs import Prompts
from gui.widgets.graph_view import GraphView
from gui.widgets.knobs import KnobsWidget
from gui.widgets.layer_filter import HeatmapPanel
from gui.widgets.layer_views import LayerHeatmapView, LayerTableView
from gui.widgets.operator_view import OperatorView
from gui.widgets.status_bar import StatusBar
from gui.widgets.telemetry import TelemetryStrip
from gui.window.batch_sweep import BatchSweep
from gui.window.comparing import Comparing
from gui.window.exporting import Exporting
from gui.window.menus import Menus
from gui.window.opening import CHOSEN, PROJECT, Opening, Shapes, display_name
from gui.window.optimizing import Optimizing
from gui.window.results import ResultsView
from profiler.variant import Variant

APP_TITLE = "Tradeoff Studio"
TAB_HEATMAP, TAB_TABLE, TAB_BATCH, TAB_ROOFLINE, TAB_VARIANTS, TAB_PLANNER = range(6)
TAB_GRAPH, TAB_OPERATORS = 6, 7


class MainWindow(QMainWindow):
    """See the module docstring. `result_shown(VariantResult)` fires after a result is on screen."""

    result_shown = Signal(object)
    static_shown = Signal(object)
    model_failed = Signal(str)

    def __init__(
        self,
        controller: RunController | None = None,
        *,
        settings: AppSettings | None = None,
        prompts: Prompts | None = None,
        autosave_dir: Path | None = None,
        catalog: Any = None,
    ) -> None:
        super().__init__()
        self.setWindowTitle(APP_TITLE)
        self.setObjectName("MainWindow")
        self.settings = settings or AppSettings()
        self.prompts = prompts or Prompts(self)
        self.autosave_path = instance_autosave_path(autosave_dir or data_dir())  # this instance's own
        self.project_path: Path | None = None
        self.workspace = Workspace()
        self.layer_data = LayerData()
        self.layer_data.reference_source = lambda: self.workspace.reference  # the Δ-vs-baseline columns
        self.controller = controller or RunController(parent=self)
        self.controller.setParent(self)

        self._build_views(catalog)
        self.opening = Opening(self)
        self.results_view = ResultsView(self)
        self.exporting = Exporting(self)
        self.comparing = Comparing(self)
        self.optimizing = Optimizing(self)
        self.batch_sweep = BatchSweep(self)
        self.menus = Menus(self)
        self._build_status_bar()
        self.results_view.connect()
        self.setAcceptDrops(True)
        self.resize(1366, 768)
        self._restore_layout()

    # == construction ==============================================================================

    def _build_views(self, catalog: Any) -> None:
        self.model_label = plain_text.label("No model", objectName="ModelTitle")
        self.model_label.setStyleSheet("font-size: 12pt; font-weight: 600;")
        self.env_label = plain_text.label("", objectName="Muted")
        # a long path (or a name made long on purpose) is cut at the window's edge, never widens it
        self.env_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        header = QHBoxLayout()
        header.addWidget(self.model_label)
        header.addSpacing(12)
        header.addWidget(self.env_label, 1)

        self.deltas = DeltasStrip()
        self.knobs = KnobsWidget()
        knob_scroll = QScrollArea()
        knob_scroll.setWidget(self.knobs)
        knob_scroll.setWidgetResizable(True)
        knob_scroll.setMinimumWidth(290)
        knob_scroll.setMaximumWidth(360)
        knob_scroll.setFrameShape(QScrollArea.Shape.NoFrame)

        self.heatmap = LayerHeatmapView(self.layer_data)
        self.details = LayerDetailsWidget()
        heat_split = QSplitter(Qt.Orientation.Horizontal)
        self.heatmap_panel = HeatmapPanel(self.heatmap, self.layer_data)  # hottest layers, filter box
        heat_split.addWidget(self.heatmap_panel)
        heat_split.addWidget(self.details)
        heat_split.setStretchFactor(0, 3)
        heat_split.setStretchFactor(1, 1)
        heat_split.setSizes([760, 290])
        self.table = LayerTableView(self.layer_data)
        self.heatmap_panel.link_table(self.table)
        self.graph_view = GraphView(self.layer_data)
        self.graph_view.watch(self.table.model)
        self.operators = OperatorView(self.layer_data)
        self.operators.watch(self.table.model)
        self.graph_view.layer_selected.connect(self._on_layer_selected)
        self.heatmap.layer_selected.connect(self.graph_view.select_layer)
        self.operators.type_activated.connect(self.heatmap_panel.set_filter_text)
        self.heatmap_panel.filter_changed.connect(self.operators.set_filter_text)
        self.batch_chart = BatchChart()
        self.roofline_chart = RooflineChart()
        self.pareto_chart = ParetoChart()
        self.planner = PlannerPanel(catalog)
        self.planner.use_input_store(self.settings)  # each model's planner inputs survive a restart

        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(heat_split, "Heatmap")
        self.tabs.addTab(self.table, "Layers")
        self.tabs.addTab(self.batch_chart, "Batch")
        self.tabs.addTab(self.roofline_chart, "Roofline")
        self.tabs.addTab(self.pareto_chart, "Variants")
        self.tabs.addTab(self.planner, "Planner")
        self.tabs.addTab(self.graph_view, "Graph")
        self.tabs.addTab(self.operators, "Operators")

        self.main_split = QSplitter(Qt.Orientation.Horizontal)
        self.main_split.setObjectName("MainSplit")
        self.main_split.addWidget(knob_scroll)
        self.main_split.addWidget(self.tabs)
        self.main_split.setStretchFactor(1, 1)
        self.main_split.setSizes([300, 1060])

        central = QWidget()
        lay = QVBoxLayout(central)
        lay.setContentsMargins(8, 6, 8, 4)
        lay.setSpacing(6)
        lay.addLayout(header)
        lay.addWidget(self.deltas)
        lay.addWidget(self.main_split, 1)
        self.setCentralWidget(central)

    def _build_status_bar(self) -> None:
        # messages cut with "…" before the telemetry instead of running into it (1280 px)
        self.setStatusBar(StatusBar(self))
        sb = self.statusBar()
        self.progress = QProgressBar(maximum=1000, textVisible=True)
        self.progress.setFixedWidth(300)  # room for the stage's name beside the percentage
        self.progress.setFormat("%p%")
        self.progress.hide()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the measurement (Esc); the results on screen stay")
        self.cancel_button.hide()
        self.telemetry = TelemetryStrip(self.controller.worker_pid)
        sb.addPermanentWidget(self.progress)
        sb.addPermanentWidget(self.cancel_button)
        sb.addPermanentWidget(self.telemetry)

    def _restore_layout(self) -> None:
        qs = self.settings.qs
        geometry = qs.value("window/geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        state = qs.value("window/state")
        if isinstance(state, QByteArray):
            self.restoreState(state)
        split = qs.value("window/split")
        if isinstance(split, QByteArray):
            self.main_split.restoreState(split)

    # == what the app, the tests and the report call ===============================================

    @property
    def recent_menu(self) -> QMenu:
        return self.menus.recent_menu

    def start(self, source: str, trust: bool = False) -> None:
        """First action after the window shows: offer the autosave after a crash, else open
        `source` (named on the command line: the user's choice; `trust` from --trust). A fresh
        user (no recent file, no autosave) also gets the Getting started page beside it."""
        qs = self.settings.qs
        # any autosave in the folder (this instance's, another's, the legacy one) means a past session
        autosaves = self.autosave_path.parent.glob("autosave*.tradeoff") if self.autosave_path.parent.is_dir() else ()
        fresh = not self.settings.recent_files() and not any(autosaves)
        fresh = fresh and str(qs.value("onboarding/welcome_shown", "false")).lower() != "true"
        self.opening.start(source, trust)
        if fresh:
            qs.setValue("onboarding/welcome_shown", "true")  # once; Help → Getting started reopens it
            self.menus.show_getting_started()

    def open_model(self, source: str, *, trust: bool = False, shapes: Shapes = (), origin: str = CHOSEN) -> None:
        """Open `source` (a path or demo:NAME) and measure its baseline in the worker.

        `origin`: CHOSEN when the user picked this very file (File → Open, command line, drop);
        RECENT, PROJECT or AUTOSAVE otherwise, and then a .py factory asks before it runs."""
        self.opening.open_model(source, trust=trust, shapes=shapes, origin=origin)

    def open_project(self, path: str | Path, *, remember: bool = True, origin: str = PROJECT) -> bool:
        """Open a `.tradeoff` project: its stored results show without measuring. It never
        carries trust: a model that runs code asks again before it is measured."""
        return self.opening.open_project(path, remember=remember, origin=origin)

    def save_project(self, path: str | Path) -> bool:
        return self.opening.save_project(path)

    def autosave(self) -> None:
        self.opening.autosave()

    def schedule_autosave(self) -> None:
        self.opening.schedule_autosave()

    def restore_variant(self, variant: Variant) -> None:
        """Show an explored variant again (from the Pareto chart): instant, from its stored result."""
        self.results_view.restore_variant(variant)

    def planner_state(self) -> dict[str, Any]:
        return self.planner.state()

    def report_context(self) -> dict[str, Any]:
        return self.exporting.report_context()

    def set_theme(self, name: str) -> None:
        app = QApplication.instance()
        if isinstance(app, QApplication):
            theme.apply_theme(app, name)
        self.settings.theme = name
        for chart in (self.batch_chart, self.roofline_chart, self.pareto_chart, self.planner.cost_chart):
            chart.restyle()
        self.results_view.update_charts()
        self.heatmap.view.viewport().update()
        self.table.view.viewport().update()
        self.graph_view.restyle()
        if self.workspace.current is not None:
            self.results_view.update_deltas()

    def update_title(self) -> None:
        name = self.project_path.name if self.project_path else display_name(self.workspace.source or "")
        self.setWindowTitle(plain_text.window_title(f"{name} — {APP_TITLE}") if name else APP_TITLE)

    # the entry points tests drive directly (the menus and views call the parts)
    def _open_path(self, path: str) -> None:
        self.opening.open_path(path)

    def _on_layer_selected(self, name: str) -> None:
        self.results_view.on_layer_selected(name)

    def _on_prune_override(self, name: str, ratio: float) -> None:
        self.results_view.on_prune_override(name, ratio)

    def _on_remeasure_action(self) -> None:
        self.results_view.remeasure()

    # == Qt events =================================================================================

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        urls = event.mimeData().urls()
        if urls and urls[0].isLocalFile():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        urls = event.mimeData().urls()
        if urls and urls[0].isLocalFile():
            event.acceptProposedAction()
            self.opening.open_path(urls[0].toLocalFile())

    def closeEvent(self, event: QCloseEvent) -> None:
        qs = self.settings.qs
        qs.setValue("window/geometry", self.saveGeometry())
        qs.setValue("window/state", self.saveState())
        qs.setValue("window/split", self.main_split.saveState())
        # a clean exit: nothing to restore, and another instance's start must not offer this one's
        self.opening.autosave_timer.stop()
        release_instance(self.autosave_path)
        self.telemetry.timer.stop()
        self.comparing.close()
        self.optimizing.close()
        self.batch_sweep.close()
        self.menus.measure_on.close()  # a connection test still running
        self.controller.close()
        self.settings.mark_clean_exit()
        super().closeEvent(event)
