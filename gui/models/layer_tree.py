"""The layer heatmap's tree: layers grouped and collapsible by module path (`LayerRow.scope`).

A QAbstractItemModel over `LayerData`. The tree is built once per profile (`reset`); latency
and projection updates emit `dataChanged` on the affected columns only, with group sums
recomputed in one pass (O(layers × depth)), so thousands of layers stay responsive.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QFont

from gui.models.layer_table import _RIGHT, _SERVED_ROLES, _name_tip, layer_header_data
from gui.models.roles import HEAT_ROLE, LAYER_ROLE, RAW_ROLE, SHARE_ROLE
from gui.plain_text import tip
from gui.state.layer_data import (
    COL_LAT,
    COL_MACS,
    COL_NAME,
    COL_SHARE,
    COL_TYPE,
    HEADERS,
    NUMERIC_COLUMNS,
    LayerData,
)
from gui.theme import heat_brush

_Index = QModelIndex | QPersistentModelIndex
_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable  # built once: enum `|` is slow in Python


class _Node:
    __slots__ = ("path", "label", "parent", "children", "row", "layer", "sums", "leaves", "counted")

    def __init__(self, path: str, label: str, parent: _Node | None, layer: int | None = None) -> None:
        self.path = path
        self.label = label
        self.parent = parent
        self.children: list[_Node] = []
        self.row = 0  # index among the parent's children
        self.layer = layer  # index into LayerData.rows for a leaf, None for a group
        self.sums: dict[int, float | None] = {}
        self.leaves = 0
        self.counted = True


class LayerTreeModel(QAbstractItemModel):
    """Groups (module paths) with their layers; a group's numbers are the sums of its layers."""

    def __init__(self, data: LayerData, parent: Any = None) -> None:
        super().__init__(parent)
        self._data = data
        self._root = _Node("", "", None)
        self._leaf_of: list[_Node] = []
        self._bold = QFont()
        self._bold.setBold(True)
        self._italic = QFont()
        self._italic.setItalic(True)
        #: set by the view: a collapsed group's rows are not on screen, so changes inside it need
        #: no signal (thousands of collapsed layers would otherwise cost one emit per group)
        self.is_expanded: Any = lambda index: True

    # -- building -------------------------------------------------------------------------------

    def reset(self) -> None:
        self.beginResetModel()
        self._build()
        self.endResetModel()

    def _build(self) -> None:
        root = _Node("", "", None)
        groups: dict[str, _Node] = {"": root}

        def group(path: str) -> _Node:
            node = groups.get(path)
            if node is None:
                parent_path = _parent_path(path)
                parent = group(parent_path)
                label = path[len(parent_path) + 1 :] if parent_path else path
                node = _Node(path, label, parent)
                node.row = len(parent.children)
                parent.children.append(node)
                groups[path] = node
            return node

        self._leaf_of = []
        for i, r in enumerate(self._data.rows):
            scope = r.scope if r.scope and r.scope != r.name else ""
            parent = group(scope) if scope else root
            label = _leaf_label(r.name, scope)
            if r.scope == r.name and r.name:
                label = f"{r.name} (own ops)"  # the module's code outside its children
            leaf = _Node(r.name, label, parent, layer=i)
            leaf.row = len(parent.children)
            parent.children.append(leaf)
            self._leaf_of.append(leaf)
        self._root = root
        self._aggregate()

    def _aggregate(self) -> None:
        """Group sums and leaf counts, bottom-up."""
        d = self._data

        def walk(node: _Node) -> None:
            if node.layer is not None:
                node.sums = {c: d.raw(node.layer, c) for c in NUMERIC_COLUMNS}
                node.leaves = 1
                node.counted = d.rows[node.layer].counted
                return
            sums: dict[int, float | None] = {c: None for c in NUMERIC_COLUMNS}
            node.leaves, node.counted = 0, True
            for child in node.children:
                walk(child)
                node.leaves += child.leaves
                node.counted = node.counted and child.counted
                for c, v in child.sums.items():
                    if v is not None:
                        sums[c] = (sums[c] or 0.0) + v
            node.sums = sums

        walk(self._root)

    def refresh_columns(self, first: int, last: int) -> None:
        """Values changed in columns first…last: recompute sums, then repaint those cells."""
        self._aggregate()
        self._emit_changed(self._root, first, last)

    def _emit_changed(self, node: _Node, first: int, last: int) -> None:
        if not node.children:
            return
        parent = QModelIndex() if node is self._root else self.createIndex(node.row, 0, node)
        self.dataChanged.emit(self.index(0, first, parent), self.index(len(node.children) - 1, last, parent))
        for child in node.children:
            if child.children and self.is_expanded(self.createIndex(child.row, 0, child)):
                self._emit_changed(child, first, last)

    # -- lookups --------------------------------------------------------------------------------

    def index_of_layer(self, name: str, column: int = 0) -> QModelIndex:
        i = self._data.index.get(name)
        if i is None or i >= len(self._leaf_of):
            return QModelIndex()
        leaf = self._leaf_of[i]
        return self.createIndex(leaf.row, column, leaf)

    def top_groups(self) -> list[QModelIndex]:
        return [self.index(n.row, 0) for n in self._root.children if n.children]

    # -- the model API --------------------------------------------------------------------------

    def _node(self, index: _Index) -> _Node:
        return index.internalPointer() if index.isValid() else self._root

    def index(self, row: int, column: int, parent: _Index = QModelIndex()) -> QModelIndex:
        node = self._node(parent)
        if parent.isValid() and parent.column() != 0:
            return QModelIndex()
        if not (0 <= row < len(node.children) and 0 <= column < len(HEADERS)):
            return QModelIndex()
        return self.createIndex(row, column, node.children[row])

    def parent(self, index: _Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]
        if not index.isValid():
            return QModelIndex()
        node: _Node = index.internalPointer()
        parent = node.parent
        if parent is None or parent is self._root:
            return QModelIndex()
        return self.createIndex(parent.row, 0, parent)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:
        if parent.isValid() and parent.column() != 0:
            return 0
        return len(self._node(parent).children)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:
        return len(HEADERS)

    def hasChildren(self, parent: _Index = QModelIndex()) -> bool:
        return self.rowCount(parent) > 0

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        return layer_header_data(section, orientation, role)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role not in _SERVED_ROLES or not index.isValid():
            return None  # the view asks ~10 roles a cell; answer the unused ones before any work
        node: _Node = index.internalPointer()
        col = index.column()
        d = self._data
        is_group = node.layer is None
        if role == LAYER_ROLE:
            return node.path
        if role == Qt.ItemDataRole.FontRole:
            if is_group and col == COL_NAME:
                return self._bold
            if col == COL_MACS and not node.counted:
                return self._italic
            return None
        if col == COL_NAME:
            if role == Qt.ItemDataRole.DisplayRole:
                suffix = f"  ({node.leaves})" if is_group else ""
                return node.label + suffix + ("" if node.counted else "  ⚠")
            if role == RAW_ROLE:
                return node.path
            if role == Qt.ItemDataRole.ToolTipRole:
                if is_group:
                    text = f"{node.path}: {node.leaves} layers"
                    return tip(text + ("" if node.counted else "\n⚠ some layers have ops without a FLOP formula"))
                return tip(_name_tip(d.rows[node.layer]))  # type: ignore[index]
            return None
        if col == COL_TYPE:
            if role in (Qt.ItemDataRole.DisplayRole, RAW_ROLE):
                return "" if is_group else d.rows[node.layer].type  # type: ignore[index]
            return None
        value = node.sums.get(col)
        if role == Qt.ItemDataRole.DisplayRole:
            return d.display(col, value)
        if role == RAW_ROLE:
            return value
        if role == SHARE_ROLE:
            return d.share_of(col, value)
        if role in (HEAT_ROLE, Qt.ItemDataRole.BackgroundRole):
            if is_group:  # a group is coloured by its share of the whole, like the layers are
                share = d.share_of(col, value)
                heat = 0.0 if share is None else min(1.0, share)
            else:
                heat = d.heat_of(col, value)
            return heat if role == HEAT_ROLE else heat_brush(heat)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _RIGHT
        if role == Qt.ItemDataRole.ToolTipRole:
            text = d.tooltip(col, value, node.layer, _leaf_rows(node) if is_group and col == COL_LAT else None)
            if is_group and col != COL_SHARE:
                text = f"sum of {node.leaves} layers\n" + text
            return tip(text)  # names and op types come from the model: never markup
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return _FLAGS


