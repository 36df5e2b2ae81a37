"""The Graph tab draws the model's real data flow (`LayerRow.inputs_from`) when the profile has
it — an ONNX export's residual skip from the right producer, through folded zero-cost nodes —
and falls back to edges inferred from order and shapes when it does not (issue 16)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QGraphicsPathItem
from residual_export import export_residual

from gui import plain_text
from gui.state.layer_data import LayerData
from gui.widgets.graph_view import GraphView, data_edges, inferred_edges
from profiler.analyze import ProfileRequest, profile_model
from profiler.loading import load_model
from profiler.result import Profile


def _view(qtbot: Any, profile: Profile) -> tuple[GraphView, LayerData]:
    d = LayerData()
    d.set_profile(profile)
    g = GraphView(d)
    qtbot.addWidget(g)
    g.resize(900, 700)
    g.show()
    qtbot.waitExposed(g)
    return g, d


def _residual_profile(tmp_path: Path, latency: bool = False) -> Profile:
    path = export_residual(tmp_path / "residual.onnx")
    return profile_model(load_model(str(path)), ProfileRequest(latency=latency, budget_s=0.2, layer_runs=2))


def test_onnx_export_residual_skip_is_drawn_from_its_real_producer(qtbot: Any, tmp_path: Path) -> None:
    profile = _residual_profile(tmp_path)
    g, d = _view(qtbot, profile)
    assert g.real_edges
    add = next(i for i, r in enumerate(d.rows) if r.type == "Add")
    relus = [i for i, r in enumerate(d.rows) if r.type == "Relu"]
    skip_from = d.index[next(p for p in d.rows[add].inputs_from if d.rows[d.index[p]].type == "Relu")]
    assert skip_from == relus[0]  # the block input: the first Relu, not the one just before conv2
    assert (skip_from, add, False) in g.edges
    # the shape heuristic would have picked the latest same-shaped output instead: a wrong edge
    guessed = {(a, b) for a, b, inferred in inferred_edges(d) if inferred and b == add}
    assert (skip_from, add) not in guessed
    assert not any(b == add and a not in (skip_from, add - 1) for a, b, _ in g.edges)
    # drawn: the skip is a path bending out to the right of the nodes, its tooltip naming both ends
    tip = plain_text.tip(f"{d.rows[skip_from].name} → {d.rows[add].name}")
    (skip,) = [i for i in g.scene.items() if isinstance(i, QGraphicsPathItem) and i.toolTip() == tip]
    assert skip.path().boundingRect().right() > g.nodes[add].rect().right() + 20
    assert "data flow" in g.legend.toolTip()


def test_edges_run_through_folded_zero_cost_nodes(qtbot: Any, tmp_path: Path) -> None:
    profile = _residual_profile(tmp_path, latency=True)  # reconciled: Flatten joins "(shape ops)"
    g, d = _view(qtbot, profile)
    flatten = d.index[next(r.name for r in d.rows if r.type == "Flatten")]
    gemm = d.index[next(r.name for r in d.rows if r.type == "Gemm")]
    reduce = d.index[next(r.name for r in d.rows if r.type == "ReduceMean")]
    assert g.nodes[flatten].fold  # folded aside …
    assert d.rows[gemm].inputs_from == (d.rows[flatten].name,)
    assert (reduce, gemm, False) in g.edges  # … and the Gemm's edge comes from what Flatten read
    assert not any(flatten in (a, b) for a, b, _ in g.edges)
    assert set(data_edges(d) or ()) >= {(flatten, gemm), (reduce, flatten)}


def test_profile_without_inputs_from_falls_back_to_inferred_edges(qtbot: Any, tmp_path: Path) -> None:
    profile = _residual_profile(tmp_path)
    old = dataclasses.replace(profile, layers=tuple(dataclasses.replace(r, inputs_from=()) for r in profile.layers))
    g, d = _view(qtbot, old)
    assert data_edges(d) is None and not g.real_edges
    assert g.edges == inferred_edges(d)
    assert "inferred" in g.legend.toolTip()
