"""The planner panel: target hardware, training and serving inputs, the ranked results, the
MFU / utilisation / price-discount sliders, and the catalog editor.

The planner is Qt-free and fast (≈ 6 ms per re-plan), so every input change re-plans at once
from the profile already measured: nothing is re-measured.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QSignalBlocker, QSortFilterProxyModel, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QSlider,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from gui import plain_text
from gui.charts.cost_chart import CostChart
from gui.models.catalog_table import OVERRIDES_FILE, CatalogTableModel
from gui.models.plan_table import SERVING_COLUMNS, TRAINING_COLUMNS, PlanTableModel
from gui.models.roles import RAW_ROLE
from gui.state.layer_data import ProjectedLayer
from planner.answer import caveats_of, recommendation
from planner.calibration_store import describe_cpu, load_stored_calibrations, resolve_calibration, uncertainty_of
from planner.catalog import Accelerator, Catalog, load_catalog, user_catalog_dir
from planner.efficiency_defaults import default_uncertainty, serving_efficiency
from planner.model_class import classify
from planner.options import DEFAULT_UTILIZATION, PlanOptions
from planner.plan import Plan, plan
from planner.roofline import Projection, make_target, project
from planner.serving_precision import choose_serving_precision
from planner.vocab import PeakPrecision
from planner.workload import Workload
from profiler import units
from profiler.errors import StudioError
from profiler.precision_share import share_caption
from profiler.result import Profile

DEFAULT_TARGET = "H100-SXM"
#: the target item for the CPU the profile was measured on (not a catalog row)
LOCAL_CPU = "local:cpu"


def _slider(lo: int, hi: int, value: int) -> QSlider:
    s = QSlider(Qt.Orientation.Horizontal)
    s.setRange(lo, hi)
    s.setValue(value)
    return s


def _with_label(slider: QSlider, label: QLabel) -> QWidget:
    w = QWidget()
    lay = QHBoxLayout(w)
    lay.setContentsMargins(0, 0, 0, 0)
    lay.addWidget(slider, 1)
    label.setMinimumWidth(70)
    label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    lay.addWidget(label)
    return w


#: the command line's option names in an error, as this panel labels the same inputs
_GUI_NAMES = {
    "--train-tokens": "Dataset (tokens)",
    "--train-samples": "Dataset (samples)",
    "--epochs": "Epochs",
    "--train-days": "Finish within",
    "--mfu": "MFU",
    "--serve-qps": "Load",
    "--slo-ms": "Latency objective",
    "--utilization": "Utilisation",
}
#: inputs that describe one model (its dataset and its load), not the user's hardware choice: they
#: never carry over to the next model (2e10 tokens of a language model are not an image model's)
PER_MODEL_INPUTS = (
    "train_size", "train_unit", "epochs", "mfu_percent", "train_days", "qps", "slo_ms", "serve_precision",
)  # fmt: skip
#: the serving precision choices (planner.serving_precision): label, value
SERVE_PRECISIONS = (
    ("auto (16-bit for its class)", "auto"),  # short: the inputs column is narrow at 1280×720
    ("as measured", "measured"),
    *((str(p), str(p)) for p in PeakPrecision),
)
#: inputs that only the training projection reads: a bad one must not blank the serving answer
_TRAINING_INPUTS = frozenset({"--train-tokens", "--train-samples", "--epochs", "--mfu", "--train-days"})


def in_gui_words(exc: StudioError) -> str:
    """The planner's error as this panel names things ("Dataset (tokens): …", not "--train-tokens")."""
    text = f"{exc.file}: {exc.problem}" if exc.file in _GUI_NAMES else str(exc.problem)
    for flag, label in _GUI_NAMES.items():
        text = text.replace(f"use {flag}", f"use {label}").replace(flag, label)
    return text


def _parse_number(text: str) -> float | None:
    t = text.strip().replace(",", "").replace("_", "")
    if not t:
        return None
    mult = {"k": 1e3, "m": 1e6, "b": 1e9, "g": 1e9, "t": 1e12}.get(t[-1].lower())
    try:
        return float(t[:-1]) * mult if mult else float(t)
    except ValueError:
        return None


#: the widest a column of the ranked tables grows to fit its values (the rest is cut with "…")
MAX_COLUMN_PX = 200


