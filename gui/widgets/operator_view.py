"""The Operators tab: layers aggregated by op type (Conv2d, Linear, MatMul, …), slowest first.

Like TensorBoard's operator view: per type, the number of calls (layer rows), parameters and
MACs (counted), self time (the measured latency of the rows of that type) and total time (self
plus, for a module type with its own ops such as "GPTBlock (own ops)", every layer inside those
modules), the share of the model's measured latency, and the projected time. Sorted by self
time (MACs until latency is measured); every column sorts. A double-click on a type filters the
heatmap to it (`type_activated`). Types come from the model: shown as plain text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, QTimer, Signal
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QVBoxLayout, QWidget

from gui import plain_text
from gui.models.layer_table import LayerFilterProxy
from gui.models.roles import HEAT_ROLE, RAW_ROLE, SHARE_ROLE
from gui.state.layer_data import COL_LAT, COL_PROJ, LayerData, accelerator_of, heat_level
from gui.theme import heat_brush
from profiler import units

_Index = QModelIndex | QPersistentModelIndex
OP_TYPE, OP_CALLS, OP_PARAMS, OP_MACS, OP_SELF, OP_TOTAL, OP_SHARE, OP_PROJ = range(8)
#: the OpRow field each plain column shows (the share column is computed)
_FIELD_OF_COLUMN = {
    OP_TYPE: "type", OP_CALLS: "calls", OP_PARAMS: "params", OP_MACS: "macs",
    OP_SELF: "self_ms", OP_TOTAL: "total_ms", OP_PROJ: "projected_ms",
}  # fmt: skip
OP_HEADERS = (
    "Op type",
    "Calls",
    "Params\n(count)",
    "MACs\n(count)",
    "Self time\nmeasured (ms)",
    "Total time\nmeasured (ms)",
    "Share of\nlatency",
    "Projected\n(ms)",
)
OP_TIPS = (
    "The layer's type (a torch module class or an ONNX op); a module's own code outside its children: “… (own ops)”",
    "How many layer rows have this type",
    "Parameters of all those layers (counted)",
    "Multiply-accumulates of all those layers per forward pass (counted)",
    "Measured latency of the rows of this type, added up",
    "Self time plus, for a module type with its own ops, every layer inside those modules",
    "Self time as a share of the model's measured latency (of MACs until latency is measured)",
    "Projected latency of those layers on the Planner tab's target (roofline)",
)
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_OWN = " (own ops)"


@dataclass
class OpRow:
    """One op type, aggregated (times in ms; None: not measured / not projected)."""

    type: str
    calls: int = 0
    params: float = 0.0
    macs: float = 0.0
    self_ms: float | None = None
    total_ms: float | None = None
    projected_ms: float | None = None


def _add(a: float | None, b: float | None) -> float | None:
    return a if b is None else b if a is None else a + b


def aggregate(data: LayerData) -> list[OpRow]:
    """Per op type, slowest first (self time, then MACs)."""
    ops: dict[str, OpRow] = {}
    owners: dict[str, list[str]] = {}  # module type → its instances' names (own-ops rows)
    for i, r in enumerate(data.rows):
        op = ops.setdefault(r.type, OpRow(r.type))
        op.calls += 1
        op.params += r.params
        op.macs += r.macs
        op.self_ms = _add(op.self_ms, data.raw(i, COL_LAT))
        op.projected_ms = _add(op.projected_ms, data.raw(i, COL_PROJ))
        if r.type.endswith(_OWN) and r.name and r.scope == r.name:
            owners.setdefault(r.type, []).append(r.name)
    for op in ops.values():
        op.total_ms = op.self_ms
    for kind, names in owners.items():
        total: float | None = None
        for i, r in enumerate(data.rows):
            if any(r.name == n or r.name.startswith(n + ".") for n in names):
                total = _add(total, data.raw(i, COL_LAT))
        ops[kind].total_ms = total
    return sorted(ops.values(), key=lambda o: (o.self_ms or 0.0, o.macs), reverse=True)


class OperatorTableModel(QAbstractTableModel):
    """Read-only adapter over `aggregate(LayerData)`: raw numbers on RAW_ROLE, shares on SHARE_ROLE."""

    def __init__(self, data: LayerData, parent: Any = None) -> None:
        super().__init__(parent)
        self._data = data
        self.rows: list[OpRow] = []
        self._totals: dict[int, float] = {}

    def refresh(self) -> None:
        self.beginResetModel()
        self.rows = aggregate(self._data)
        self._totals = {
            c: sum(v for o in self.rows if (v := self._raw(o, c)) is not None)
            for c in (OP_PARAMS, OP_MACS, OP_SELF, OP_PROJ)
        }
        self.endResetModel()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(OP_HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(OP_HEADERS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            if section == OP_SHARE and self._data.share_basis() != COL_LAT:
                return "Share of\nMACs"
            if section == OP_PROJ and self._data.target_name:
                return f"Projected on\n{accelerator_of(self._data.target_name)}\n(ms)"
            return OP_HEADERS[section]
        if role == Qt.ItemDataRole.ToolTipRole:
            return OP_TIPS[section]
        if role == Qt.ItemDataRole.TextAlignmentRole and section != OP_TYPE:
            return _RIGHT
        return None

    def _raw(self, o: OpRow, col: int) -> Any:
        if col in _FIELD_OF_COLUMN:
            return getattr(o, _FIELD_OF_COLUMN[col])
        if col == OP_SHARE:
            if self._data.share_basis() == COL_LAT:
                total = self._totals.get(OP_SELF)
                return None if o.self_ms is None or not total else o.self_ms / total
            total = self._totals.get(OP_MACS)
            return o.macs / total if total else None
        return None

    def _share(self, o: OpRow, col: int) -> float | None:
        v = self._raw(o, col)
        if col == OP_SHARE:
            return v  # type: ignore[no-any-return]
        if col == OP_TOTAL:
            total = self._totals.get(OP_SELF)
        else:
            total = self._totals.get(col)
        return None if v is None or not total or col in (OP_TYPE, OP_CALLS) else float(v) / total

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self.rows):
            return None
        o, col = self.rows[index.row()], index.column()
        if role == RAW_ROLE:
            return self._raw(o, col)
        if role == Qt.ItemDataRole.DisplayRole:
            v = self._raw(o, col)
            if col == OP_TYPE:
                return v
            if col == OP_CALLS:
                return units.number(v)
            if col in (OP_PARAMS, OP_MACS):
                return units.count(v)
            if col == OP_SHARE:
                return units.percent(v)
            if v is None:
                return units.DASH
            return "0" if v == 0 else units.sig(v)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return None if col == OP_TYPE else _RIGHT
        if role == SHARE_ROLE:
            return self._share(o, col)
        if role in (HEAT_ROLE, Qt.ItemDataRole.BackgroundRole):
            if col in (OP_TYPE, OP_CALLS, OP_TOTAL):
                return 0.0 if role == HEAT_ROLE else None  # total time overlaps other rows: not a share
            heat = heat_level(self._share(o, col))
            return heat if role == HEAT_ROLE else heat_brush(heat)
        if role == Qt.ItemDataRole.ToolTipRole:
            share = self._share(o, col)
            text = f"{o.type}: {o.calls} call{'s' if o.calls != 1 else ''}"
            if col in (OP_SELF, OP_TOTAL, OP_PROJ):
                text += f"\n{OP_HEADERS[col].replace(chr(10), ' ')}: {units.duration_ms(self._raw(o, col), 4)}"
            if share is not None and col not in (OP_TYPE, OP_CALLS, OP_TOTAL):
                text += f"\n{units.percent(share, 2)} of the model total"
            return plain_text.tip(text)
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable if index.isValid() else Qt.ItemFlag.NoItemFlags


class _OpProxy(LayerFilterProxy):
    """Sorts on raw numbers (None last), filters on the type only."""

    def filterAcceptsRow(self, source_row: int, source_parent: _Index) -> bool:
        needle = self._needle
        if not needle:
            return True
        kind = self.sourceModel().index(source_row, OP_TYPE, source_parent).data(RAW_ROLE)
        return needle in str(kind or "").lower()


class OperatorView(QWidget):
    """The table of op types; follows an item model over the same `LayerData` (`watch`)."""

    type_activated = Signal(str)

    def __init__(self, data: LayerData, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = OperatorTableModel(data, self)
        self.proxy = _OpProxy(self)
        self.proxy.setSourceModel(self.model)
        self.view = QTableView()
        self.view.setModel(self.proxy)
        self.view.setSortingEnabled(True)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.verticalHeader().setVisible(False)
        self.view.verticalHeader().setDefaultSectionSize(22)
        self.view.setWordWrap(False)
        header = self.view.horizontalHeader()
        header.setMinimumHeight(34)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(False)
        for col in range(len(OP_HEADERS)):
            header.resizeSection(col, 104)
        header.setSectionResizeMode(OP_TYPE, QHeaderView.ResizeMode.Stretch)
        self.caption = plain_text.label("", objectName="Muted")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.caption)
        lay.addWidget(self.view, 1)
        self._timer = QTimer(self, singleShot=True, interval=200)
        self._timer.timeout.connect(self.refresh)
        self.view.doubleClicked.connect(self._on_view_double_clicked)
        self._dirty = True

    def watch(self, model: Any) -> None:
        model.modelReset.connect(self._on_source_changed)
        model.dataChanged.connect(self._on_source_changed)

    def _on_source_changed(self, *_args: Any) -> None:
        self._dirty = True
        if self.isVisible() and not self._timer.isActive():
            self._timer.start()

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if self._dirty:
            self.refresh()

    def refresh(self) -> None:
        self._dirty = False
        self.model.refresh()
        col = OP_SELF if self.model._data.share_basis() == COL_LAT else OP_MACS
        self.view.sortByColumn(col, Qt.SortOrder.DescendingOrder)
        n = len(self.model.rows)
        self.caption.setText(
            f"{n} op type{'s' if n != 1 else ''}, slowest first · self = the rows of that type; "
            "total adds the layers inside a module type's own-ops rows · double-click filters the heatmap"
        )

    def set_filter_text(self, text: str) -> None:
        self.proxy.set_filter_text(text)

    def _on_view_double_clicked(self, index: QModelIndex) -> None:
        kind = index.siblingAtColumn(OP_TYPE).data(RAW_ROLE)
        if kind:
            self.type_activated.emit(str(kind))
