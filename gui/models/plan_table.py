"""The planner's ranked results: a QAbstractTableModel over `Plan` rows (serving or training)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from gui.models.roles import RAW_ROLE
from gui.plain_text import tip
from gui.plain_text import tip as tip_text
from gui.theme import current, fmt_ms, fmt_usd
from profiler import units

_Index = QModelIndex | QPersistentModelIndex
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

# (header, attribute, kind, tooltip): kind picks the format; "usd" values take the discount
SERVING_COLUMNS = (
    ("Instance", "instance", "text", "Cloud instance type"),
    ("Provider", "provider", "text", ""),
    ("Region", "region", "text", ""),
    (
        "$/month",
        "usd_per_month",
        "usd",
        "Monthly on-demand cost of the instances that carry the load (730 h; projected)",
    ),
    (
        "$/hour",
        "usd_per_hour",
        "usd",
        "On-demand price per instance-hour (catalog); beside $/month so both prices read without scrolling",
    ),
    ("Instances", "instances_needed", "int", "Fewest instances carrying the load within the objective and utilisation"),
    ("Batch", "batch", "int", "Batch at the load (or the largest meeting the objective and memory without one)"),
    ("p90 at load", "latency_p90_at_load_ms", "ms", "Batch fill + queueing + the batch's projected time"),
    ("Utilised", "utilization_at_load", "pct", "The load ÷ the fleet's capacity at that batch"),
    (
        "$/M inf.",
        "usd_per_million",
        "usd",
        "$ per million inferences: at the load, what the fleet costs per million it serves; "
        "without one, at the utilisation set (projected)",
    ),
    ("Batch time", "latency_ms", "ms", "Projected time of one batch (roofline; not measured)"),
    (
        "±",
        "uncertainty_fraction",
        "pct",
        "Uncertainty band on time: published checks of this model class, or the calibration",
    ),
    ("GPUs", "gpus_per_instance", "int", "Accelerators per instance"),
    ("Precision", "precision", "text", "Precision projected (auto: 16-bit for the model class)"),
    ("Not ranked because", "excluded_reason", "text", "Why this option is not an answer"),
)
TRAINING_COLUMNS = (
    ("Instance", "instance", "text", ""),
    ("Provider", "provider", "text", ""),
    ("GPUs", "gpus", "int", "Accelerators used in all"),
    ("Hours", "hours", "num", "Projected wall-clock hours"),
    ("GPU-hours", "gpu_hours", "num", ""),
    ("Cost", "usd_on_demand", "usd", "On-demand cost of the run (projected)"),
    ("Spot cost", "usd_spot", "usd", ""),
    ("Energy", "energy_kwh", "kwh", "Upper bound: GPUs × TDP × hours × PUE"),
    ("CO₂", "co2_kg", "kg", ""),
    ("Layout", "parallelism", "text", "DDP, FSDP (ZeRO-3) or FSDP × tensor parallel, chosen to fit"),
    ("MFU", "mfu", "pct", "Model FLOPs utilisation assumed (per model class; its source in the tooltip)"),
    ("±", "uncertainty_fraction", "pct", "Band on time from the published MFU range"),
    ("GPU-h 6ND", "gpu_hours_6nd", "num", "GPU-hours under the 6·N·D convention (token models)"),
    ("Fits", "fits_memory", "bool", "Model, optimiser state and activations fit the GPUs"),
    ("Not ranked because", "excluded_reason", "text", "Why this option cannot train the model"),
)


class PlanTableModel(QAbstractTableModel):
    """Rows are the core's `InferenceOption`/`TrainingOption` objects, ranked by the planner."""

    def __init__(self, columns: tuple[tuple[str, str, str, str], ...] = SERVING_COLUMNS, parent: Any = None) -> None:
        super().__init__(parent)
        self._columns = columns
        self._rows: list[Any] = []
        self.discount = 0.0  # price discount 0…1 applied to every $ figure (negotiated/committed use)

    def set_rows(self, rows: list[Any], discount: float = 0.0) -> None:
        self.discount = discount
        if len(rows) == len(self._rows) and rows:
            self._rows = rows
            self.dataChanged.emit(self.index(0, 0), self.index(len(rows) - 1, len(self._columns) - 1))
            return
        self.beginResetModel()
        self._rows = rows
        self.endResetModel()

    def row_object(self, row: int) -> Any:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def rowCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Vertical:
            return str(section + 1) if role == Qt.ItemDataRole.DisplayRole and 0 <= section < len(self._rows) else None
        if not 0 <= section < len(self._columns):
            return None
        header, _, kind, tip = self._columns[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return header
        if role == Qt.ItemDataRole.ToolTipRole:  # the header's full name too: a narrow column cuts it
            return tip_text(f"{header}: {tip}" if tip else header)
        if role == Qt.ItemDataRole.TextAlignmentRole and kind not in ("text", "bool"):
            return _RIGHT
        return None

    def raw(self, row: int, col: int) -> Any:
        _, attr, kind, _ = self._columns[col]
        value = getattr(self._rows[row], attr, None)
        if kind == "usd" and value is not None:
            value = value * (1.0 - self.discount)
        return value

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        _, attr, kind, _ = self._columns[index.column()]
        value = self.raw(index.row(), index.column())
        if role == RAW_ROLE:
            return value
        if role == Qt.ItemDataRole.DisplayRole:
            return _fmt(kind, value)
        if role == Qt.ItemDataRole.TextAlignmentRole and kind not in ("text", "bool"):
            return _RIGHT
        if role == Qt.ItemDataRole.ForegroundRole and kind == "bool" and value is not None:
            return current().color("good" if value else "bad")
        if role == Qt.ItemDataRole.ToolTipRole:
            obj = self._rows[index.row()]
            notes = "; ".join(getattr(obj, "notes", ()) or ())
            basis = [getattr(obj, "uncertainty_basis", ""), getattr(obj, "mfu_source", "")]
            notes = "\n".join(x for x in (notes, *basis) if x)
            src = "projected from the catalog and the roofline" if kind in ("ms", "usd", "num", "kwh", "kg") else ""
            shown = _fmt(kind, value)  # first the whole value: a narrow column cuts it with "…"
            return tip("\n".join(x for x in (shown, f"{attr} = {value!r}", src, notes) if x))
        return None


def _fmt(kind: str, value: Any) -> str:
    if value is None:
        return "—"
    if kind == "usd":
        return fmt_usd(value)
    if kind == "ms":
        return fmt_ms(value)
    if kind == "bool":
        return "yes" if value else "no"
    if kind == "int":
        return units.number(int(value))
    if kind == "num":
        return units.number(value)
    if kind == "pct":
        return f"{value * 100:.0f} %"
    if kind == "kwh":
        return f"{units.number(value)} kWh"
    if kind == "kg":
        return f"{units.number(value)} kg"
    return str(value)
