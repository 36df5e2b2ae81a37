"""What sits above the heatmap: the hottest layers in one line, and the search box.

`HeatmapPanel` wraps the heatmap view (gui/widgets/layer_views.py) without changing it:

- the call-out ("layer3 is 33% of latency; layer4 28%; layer2 17%") from the tree model's
  `hottest` on the Share column's basis (measured latency once in, MACs before), refreshed
  when the model changes (debounced: a streaming run repaints it at most 5 times a second);
- one filter box for the heatmap (`LayerTreeModel.set_filter`) and the Layers tab (its own box
  follows, and typing there follows back), matching name, type and module path; typing is
  debounced (`FilterDebounce`: the filter runs when the keys rest ~150 ms, at once on Enter or
  when the text is set by the program), so a model with thousands of rows does not refilter on
  every keystroke;
- the Δ-vs-baseline columns shown only while a variant other than the baseline is on screen,
  and header rows tall enough for the two-line headers with units.

Layer names are plain text (labels set to PlainText).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QVBoxLayout, QWidget

from gui import plain_text
from gui.models.roles import RAW_ROLE
from gui.state.layer_data import COL_LAT, COL_PROJ, DELTA_COLUMNS, LayerData
from gui.widgets.filter_debounce import FilterDebounce
from profiler import units
from profiler.layer_reconcile import NOOP_MODULES_LABEL, SHAPE_OPS_LABEL

#: Δ columns need room for "−23% (−0.120)"
_DELTA_WIDTH = 140  # "−51.5% (−0.0245)" whole
#: the columns whose header names a unit or the target: as wide as their header's longest line
_FIT_HEADER = (COL_LAT, COL_PROJ)
_MAX_FIT = 140


def hottest_text(parts: list[tuple[str, float]], basis: str) -> str:
    """'layer3 is 33% of latency; layer4 28%; layer2 17%' ('' with nothing to call out)."""
    if not parts:
        return ""
    (first, share), rest = parts[0], parts[1:]
    text = f"{first} is {units.percent(share, 0)} of {basis}"
    return "; ".join([text, *(f"{name} {units.percent(s, 0)}" for name, s in rest)])


class HeatmapPanel(QWidget):
    """The heatmap with its call-out line and filter box; `filter_changed(str)` when the text changes."""

    filter_changed = Signal(str)

    def __init__(self, heatmap: Any, data: LayerData, table: Any = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.heatmap = heatmap
        self.table: Any = None
        self._data = data
        self.hot_label = plain_text.label("", objectName="HotLayers")
        self.hot_label.setStyleSheet("font-weight: 600;")
        self.hot_label.setWordWrap(False)
        self.filter = QLineEdit(placeholderText="Filter layers by name, type or module…", clearButtonEnabled=True)
        self.filter.setObjectName("HeatmapFilter")
        self.filter.setMaximumWidth(320)
        self.filter.setMinimumWidth(230)
        top = QHBoxLayout()
        top.setContentsMargins(4, 2, 4, 2)
        top.addWidget(self.hot_label, 1)
        top.addWidget(self.filter)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addLayout(top)
        lay.addWidget(heatmap)
        self._timer = QTimer(self, singleShot=True, interval=200)
        self._timer.timeout.connect(self.refresh)
        model = heatmap.model
        model.modelReset.connect(self.refresh)
        model.modelReset.connect(self._on_model_reset)
        # a long name is cut in its middle: the end ("…_70", "…/Conv") tells layers apart
        heatmap.view.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        heatmap.view.setIndentation(14)  # deep ONNX scopes leave the names more room
        model.dataChanged.connect(self._on_model_changed)
        self.filter_debounce = FilterDebounce(self.filter)
        self.filter_debounce.applied.connect(self._on_filter_applied)
        self._shown_delta: bool | None = None
        self.link_table(table)

    def link_table(self, table: Any) -> None:
        """Filter the Layers tab (`LayerTableView`) with the same text, both ways."""
        self.table = table
        if table is not None:
            # the table's applied text, not its keystrokes: typing there is debounced too
            follow = getattr(table, "filter_debounce", None)
            (follow.applied if follow is not None else table.filter.textChanged).connect(self._on_table_filter_changed)
        for header in self._headers():
            header.setMinimumHeight(34)  # two-line headers: the unit / the accelerator below
        self._shown_delta = None
        self.refresh()

    def _headers(self) -> list[Any]:
        out = [self.heatmap.view.header()]
        if self.table is not None:
            out.append(self.table.view.horizontalHeader())
        return out

    def _on_model_changed(self, *_args: Any) -> None:
        if not self._timer.isActive():
            self._timer.start()

    def refresh(self) -> None:
        """The call-out line and the Δ columns' visibility, from the data on screen."""
        d = self._data
        basis = d.share_basis()
        parts = self.heatmap.model.hottest(basis) if len(d) else []
        text = hottest_text(parts, "latency" if basis == COL_LAT else "MACs")
        if text and self.heatmap.model.filter_text:
            text += "  (of the layers shown)"
        self.hot_label.setText(text)
        self.hot_label.setToolTip(plain_text.tip(text))
        self._show_delta_columns(d.has_reference)
        self._fit_headers()

    def _fit_headers(self) -> None:
        for header in self._headers():
            fm = header.fontMetrics()
            model = header.model()
            if model is None:
                continue
            for col in _FIT_HEADER:
                text = str(model.headerData(col, Qt.Orientation.Horizontal) or "")
                need = min(_MAX_FIT, max((fm.horizontalAdvance(line) for line in text.splitlines()), default=0) + 18)
                if header.sectionSize(col) < need:
                    header.resizeSection(col, need)

    def _on_model_reset(self) -> None:
        QTimer.singleShot(0, self._fold_zero_cost)  # after the view has expanded its default levels

    def _fold_zero_cost(self) -> None:
        """Keep "(shape ops)" / "(no-op modules)" groups closed: one row per module (unless a
        filter is looking into them)."""
        if self.heatmap.model.filter_text:
            return
        view, model = self.heatmap.view, self.heatmap.model
        stack = [QModelIndex()]
        while stack:
            parent = stack.pop()
            for r in range(model.rowCount(parent)):
                index = model.index(r, 0, parent)
                if not model.hasChildren(index):
                    continue
                if str(index.data(RAW_ROLE) or "").endswith((SHAPE_OPS_LABEL, NOOP_MODULES_LABEL)):
                    view.collapse(index)
                elif view.isExpanded(index):
                    stack.append(index)

    def _show_delta_columns(self, show: bool) -> None:
        if show == self._shown_delta:
            return
        self._shown_delta = show
        for header in self._headers():
            for col in DELTA_COLUMNS:
                header.setSectionHidden(col, not show)
                if show:
                    header.resizeSection(col, _DELTA_WIDTH)

    def set_filter_text(self, text: str) -> None:
        self.filter.setText(text)

    def _on_filter_applied(self, text: str) -> None:
        self.heatmap.model.set_filter(text)
        if text.strip():
            self.heatmap.view.expandAll()  # the matches, wherever they are
        else:
            self.heatmap.expand_default()
            self._fold_zero_cost()
        if self.table is not None and self.table.filter.text() != text:
            self.table.filter.setText(text)  # the Layers tab filters the same way
        self.refresh()
        self.filter_changed.emit(text)

    def _on_table_filter_changed(self, text: str) -> None:
        if self.filter.text() != text:
            self.filter.setText(text)