def fit_columns(view: QTableView) -> None:
    """Each column as wide as its header and its values, at most MAX_COLUMN_PX (the last stretches).
    Cells and headers cut there carry their whole text in the tooltip (gui/models/plan_table.py)."""
    header = view.horizontalHeader()
    model = view.model()
    last = model.columnCount() - 1
    for col in range(last):
        view.resizeColumnToContents(col)
        wanted = max(header.sectionSize(col), header.sectionSizeHint(col))
        header.resizeSection(col, min(wanted, MAX_COLUMN_PX))


class PlannerPanel(QWidget):
    """See the module docstring. Signals: `plan_changed(Plan | None)`, `target_changed(str)`."""

    plan_changed = Signal(object)
    target_changed = Signal(str)

    def __init__(self, catalog: Catalog | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.catalog = catalog or load_catalog()
        self.profile: Profile | None = None
        self.plan: Plan | None = None
        self.error: str | None = None

        # -- inputs -------------------------------------------------------------------------
        self.target = QComboBox()
        # this machine: its projection uses the calibration its own measurements stored
        self.target.addItem("This machine's CPU (calibrated by your runs)", LOCAL_CPU)
        for acc in self.catalog.accelerators:
            if acc.projectable:
                self.target.addItem(f"{acc.name}  ({acc.memory_gb:g} GB)" if acc.memory_gb else acc.name, acc.name)
        i = self.target.findData(DEFAULT_TARGET)
        self.target.setCurrentIndex(max(0, i))
        self.target.setToolTip("The accelerator the heatmap's projected latency and the roofline use")
        self.only_target = QCheckBox("Rank only this accelerator")

        self.train_size = QLineEdit(placeholderText="e.g. 1.2M or 2e12")
        self.train_size.setToolTip("Training set size; suffixes k, M, B/G, T accepted")
        self.train_unit = QComboBox()
        self.train_unit.addItem("samples", "samples")
        self.train_unit.addItem("tokens", "tokens")
        self.epochs = QDoubleSpinBox(minimum=0.1, maximum=10000, value=1.0, decimals=1, singleStep=1.0)
        self.train_days = QDoubleSpinBox(minimum=0.0, maximum=3650.0, value=0.0, decimals=0, singleStep=7.0)
        self.train_days.setSuffix(" days")
        self.train_days.setSpecialValueText("no limit")
        self.train_days.setToolTip(
            "Finish training within this many days: each instance type is scaled out to the fewest instances "
            "that do (no limit: one instance, or the fewest GPUs that hold the model)"
        )
        self.mfu = _slider(0, 80, 0)
        self.mfu_label = QLabel()
        self.mfu.setToolTip("Model FLOPs utilisation; leftmost = the planner's default per accelerator class")

        self.qps = QDoubleSpinBox(minimum=0.0, maximum=1e7, value=100.0, decimals=1, singleStep=10.0, suffix=" req/s")
        self.qps.setSpecialValueText("none")
        self.slo = QDoubleSpinBox(minimum=0.0, maximum=1e6, value=0.0, decimals=1, singleStep=10.0, suffix=" ms")
        self.slo.setSpecialValueText("none")
        self.slo.setToolTip("Latency objective per request (none: any latency)")
        self.serve_precision = QComboBox()
        for label, value in SERVE_PRECISIONS:
            self.serve_precision.addItem(label, value)
        self.serve_precision.setToolTip(
            "Precision the serving cost is projected at. auto: bf16 for transformers and LLMs, fp16 for the rest "
            "(each accelerator's nearest); a measured int8 variant keeps its int8 layers. Works for meta-device "
            "models too: nothing is re-measured."
        )
        self.util = _slider(5, 100, round(DEFAULT_UTILIZATION * 100))
        self.util_label = QLabel()
        self.discount = _slider(0, 80, 0)
        self.discount_label = QLabel()
        self.discount.setToolTip("Negotiated or committed-use discount applied to every catalog price")

        hw = QGroupBox("Target hardware")
        f = QFormLayout(hw)
        f.addRow("Accelerator", self.target)
        f.addRow("", self.only_target)
        # what the target's projection rests on: "calibrated on 3 runs on A100-80GB (±8 %)"
        self.calibration_note = plain_text.label("", objectName="Muted")
        self.calibration_note.setWordWrap(True)
        f.addRow("", self.calibration_note)
        tr = QGroupBox("Training")
        f = QFormLayout(tr)
        size_row = QWidget()
        sl = QHBoxLayout(size_row)
        sl.setContentsMargins(0, 0, 0, 0)
        sl.addWidget(self.train_size, 1)
        sl.addWidget(self.train_unit)
        f.addRow("Dataset", size_row)
        f.addRow("Epochs", self.epochs)
        f.addRow("MFU", _with_label(self.mfu, self.mfu_label))
        f.addRow("Finish within", self.train_days)
        sv = QGroupBox("Serving")
        f = QFormLayout(sv)
        f.addRow("Load", self.qps)
        f.addRow("Latency objective", self.slo)
        f.addRow("Serve at", self.serve_precision)
        f.addRow("Utilisation", _with_label(self.util, self.util_label))
        pr = QGroupBox("Prices")
        f = QFormLayout(pr)
        f.addRow("Discount", _with_label(self.discount, self.discount_label))
        from PySide6.QtWidgets import QPushButton

        self.edit_catalog = QPushButton("Edit catalog prices…")
        f.addRow("", self.edit_catalog)
        self.catalog_note = plain_text.label(f"Catalog as of {self.catalog.as_of}", objectName="Muted")
        f.addRow("", self.catalog_note)

        inputs = QWidget()
        il = QVBoxLayout(inputs)
        il.setContentsMargins(0, 0, 0, 0)
        for box in (hw, tr, sv, pr):
            il.addWidget(box)
        il.addStretch(1)
        inputs.setMinimumWidth(280)
        inputs.setMaximumWidth(340)  # at 1280×720 the ranked tables and the cost chart need the room

        # -- results ------------------------------------------------------------------------
        self.serving_model = PlanTableModel(SERVING_COLUMNS, self)
        self.training_model = PlanTableModel(TRAINING_COLUMNS, self)
        self.serving_view = self._table(self.serving_model)
        self.training_view = self._table(self.training_model)
        self.results_tabs = QTabWidget()
        self.results_tabs.addTab(self.serving_view, "Serving")
        self.results_tabs.addTab(self.training_view, "Training")
        self.summary = plain_text.label("", objectName="Muted")  # error messages name files: plain text
        self.summary.setWordWrap(True)
        self.cost_chart = CostChart()
        right = QSplitter(Qt.Orientation.Vertical)
        top = QWidget()
        tl = QVBoxLayout(top)
        tl.setContentsMargins(0, 0, 0, 0)
        tl.addWidget(self.summary)
        tl.addWidget(self.results_tabs, 1)
        right.addWidget(top)
        right.addWidget(self.cost_chart)
        right.setSizes([300, 300])

        lay = QHBoxLayout(self)
        lay.addWidget(inputs)
        lay.addWidget(right, 1)

        self._replan_timer = QTimer(self, singleShot=True, interval=0)  # coalesce a burst of input signals
        self._replan_timer.timeout.connect(self.replan)
        for s in (self.mfu, self.util, self.discount):
            s.valueChanged.connect(self._on_input_changed)
        for w in (self.qps, self.slo, self.epochs, self.train_days):
            w.valueChanged.connect(self._on_input_changed)
        self.train_size.editingFinished.connect(self._on_input_changed)
        self.train_unit.currentIndexChanged.connect(self._on_input_changed)
        self.serve_precision.currentIndexChanged.connect(self._on_input_changed)
        self.only_target.toggled.connect(self._on_input_changed)
        self.target.currentIndexChanged.connect(self._on_target_changed)
        self.edit_catalog.clicked.connect(self._on_edit_catalog_clicked)
        # a model's own inputs (its dataset, its load), remembered per model source this session
        self._defaults = {k: v for k, v in self.state().items() if k in PER_MODEL_INPUTS}
        self._per_model: dict[str, dict[str, Any]] = {}
        self._source: str | None = None
        self._store: Any = None
        self._update_labels()

    def _table(self, model: PlanTableModel) -> QTableView:
        proxy = QSortFilterProxyModel(self)
        proxy.setSourceModel(model)
        proxy.setSortRole(RAW_ROLE)
        view = QTableView()
        view.setModel(proxy)
        view.setSortingEnabled(True)
        view.sortByColumn(-1, Qt.SortOrder.AscendingOrder)
        view.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        view.verticalHeader().setDefaultSectionSize(22)
        view.setWordWrap(False)
        view.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # a cut instance name keeps both ends
        header = view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setDefaultSectionSize(76)
        header.resizeSection(0, 170)  # instance names are the longest cells
        header.setStretchLastSection(True)
        header.setTextElideMode(Qt.TextElideMode.ElideRight)
        # every column as wide as its header and values (capped); what a cap cuts shows on hover
        for sig in (model.modelReset, model.dataChanged, model.layoutChanged):
            sig.connect(lambda *_, v=view: fit_columns(v))
        fit_columns(view)
        return view

    # -- inputs -----------------------------------------------------------------------------------

    @property
    def target_name(self) -> str:
        return str(self.target.currentData() or "")

    @property
    def discount_fraction(self) -> float:
        return self.discount.value() / 100.0

    def options(self) -> PlanOptions:
        size = _parse_number(self.train_size.text())
        tokens = self.train_unit.currentData() == "tokens"
        return PlanOptions(
            train_tokens=size if size and tokens else None,
            train_samples=size if size and not tokens else None,
            epochs=self.epochs.value(),
            mfu=self.mfu.value() / 100.0 if self.mfu.value() > 0 else None,
            train_days=self.train_days.value() or None,
            gpus=(self.target_name,)
            if self.only_target.isChecked() and self.target_name and self.target_name != LOCAL_CPU
            else (),
            serve_qps=self.qps.value() or None,
            slo_ms=self.slo.value() or None,
            utilization=self.util.value() / 100.0,
            precision=self._asked_precision(),
            serve_as_measured=self.serve_precision.currentData() == "measured",
            # the discount is in the plan itself, so every figure the app shows is the planner's
            price_discount=self.discount_fraction,
        )

    def _asked_precision(self) -> PeakPrecision | None:
        value = self.serve_precision.currentData()
        return None if value in (None, "auto", "measured") else PeakPrecision(value)

    def state(self) -> dict[str, Any]:
        """The inputs, for the project file."""
        return {
            "target": self.target_name,
            "only_target": self.only_target.isChecked(),
            "train_size": self.train_size.text(),
            "train_unit": self.train_unit.currentData(),
            "epochs": self.epochs.value(),
            "mfu_percent": self.mfu.value(),
            "train_days": self.train_days.value(),
            "qps": self.qps.value(),
            "slo_ms": self.slo.value(),
            "serve_precision": self.serve_precision.currentData(),
            "utilization_percent": self.util.value(),
            "discount_percent": self.discount.value(),
            # every model's own inputs this panel knows, so a project reopens them as they were
            "per_model": dict(getattr(self, "_per_model", {})),
        }

    def switch_model(self, previous: str | None, source: str | None) -> None:
        """Keep `previous` model's own inputs and show `source`'s: what it had when last open
        (this session, a project, or an earlier session through `input_store`), else the
        defaults. The accelerator, utilisation and discount stay as they are."""
        if previous:
            self._remember(previous)
        self._source = source
        state = self.state()
        self.set_state({**state, **self._per_model.get(source or "", self._defaults)})

    def use_input_store(self, store: Any) -> None:
        """Remember each model's inputs across sessions (`gui.session.AppSettings`)."""
        self._store = store
        for source, inputs in store.planner_inputs().items():
            self._per_model.setdefault(source, {k: v for k, v in inputs.items() if k in PER_MODEL_INPUTS})

    def _remember(self, source: str | None) -> None:
        if not source:
            return
        state = self.state()
        self._per_model.pop(source, None)  # re-insert: the most recent last
        self._per_model[source] = {k: state[k] for k in PER_MODEL_INPUTS}
        if self._store is not None:
            self._store.set_planner_inputs(self._per_model)

    def set_state(self, d: dict[str, Any]) -> None:
        blockers = [
            QSignalBlocker(w)
            for w in (
                self.target,
                self.only_target,
                self.train_size,
                self.train_unit,
                self.epochs,
                self.mfu,
                self.train_days,
                self.qps,
                self.slo,
                self.serve_precision,
                self.util,
                self.discount,
            )
        ]
        try:
            per_model = d.get("per_model")
            if isinstance(per_model, dict):
                for source, inputs in per_model.items():
                    if isinstance(inputs, dict):
                        self._per_model[str(source)] = {k: v for k, v in inputs.items() if k in PER_MODEL_INPUTS}
            if d.get("target"):
                i = self.target.findData(d["target"])
                if i >= 0:
                    self.target.setCurrentIndex(i)
            self.only_target.setChecked(bool(d.get("only_target", False)))
            self.train_size.setText(str(d.get("train_size", "")))
            i = self.train_unit.findData(d.get("train_unit", "samples"))
            self.train_unit.setCurrentIndex(max(0, i))
            self.epochs.setValue(float(d.get("epochs", 1.0)))
            self.mfu.setValue(int(d.get("mfu_percent", 0)))
            self.train_days.setValue(float(d.get("train_days", 0.0)))
            self.qps.setValue(float(d.get("qps", 100.0)))
            self.slo.setValue(float(d.get("slo_ms", 0.0)))
            self.serve_precision.setCurrentIndex(
                max(0, self.serve_precision.findData(d.get("serve_precision", "auto")))
            )
            self.util.setValue(int(d.get("utilization_percent", round(DEFAULT_UTILIZATION * 100))))
            self.discount.setValue(int(d.get("discount_percent", 0)))
        except (TypeError, ValueError):
            pass  # a hand-edited project with odd values keeps the defaults for those
        finally:
            del blockers
        self._update_labels()
        self.replan()
        self.target_changed.emit(self.target_name)

    def _update_labels(self) -> None:
        self.mfu_label.setText("class default" if self.mfu.value() == 0 else f"{self.mfu.value()}%")
        self.util_label.setText(f"{self.util.value()}%")
        self.discount_label.setText(f"{self.discount.value()}%")

    def _on_input_changed(self, *_: Any) -> None:
        self._update_labels()
        self._remember(self._source)
        self._replan_timer.start()

    def _on_target_changed(self, _index: int) -> None:
        self._on_input_changed()
        self.target_changed.emit(self.target_name)

    # -- planning ---------------------------------------------------------------------------------

    def set_profile(self, profile: Profile | None) -> None:
        self.profile = profile
        self.replan()

    def replan(self) -> None:
        self.plan, self.error = self._plan(self.profile)
        d = 0.0  # the plan's prices already carry the discount (PlanOptions.price_discount)
        if self.plan is None:
            self.serving_model.set_rows([], d)
            self.training_model.set_rows([], d)
            self.cost_chart.set_options([], d)
            self.summary.setText(self.error or "Open a model to plan its cost.")
        else:
            self.serving_model.set_rows(list(self.plan.inference.options), d)
            self.training_model.set_rows(list(self.plan.training.options) if self.plan.training else [], d)
            self.cost_chart.set_options(list(self.plan.inference.options), d)
            self.summary.setText(self._summary() + (f" · {self.error}" if self.error else ""))
            basis = (
                f"ranked by $ / month at {units.number(self.qps.value())} req/s"
                if self.qps.value()
                else f"ranked by $ / M inferences at {self.util.value()} % utilisation"
            )
            self.results_tabs.setTabText(0, f"Serving ({basis})")
        self.plan_changed.emit(self.plan)

    def _plan(self, profile: Profile | None) -> tuple[Plan | None, str | None]:
        """The plan and, when something could not be projected, why (in this panel's words)."""
        if profile is None:
            return None, None
        options = self.options()
        try:
            return plan(profile, options, self.catalog), None
        except StudioError as exc:
            if exc.file not in _TRAINING_INPUTS:
                return None, f"Cannot plan: {in_gui_words(exc)}"
            why = f"Training not projected: {in_gui_words(exc)}"
            try:  # the serving answer does not depend on the training inputs: keep it
                serving_only = replace(options, train_tokens=None, train_samples=None, epochs=1.0, mfu=None)
                return plan(profile, serving_only, self.catalog), why
            except (StudioError, ValueError):
                return None, why
        except ValueError as exc:
            return None, f"Cannot plan: {exc}"

    def serving_cost(self, profile: Profile | None) -> float | None:
        """The answer's serving cost for `profile`: $ per month at the load when one is set, else $
        per million inferences (`serving_cost_title` says which); None when nothing can serve it."""
        p = self.plan if profile is self.profile else self._plan(profile)[0]
        if p is None or p.answer is None or p.answer.serving is None:
            return None
        a = p.answer.serving
        return a.usd_per_month if self.qps.value() else a.usd_per_million

    @property
    def serving_cost_title(self) -> str:
        return f"$ / month at {units.number(self.qps.value())} req/s" if self.qps.value() else "$ / M inferences"

    def set_reference(self, profile: Profile | None, label: str | None = None) -> None:
        """The baseline the recommendation compares the current profile with (None: no comparison)."""
        self._reference = (profile, label)
        if self.plan is not None:
            self.summary.setText(self._summary() + (f" · {self.error}" if self.error else ""))

    def precision_share_caption(self, profile: Profile | None) -> str | None:
        """'int8 on 0.028% of MACs' when `profile` has int8 layers (the cost projection runs only
        those at int8), None for a float variant."""
        return None if profile is None else share_caption(profile)

    def _summary(self) -> str:
        """The recommendation (planner.answer): the same sentence the CLI and the PDF lead with."""
        p = self.plan
        assert p is not None and self.profile is not None
        ref, label = getattr(self, "_reference", (None, None))
        baseline = None
        if ref is not None and ref is not self.profile:
            ref_plan = self._plan(ref)[0]
            baseline = None if ref_plan is None else ref_plan.answer
        text = recommendation(
            baseline if baseline is not None else p.answer,
            p.answer if baseline is not None else None,
            label,
            caveats_of(self.profile),
            sep="\n",
        )
        if p.assumptions.get("quantized_mac_share") is not None and p.assumptions.get("precision_share"):
            text += f" Projected with {p.assumptions['precision_share']}."
        return text

    # -- projection on the target ------------------------------------------------------------------

    def _target_accelerator(self, profile: Profile | None) -> Accelerator | None:
        """The catalog row of the chosen target, or this machine's CPU as the profile saw it."""
        if self.target_name != LOCAL_CPU:
            return self.catalog.accelerator(self.target_name)
        if profile is None or profile.environment is None or not profile.environment.cpu:
            return None
        return describe_cpu(profile.environment, profile.config.threads, self.catalog)

    def projection(self, profile: Profile | None) -> Projection | None:
        """Per-layer roofline projection of `profile` on the target accelerator (None if impossible).
        `projection_label` then names the target and the projection's uncertainty band."""
        self._projection_label = self._projection_short = ""
        self.calibration_note.setText("")
        if profile is None:
            return None
        acc = self._target_accelerator(profile)
        if acc is None:
            return None
        try:
            # as the plan projects it: the same precision choice and the model class's efficiencies
            wl = Workload.from_profile(profile)
            kind = classify(profile)
            local = self.target_name == LOCAL_CPU
            if local:  # this CPU runs the model as measured: its own precision, its own calibration
                chosen = choose_serving_precision(wl, kind.model_class, None, as_measured=True)
            else:
                chosen = choose_serving_precision(
                    wl, kind.model_class, self._asked_precision(), self.serve_precision.currentData() == "measured"
                )
            efficiency = serving_efficiency(str(kind.model_class), acc.accelerator_class)
            stored = load_stored_calibrations()
            calibration = resolve_calibration(None, stored, acc, chosen.precision)
            target = make_target(
                acc, chosen.precision, efficiency=efficiency, calibration=calibration,
                float_precision=chosen.float_precision,
            )  # fmt: skip
            if target is None:
                return None
            default, default_basis = default_uncertainty(str(kind.model_class), acc.accelerator_class)
            if calibration is not None:
                fraction, basis = uncertainty_of(calibration, acc.name, default)
                if not local and calibration.device.lower() == acc.name.lower():
                    basis = _naming_device(basis, acc.name)  # measured on that accelerator (a cluster node…)
            else:
                fraction, basis = default, default_basis
                if local:
                    basis = "not calibrated yet: measure this model to calibrate this CPU"
            name = "this CPU" if local else acc.name
            band = f" ±{fraction * 100:.0f} %" if fraction else ""
            self._projection_label = f"{name}{band} ({basis})"
            # one short line under the target (the whole basis in its tooltip)
            if calibration is not None:
                note = basis.split(";")[0]
            elif local:
                note = "not calibrated yet: measure models to calibrate this CPU"
            else:
                note = f"not calibrated on {acc.name} yet" + (f" ({band.strip()})" if band else "")
            self.calibration_note.setText(note[:1].upper() + note[1:])
            self.calibration_note.setToolTip(plain_text.tip(self._projection_label))
            self._projection_short = f"{name}{band}"
            self._projection_accelerator = acc
            return project(wl, target)
        except (ValueError, ZeroDivisionError, StudioError):
            return None

    @property
    def calibration_text(self) -> str:
        """What the last projection's band rests on, as the Planner tab shows it under the target."""
        return self.calibration_note.text()

    @property
    def projection_short_label(self) -> str:
        """'H100-SXM ±20 %': the target and the band of the last projection (the details pane)."""
        return getattr(self, "_projection_short", "") or self.target_name

    @property
    def projection_label(self) -> str:
        """'H100-SXM ±20 % (…)' or 'this CPU ±6 % (calibrated on 3 runs (±6 %))' for the last projection."""
        return getattr(self, "_projection_label", "") or self.target_name

    def roof(self, projection: Projection) -> tuple[float | None, float | None]:
        """Attainable peak FLOP/s and bytes/s (with the efficiencies) of the projection's target."""
        acc = self.catalog.accelerator(projection.accelerator)
        if acc is None:
            local = getattr(self, "_projection_accelerator", None)
            acc = local if local is not None and local.name == projection.accelerator else None
        if acc is None:
            return None, None
        peak = acc.peak_flops_per_s(projection.precision)
        bw = acc.bandwidth_bytes_per_s
        eff = projection.efficiency
        return (peak * eff.compute if peak else None), (bw * eff.memory if bw else None)

    @staticmethod
    def projected_layers(projection: Projection | None) -> dict[str, ProjectedLayer]:
        if projection is None:
            return {}
        return {
            lp.name: ProjectedLayer(lp.time_ms, lp.intensity_flops_per_byte, str(lp.bound), lp.flops, lp.bytes)
            for lp in projection.layers
        }

    # -- catalog editor -----------------------------------------------------------------------------

    def _on_edit_catalog_clicked(self) -> None:
        dialog = CatalogEditorDialog(self.catalog, self)
        if dialog.exec() == QDialog.DialogCode.Accepted and dialog.saved:
            self.reload_catalog()

    def reload_catalog(self) -> None:
        self.catalog = load_catalog()
        self.catalog_note.setText(f"Catalog as of {self.catalog.as_of}")
        self.replan()


class CatalogEditorDialog(QDialog):
    """Edit instance prices; Save writes them to the user's overrides CSV (atomically)."""

    def __init__(self, catalog: Catalog, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Catalog prices")
        self.resize(900, 520)
        self.saved = False
        self.model = CatalogTableModel(catalog.instances, self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setFilterKeyColumn(-1)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.filter = QLineEdit(
            placeholderText="Filter by provider, instance, region or accelerator…", clearButtonEnabled=True
        )
        self.filter.textChanged.connect(self.proxy.setFilterFixedString)
        view = QTableView()
        view.setModel(self.proxy)
        view.setSortingEnabled(True)
        view.verticalHeader().setVisible(False)
        # one line per row: a long source cut in the middle (whole in its tooltip), never wrapped
        view.setWordWrap(False)
        view.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        view.verticalHeader().setDefaultSectionSize(22)
        view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        view.horizontalHeader().setStretchLastSection(True)
        self.folder = user_catalog_dir()
        note = plain_text.label(
            f"Double-click a price to edit it. Saved edits go to {self.folder / OVERRIDES_FILE} "
            "and override the shipped catalog.",
            objectName="Muted",
        )
        note.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._on_save)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.filter)
        lay.addWidget(view, 1)
        lay.addWidget(note)
        lay.addWidget(buttons)

    def _on_save(self) -> None:
        if self.model.edited:
            path = self.folder / OVERRIDES_FILE
            previous = path.read_text(encoding="utf-8") if path.is_file() else None
            try:
                self.model.save_overrides(self.folder, previous)
            except OSError as exc:
                plain_text.warning(self, "Could not save", f"{path}: {exc.strerror or exc}")
                return
            self.saved = True
        self.accept()


__all__ = ["PlannerPanel", "CatalogEditorDialog", "replace"]


def _naming_device(basis: str, device: str) -> str:
    """'calibrated on 3 runs (±8 %)' → 'calibrated on 3 runs on A100-80GB (±8 %)'."""
    m = re.match(r"calibrated on \d+ runs?", basis)
    return basis if m is None else f"{basis[: m.end()]} on {device}{basis[m.end() :]}"
