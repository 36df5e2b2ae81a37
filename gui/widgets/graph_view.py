"""The Graph tab: the model as nodes and edges, with the heatmap's colours.

Built from the profile's layer rows (`LayerData`), so it works the same for every MODEL form
and never loads the model in the app: one node per layer in execution order, inside nested
frames for the modules they belong to (the heatmap's tree: `layer_tree.tree_scope`; ONNX scopes
"layer1/layer1.0", torch's "layer1.0"; zero-cost rows folded into one node per module).

Edges are the model's data flow when the profile has it (`LayerRow.inputs_from`: the ONNX
graph's edges, the torch modules' producers): `data_edges`, drawn through folded zero-cost
nodes so that they join the layers that work (`_through_folds`). A profile without it (an older
document) gets edges inferred as before: execution order, and for a layer with several inputs (an
ONNX Add, Concat, MatMul) an edge from the most recent earlier layer whose output has that
input's shape — a residual or skip connection read from shapes (the tooltip says so).

A node's colour is its share of the chosen column's model total (`LayerData.heat_of`, the same
scale as the heatmap's cells); a frame's title gives the module's share. Wheel zooms (at the
mouse), dragging pans, a click selects the layer (`layer_selected`) as a click in the heatmap
does. Text is drawn with QGraphicsSimpleTextItem (plain text: names come from the model).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPainterPath, QPen, QWheelEvent
from PySide6.QtWidgets import (
    QComboBox,
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsSceneMouseEvent,
    QGraphicsSimpleTextItem,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from gui import plain_text
from gui.models.layer_tree import OWN_OPS_LABEL, _leaf_label, _parent_path, module_name, tree_scope
from gui.state.layer_data import COL_ACT, COL_LAT, COL_MACS, COL_PARAMS, COL_PROJ, LayerData
from gui.theme import current, heat_color
from profiler import units
from profiler.layer_reconcile import NOOP_MODULES_LABEL, SHAPE_OPS_LABEL

NODE_W, NODE_H, GAP, INDENT, TITLE_H = 240.0, 34.0, 14.0, 18.0, 20.0
_FOLDS = (SHAPE_OPS_LABEL, NOOP_MODULES_LABEL)
#: (column, combo text)
COLUMNS = (
    (COL_LAT, "Latency (measured)"),
    (COL_PROJ, "Projected"),
    (COL_MACS, "MACs"),
    (COL_PARAMS, "Params"),
    (COL_ACT, "Activations"),
)


def is_onnx(data: LayerData) -> bool:
    return data.profile is not None and str(data.profile.model.format) == "onnx"


@dataclass
class _Group:
    path: str
    children: list[Any] = field(default_factory=list)  # _Group or int (a row)


def build_tree(data: LayerData) -> _Group:
    """The layers nested by module, in execution order (the heatmap's grouping, unfiltered)."""
    root = _Group("")
    groups = {"": root}
    onnx = is_onnx(data)

    def group(path: str) -> _Group:
        g = groups.get(path)
        if g is None:
            parent = group(_parent_path(path))
            g = groups[path] = _Group(path)
            parent.children.append(g)
        return g

    for i, r in enumerate(data.rows):
        scope = tree_scope(r, onnx)
        group(scope).children.append(i) if scope else root.children.append(i)
    return root


def inferred_edges(data: LayerData) -> list[tuple[int, int, bool]]:
    """(from row, to row, inferred) edges: each layer from the one before it, and a layer with
    several inputs also from the latest earlier layer whose output shape matches each further
    input (`inferred` True: a skip connection read from shapes)."""
    rows = data.rows
    edges: list[tuple[int, int, bool]] = []
    latest: dict[tuple[int, ...], list[int]] = {}
    for i, r in enumerate(rows):
        if i > 0:
            edges.append((i - 1, i, False))
        if len(r.input_shapes) > 1:
            used = {i - 1}
            for shape in r.input_shapes[1:]:
                for j in reversed(latest.get(tuple(shape), [])):
                    if j not in used:
                        edges.append((j, i, True))
                        used.add(j)
                        break
        for shape in r.output_shapes:
            latest.setdefault(tuple(shape), []).append(i)
    return edges


def data_edges(data: LayerData) -> list[tuple[int, int]] | None:
    """(producer row, consumer row) from the rows' `inputs_from`; None when no row has any (the
    profile does not know its data flow: the caller infers edges instead)."""
    rows = data.rows
    if not any(r.inputs_from for r in rows):
        return None
    index = data.index
    return [(index[p], i) for i, r in enumerate(rows) for p in r.inputs_from if p in index and index[p] != i]


class _Node(QGraphicsRectItem):
    """A layer, or a module's folded zero-cost rows (`rows` holds them all)."""

    def __init__(self, row: int, rect: QRectF, owner: GraphView, rows: tuple[int, ...] = ()) -> None:
        super().__init__(rect)
        self.row = row
        self.rows = rows or (row,)
        self.fold = bool(rows)
        self._owner = owner
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable, False)

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._owner.select_row(self.row, emit=True)
            event.accept()
            return
        super().mousePressEvent(event)


