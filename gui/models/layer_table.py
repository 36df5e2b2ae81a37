"""The flat, sortable, filterable table of layers: a QAbstractTableModel over `LayerData`.

Sort through the proxy on `RAW_ROLE` (numbers, not their text); filter on name and type.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QFont

from gui.models.roles import HEAT_ROLE, LAYER_ROLE, RAW_ROLE, SHARE_ROLE
from gui.plain_text import tip
from gui.state.layer_data import (
    COL_MACS,
    COL_NAME,
    COL_TYPE,
    DELTA_OF,
    HEADER_TIPS,
    HEADERS,
    NUMERIC_COLUMNS,
    LayerData,
)
from gui.theme import delta_brush, heat_brush
from profiler.layer_reconcile import NOOP_MODULES_LABEL, SHAPE_OPS_LABEL

_Index = QModelIndex | QPersistentModelIndex
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_SERVED_ROLES = frozenset(
    int(r)
    for r in (
        Qt.ItemDataRole.DisplayRole,
        Qt.ItemDataRole.ToolTipRole,
        Qt.ItemDataRole.TextAlignmentRole,
        Qt.ItemDataRole.FontRole,
        Qt.ItemDataRole.BackgroundRole,
        Qt.ItemDataRole.EditRole,
        LAYER_ROLE,
        RAW_ROLE,
        SHARE_ROLE,
        HEAT_ROLE,
    )
)


def layer_header_data(section: int, orientation: Qt.Orientation, role: int, data: LayerData | None = None) -> Any:
    """Column headers shared by the layer table and the layer tree: with their units and the
    projection's accelerator when `data` is given ("Projected on\nH100-SXM (ms)")."""
    if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(HEADERS):
        return None
    if role == Qt.ItemDataRole.DisplayRole:
        return HEADERS[section] if data is None else data.header(section)
    if role == Qt.ItemDataRole.ToolTipRole:
        return HEADER_TIPS.get(section)
    if role == Qt.ItemDataRole.TextAlignmentRole and section in NUMERIC_COLUMNS:
        return _RIGHT
    return None


class LayerTableModel(QAbstractTableModel):
    """One row per layer; columns as in `layer_data.HEADERS`."""

    def __init__(self, data: LayerData, parent: Any = None) -> None:
        super().__init__(parent)
        self._data = data
        self._italic = QFont()
        self._italic.setItalic(True)

    def reset(self) -> None:
        """A new profile with other layers: the only full reset."""
        self.beginResetModel()
        self.endResetModel()

    def refresh_columns(self, first: int, last: int, rows: tuple[int, int] | None = None) -> None:
        """Values changed in columns first…last (of rows, default all): repaint only those cells
        (and the Δ columns, which follow latency and MACs; the headers, which name the target)."""
        n = len(self._data)
        if n == 0:
            return
        top, bottom = rows if rows is not None else (0, n - 1)
        last = max(last, len(HEADERS) - 1)
        self.dataChanged.emit(self.index(top, first), self.index(bottom, last))
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, first, last)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._data)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        return layer_header_data(section, orientation, role, self._data)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role not in _SERVED_ROLES or not index.isValid() or index.row() >= len(self._data):
            return None  # the view asks ~10 roles a cell; answer the unused ones before any work
        i, col = index.row(), index.column()
        d = self._data
        row = d.rows[i]
        if role == LAYER_ROLE:
            return row.name
        if col == COL_NAME:
            if role == Qt.ItemDataRole.DisplayRole:
                return row.name + ("  ⚠" if not row.counted else "")
            if role in (RAW_ROLE, Qt.ItemDataRole.EditRole):
                return row.name
            if role == Qt.ItemDataRole.ToolTipRole:
                return tip(_name_tip(row))
            return None
        if col == COL_TYPE:
            return row.type if role in (Qt.ItemDataRole.DisplayRole, RAW_ROLE) else None
        value = d.raw(i, col)
        if role == Qt.ItemDataRole.DisplayRole:
            return d.delta_text(col, value, d.base(i, col)) if col in DELTA_OF else d.display(col, value)
        if role == RAW_ROLE:
            return value
        if role == SHARE_ROLE:
            return d.share_of(col, value)
        if role == HEAT_ROLE:
            return d.heat_of(col, value)
        if role == Qt.ItemDataRole.BackgroundRole:
            return delta_brush(d.heat_of(col, value)) if col in DELTA_OF else heat_brush(d.heat_of(col, value))
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _RIGHT
        if role == Qt.ItemDataRole.ToolTipRole:
            return tip(d.tooltip(col, value, i))  # names and op types come from the model: never markup
        if role == Qt.ItemDataRole.FontRole and col == COL_MACS and not row.counted:
            return self._italic
        return None


def _name_tip(row: Any) -> str:
    tip = f"{row.name}  ({row.type})"
    if row.scope.endswith((SHAPE_OPS_LABEL, NOOP_MODULES_LABEL)):
        tip += "\nzero-cost: shape arithmetic, a view or a no-op, folded with its kind in the tree"
    if not row.counted:
        tip += (
            "\n⚠ uncounted ops (no FLOP formula): "
            + ", ".join(row.unsupported_ops)
            + "\nMACs and FLOPs of this layer are a lower bound"
        )
    return tip


class LayerFilterProxy(QSortFilterProxyModel):
    """Sorts on raw numbers (None last) and filters on the layer's name and type."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setSortRole(RAW_ROLE)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setDynamicSortFilter(False)  # live latency updates must not reshuffle rows under the cursor
        self._needle = ""

    def filterAcceptsRow(self, source_row: int, source_parent: _Index) -> bool:
        needle = self._needle
        if not needle:
            return True
        m = self.sourceModel()
        name = str(m.index(source_row, COL_NAME, source_parent).data(RAW_ROLE) or "")
        kind = str(m.index(source_row, COL_TYPE, source_parent).data(RAW_ROLE) or "")
        return needle in name.lower() or needle in kind.lower()

    def lessThan(self, left: _Index, right: _Index) -> bool:
        a, b = left.data(RAW_ROLE), right.data(RAW_ROLE)
        if a is None or b is None:
            return (
                a is None and b is not None
                if self.sortOrder() == Qt.SortOrder.DescendingOrder
                else b is None and a is not None
            )
        try:
            return bool(a < b)
        except TypeError:
            return str(a) < str(b)

    def set_filter_text(self, text: str) -> None:
        """Show rows whose name or type contains `text` (case-insensitive, plain text)."""
        if hasattr(self, "beginFilterChange"):  # Qt ≥ 6.9: invalidateFilter is deprecated
            self.beginFilterChange()
            self._needle = text.strip().lower()
            self.endFilterChange()
        else:
            self._needle = text.strip().lower()
            self.invalidateFilter()
