"""The layer filter waits for typing to rest before refiltering (issue 16): a model with
thousands of rows is filtered once per word typed, not once per key; Enter applies at once, and
so does text the program sets (a linked box, the Operators tab)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from PySide6.QtCore import Qt
from test_heatmap_readable import _data, _gpt_like

from gui.models.layer_table import LayerFilterProxy
from gui.models.roles import LAYER_ROLE
from gui.widgets.filter_debounce import DEBOUNCE_MS
from gui.widgets.layer_filter import HeatmapPanel
from gui.widgets.layer_views import LayerHeatmapView, LayerTableView


def _panel(qtbot: Any, blocks: int = 300) -> tuple[HeatmapPanel, LayerHeatmapView, LayerTableView, list[str]]:
    d = _data(_gpt_like(blocks))  # 6 rows a block: ~1800 rows, Llama-config sized
    heatmap = LayerHeatmapView(d)
    table = LayerTableView(d)
    panel = HeatmapPanel(heatmap, d, table)
    qtbot.addWidget(panel)
    qtbot.addWidget(table)
    panel.show()
    heatmap.reset()
    applied: list[str] = []
    real = heatmap.model.set_filter

    def counting(text: str) -> None:
        applied.append(text)
        real(text)

    heatmap.model.set_filter = counting  # type: ignore[method-assign]
    return panel, heatmap, table, applied


def _shown_layers(heatmap: LayerHeatmapView) -> list[str]:
    model, out, stack = heatmap.model, [], [heatmap.model.index(-1, -1)]
    while stack:
        parent = stack.pop()
        for r in range(model.rowCount(parent)):
            index = model.index(r, 0, parent)
            if model.hasChildren(index):
                stack.append(index)
            else:
                out.append(index.data(LAYER_ROLE))
    return out


def test_typing_refilters_once_when_the_keys_rest(qtbot: Any) -> None:
    panel, heatmap, table, applied = _panel(qtbot)
    started = time.monotonic()
    qtbot.keyClicks(panel.filter, "h.12.attn")
    typed_in = time.monotonic() - started
    if typed_in < DEBOUNCE_MS / 1000:  # the keys came faster than the wait: nothing ran yet
        assert applied == [] and panel.filter_debounce.pending()
    qtbot.waitUntil(lambda: applied == ["h.12.attn"], timeout=2000)
    qtbot.wait(DEBOUNCE_MS + 100)
    assert applied == ["h.12.attn"]  # once, with the whole text — not once per key
    shown = _shown_layers(heatmap)
    assert shown and all(name.startswith("h.12") for name in shown)
    assert table.filter.text() == "h.12.attn"
    assert 0 < table.proxy.rowCount() < 50


def test_enter_applies_at_once(qtbot: Any) -> None:
    panel, heatmap, _table, applied = _panel(qtbot)
    qtbot.keyClicks(panel.filter, "c_fc")
    qtbot.keyClick(panel.filter, Qt.Key.Key_Return)
    assert applied == ["c_fc"]  # no wait
    assert not panel.filter_debounce.pending()
    qtbot.wait(DEBOUNCE_MS + 100)
    assert applied == ["c_fc"]  # the timer does not apply it a second time
    assert _shown_layers(heatmap) and all(n.endswith("c_fc") for n in _shown_layers(heatmap))


def test_program_set_text_and_clearing_apply_at_once(qtbot: Any) -> None:
    panel, _heatmap, table, applied = _panel(qtbot, blocks=20)
    panel.set_filter_text("ln_1")  # the Operators tab's double-click
    assert applied == ["ln_1"] and table.filter.text() == "ln_1"
    qtbot.keyClicks(panel.filter, "x")
    assert panel.filter_debounce.pending()
    panel.filter.clear()  # emptied: everything back without waiting
    assert applied[-1] == "" and not panel.filter_debounce.pending()


def test_typing_in_the_layers_tab_is_debounced_too(qtbot: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    filtered: list[str] = []
    real = LayerFilterProxy.set_filter_text

    def counting(self: LayerFilterProxy, text: str) -> None:
        filtered.append(text)
        real(self, text)

    monkeypatch.setattr(LayerFilterProxy, "set_filter_text", counting)  # before the table connects
    panel, _heatmap, table, applied = _panel(qtbot)
    qtbot.keyClicks(table.filter, "mlp")
    qtbot.waitUntil(lambda: panel.filter.text() == "mlp", timeout=2000)
    qtbot.wait(DEBOUNCE_MS + 100)
    assert filtered == ["mlp"] and applied == ["mlp"]  # each view filtered once, with the whole word