def _parent_path(path: str) -> str:
    """The enclosing group: ONNX scopes nest with "/" ("layer1/layer1.0/(shape ops)"), torch's with "."."""
    sep = "/" if "/" in path else "."
    return path.rsplit(sep, 1)[0] if sep in path else ""


def _leaf_label(name: str, scope: str) -> str:
    """A layer's name without its group's path ("conv1" under "layer1.0", "Shape" under "a/b")."""
    if not scope:
        return name
    if name.startswith(scope + "."):
        return name[len(scope) + 1 :]
    # ONNX node names repeat their scope between slashes ("/layer1/layer1.0/conv1/Conv"); a
    # folded group ("<scope>/(shape ops)") holds nodes named after the scope it folds.
    base = scope.rsplit("/", 1)[0] if scope.endswith(")") and "/" in scope else scope
    for prefix in (f"/{scope}/", f"/{base}/"):
        if name.startswith(prefix) and len(name) > len(prefix):
            return name[len(prefix) :]
    return name


def _leaf_rows(node: _Node) -> list[int]:
    """The layer rows under a group (for a tooltip: walked on demand, not stored)."""
    out: list[int] = []
    stack = [node]
    while stack:
        n = stack.pop()
        if n.layer is not None:
            out.append(n.layer)
        stack.extend(n.children)
    return out
