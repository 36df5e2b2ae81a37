"""The layer heatmap's tree: layers grouped and collapsible by module path (`LayerRow.scope`).

A QAbstractItemModel over `LayerData`. The tree is built once per profile (`reset`); latency
and projection updates emit `dataChanged` on the affected columns only, with group sums
recomputed in one pass (O(layers × depth)), so thousands of layers stay responsive.

Where rows go (`tree_scope`): a module's own code outside its children ("h.0", type
"GPTBlock (own ops)") sits inside that module's group as "(own ops)"; a zero-cost row (an ONNX
Identity/Shape/Constant, shape arithmetic, a torch Dropout in eval mode — `is_zero_cost`) sits
in one "(shape ops)" / "(no-op modules)" group per module, whether or not latency has been
measured yet. Every cell is coloured by its share of the column's model total (`LayerData.heat_of`),
a group like a layer. `set_filter` keeps the layers whose name, type or module contains a text
(and the groups above them).
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
    DELTA_OF,
    HEADERS,
    NUMERIC_COLUMNS,
    LayerData,
)
from gui.theme import delta_brush, heat_brush
from profiler.layer_reconcile import NOOP_MODULES_LABEL, SHAPE_OPS_LABEL, is_zero_cost, shape_ops_scope
from profiler.result import LayerRow

#: a group's summed baseline figure for Δ column c lives in `sums[_BASE + c]`
_BASE = 100
_FOLD_LABELS = (SHAPE_OPS_LABEL, NOOP_MODULES_LABEL)
OWN_OPS_LABEL = "(own ops)"

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
        self._leaf_of: list[_Node | None] = []
        self._bold = QFont()
        self._bold.setBold(True)
        self._italic = QFont()
        self._italic.setItalic(True)
        #: set by the view: a collapsed group's rows are not on screen, so changes inside it need
        #: no signal (thousands of collapsed layers would otherwise cost one emit per group)
        self.is_expanded: Any = lambda index: True
        self._needle = ""

    # -- filtering ------------------------------------------------------------------------------

    @property
    def filter_text(self) -> str:
        return self._needle

    def set_filter(self, text: str) -> None:
        """Keep the layers whose name, type or module path contains `text` (case-insensitive,
        plain text), with the groups above them; "" shows everything."""
        needle = text.strip().lower()
        if needle == self._needle:
            return
        self._needle = needle
        self.reset()

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
                # ONNX scopes repeat the parent module ("features/features.0"): show "0", as
                # torch's "layer1.0" shows "0" under "layer1" (the tooltip names the module)
                parent_name = parent_path.rsplit("/", 1)[-1]
                if "/" in path and parent_name and label.startswith(parent_name + "."):
                    label = label[len(parent_name) + 1 :]
                node = _Node(path, label, parent)
                node.row = len(parent.children)
                parent.children.append(node)
                groups[path] = node
            return node

        self._leaf_of = []
        onnx = self._data.profile is not None and str(self._data.profile.model.format) == "onnx"
        needle = self._needle
        for i, r in enumerate(self._data.rows):
            scope = tree_scope(r, onnx)
            if needle and not (needle in r.name.lower() or needle in r.type.lower() or needle in scope.lower()):
                self._leaf_of.append(None)
                continue
            parent = group(scope) if scope else root
            own = bool(r.name) and r.scope == r.name
            label = OWN_OPS_LABEL if own else _leaf_label(r.name, scope)
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
                for c in DELTA_OF:  # the baseline a Δ compares with, where the Δ is known
                    node.sums[_BASE + c] = d.base(node.layer, c) if node.sums[c] is not None else None
                node.leaves = 1
                node.counted = d.rows[node.layer].counted
                return
            sums: dict[int, float | None] = {c: None for c in NUMERIC_COLUMNS}
            sums.update({_BASE + c: None for c in DELTA_OF})
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
        """Values changed in columns first…last: recompute sums, then repaint those cells (and
        the Δ columns, which follow latency and MACs; the headers, which name the target)."""
        self._aggregate()
        last = max(last, len(HEADERS) - 1)
        self._emit_changed(self._root, first, last)
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, first, last)

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
        if leaf is None:  # filtered out
            return QModelIndex()
        return self.createIndex(leaf.row, column, leaf)

    def top_groups(self) -> list[QModelIndex]:
        return [self.index(n.row, 0) for n in self._root.children if n.children]

    def hottest(self, col: int, limit: int = 3, floor: float = 0.05) -> list[tuple[str, float]]:
        """The parts of the model that hold most of column `col` (module name, share of the
        model total), largest first: the top level's nodes, and where one group holds over
        60 % of the whole, the level inside it instead (GPT's "h" → its blocks). Shares under
        `floor` are left out. Reads the tree as filtered."""
        d = self._data
        total = d.totals.get(col) or 0.0
        if total <= 0:
            return []
        nodes = self._root.children
        for _ in range(8):  # descend through a dominant group ("h", "model.layers")
            shares = sorted(((n.sums.get(col) or 0.0) / total, k) for k, n in enumerate(nodes))
            if not shares:
                return []
            top_share, k = shares[-1]
            top = nodes[k]
            if top_share > 0.6 and top.children and len(top.children) > 1:
                nodes = top.children
                continue
            break
        ranked = sorted(nodes, key=lambda n: n.sums.get(col) or 0.0, reverse=True)
        out = []
        for n in ranked[:limit]:
            share = (n.sums.get(col) or 0.0) / total
            if share < floor:
                break
            out.append((self.display_name(n), share))
        return out

    @staticmethod
    def display_name(node: _Node) -> str:
        """How a user names a group or layer: the module path without doubled ONNX scopes
        ("features.0" for "features/features.0"), a fold with its module ("layer1 (shape ops)")."""
        if node.layer is None:
            return module_name(node.path)
        if node.label == OWN_OPS_LABEL:
            return f"{node.path} {OWN_OPS_LABEL}"
        return node.path

    def node_of(self, index: _Index) -> _Node:
        return self._node(index)

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
        return layer_header_data(section, orientation, role, self._data)

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
                suffix = f" ({node.leaves})" if is_group else ""
                return node.label + suffix + ("" if node.counted else "  ⚠")
            if role == RAW_ROLE:
                return node.path
            if role == Qt.ItemDataRole.ToolTipRole:
                if is_group:
                    text = f"{module_name(node.path)}: {node.leaves} layers"
                    if node.path.endswith(_FOLD_LABELS):
                        text += "\nzero-cost rows (views, shape arithmetic, no-ops) folded into one row"
                    return tip(text + ("" if node.counted else "\n⚠ some layers have ops without a FLOP formula"))
                return tip(_name_tip(d.rows[node.layer]))  # type: ignore[index]
            return None
        if col == COL_TYPE:
            if role in (Qt.ItemDataRole.DisplayRole, RAW_ROLE):
                return "" if is_group else d.rows[node.layer].type  # type: ignore[index]
            return None
        value = node.sums.get(col)
        if role == Qt.ItemDataRole.DisplayRole:
            if col in DELTA_OF:
                return d.delta_text(col, value, node.sums.get(_BASE + col))
            return d.display(col, value)
        if role == RAW_ROLE:
            return value
        if role == SHARE_ROLE:
            return d.share_of(col, value)
        if role in (HEAT_ROLE, Qt.ItemDataRole.BackgroundRole):
            heat = d.heat_of(col, value)  # one scale per column: the share of the model total
            if role == HEAT_ROLE:
                return heat
            return delta_brush(heat) if col in DELTA_OF else heat_brush(heat)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _RIGHT
        if role == Qt.ItemDataRole.ToolTipRole:
            leaves = _leaf_rows(node) if is_group and (col == COL_LAT or col in DELTA_OF) else None
            text = d.tooltip(col, value, node.layer, leaves)
            if is_group and col != COL_SHARE:
                text = f"sum of {node.leaves} layers\n" + text
            return tip(text)  # names and op types come from the model: never markup
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return _FLAGS


def tree_scope(row: LayerRow, onnx: bool = False) -> str:
    """The group a row sits in: its scope; a module's own ops inside the module itself; a
    zero-cost row in its module's fold ("layer1/(shape ops)"), where the core did not fold it."""
    scope = row.scope
    if scope.endswith(_FOLD_LABELS):
        return scope
    if is_zero_cost(row) and "own ops" not in row.type:
        label = SHAPE_OPS_LABEL if onnx or "/" in row.name or "::" in row.type else NOOP_MODULES_LABEL
        return shape_ops_scope(scope, label)
    return scope


def module_name(path: str) -> str:
    """A group path as a module name: ONNX scopes repeat their parents ("features/features.0"
    is the module "features.0"); a fold keeps its module ("layer1/(shape ops)" → "layer1 (shape ops)")."""
    if "/" not in path:
        return path
    head, last = path.rsplit("/", 1)
    if last.endswith(")") and last.startswith("("):
        return f"{module_name(head)} {last}" if head else last
    return last


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
    if scope.endswith(")") and "/" not in scope:
        base = ""  # a fold at the top level
    if base and name.startswith(base + "."):  # torch: "h.0.attn.resid_dropout" in "h.0.attn/(no-op modules)"
        return name[len(base) + 1 :]
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
