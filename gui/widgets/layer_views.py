"""The layer heatmap (a tree grouped by module path) and the flat sortable, filterable table.

Both views share one `LayerData`; cells are coloured through the models' BackgroundRole. A right-click on a layer offers a
per-layer pruning override; a click selects it (`layer_selected`).
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPoint, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLineEdit,
    QMenu,
    QTableView,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from gui.models.layer_table import LayerFilterProxy, LayerTableModel
from gui.models.layer_tree import LayerTreeModel
from gui.models.roles import LAYER_ROLE
from gui.plain_text import ask_int, menu_text, tip
from gui.state.layer_data import COL_NAME, COL_SHARE, COL_TYPE, HEADERS, LayerData

_WIDTHS = {COL_NAME: 190, COL_TYPE: 104, COL_SHARE: 64}
_NUMERIC_WIDTH = 82


def _size_columns(header: QHeaderView) -> None:
    """Fixed starting widths that fit 1366 px with the details pane; the name column stretches."""
    header.setStretchLastSection(False)
    header.setMinimumSectionSize(56)
    for col in range(len(HEADERS)):
        header.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(col, _WIDTHS.get(col, _NUMERIC_WIDTH))
    header.setSectionResizeMode(COL_NAME, QHeaderView.ResizeMode.Stretch)


class _LayerView(QWidget):
    """What both views share: their signals and the context menu."""

    layer_selected = Signal(str)
    prune_override_requested = Signal(str, float)

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
        self.view.clicked.connect(self._on_view_clicked)
        self.view.customContextMenuRequested.connect(self._on_view_context_menu)

    def reset(self) -> None:
        self.model.reset()
        self.expand_default()

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
        self.filter.textChanged.connect(self.proxy.set_filter_text)
        self.view.clicked.connect(self._on_view_clicked)
        self.view.customContextMenuRequested.connect(self._on_view_context_menu)

    def reset(self) -> None:
        self.model.reset()

    def _on_view_clicked(self, index: QModelIndex) -> None:
        name = index.data(LAYER_ROLE)
        if name:
            self.layer_selected.emit(name)

    def _on_view_context_menu(self, pos: QPoint) -> None:
        self._menu_for(self.view, pos, self.overrides, self.override_reason)
