"""The layer heatmap (a tree grouped by module path) and the flat sortable, filterable table.

Both views share one `LayerData`; cells are coloured through the models' BackgroundRole. A right-click on a layer offers a
per-layer pruning override; a click or a keyboard move selects it (`layer_selected`).

The kernel-path record of the variant asked for or on screen (`set_kernel_paths`,
gui/measured_change.kernel_paths_for) marks layer names — "⚠ smaller but slower" once measured
beyond the layer's p10–p90 spread, "▾ predicted slower" before — and adds the layer's kernel path
to its tooltip. Layer names stay plain text (the tooltip escapes them).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QModelIndex, QObject, QPersistentModelIndex, QPoint, QRect, Qt, Signal
from PySide6.QtGui import QColor, QHelpEvent, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLineEdit,
    QMenu,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QToolTip,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from gui.measured_change import layer_kernel_mark, layer_kernel_path
from gui.models.layer_table import LayerFilterProxy, LayerTableModel
from gui.models.layer_tree import LayerTreeModel
from gui.models.roles import LAYER_ROLE
from gui.plain_text import ask_int, menu_text, tip
from gui.state.layer_data import COL_NAME, COL_SHARE, COL_TYPE, HEADERS, LayerData
from gui.theme import current
from gui.widgets.filter_debounce import FilterDebounce

_WIDTHS = {COL_NAME: 190, COL_TYPE: 104, COL_SHARE: 64}
_NUMERIC_WIDTH = 82


def _size_columns(header: QHeaderView) -> None:
    """Fixed starting widths that fit 1366 px with the details pane. The name column keeps its
    width (a stretched one shrank to "c…1" at 1280 px once the Δ columns showed): when the
    columns do not fit, the view scrolls sideways; the last column takes any width left."""
    header.setStretchLastSection(True)
    header.setMinimumSectionSize(56)
    for col in range(len(HEADERS)):
        header.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(col, _WIDTHS.get(col, _NUMERIC_WIDTH))


#: the mark in fewer words, for a narrow name column
_SHORT_MARKS = {
    "⚠ smaller but slower": "⚠ slower",
    "⚠ slower than predicted": "⚠ slower",
    "▾ predicted slower": "▾ slower",
    "faster than predicted": "faster",
}


class _KernelMarkDelegate(QStyledItemDelegate):
    """Draws the layer's kernel-path mark at the right of its name cell, over the name's tail,
    so a long name is cut instead of the mark (amber for a measured surprise, muted for a
    prediction); a cell too narrow for the words keeps the symbol alone."""

    def __init__(self, owner: _LayerView) -> None:
        super().__init__(owner)
        self._owner = owner

    def mark(self, index: QModelIndex | QPersistentModelIndex) -> str:
        return self._owner.kernel_marks.get(index.data(LAYER_ROLE), "") if index.column() == COL_NAME else ""

    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        super().paint(painter, option, index)
        mark = self.mark(index)
        if not mark:
            return
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        fm = opt.fontMetrics
        rect = opt.rect
        # the words if they fit beside a few letters of the name, else a shorter form, else the symbol
        name = str(opt.text)
        name_room = min(fm.horizontalAdvance(name), fm.horizontalAdvance(name[:6] + "…")) + 8
        forms = (mark, _SHORT_MARKS.get(mark, mark), mark.split(" ", 1)[0])
        text = next((f for f in forms if rect.width() >= fm.horizontalAdvance(f) + 12 + name_room), forms[-1])
        width = fm.horizontalAdvance(text) + 10
        box = QRect(rect.right() - width, rect.top(), width, rect.height())
        state = opt.state
        palette = opt.palette
        if state & QStyle.StateFlag.State_Selected:
            background = palette.highlight()
        else:
            brush = index.data(Qt.ItemDataRole.BackgroundRole)
            alternate = opt.features & QStyleOptionViewItem.ViewItemFeature.Alternate
            background = brush if brush is not None else palette.alternateBase() if alternate else palette.base()
        t = current()
        painter.save()
        painter.fillRect(box, background)
        painter.setPen(QColor(t.warn if mark.startswith("⚠") else t.muted))
        painter.drawText(
            box.adjusted(6, 0, -2, 0), int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft), text
        )
        painter.restore()


class _LayerView(QWidget):
    """What both views share: their signals, the context menu and the kernel-path marks."""

    layer_selected = Signal(str)
    prune_override_requested = Signal(str, float)
    kernel_paths: dict[str, dict[str, Any]]  # layer name → its kernel-path entry
    kernel_marks: dict[str, str]  # layer name → the mark beside it
    _kernel_view: QAbstractItemView

    def _install_kernel_paths(self, view: QAbstractItemView) -> None:
        self.kernel_paths = {}
        self.kernel_marks = {}
        self._kernel_view = view
        view.setItemDelegateForColumn(COL_NAME, _KernelMarkDelegate(self))
        view.viewport().installEventFilter(self)

    def set_kernel_paths(self, record: dict[str, Any] | None) -> None:
        """The kernel-path record of the variant asked for or on screen (None: none)."""
        layers = (record or {}).get("layers", ())
        self.kernel_paths = {e["layer"]: e for e in layers}
        self.kernel_marks = {name: m for name, e in self.kernel_paths.items() if (m := layer_kernel_mark(e))}
        self._kernel_view.viewport().update()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """A layer's tooltip gains its kernel path (the model's own tooltip first)."""
        if event.type() == QEvent.Type.ToolTip and self.kernel_paths and isinstance(event, QHelpEvent):
            view = self._kernel_view
            if watched is view.viewport():
                index = view.indexAt(event.pos())
                entry = self.kernel_paths.get(index.data(LAYER_ROLE)) if index.isValid() else None
                if entry is not None:
                    own = index.data(Qt.ItemDataRole.ToolTipRole) or ""
                    QToolTip.showText(event.globalPos(), own + tip("\n".join(layer_kernel_path(entry))), view)
                    return True
        return super().eventFilter(watched, event)

    def _menu_for(
        self, view: QAbstractItemView, pos: QPoint, overrides: dict[str, float], enabled_reason: str | None
    ) -> None:
        index = view.indexAt(pos)
        name = index.data(LAYER_ROLE) if index.isValid() else None
        if not name or index.model().hasChildren(index.siblingAtColumn(0)):
            return
        menu = QMenu(view)
        current = overrides.get(name)
        act = menu.addAction(
            menu_text(f"Prune “{name}”…" if current is None else f"Change pruning of “{name}” ({100 * current:.0f}%)…")
        )
        clear = menu.addAction("Remove this layer's override")
        clear.setEnabled(current is not None)
        if enabled_reason:
            act.setEnabled(False)
            act.setToolTip(tip(enabled_reason))
            menu.setToolTipsVisible(True)
        chosen = menu.exec(view.viewport().mapToGlobal(pos))
        if chosen is act:
            value, ok = ask_int(
                view, "Per-layer pruning", f"Share of “{name}” to prune (%):", round(100 * (current or 0.5)), 0, 95, 5
            )
            if ok:
                self.prune_override_requested.emit(name, value / 100.0)
        elif chosen is clear:
            self.prune_override_requested.emit(name, 0.0)


class LayerHeatmapView(_LayerView):
    """The heatmap: a collapsible tree of module paths, cells coloured by their column share."""

    def __init__(self, data: LayerData, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = LayerTreeModel(data, self)
        self.view = QTreeView()
        self.view.setModel(self.model)
        self.model.is_expanded = self.view.isExpanded
        self.view.setUniformRowHeights(True)  # thousands of rows: no per-row size queries
        self.view.setAlternatingRowColors(False)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.setAnimated(False)
        _size_columns(self.view.header())
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.view)
        self.overrides: dict[str, float] = {}
        self.override_reason: str | None = None
        self._install_kernel_paths(self.view)
        self.view.clicked.connect(self._on_view_clicked)
        # the keyboard (arrows, Page Up/Down, Home/End) moves the current row: the details follow
        self.view.selectionModel().currentChanged.connect(self._on_view_current_changed)
        self.view.customContextMenuRequested.connect(self._on_view_context_menu)

    def reset(self) -> None:
        self.model.reset()
        self.expand_default()

    def _on_view_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            self._on_view_clicked(current)

    def expand_default(self) -> None:
        """Open the top level (small models: everything), so the layers show at first sight.

        Larger models open one level: the groups' totals carry the heat, and a fully expanded
        tree of ~50 rows costs ~45 ms to paint on a slow CPU, twice the one-level view."""
        if self.model._data and len(self.model._data) <= 24:
            self.view.expandAll()
        else:
            self.view.expandToDepth(0)

    def _on_view_clicked(self, index: QModelIndex) -> None:
        name = index.data(LAYER_ROLE)
        if name and not self.model.hasChildren(index.siblingAtColumn(0)):
            self.layer_selected.emit(name)

    def _on_view_context_menu(self, pos: QPoint) -> None:
        self._menu_for(self.view, pos, self.overrides, self.override_reason)


class LayerTableView(_LayerView):
    """Every layer in one flat table: sort by any column, filter by name or type."""

    def __init__(self, data: LayerData, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = LayerTableModel(data, self)
        self.proxy = LayerFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self.filter = QLineEdit(placeholderText="Filter layers by name or type…", clearButtonEnabled=True)
        self.view = QTableView()
        self.view.setModel(self.proxy)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(-1, Qt.SortOrder.AscendingOrder)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.verticalHeader().setVisible(False)
        self.view.verticalHeader().setDefaultSectionSize(22)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.setWordWrap(False)
        _size_columns(self.view.horizontalHeader())
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.filter)
        lay.addWidget(self.view)
        self.overrides: dict[str, float] = {}
        self.override_reason: str | None = None
        self._install_kernel_paths(self.view)
        self.filter_debounce = FilterDebounce(self.filter)  # thousands of rows: not per keystroke
        self.filter_debounce.applied.connect(self.proxy.set_filter_text)
        self.view.clicked.connect(self._on_view_clicked)
        self.view.selectionModel().currentChanged.connect(self._on_view_current_changed)  # keyboard moves
        self.view.customContextMenuRequested.connect(self._on_view_context_menu)

    def reset(self) -> None:
        self.model.reset()

    def _on_view_clicked(self, index: QModelIndex) -> None:
        name = index.data(LAYER_ROLE)
        if name:
            self.layer_selected.emit(name)

    def _on_view_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            self._on_view_clicked(current)

    def _on_view_context_menu(self, pos: QPoint) -> None:
        self._menu_for(self.view, pos, self.overrides, self.override_reason)
