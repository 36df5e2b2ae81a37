"""The Compare window's view of a `profiler.compare.Comparison` (`tradeoff.compare/1`): the two
models, totals side by side with B ÷ A, the aligned per-layer table (sortable; rows in one model
only marked), the output fidelity of B against A, and the projected serving cost of each.

A thin binding over the core's object: the words and rows come from gui/report/section_compare.py
(Qt-free), which the PDF's compare page uses too. Every name, path and error a model provides is
shown as plain text (gui/plain_text.py): item views draw plain text, labels are set plain,
tooltips are escaped. `ChooseModelDialog` asks for the second model (a file or a demo).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gui import plain_text
from gui.models.roles import RAW_ROLE
from gui.report.section_compare import (
    alignment_summary,
    cost_difference,
    cost_rows,
    fidelity_lines,
    layer_cells,
    side_line,
    totals_rows,
)

LAYER_COLUMNS = ("Layer in A", "Layer in B", "Match", "Δ params", "Δ MACs", "Δ memory", "Δ latency")
#: the raw number each numeric column sorts by (LayerPair properties)
_RAW = {3: "params_delta", 4: "macs_delta", 5: "memory_bytes_delta", 6: "latency_ms_delta"}
ONLY_COLOR = QColor("#8a6d1f")  # a row in one model only: amber text, italic
Index = QModelIndex | QPersistentModelIndex


class CompareLayersModel(QAbstractTableModel):
    """Read-only rows of `Comparison.layers`: text for display, the raw B − A for sorting
    (RAW_ROLE; a row in one model only sorts by its own figure, negative when only in A)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._pairs: list[Any] = []
        self._cells: list[list[str]] = []

    def set_pairs(self, pairs: Any) -> None:
        self.beginResetModel()
        self._pairs = list(pairs)
        self._cells = [layer_cells(p) for p in self._pairs]
        self.endResetModel()

    def pair(self, row: int) -> Any:
        return self._pairs[row]

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 — Qt's signature
        return 0 if parent.isValid() else len(self._pairs)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(LAYER_COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return LAYER_COLUMNS[section]
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole and section >= 3:
            return "B − A; a row in one model only has no change to show (sorted by its own figure)"
        return None

    def _raw(self, row: int, col: int) -> Any:
        p = self._pairs[row]
        if col < 3:
            return self._cells[row][col].lower()
        d = getattr(p, _RAW[col])
        if d is not None:
            return float(d)
        base = _RAW[col].removesuffix("_delta")
        own_a, own_b = getattr(p, f"{base}_a"), getattr(p, f"{base}_b")
        if own_a is not None:
            return -float(own_a)  # removed in B
        return float(own_b) if own_b is not None else 0.0

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row, col = index.row(), index.column()
        p = self._pairs[row]
        only = p.match in ("only_a", "only_b")
        if role == Qt.ItemDataRole.DisplayRole:
            return self._cells[row][col]
        if role == RAW_ROLE:
            return self._raw(row, col)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(
                (Qt.AlignmentFlag.AlignRight if col >= 3 else Qt.AlignmentFlag.AlignLeft)
                | Qt.AlignmentFlag.AlignVCenter
            )
        if role == Qt.ItemDataRole.ForegroundRole and only:
            return QBrush(ONLY_COLOR)
        if role == Qt.ItemDataRole.FontRole and only:
            f = QFont()
            f.setItalic(True)
            return f
        if role == Qt.ItemDataRole.ToolTipRole:
            lines = [f"A: {p.name_a} ({p.type_a})" if p.name_a is not None else "A: — (only in B)"]
            lines.append(f"B: {p.name_b} ({p.type_b})" if p.name_b is not None else "B: — (only in A)")
            lines.append(f"matched by {p.match}")
            return plain_text.tip("\n".join(lines))  # escaped: a name is never markup
        return None


class _RawSort(QSortFilterProxyModel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSortRole(RAW_ROLE)


def _item(text: str, *, right: bool = False, bold: bool = False) -> QTableWidgetItem:
    item = QTableWidgetItem(text)  # an item view draws its text plain
    item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
    if right:
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    if bold:
        f = item.font()
        f.setBold(True)
        item.setFont(f)
    if len(text) > 40:
        item.setToolTip(plain_text.tip(text))
    return item


def _small_table(headers: list[str]) -> QTableWidget:
    t = QTableWidget(0, len(headers))
    t.setHorizontalHeaderLabels(headers)
    t.verticalHeader().hide()
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    t.setWordWrap(False)
    t.setAlternatingRowColors(True)
    t.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    t.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    t.verticalHeader().setDefaultSectionSize(t.fontMetrics().height() + 8)
    return t


def _fill(t: QTableWidget, rows: list[list[str]], right_from: int = 1, bold_first: bool = False) -> None:
    t.setRowCount(len(rows))
    for r, cells in enumerate(rows):
        for c, text in enumerate(cells):
            t.setItem(r, c, _item(text, right=c >= right_from, bold=bold_first and c == 0))
    t.resizeColumnsToContents()
    last = t.columnCount() - 1
    if t.horizontalHeader().stretchLastSection():
        t.horizontalHeader().setSectionResizeMode(last, QHeaderView.ResizeMode.Stretch)
    hh = t.horizontalHeader()
    h = hh.sizeHint().height() + sum(t.rowHeight(r) for r in range(len(rows))) + 2 * t.frameWidth() + 2
    t.setFixedHeight(h)
    # the numbers are never cut: the table is as wide as its columns need (the last may stretch)
    t.setMinimumWidth(sum(t.columnWidth(c) for c in range(last + 1)) + 2 * t.frameWidth() + 2)


class CompareView(QWidget):
    """Shows one Comparison (`set_comparison`); `set_costs` refreshes the cost part alone (the
    planner's inputs changed)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.comparison: Any = None
        self.side_a = plain_text.label("A: —", objectName="CompareSideA")
        self.side_b = plain_text.label("B: —", objectName="CompareSideB")
        for lab in (self.side_a, self.side_b):
            lab.setWordWrap(True)
            lab.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.totals = _small_table(["", "A", "B", "B ÷ A"])
        self.totals.horizontalHeader().setStretchLastSection(True)
        totals_box = QGroupBox("Totals")
        QVBoxLayout(totals_box).addWidget(self.totals)

        self.fidelity = _small_table(["", "B against A"])
        self.fidelity.horizontalHeader().setStretchLastSection(True)
        fid_box = QGroupBox("Output fidelity of B against A")
        QVBoxLayout(fid_box).addWidget(self.fidelity)

        self.costs = _small_table(["", "Hardware", "$ / month", "$ / M inferences", "Answer"])
        self.costs.horizontalHeader().setStretchLastSection(True)
        self.cost_title = plain_text.label("", objectName="Muted")
        self.cost_note = plain_text.label("")
        self.cost_note.setStyleSheet("font-weight: 600;")
        self.cost_note.setWordWrap(True)
        cost_box = QGroupBox("Serving cost (projected)")
        cost_lay = QVBoxLayout(cost_box)
        cost_lay.addWidget(self.cost_title)
        cost_lay.addWidget(self.costs)
        cost_lay.addWidget(self.cost_note)

        self.layers_model = CompareLayersModel(self)
        self.layers_proxy = _RawSort(self)
        self.layers_proxy.setSourceModel(self.layers_model)
        self.layers = QTableView()
        self.layers.setObjectName("CompareLayers")
        self.layers.setModel(self.layers_proxy)
        self.layers.setSortingEnabled(True)
        self.layers.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # the model's own order until a header is clicked
        self.layers.setAlternatingRowColors(True)
        self.layers.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.layers.setWordWrap(False)
        self.layers.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.layers.verticalHeader().hide()
        self.layers.verticalHeader().setDefaultSectionSize(self.layers.fontMetrics().height() + 8)
        hh = self.layers.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for col, width in enumerate((200, 200, 130, 80, 80, 90, 90)):
            self.layers.setColumnWidth(col, width)
        for col in (0, 1):  # the names share what the numbers leave
            hh.setSectionResizeMode(col, QHeaderView.ResizeMode.Stretch)
        hh.setStretchLastSection(False)
        self.layers_caption = plain_text.label("", objectName="Muted")
        layer_box = QGroupBox("Layers, aligned (click a header to sort; Δ is B − A)")
        layer_lay = QVBoxLayout(layer_box)
        layer_lay.addWidget(self.layers_caption)
        layer_lay.addWidget(self.layers, 1)

        left = QWidget()
        left_lay = QVBoxLayout(left)
        left_lay.setContentsMargins(0, 0, 0, 0)
        left_lay.addWidget(totals_box)
        left_lay.addWidget(fid_box)
        left_lay.addWidget(cost_box)
        left_lay.addStretch(1)

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(layer_box)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)
        split.setSizes([700, 800])
        self.notes = plain_text.label("", objectName="Muted")
        self.notes.setWordWrap(True)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        sides = QGridLayout()
        sides.addWidget(self.side_a, 0, 0)
        sides.addWidget(self.side_b, 1, 0)
        lay.addLayout(sides)
        lay.addWidget(split, 1)
        lay.addWidget(self.notes)

    # -- binding ---------------------------------------------------------------------------------

    def clear(self) -> None:
        self.comparison = None
        self.layers_model.set_pairs(())
        for t in (self.totals, self.fidelity, self.costs):
            t.setRowCount(0)
        self.layers_caption.setText("")
        self.cost_note.setText("")
        self.cost_title.setText("")
        self.notes.setText("")

    def set_comparison(self, c: Any, *, cost_title: str = "") -> None:
        self.comparison = c
        self.side_a.setText("A: " + side_line(c.source_a, c.profile_a))
        self.side_b.setText("B: " + side_line(c.source_b, c.profile_b))
        _fill(self.totals, totals_rows(c), bold_first=True)
        _fill(self.fidelity, [list(x) for x in fidelity_lines(c)], right_from=9, bold_first=True)
        self.layers_model.set_pairs(c.layers)
        self.layers_caption.setText(f"{len(c.layers)} rows: {alignment_summary(c)}")
        self.set_costs(c, cost_title=cost_title)
        self.notes.setText("\n".join(f"Note: {n}" for n in c.notes))

    def set_costs(self, c: Any, *, cost_title: str = "") -> None:
        """Show `c`'s costs (the same comparison with costs planned again, or the first time)."""
        self.comparison = c
        self.cost_title.setText(cost_title)
        self.cost_title.setVisible(bool(cost_title))
        self.costs.setVisible(c.costs is not None)  # nothing planned: the note says so, no empty rows
        _fill(self.costs, cost_rows(c), right_from=2)
        for r in range(self.costs.rowCount()):
            item = self.costs.item(r, 4)
            if item is not None:
                item.setTextAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.cost_note.setText(cost_difference(c))

    # -- what the tests and the window read ------------------------------------------------------

    def layer_texts(self) -> list[list[str]]:
        """Every layer row as shown (in the view's current order)."""
        m = self.layers_proxy
        return [[str(m.index(r, c).data()) for c in range(m.columnCount())] for r in range(m.rowCount())]


class ChooseModelDialog(QDialog):
    """Compare with…: the second model, as a file (Browse…) or a demo."""

    def __init__(self, parent: QWidget | None = None, *, model_filter: str = "All files (*)") -> None:
        super().__init__(parent)
        from profiler.demos import DEMO_NAMES, demo_spec

        self.setWindowTitle("Compare with…")
        self._filter = model_filter
        self.path = QLineEdit()
        self.path.setPlaceholderText("a model file (.onnx, .pt2, .pt, .py, config.json) or demo:NAME")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._on_browse_clicked)
        self.demo = QComboBox()
        self.demo.addItem("— or a demo model —", "")
        for name in DEMO_NAMES:
            self.demo.addItem(f"{name} — {demo_spec(name).description}", f"demo:{name}")  # combo items are plain
        self.demo.currentIndexChanged.connect(self._on_demo_changed)
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Compare")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(plain_text.label("Compare the open model (A) with a second model (B), measured side by side:"))
        lay.addLayout(row)
        lay.addWidget(self.demo)
        lay.addWidget(buttons)
        self.resize(560, self.sizeHint().height())

    def source(self) -> str:
        return self.path.text().strip()

    def _on_browse_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Second model", "", self._filter)
        if path:
            self.path.setText(path)
            self.demo.setCurrentIndex(0)

    def _on_demo_changed(self, index: int) -> None:
        value = self.demo.itemData(index)
        if value:
            self.path.setText(str(value))
