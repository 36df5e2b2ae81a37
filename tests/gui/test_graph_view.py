"""The Graph tab (issue 16, item 1): the model as nodes and edges from the profile's rows, the
heatmap's colour scale, zero-cost rows folded, pan/zoom, a click selects the layer, plain text."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtWidgets import QGraphicsSimpleTextItem
from test_heatmap_readable import _gpt_like, _profile, _row

from gui.state.layer_data import COL_LAT, COL_MACS, LayerData
from gui.theme import heat_color
from gui.widgets.graph_view import GraphView, build_tree, inferred_edges
from profiler.whatif import VariantResult


def _data(profile: Any) -> LayerData:
    d = LayerData()
    d.set_profile(profile)
    return d


def _view(qtbot: Any, d: LayerData) -> GraphView:
    g = GraphView(d)
    qtbot.addWidget(g)
    g.resize(900, 700)
    g.show()
    qtbot.waitExposed(g)
    return g


def test_resnet_nodes_nested_by_module_and_coloured_by_share(qtbot: Any, resnet_result: dict[str, Any]) -> None:
    d = _data(VariantResult.from_dict(resnet_result).profile)
    g = _view(qtbot, d)
    assert set(g.nodes) == set(range(len(d.rows)))  # every layer is on the graph
    assert {"layer1", "layer1.0", "layer4.1"} <= set(g.frames)  # module frames, parent → child
    assert g.current_column() == COL_LAT  # latency is measured: coloured by it
    for row, node in g.nodes.items():
        assert node.brush().color() == heat_color(d.heat_of(COL_LAT, d.raw(row, COL_LAT)))
    title = g.frames["layer3"][1].text()
    assert title.startswith("layer3") and "%" in title
    # sequential edges along execution order
    assert (0, 1, False) in g.edges and len([e for e in g.edges if not e[2]]) == len(d.rows) - 1
    g.set_column(COL_MACS)
    conv = d.index["conv1"]
    assert g.nodes[conv].brush().color() == heat_color(d.heat_of(COL_MACS, d.raw(conv, COL_MACS)))


def test_click_selects_the_layer_and_zoom_pans(qtbot: Any, resnet_result: dict[str, Any]) -> None:
    d = _data(VariantResult.from_dict(resnet_result).profile)
    g = _view(qtbot, d)
    row = d.index["layer2.0.conv1"]
    node = g.nodes[row]
    g.canvas.centerOn(node)
    qtbot.wait(20)
    pos = g.canvas.mapFromScene(node.sceneBoundingRect().center())
    with qtbot.waitSignal(g.layer_selected, timeout=2000) as blocker:
        qtbot.mouseClick(g.canvas.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert blocker.args == ["layer2.0.conv1"]
    assert g.selected == row and node.pen().widthF() > 1
    before = g.canvas.transform().m11()
    g.canvas.zoom(1.5)
    assert abs(g.canvas.transform().m11() - 1.5 * before) < 1e-9
    g.fit()
    assert g.canvas.transform().m11() < 1.0  # the whole model fits
    g.select_layer("fc")  # the heatmap selected a layer: the graph follows
    assert g.selected == d.index["fc"]


def test_onnx_skip_connection_and_folded_zero_cost_nodes(qtbot: Any) -> None:
    rows = (
        _row("Identity_0", "", "Identity", output_shapes=((8,),)),
        _row("Identity_1", "", "Identity", output_shapes=((8,),)),
        _row("/b1/conv/Conv", "b1/conv", "Conv", macs=10, input_shapes=((1, 8, 4, 4),), output_shapes=((1, 8, 4, 4),)),
        _row("/b2/conv/Conv", "b2/conv", "Conv", macs=10, input_shapes=((1, 8, 4, 4),), output_shapes=((1, 8, 4, 4),)),
        _row("/b2/Add", "b2", "Add", act=512, input_shapes=((1, 8, 4, 4), (1, 8, 4, 4)), output_shapes=((1, 8, 4, 4),)),
    )
    d = _data(_profile(rows, fmt="onnx"))
    edges = inferred_edges(d)
    assert (2, 4, True) in edges  # the residual: b1's output feeds the Add
    g = _view(qtbot, d)
    assert g.nodes[0] is g.nodes[1]  # the two Identity nodes: one folded node
    assert "2 zero-cost nodes" in g.nodes[0].toolTip()
    assert "b2" in g.frames and g.frames["b2"][1].text().startswith("b2")
    # a module holding one layer is that node, named by the module ("conv", not "b2/conv")
    assert "b2/conv" not in g.frames
    texts = [i.text() for i in g.scene.items() if isinstance(i, QGraphicsSimpleTextItem)]
    assert "conv" in texts and not any("b2/conv" in t for t in texts)
    assert g.nodes[0].fold and not g.nodes[2].fold
    tree = build_tree(d)
    assert [getattr(c, "path", c) for c in tree.children] == ["(shape ops)", "b1", "b2"]


def test_own_ops_and_names_stay_plain_text(qtbot: Any) -> None:
    d = _data(_gpt_like(2))
    g = _view(qtbot, d)
    assert "h.1" in g.frames and "h.1.attn" in g.frames
    texts = [i.text() for i in g.scene.items() if isinstance(i, QGraphicsSimpleTextItem)]
    assert "(own ops)" in texts
    rows = (_row("<b>bold</b>", "", "Linear", macs=1, ms=1.0),)
    g2 = _view(qtbot, _data(_profile(rows)))
    texts = [i.text() for i in g2.scene.items() if isinstance(i, QGraphicsSimpleTextItem)]
    assert "<b>bold</b>" in texts  # drawn as the characters, never as markup
    assert "&lt;b&gt;" in g2.nodes[0].toolTip()


def test_wheel_zooms(qtbot: Any, resnet_result: dict[str, Any]) -> None:
    from PySide6.QtGui import QWheelEvent

    d = _data(VariantResult.from_dict(resnet_result).profile)
    g = _view(qtbot, d)
    before = g.canvas.transform().m11()
    event = QWheelEvent(
        QPointF(100, 100),
        QPointF(g.canvas.viewport().mapToGlobal(QPoint(100, 100))),
        QPoint(0, 0),
        QPoint(0, 120),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    g.canvas.wheelEvent(event)
    assert g.canvas.transform().m11() > before