class _Canvas(QGraphicsView):
    """Pan by dragging, zoom with the wheel at the mouse."""

    def __init__(self, scene: QGraphicsScene) -> None:
        super().__init__(scene)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.zoom(1.15**steps)
        event.accept()

    def zoom(self, factor: float) -> None:
        scale = self.transform().m11()
        factor = max(0.05 / scale, min(4.0 / scale, factor))  # 5 % … 400 %
        self.scale(factor, factor)


class GraphView(QWidget):
    """See the module docstring. `layer_selected(name)` on a click on a node."""

    layer_selected = Signal(str)

    def __init__(self, data: LayerData, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._data = data
        self.scene = QGraphicsScene(self)
        self.canvas = _Canvas(self.scene)
        self.column = QComboBox()
        for col, text in COLUMNS:
            self.column.addItem(text, col)
        self.column.setToolTip("Colour = share of this column's model total (the heatmap's scale)")
        self.legend = plain_text.label("", objectName="Muted")
        fit = QPushButton("Fit")
        fit.setToolTip("Zoom to show the whole model")
        actual = QPushButton("100 %")
        bar = QHBoxLayout()
        bar.setContentsMargins(4, 2, 4, 2)
        bar.addWidget(QLabel("Colour by"))
        bar.addWidget(self.column)
        bar.addWidget(self.legend, 1)
        bar.addWidget(fit)
        bar.addWidget(actual)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(bar)
        lay.addWidget(self.canvas, 1)
        self.nodes: dict[int, _Node] = {}
        self.frames: dict[str, tuple[QGraphicsRectItem, QGraphicsSimpleTextItem]] = {}
        #: drawn edges as (from row, to row, inferred); `real_edges` says whether they are the
        #: model's data flow (True) or inferred from order and shapes (False)
        self.edges: list[tuple[int, int, bool]] = []
        self.real_edges = False
        self.selected: int | None = None
        self._dirty = True
        self._names: tuple[str, ...] = ()
        self._auto_column = True
        self._onnx = False
        self._recolour_timer = QTimer(self, singleShot=True, interval=150)
        self._recolour_timer.timeout.connect(self.recolour)
        self.column.currentIndexChanged.connect(self._on_column_changed)
        fit.clicked.connect(self.fit)
        actual.clicked.connect(self._on_actual_clicked)

    # -- what the window calls ------------------------------------------------------------------

    def watch(self, model: Any) -> None:
        """Follow an item model over the same `LayerData` (the Layers table's): a reset rebuilds,
        changed values recolour (debounced)."""
        model.modelReset.connect(self.invalidate)
        model.dataChanged.connect(self._on_values_changed)

    def invalidate(self) -> None:
        """The layers changed: rebuild now when on screen, else when next shown."""
        self._dirty = True
        if self.isVisible():
            self.rebuild()

    def current_column(self) -> int:
        return int(self.column.currentData())

    def set_column(self, col: int) -> None:
        self._auto_column = False
        self.column.setCurrentIndex(max(0, self.column.findData(col)))

    def select_layer(self, name: str) -> None:
        """Mark `name` and bring it into view (the heatmap selected it)."""
        i = self._data.index.get(name)
        if i is not None:
            if self._dirty:
                self.rebuild()
            self.select_row(i, emit=False)

    def select_row(self, row: int, emit: bool) -> None:
        previous = self.nodes.get(self.selected) if self.selected is not None else None
        self.selected = row
        if previous is not None:
            previous.setPen(self._pen(False))
        node = self.nodes.get(row)
        if node is not None:
            node.setPen(self._pen(True))
            self.canvas.ensureVisible(node, 40, 40)
        if emit and row < len(self._data.rows):
            self.layer_selected.emit(self._data.rows[row].name)

    def fit(self) -> None:
        self.canvas.fitInView(self.scene.itemsBoundingRect(), Qt.AspectRatioMode.KeepAspectRatio)

    def restyle(self) -> None:
        """The theme changed: redraw in its colours."""
        self._dirty = True
        if self.isVisible():
            self.rebuild()

    # -- building -------------------------------------------------------------------------------

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if self._dirty:
            self.rebuild()

    def rebuild(self) -> None:
        d = self._data
        self._dirty = False
        self.scene.clear()
        self.nodes, self.frames = {}, {}
        names = tuple(r.name for r in d.rows)
        if names != self._names:
            self.selected = None
            self._names = names
        if self._auto_column:
            idx = self.column.findData(d.share_basis())
            self.column.blockSignals(True)  # our own choice: no echo
            self.column.setCurrentIndex(max(0, idx))
            self.column.blockSignals(False)
        if not d.rows:
            self.legend.setText("")
            return
        t = current()
        self.scene.setBackgroundBrush(QBrush(QColor(t.base)))
        self._bold = QFont()
        self._bold.setBold(True)
        self._small = QFont()
        self._small.setPointSizeF(max(6.0, self._small.pointSizeF() * 0.85))
        self._y = 0.0
        self._chains: dict[str, str] = {}
        self._onnx = is_onnx(d)
        self._layout(build_tree(d), 0)
        real = data_edges(d)
        self.real_edges = real is not None
        if real is None:
            self.edges = inferred_edges(d)
            self._draw_edges()
        else:
            self.edges = self._through_folds(real)
            self._draw_data_edges()
        self.recolour()
        if self.selected is not None:
            self.select_row(self.selected, emit=False)
        self.scene.setSceneRect(self.scene.itemsBoundingRect().adjusted(-20, -20, 20, 20))

    def _layout(self, group: _Group, depth: int) -> None:
        t = current()
        for child in group.children:
            if isinstance(child, int):
                self._add_node(child, depth)
                continue
            if _is_fold(child):
                self._add_fold(child, depth)
                continue
            outer = child
            names = [module_name(child.path)]
            # a module around a single module: one frame titled "features.1 › conv"
            while (
                len(child.children) == 1 and isinstance(child.children[0], _Group) and not _is_fold(child.children[0])
            ):
                child = child.children[0]
                names.append(module_name(child.path).rsplit("/", 1)[-1])
            if len(child.children) == 1 and isinstance(child.children[0], int):
                # a module with one layer (an ONNX scope per node): the node alone, named by it
                self._add_node(child.children[0], depth, " › ".join(names))
                self._chains[outer.path] = ""
                continue
            top = self._y
            x = depth * INDENT
            self._y += TITLE_H + 4
            self._layout(child, depth + 1)
            frame = QGraphicsRectItem(
                QRectF(x - 6, top, NODE_W + 12 + (self._max_depth(child) + 1) * INDENT, self._y - top)
            )
            frame.setPen(QPen(QColor(t.grid), 1))
            frame.setBrush(Qt.BrushStyle.NoBrush)
            frame.setZValue(-1 - depth)
            self._chains[outer.path] = " › ".join(names)
            title = QGraphicsSimpleTextItem(self._chains[outer.path])
            title.setFont(self._bold)
            title.setBrush(QBrush(QColor(t.muted)))
            title.setPos(x, top + 2)
            frame.setToolTip(plain_text.tip(module_name(child.path)))
            self.scene.addItem(frame)
            self.scene.addItem(title)
            self.frames[outer.path] = (frame, title)
            self._y += GAP / 2

    def _max_depth(self, group: _Group) -> int:
        depth = 0
        for c in group.children:
            if isinstance(c, _Group):
                depth = max(depth, 1 + self._max_depth(c))
        return depth

    def _add_fold(self, group: _Group, depth: int) -> None:
        """A module's zero-cost rows as one node (views, shape arithmetic, no-ops)."""
        t = current()
        rows = tuple(int(c) for c in group.children)
        x = depth * INDENT
        node = _Node(rows[0], QRectF(x, self._y, NODE_W, NODE_H), self, rows)
        node.setPen(QPen(QColor(t.grid), 1, Qt.PenStyle.DashLine))
        self.scene.addItem(node)
        label = group.path.rsplit("/", 1)[-1]
        name = QGraphicsSimpleTextItem(label, node)
        name.setFont(self._bold)
        name.setBrush(QBrush(QColor(t.muted)))
        name.setPos(x + 6, self._y + 2)
        kinds = sorted({self._data.rows[i].type for i in rows})
        sub = QGraphicsSimpleTextItem(
            _elide(f"{len(rows)} node{'s' if len(rows) != 1 else ''}: {', '.join(kinds)}", 40), node
        )
        sub.setFont(self._small)
        sub.setBrush(QBrush(QColor(t.muted)))
        sub.setPos(x + 6, self._y + 18)
        for i in rows:
            self.nodes[i] = node
        self._y += NODE_H + GAP

    def _add_node(self, row: int, depth: int, module: str = "") -> None:
        t = current()
        r = self._data.rows[row]
        x = depth * INDENT
        node = _Node(row, QRectF(x, self._y, NODE_W, NODE_H), self)
        node.setPen(self._pen(False))
        self.scene.addItem(node)
        scope = tree_scope(r, self._onnx)
        label = module or (OWN_OPS_LABEL if r.scope == r.name and r.name else _leaf_label(r.name, scope))
        name = QGraphicsSimpleTextItem(_elide(label, 30), node)
        name.setFont(self._bold)
        name.setBrush(QBrush(QColor(t.text)))
        name.setPos(x + 6, self._y + 2)
        shape = "×".join(map(str, r.output_shapes[0])) if r.output_shapes else ""
        sub = QGraphicsSimpleTextItem(_elide(f"{r.type}  {shape}".strip(), 40), node)
        sub.setFont(self._small)
        sub.setBrush(QBrush(QColor(t.muted)))
        sub.setPos(x + 6, self._y + 18)
        self.nodes[row] = node
        self._y += NODE_H + GAP

    def _draw_edges(self) -> None:
        t = current()
        pen = QPen(QColor(t.muted), 1.2)
        skip_pen = QPen(QColor(t.accent), 1.2, Qt.PenStyle.DashLine)
        # the chain runs through the layers that work: folded zero-cost nodes stand aside
        chain: list[tuple[int, int, bool]] = []
        prev: int | None = None
        for i in range(len(self._data.rows)):
            node = self.nodes.get(i)
            if node is None or node.fold:
                continue
            if prev is not None:
                chain.append((prev, i, False))
            prev = i
        chain += [(a, b, True) for a, b, inferred in self.edges if inferred]
        for k, (a, b, inferred) in enumerate(chain):
            na, nb = self.nodes.get(a), self.nodes.get(b)
            if na is None or nb is None or na is nb or na.fold or nb.fold:
                continue
            ra, rb = na.rect(), nb.rect()
            item = QGraphicsPathItem(_edge_path(ra, rb, not inferred, k))
            item.setPen(skip_pen if inferred else pen)
            item.setZValue(-0.5)
            if inferred:
                item.setToolTip(
                    plain_text.tip("inferred from shapes: an earlier output of the same shape feeds this layer")
                )
            self.scene.addItem(item)

    def _through_folds(self, edges: list[tuple[int, int]]) -> list[tuple[int, int, bool]]:
        """Edges between drawn layers: a producer folded into a zero-cost node is replaced by
        what it read (recursively), since the fold stands aside; edges into a fold are dropped."""
        into: dict[int, list[int]] = {}
        for a, b in edges:
            into.setdefault(b, []).append(a)

        def folded(row: int) -> bool:
            node = self.nodes.get(row)
            return node is None or node.fold

        def sources(row: int, seen: set[int]) -> list[int]:
            if not folded(row):
                return [row]
            seen.add(row)
            return [s for p in into.get(row, []) if p not in seen for s in sources(p, seen)]

        out: dict[tuple[int, int, bool], None] = {}
        for b in range(len(self._data.rows)):
            if folded(b):
                continue
            for a in into.get(b, []):
                for s in sources(a, {b}):
                    if s != b:
                        out[(s, b, False)] = None
        return list(out)

    def _draw_data_edges(self) -> None:
        """The data flow: an edge to the next drawn layer runs straight down; any other (a skip,
        a branch, a module used again) bends out to the right."""
        t = current()
        pen = QPen(QColor(t.muted), 1.2)
        skip_pen = QPen(QColor(t.accent), 1.2)
        drawn = sorted({id(n): n for n in self.nodes.values() if not n.fold}.values(), key=lambda n: n.rect().top())
        position = {node.row: k for k, node in enumerate(drawn)}
        rows = self._data.rows
        for k, (a, b, _) in enumerate(self.edges):
            na, nb = self.nodes[a], self.nodes[b]
            if na is nb:
                continue
            ra, rb = na.rect(), nb.rect()
            adjacent = position.get(nb.row, -1) == position.get(na.row, -2) + 1
            item = QGraphicsPathItem(_edge_path(ra, rb, adjacent, k))
            item.setPen(pen if adjacent else skip_pen)
            item.setZValue(-0.5)
            item.setToolTip(plain_text.tip(f"{rows[a].name} → {rows[b].name}"))
            self.scene.addItem(item)

    # -- colours --------------------------------------------------------------------------------

    def _pen(self, selected: bool) -> QPen:
        t = current()
        return QPen(QColor(t.highlight), 3) if selected else QPen(QColor(t.grid), 1)

    def _on_values_changed(self, *_args: Any) -> None:
        if not self.isVisible():
            self._dirty = True  # off screen: rebuilt when next shown, not recoloured per burst
            return
        if not self._recolour_timer.isActive():
            self._recolour_timer.start()

    def _on_column_changed(self, _index: int) -> None:
        self._auto_column = False
        self.recolour()

    def _on_actual_clicked(self) -> None:
        self.canvas.resetTransform()

    def recolour(self) -> None:
        """Fill every node by its share of the chosen column's model total; frames' titles say
        the module's share."""
        d = self._data
        if self._dirty or not self.nodes:
            return
        col = self.current_column()
        total = d.totals.get(col) or 0.0
        for row, node in self.nodes.items():
            if row >= len(d.rows) or row != node.row:
                continue
            values = [v for i in node.rows if (v := d.raw(i, col)) is not None]
            value = sum(values) if values else None
            node.setBrush(QBrush(heat_color(d.heat_of(col, value))))
            share = d.share_of(col, value)
            r = d.rows[row]
            if node.fold:
                node.setToolTip(
                    plain_text.tip(
                        f"{len(node.rows)} zero-cost nodes (views, shape arithmetic, no-ops), folded:\n"
                        + "\n".join(d.rows[i].name for i in node.rows[:12])
                        + ("\n…" if len(node.rows) > 12 else "")
                        + f"\n{d.header(col).replace(chr(10), ' ')}: {d.exact(col, value)}"
                    )
                )
                continue
            shapes = " → ".join(
                ", ".join("×".join(map(str, s)) for s in side) or "?" for side in (r.input_shapes, r.output_shapes)
            )
            node.setToolTip(
                plain_text.tip(
                    f"{r.name}  ({r.type})\nshapes {shapes}\n{d.header(col).replace(chr(10), ' ')}: "
                    f"{d.exact(col, value)} · {units.percent(share, 1)} of the model"
                )
            )
        sums: dict[str, float] = {}
        if total > 0:
            for i in range(len(d.rows)):
                v = d.raw(i, col)
                if v is None:
                    continue
                path = tree_scope(d.rows[i], self._onnx)
                while path:
                    sums[path] = sums.get(path, 0.0) + v
                    path = _parent_path(path)
        for path, (_frame, title) in self.frames.items():
            share = sums.get(path, 0.0) / total if total > 0 else None
            name = self._chains.get(path) or module_name(path)
            title.setText(name + ("" if share is None else f"  ·  {units.percent(share, 0)}"))
        name = dict((c, text) for c, text in COLUMNS).get(col, "")
        self.legend.setText(f"colour: share of the model's {name.lower()}, darkest = largest share")
        # where the edges come from, on hover: the line itself must stay short at 1280 px
        self.legend.setToolTip(
            "Edges: the model's data flow, from the profile (each layer's producers)"
            if self.real_edges
            else "Edges: execution order; a skip connection is inferred from matching shapes "
            "(this profile does not record its data flow)"
        )


def _is_fold(group: _Group) -> bool:
    return group.path.endswith(_FOLDS) and all(isinstance(c, int) for c in group.children)


def _elide(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _edge_path(ra: QRectF, rb: QRectF, down: bool, k: int) -> QPainterPath:
    """An edge from node `ra` to node `rb`: straight down to the next node (`down`), else a curve
    round the right side, bulging a little more for each of four skips in a row (`k`), so
    parallel skips stay apart."""
    path = QPainterPath()
    if down:
        start, end = QPointF(ra.left() + 30, ra.bottom()), QPointF(rb.left() + 30, rb.top())
        path.moveTo(start)
        path.cubicTo(QPointF(start.x(), start.y() + GAP / 2), QPointF(end.x(), end.y() - GAP / 2), end)
        return path
    start, end = QPointF(ra.right(), ra.center().y()), QPointF(rb.right(), rb.center().y())
    right = max(start.x(), end.x()) + 40 + 14 * (k % 4)
    path.moveTo(start)
    path.cubicTo(QPointF(right, start.y()), QPointF(right, end.y()), end)
    return path
