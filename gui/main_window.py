"""The main window, "Tradeoff Studio": menus, the knobs, the deltas strip, the views, the status bar.

It wires plain data (the `Workspace`, `LayerData`) to widgets and to the `RunController`; it
never measures or loads torch itself. Every question to the user goes through `Prompts`
(tests replace it), every error becomes a dialog or a status message.

Code from a model file runs only by the user's choice. Formats that run code when loaded
(pickles, torch.export, TorchScript, Hugging Face custom code) are refused by the core without
trust (a failure whose `details` say `needs_trust`): the window then asks. A `.py` factory runs
when the user chose that file (File → Open, the command line, a drop); named by a project, the
autosave or the recent-files list, the window asks first. Trust lives in this session's
workspace only: never in a project, the autosave or the settings.

Names, paths and error messages are shown as plain text (gui/plain_text.py).
"""

from __future__ import annotations

import importlib.util
import re
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
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
from gui.models.layer_data import COL_LAT, COL_PARAMS, COL_PROJ, COL_SHARE, LayerData
from gui.models.workspace import Workspace
from gui.planner_panel import PlannerPanel
from gui.session import (
    AUTOSAVE_NAME,
    PROJECT_SUFFIX,
    AppSettings,
    ProjectError,
    data_dir,
    is_project_path,
    load_project,
    save_project,
)
from gui.widgets.deltas_strip import DeltasStrip
from gui.widgets.details import LayerDetailsWidget
from gui.widgets.dialogs import Prompts
from gui.widgets.knobs import KnobsWidget, applicability
from gui.widgets.layer_views import LayerHeatmapView, LayerTableView
from gui.widgets.telemetry import TelemetryStrip
from profiler.errors import StudioError
from profiler.result import Profile
from profiler.variant import Variant
from profiler.whatif import VariantResult

APP_TITLE = "Tradeoff Studio"
MODEL_FILTER = "Models (*.onnx *.pt2 *.pt *.pth *.ts *.ckpt *.bin *.py *.json);;All files (*)"
PROJECT_FILTER = f"Tradeoff projects (*{PROJECT_SUFFIX})"
LAYER_FLUSH_MS = 100  # per-layer latency bursts repaint at most 10 times a second
AUTOSAVE_DELAY_MS = 1500
#: How a model came to be opened: only "chosen" (File → Open, the command line, a drop, a demo)
#: is the user's own choice of the file; the others ask before a .py factory runs.
CHOSEN, PROJECT, AUTOSAVE, RECENT = "chosen", "project", "autosave", "recent"
FACTORY_NOTICE = ("Opening a .py file runs its Python code — the function that builds the model — on this "
                  "computer, with your permissions, as if you ran the file yourself. Open only files you trust.")
TAB_HEATMAP, TAB_TABLE, TAB_BATCH, TAB_ROOFLINE, TAB_VARIANTS, TAB_PLANNER = range(6)


class MainWindow(QMainWindow):
    """See the module docstring. `result_shown(VariantResult)` fires after a result is on screen."""

    result_shown = Signal(object)
    static_shown = Signal(object)
    model_failed = Signal(str)

    def __init__(self, controller: RunController | None = None, *, settings: AppSettings | None = None,
                 prompts: Prompts | None = None, autosave_dir: Path | None = None, catalog: Any = None) -> None:
        super().__init__()
        self.setWindowTitle(APP_TITLE)
        self.setObjectName("MainWindow")
        #: how the open model came to be opened (CHOSEN, PROJECT…) and the file that named it
        self._origin: tuple[str, str] = (CHOSEN, "")
        self._declined: Workspace | None = None  # the workspace whose code the user declined to run
        self._previous_open: tuple[Workspace, Path | None, tuple[str, str]] | None = None
        self.settings = settings or AppSettings()
        self.prompts = prompts or Prompts(self)
        self.autosave_path = (autosave_dir or data_dir()) / AUTOSAVE_NAME
        self.project_path: Path | None = None
        self.workspace = Workspace()
        self.layer_data = LayerData()
        self.controller = controller or RunController(parent=self)
        self.controller.setParent(self)
        self._opened_at = 0.0
        self._has_static = False
        self._restoring = False
        self._pending_layers = False

        self._build_views(catalog)
        self._build_menus()
        self._build_status_bar()
        self._connect()
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
        heat_split.addWidget(self.heatmap)
        heat_split.addWidget(self.details)
        heat_split.setStretchFactor(0, 3)
        heat_split.setStretchFactor(1, 1)
        heat_split.setSizes([760, 290])
        self.table = LayerTableView(self.layer_data)
        self.batch_chart = BatchChart()
        self.roofline_chart = RooflineChart()
        self.pareto_chart = ParetoChart()
        self.planner = PlannerPanel(catalog)

        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(heat_split, "Heatmap")
        self.tabs.addTab(self.table, "Layers")
        self.tabs.addTab(self.batch_chart, "Batch")
        self.tabs.addTab(self.roofline_chart, "Roofline")
        self.tabs.addTab(self.pareto_chart, "Variants")
        self.tabs.addTab(self.planner, "Planner")

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

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file = bar.addMenu("&File")
        self.open_action = QAction("&Open model…", self, shortcut=QKeySequence.StandardKey.Open)
        self.open_action.triggered.connect(self._on_open_action)
        file.addAction(self.open_action)
        demos = file.addMenu("Open &demo model")
        from profiler.demos import DEMO_NAMES, demo_spec

        for name in DEMO_NAMES:
            act = demos.addAction(f"{name} — {demo_spec(name).description}")
            act.triggered.connect(lambda _=False, n=name: self.open_model(f"demo:{n}"))
        self.recent_menu = QMenu("Open &recent", self)
        file.addMenu(self.recent_menu)
        self._fill_recent_menu()
        file.addSeparator()
        act = QAction("Open &project…", self, shortcut=QKeySequence("Ctrl+Shift+O"))
        act.triggered.connect(self._on_open_project_action)
        file.addAction(act)
        self.save_action = QAction("&Save project", self, shortcut=QKeySequence.StandardKey.Save)
        self.save_action.triggered.connect(self._on_save_action)
        file.addAction(self.save_action)
        act = QAction("Save project &as…", self, shortcut=QKeySequence("Ctrl+Shift+S"))
        act.triggered.connect(self._on_save_as_action)
        file.addAction(act)
        file.addSeparator()
        self.export_action = QAction("&Export report…", self, shortcut=QKeySequence("Ctrl+E"))
        if importlib.util.find_spec("gui.report") is not None and importlib.util.find_spec("gui.report.export") is not None:
            self.export_action.triggered.connect(self._on_export_action)
        else:
            self.export_action.setEnabled(False)
            self.export_action.setToolTip("The PDF report is not part of this build yet")
        file.addAction(self.export_action)
        act = QAction("Export &data (CSV, JSON)…", self)
        act.triggered.connect(lambda: self._run_report_tool("export_data_dialog"))
        file.addAction(act)
        file.addSeparator()
        act = QAction("&Record trace…", self, shortcut=QKeySequence("Ctrl+T"))
        act.setToolTip("Record a torch.profiler trace of the current variant for TensorBoard and Perfetto")
        act.triggered.connect(self._on_record_trace_action)
        file.addAction(act)
        self.tensorboard_action = QAction("Open in &TensorBoard…", self)
        self.tensorboard_action.triggered.connect(self._on_tensorboard_action)
        file.addAction(self.tensorboard_action)
        file.setToolTipsVisible(True)
        file.addSeparator()
        act = QAction("&Quit", self, shortcut=QKeySequence.StandardKey.Quit)
        act.triggered.connect(self.close)
        file.addAction(act)

        run = bar.addMenu("&Run")
        act = QAction("&Re-measure", self, shortcut=QKeySequence("F5"))
        act.triggered.connect(self._on_remeasure_action)
        run.addAction(act)
        self.cancel_action = QAction("&Cancel measurement", self, shortcut=QKeySequence("Esc"))
        self.cancel_action.triggered.connect(self._on_cancel_clicked)
        self.cancel_action.setEnabled(False)
        run.addAction(self.cancel_action)
        act = QAction("Back to &baseline", self, shortcut=QKeySequence("Ctrl+B"))
        act.triggered.connect(self.knobs.reset_button.click)
        run.addAction(act)

        view = bar.addMenu("&View")
        self.dark_action = QAction("&Dark theme", self, checkable=True, shortcut=QKeySequence("Ctrl+Shift+D"))
        self.dark_action.setChecked(self.settings.theme == "dark")
        self.dark_action.toggled.connect(self._on_dark_toggled)
        view.addAction(self.dark_action)
        for i, name in enumerate(("Heatmap", "Layers", "Batch", "Roofline", "Variants", "Planner")):
            act = QAction(name, self, shortcut=QKeySequence(f"Ctrl+{i + 1}"))
            act.triggered.connect(lambda _=False, k=i: self.tabs.setCurrentIndex(k))
            view.addAction(act)

        help_menu = bar.addMenu("&Help")
        act = help_menu.addAction("&About Tradeoff Studio")
        act.triggered.connect(self._on_about_action)

    def _build_status_bar(self) -> None:
        sb = self.statusBar()
        self.progress = QProgressBar(maximum=1000, textVisible=True)
        self.progress.setFixedWidth(180)
        self.progress.setFormat("%p %")
        self.progress.hide()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the measurement (Esc); the results on screen stay")
        self.cancel_button.hide()
        self.telemetry = TelemetryStrip(self.controller.worker_pid)
        sb.addPermanentWidget(self.progress)
        sb.addPermanentWidget(self.cancel_button)
        sb.addPermanentWidget(self.telemetry)
        self._layer_flush = QTimer(self, singleShot=True, interval=LAYER_FLUSH_MS)
        self._layer_flush.timeout.connect(self._flush_layers)
        self._autosave_timer = QTimer(self, singleShot=True, interval=AUTOSAVE_DELAY_MS)
        self._autosave_timer.timeout.connect(self.autosave)

    def _connect(self) -> None:
        c = self.controller
        c.run_started.connect(self._on_run_started)
        c.progress_changed.connect(self._on_run_progress)
        c.static_ready.connect(self._on_static_ready)
        c.layer_measured.connect(self._on_layer_measured)
        c.run_finished.connect(self._on_run_finished)
        c.run_failed.connect(self._on_run_failed)
        c.run_cancelled.connect(self._on_run_cancelled)
        c.busy_changed.connect(self._on_busy_changed)
        self.cancel_button.clicked.connect(self._on_cancel_clicked)
        self.knobs.variant_changed.connect(self._on_knobs_changed)
        for view in (self.heatmap, self.table):
            view.layer_selected.connect(self._on_layer_selected)
            view.prune_override_requested.connect(self._on_prune_override)
        self.pareto_chart.variant_clicked.connect(self.restore_variant)
        self.planner.plan_changed.connect(self._on_plan_changed)
        self.planner.target_changed.connect(self._on_target_changed)

    # == opening ===================================================================================

    def start(self, source: str, trust: bool = False) -> None:
        """First action after the window shows: offer the autosave after a crash, else open
        `source` (named on the command line: the user's choice; `trust` from --trust)."""
        crashed = self.settings.mark_running()
        if crashed and self.autosave_path.is_file():
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(self.autosave_path.stat().st_mtime))
            if self.prompts.ask_restore(when):
                if self.open_project(self.autosave_path, remember=False, origin=AUTOSAVE):
                    return
        if is_project_path(source):
            self.open_project(source)
        else:
            self.open_model(source, trust=trust)

    def open_model(self, source: str, *, trust: bool = False,
                   shapes: tuple[tuple[str | None, tuple[int, ...]], ...] = (), origin: str = CHOSEN) -> None:
        """Open `source` (a path or demo:NAME) and measure its baseline in the worker.

        `origin`: CHOSEN when the user picked this very file (File → Open, command line, drop);
        RECENT, PROJECT or AUTOSAVE otherwise, and then a .py factory asks before it runs."""
        problem = _quick_check(source)
        if problem:
            self._fail_open(source, problem)
            return
        if origin == CHOSEN and _is_factory(source):
            trust = True  # the user chose to open this Python file: running it is what that means
            self._factory_notice_once(source)
        self.controller.cancel()
        # Kept until the new model's first result arrives: a file that fails to open must not
        # cost the user the model they had.
        if self.workspace.results:
            self._previous_open = (self.workspace, self.project_path, self._origin)
        self.workspace = Workspace(source=source, trust=trust, shapes=tuple(shapes))
        self._origin = (origin, self._origin[1] if origin in (PROJECT, AUTOSAVE) else "")
        self.project_path = None
        self._has_static = False
        self._opened_at = time.perf_counter()
        self.controller.set_model(source, trust, tuple(shapes))
        self.knobs.set_variant(Variant())
        self.deltas.clear()
        self.details.show_hint()
        self.model_label.setText(_display_name(source))
        self.env_label.setText("opening…")
        self._update_title()
        self.statusBar().showMessage(f"Opening {source}…")
        if not self._request(Variant(), immediate=True):
            self._fail_open(source, f"{source}: not opened (its code was not trusted)")

    def open_project(self, path: str | Path, *, remember: bool = True, origin: str = PROJECT) -> bool:
        """Open a `.tradeoff` project: its stored results show without measuring. It never
        carries trust: a model that runs code asks again before it is measured."""
        try:
            ws, planner_state = load_project(path)
        except ProjectError as exc:
            self.prompts.error("Cannot open project", str(exc))
            return False
        if ws.source is None:
            self.prompts.error("Cannot open project", f"{path}: the project names no model")
            return False
        named_by = (origin, Path(path).name)
        if not ws.results and _is_factory(ws.source):
            # Nothing stored to show: opening means running the factory. Ask before anything changes.
            if not self._ask_trust(ws.source, _why(named_by)):
                self.prompts.error("Cannot open project", f"{path}: not opened (the code of {ws.source} was not trusted)")
                return False
            ws.trust = True
        self.controller.cancel()
        self._previous_open = None
        self._declined = None
        self.workspace = ws
        self._origin = named_by
        self.project_path = Path(path) if remember else None
        self.controller.set_model(ws.source, ws.trust, ws.shapes)
        self.model_label.setText(_display_name(ws.source))
        self.planner.set_state(planner_state)
        self._has_static = bool(ws.results)
        current = ws.current
        if current is not None:
            self._restoring = True
            try:
                self.knobs.set_variant(ws.knobs)
                self._apply_model_profile(current.profile or current.baseline)
                self._show_result(current)
            finally:
                self._restoring = False
            self.statusBar().showMessage(f"Opened project {path} ({len(ws.results)} variants)", 5000)
        else:
            self._request(Variant(), immediate=True)
        if remember:
            self._remember(str(path))
        self._update_title()
        return True

    def _fail_open(self, source: str, message: str) -> None:
        self._restore_previous_open()
        self.statusBar().showMessage(message, 10000)
        self.model_failed.emit(message)
        self.prompts.error("Cannot open model", message)

    def _restore_previous_open(self) -> None:
        """Back to the model that was open before a failed open, results and all."""
        previous = getattr(self, "_previous_open", None)
        if previous is None or self.workspace.results:
            return
        self._previous_open = None
        ws, project_path, self._origin = previous
        self.workspace = ws
        self.project_path = project_path
        assert ws.source is not None
        self.controller.set_model(ws.source, ws.trust, ws.shapes)
        self.model_label.setText(_display_name(ws.source))
        self.knobs.set_variant(ws.current.variant if ws.current is not None else Variant())
        self._update_title()
        if ws.current is not None:
            self._show_result(ws.current)

    def _remember(self, source: str) -> None:
        if source.startswith("demo:"):
            return
        self.settings.add_recent(source)
        self._fill_recent_menu()

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.settings.recent_files()
        for path in recent:
            act = self.recent_menu.addAction(plain_text.menu_text(path))
            if is_project_path(path):
                act.triggered.connect(lambda _=False, p=path: self.open_project(p))
            else:  # a list entry is not the user's choice of a file that runs code: a .py asks again
                act.triggered.connect(lambda _=False, p=path: self.open_model(p, origin=RECENT))
        if recent:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear list", self._on_clear_recent)
        self.recent_menu.setEnabled(bool(recent))

    def _on_clear_recent(self) -> None:
        self.settings.clear_recent()
        self._fill_recent_menu()

    # == run events ================================================================================

    def _on_run_started(self, _run_id: int, variant: Variant) -> None:
        self.statusBar().showMessage(f"Measuring {variant.label()}…")

    def _on_busy_changed(self, busy: bool) -> None:
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)
        self.cancel_action.setEnabled(busy)
        if busy:
            self.progress.setValue(0)

    def _on_run_progress(self, fraction: float, message: str) -> None:
        self.progress.setValue(int(1000 * max(0.0, min(1.0, fraction))))
        if message:
            self.progress.setToolTip(plain_text.tip(message))
            self.statusBar().showMessage(f"{message}…")

    def _on_static_ready(self, profile: Profile) -> None:
        if not self._has_static:
            self._has_static = True
            self._apply_model_profile(profile)
            self._remember(profile.model.source)
            self.statusBar().showMessage(
                f"Counted {len(profile.layers)} layers in {time.perf_counter() - self._opened_at:.1f} s; measuring…")
        self._show_profile_rows(profile)
        self.static_shown.emit(profile)

    def _apply_model_profile(self, profile: Profile | None) -> None:
        """What depends on the model, not the variant: the knobs that apply, the header."""
        if profile is None:
            return
        self.knobs.set_model(profile, cuda=self.telemetry.has_gpu)
        why = applicability(profile, self.telemetry.has_gpu)
        for view in (self.heatmap, self.table):
            view.override_reason = why.get("layer_prune")
        self.model_label.setText(f"{profile.model.name}")
        ins = ", ".join(f"{i.name} {'×'.join(map(str, i.shape))} {i.dtype}" for i in profile.inputs)
        self.env_label.setText(f"{profile.model.source} · {profile.model.format} · inputs {ins}")
        self.env_label.setToolTip(plain_text.tip(self.env_label.text()))

    def _show_profile_rows(self, profile: Profile) -> None:
        """Put `profile`'s rows in both layer views: a reset only when the layers differ."""
        same = self.layer_data.set_profile(profile)
        self._update_projection(profile, refresh=False)
        if same:
            self.heatmap.model.refresh_columns(COL_PARAMS, COL_SHARE)
            self.table.model.refresh_columns(COL_PARAMS, COL_SHARE)
        else:
            self.heatmap.reset()
            self.table.reset()

    def _on_layer_measured(self, name: str, latency_ms: float) -> None:
        if self.layer_data.set_latency(name, latency_ms) is not None and not self._layer_flush.isActive():
            self._layer_flush.start()

    def _flush_layers(self) -> None:
        """Repaint the latency and share columns once for a burst of layer events."""
        self.layer_data.recompute()
        self.heatmap.model.refresh_columns(COL_LAT, COL_SHARE)
        self.table.model.refresh_columns(COL_LAT, COL_SHARE)

    def _on_run_finished(self, result: VariantResult) -> None:
        self._previous_open = None  # the new model opened: nothing to go back to
        self.workspace.add(result)
        self.workspace.knobs = self.knobs.variant
        self._show_result(result)
        label = result.variant.label()
        took = ""
        self.statusBar().showMessage(f"Measured {label}{took}", 8000)
        self.schedule_autosave()

    def _show_result(self, result: VariantResult) -> None:
        profile = result.profile
        if profile is None:
            return
        self._layer_flush.stop()
        self._show_profile_rows(profile)
        # The rest on the next turn of the event loop: the rows repaint in between, so no
        # single turn holds the loop for the whole update (the heartbeat benchmark's stalls).
        self._pending_show = result
        QTimer.singleShot(0, lambda: self._finish_show(result))

    def _finish_show(self, result: VariantResult) -> None:
        if getattr(self, "_pending_show", None) is not result or result.profile is None:
            return  # a newer result is on its way
        self._pending_show = None
        self.planner.set_profile(result.profile)  # emits plan_changed → deltas
        self._update_deltas()
        self._update_charts()
        if self.details.layer:
            self._on_layer_selected(self.details.layer)
        self.result_shown.emit(result)

    def _on_run_failed(self, message: str, kind: str, exit_code: int) -> None:
        ws = self.workspace
        source = ws.source or ""
        details = getattr(self.controller, "failure_details", None) or {}
        if details.get("needs_trust") and not ws.trust:
            self._on_needs_trust(source, message)
            return
        if not ws.results:  # the model itself did not open
            missing = details.get("missing_dim")
            if isinstance(missing, dict):
                name = missing.get("input")
                name = str(name) if name is not None else None
                shape = self.prompts.ask_shape(name, message)
                if shape:
                    parsed = _parse_shape(shape)
                    if parsed is None:
                        self._fail_open(source, f"{shape!r} is not a shape like 1x3x224x224")
                        return
                    shapes = tuple(s for s in ws.shapes if s[0] != name) + ((name, parsed),)
                    self.open_model(source, trust=ws.trust, shapes=shapes, origin=self._origin[0])
                    return
            self._fail_open(source, message)
            return
        what = "The measurement process crashed" if kind == "crash" else "This variant could not be measured"
        self.statusBar().showMessage(f"{what}: {message} — the previous results are kept", 15000)
        self._restore_current_rows()
        if kind in ("crash", "memory", "timeout"):
            self.prompts.error(what, f"{message}\n\nThe previous results are kept; the next change starts a fresh worker.")

    def _on_needs_trust(self, source: str, message: str) -> None:
        """The core refused to load the model without trust (its code would run): ask once per open."""
        ws = self.workspace
        variant = self.controller.current_variant or Variant()
        if self._declined is not ws and self._ask_trust(source, _why(self._origin)):
            if not ws.results:
                self.open_model(source, trust=True, shapes=ws.shapes, origin=self._origin[0])
            else:  # a project's stored results are on screen: measure the variant asked for
                ws.trust = True
                self.controller.set_model(source, True, ws.shapes)
                self.controller.request(variant, immediate=True)
            return
        self._declined = ws
        if not ws.results:
            self._fail_open(source, f"{source}: not opened (the file was not trusted)")
        else:
            self.statusBar().showMessage(
                f"{variant.label()} not measured: {source} was not trusted (its code would run) — "
                "the stored results are kept", 15000)
            self._restore_current_rows()

    # == trust =====================================================================================

    def _ask_trust(self, source: str, why: str) -> bool:
        """The trust question, with `why` (the project or autosave that named the file)."""
        return bool(self.prompts.confirm_trust(source, why))

    def _may_run(self) -> bool:
        """Whether the open model may be loaded now. A .py factory that the user did not choose
        this session (a project, the autosave or a recent entry named it) asks first, once per open."""
        ws = self.workspace
        if ws.source is None or ws.trust or not _is_factory(ws.source):
            return True
        if self._declined is ws:
            return False
        if self._ask_trust(ws.source, _why(self._origin)):
            ws.trust = True
            self.controller.set_model(ws.source, True, ws.shapes)
            return True
        self._declined = ws
        return False

    def _request(self, variant: Variant, *, immediate: bool = False) -> bool:
        """Measure `variant` of the open model, if its code may run (`_may_run`); False if not."""
        if not self._may_run():
            self.statusBar().showMessage(
                f"Not measured: {self.workspace.source} runs Python code and was not trusted — reopen it to be asked again",
                15000)
            return False
        self.controller.request(variant, immediate=immediate)
        return True

    def _factory_notice_once(self, source: str) -> None:
        """The first .py factory the user opens: say once that opening it runs its code."""
        self.statusBar().showMessage(f"{_display_name(source)} is a Python file: opening it runs its code", 10000)
        if self.settings.factory_notice_shown:
            return
        self.settings.mark_factory_notice_shown()
        self.prompts.notice("Opening a Python file", FACTORY_NOTICE)

    def _on_run_cancelled(self) -> None:
        self.statusBar().showMessage("Measurement cancelled — showing the last measured variant", 5000)
        self._restore_current_rows()

    def _restore_current_rows(self) -> None:
        current = self.workspace.current
        if current is not None and current.profile is not None:
            self._show_profile_rows(current.profile)

    # == knobs =====================================================================================

    def _on_knobs_changed(self, variant: Variant) -> None:
        if self._restoring or self.workspace.source is None:
            return
        self.workspace.knobs = variant
        self._request(variant)
        self.schedule_autosave()

    def restore_variant(self, variant: Variant) -> None:
        """Show an explored variant again (from the Pareto chart): instant, from its stored result."""
        result = self.workspace.results.get(variant.key())
        self.knobs.set_variant(variant)
        self.workspace.knobs = variant
        if result is not None:
            self.controller.cancel()
            self.workspace.current_key = variant.key()
            self._show_result(result)
            self.statusBar().showMessage(f"Restored {variant.label()}", 5000)
        else:
            self._request(variant, immediate=True)

    def _on_prune_override(self, name: str, ratio: float) -> None:
        self.knobs.set_layer_override(name, ratio if ratio > 0 else None)
        for view in (self.heatmap, self.table):
            view.overrides = dict(self.knobs.variant.layer_prune)

    def _on_remeasure_action(self) -> None:
        if self.workspace.source:
            if self._declined is self.workspace:  # an explicit re-measure asks again
                self._declined = None
            self._request(self.knobs.variant, immediate=True)

    def _on_cancel_clicked(self) -> None:
        self.controller.cancel()

    # == derived views =============================================================================

    def _update_projection(self, profile: Profile | None, refresh: bool = True) -> None:
        projection = self.planner.projection(profile)
        self.layer_data.set_projection(self.planner.target_name if projection else "",
                                       self.planner.projected_layers(projection))
        if projection is not None:
            peak, bw = self.planner.roof(projection)
            self.roofline_chart.set_projection(f"{projection.accelerator} ({projection.precision}, batch {projection.batch})",
                                               peak, bw, list(projection.layers))
        else:
            self.roofline_chart.set_projection("", None, None, [])
        if refresh:
            self.heatmap.model.refresh_columns(COL_PROJ, COL_SHARE)
            self.table.model.refresh_columns(COL_PROJ, COL_SHARE)

    def _on_target_changed(self, _name: str) -> None:
        self._update_projection(self.layer_data.profile)
        if self.details.layer:
            self._on_layer_selected(self.details.layer)
        self.schedule_autosave()

    def _on_plan_changed(self, _plan: Any) -> None:
        self._update_deltas()
        self.schedule_autosave()

    def _update_deltas(self) -> None:
        current = self.workspace.current
        if current is None or current.profile is None:
            return
        ratios = self.workspace.deltas_of(current)
        usd = self.planner.cheapest_usd_per_million(current.profile)
        ref = self.workspace.reference
        ref_usd = usd if ref is None or ref is current.profile else self.planner.cheapest_usd_per_million(ref)
        usd_ratio = usd / ref_usd if usd is not None and ref_usd else None
        self.deltas.show_result(current.profile, ratios, usd, usd_ratio)

    def _update_charts(self) -> None:
        ws = self.workspace
        current = ws.current
        if current is not None:
            points = [(r.profile.config.batch, r.profile.totals.latency_ms.median) for r in ws.same_except_batch(current.variant)
                      if r.profile is not None and r.profile.totals.latency_ms is not None]
            self.batch_chart.set_points(points)
        entries = []
        for key, r in ws.results.items():
            p = r.profile
            if p is None or p.totals.latency_ms is None:
                continue
            entries.append({"key": key, "variant": r.variant, "label": r.variant.label(),
                            "latency_ms": p.totals.latency_ms.median,
                            "fidelity": r.fidelity.cosine if r.fidelity is not None else None,
                            "weight_bytes": p.totals.weight_bytes, "weights": theme.fmt_bytes(p.totals.weight_bytes)})
        self.pareto_chart.set_results(entries, ws.current_key)

    def _on_layer_selected(self, name: str) -> None:
        details = self.layer_data.details(name)
        if details is None:
            self.details.show_hint()
            return
        history = []
        for r in self.workspace.results.values():
            if r.profile is None:
                continue
            row = next((x for x in r.profile.layers if x.name == name), None)
            history.append((r.variant.label(), row))
        self.details.show_layer(details, self.planner.target_name, history)

    # == projects, autosave, settings ================================================================

    def planner_state(self) -> dict[str, Any]:
        return self.planner.state()

    def schedule_autosave(self) -> None:
        if self.workspace.source is not None:
            self._autosave_timer.start()

    def autosave(self) -> None:
        try:
            self.autosave_path.parent.mkdir(parents=True, exist_ok=True)
            save_project(self.autosave_path, self.workspace, self.planner_state())
        except (OSError, StudioError) as exc:
            detail = exc.problem if isinstance(exc, StudioError) else (exc.strerror or str(exc))
            self.statusBar().showMessage(f"Autosave failed: {detail}", 8000)

    def save_project(self, path: str | Path) -> bool:
        try:
            save_project(path, self.workspace, self.planner_state())
        except (OSError, StudioError) as exc:
            detail = exc.problem if isinstance(exc, StudioError) else (exc.strerror or str(exc))
            self.prompts.error("Cannot save project", f"{path}: {detail}")
            return False
        self.project_path = Path(path)
        self._remember(str(path))
        self._update_title()
        self.statusBar().showMessage(f"Saved {path}", 5000)
        return True

    def _on_save_action(self) -> None:
        if self.project_path is None:
            self._on_save_as_action()
        else:
            self.save_project(self.project_path)

    def _on_save_as_action(self) -> None:
        default = (self.workspace.source or "project").split(":")[-1]
        path, _ = QFileDialog.getSaveFileName(self, "Save project", Path(default).stem + PROJECT_SUFFIX, PROJECT_FILTER)
        if path:
            if not Path(path).suffix:
                path += PROJECT_SUFFIX
            self.save_project(path)

    def _on_open_action(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open model", "", MODEL_FILTER)
        if path:
            self._open_path(path)

    def _on_open_project_action(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open project", "", PROJECT_FILTER)
        if path:
            self.open_project(path)

    def _open_path(self, path: str) -> None:
        """A file the user chose (File → Open, a drop): a project by its `.tradeoff` extension
        only (a .json is a model, whatever it holds), else a model."""
        if is_project_path(path):
            self.open_project(path)
        else:
            self.open_model(path)

    def _on_export_action(self) -> None:
        try:
            from gui.report.export import export_report_dialog  # type: ignore[import-not-found]

            export_report_dialog(self)
        except Exception as exc:  # the report is another module: its failure must not take the app down
            self.prompts.error("Cannot export the report", f"{type(exc).__name__}: {exc}")

    def _run_report_tool(self, name: str, *args: object) -> object:
        """Call a function of gui.report.export; its failure is a message, never a crash."""
        try:
            import gui.report.export as export

            return getattr(export, name)(self, *args)
        except Exception as exc:
            self.prompts.error("Tradeoff Studio", f"{type(exc).__name__}: {exc}")
            return None

    def _on_record_trace_action(self) -> None:
        if self.workspace.source and not self._may_run():
            self.statusBar().showMessage(f"No trace: {self.workspace.source} runs Python code and was not trusted", 10000)
            return
        result = self._run_report_tool("record_trace_dialog")
        if result is not None:
            self._last_trace_logdir = str(getattr(result, "logdir", "") or "")

    def _on_tensorboard_action(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        logdir = getattr(self, "_last_trace_logdir", "") or QFileDialog.getExistingDirectory(self, "Trace log folder")
        if logdir:
            self._run_report_tool("open_in_tensorboard", logdir)

    def _on_about_action(self) -> None:
        from PySide6.QtWidgets import QMessageBox

        from profiler import __version__

        QMessageBox.about(self, "About Tradeoff Studio",
                          f"<b>Tradeoff Studio</b> {__version__}<br>Profiler and what-if cost planner for neural networks."
                          "<br><br>Measured figures come from this machine; GPU times and prices are projected.")

    def _on_dark_toggled(self, dark: bool) -> None:
        self.set_theme("dark" if dark else "light")

    def set_theme(self, name: str) -> None:
        app = QApplication.instance()
        if isinstance(app, QApplication):
            theme.apply_theme(app, name)
        self.settings.theme = name
        for chart in (self.batch_chart, self.roofline_chart, self.pareto_chart, self.planner.cost_chart):
            chart.restyle()
        self._update_charts()
        self.heatmap.view.viewport().update()
        self.table.view.viewport().update()
        if self.workspace.current is not None:
            self._update_deltas()

    def _update_title(self) -> None:
        name = self.project_path.name if self.project_path else _display_name(self.workspace.source or "")
        self.setWindowTitle(plain_text.window_title(f"{name} — {APP_TITLE}") if name else APP_TITLE)

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

    def report_context(self) -> dict[str, Any]:
        """What the PDF report needs: the workspace (model, variants, results), the plan, the
        planner inputs, the target's projection and the current layer figures."""
        current = self.workspace.current
        return {"workspace": self.workspace, "current": current, "plan": self.planner.plan,
                "planner_inputs": self.planner.state(), "target": self.planner.target_name,
                "projection": self.planner.projection(current.profile if current else None),
                "discount": self.planner.discount_fraction, "layer_data": self.layer_data}

    # == Qt events =================================================================================

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        urls = event.mimeData().urls()
        if urls and urls[0].isLocalFile():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        urls = event.mimeData().urls()
        if urls and urls[0].isLocalFile():
            event.acceptProposedAction()
            self._open_path(urls[0].toLocalFile())

    def closeEvent(self, event: QCloseEvent) -> None:
        qs = self.settings.qs
        qs.setValue("window/geometry", self.saveGeometry())
        qs.setValue("window/state", self.saveState())
        qs.setValue("window/split", self.main_split.saveState())
        if self.workspace.source is not None:
            self.autosave()
        self.telemetry.timer.stop()
        self.controller.close()
        self.settings.mark_clean_exit()
        super().closeEvent(event)


def _display_name(source: str) -> str:
    if source.startswith("demo:"):
        return source.split(":", 1)[1]
    return Path(source.split(":")[0]).name if source else ""


def _quick_check(source: str) -> str | None:
    """Problems the UI can see without loading anything (the worker finds the rest)."""
    if source.startswith("demo:") or not source:
        return None if source else "no model given"
    path = Path(re.sub(r"(\.py):[A-Za-z_][\w.]*$", r"\1", source))
    if not path.exists():
        return f"{source}: no such file"
    if path.is_file() and path.stat().st_size == 0:
        return f"{source}: the file is empty"
    return None


def _parse_shape(text: str) -> tuple[int, ...] | None:
    from profiler.errors import InputError
    from profiler.inputs import parse_shape

    try:
        return parse_shape(text)
    except InputError:
        return None


def _is_factory(source: str) -> bool:
    """A Python factory (`net.py` or `net.py:make`): opening it runs the file's code."""
    if source.startswith("demo:"):
        return False
    path = re.sub(r"(\.py):[A-Za-z_][\w.]*$", r"\1", source)
    return path.lower().endswith(".py")


def _why(origin: tuple[str, str]) -> str:
    """Why the trust question comes up again: the file was named by a project, the autosave or
    the recent list, and trust is never stored. "" when the user chose the file just now."""
    kind, name = origin
    if kind == PROJECT:
        return (f"The project {name} names this file. Projects never keep trust, so Tradeoff Studio asks "
                "before the file's code runs.")
    if kind == AUTOSAVE:
        return ("The session restored after a crash names this file. The autosave never keeps trust, so "
                "Tradeoff Studio asks before the file's code runs.")
    if kind == RECENT:
        return "You picked this file from the recent files list. Trust is never remembered, so Tradeoff Studio asks again."
    return ""
