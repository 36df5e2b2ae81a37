"""Each layer row names its producers (`LayerRow.inputs_from`, issue 16): the ONNX graph's edges
and the torch modules' data flow; the field round-trips through JSON and old documents load."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import onnx
import pytest
import torch
from onnx import TensorProto, helper
from residual_export import Residual, export_residual
from torch import nn

from profiler.analyze import ProfileRequest, profile_model
from profiler.loading import load_model
from profiler.onnx_backend.analysis import analyze_onnx
from profiler.result import InputSpec, Profile
from profiler.torch_backend.analysis import analyze_module

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "profile.json"


def _by_type(profile: Profile, op: str) -> list[Any]:
    return [r for r in profile.layers if r.type == op]


def test_onnx_rows_name_their_producers_and_the_skip(tmp_path: Path) -> None:
    path = export_residual(tmp_path / "residual.onnx")
    profile = profile_model(load_model(str(path)), ProfileRequest(latency=False))
    profile.check()  # every inputs_from name is a row
    graph = onnx.load(str(path)).graph
    made_by = {o: n.name for n in graph.node if n.op_type != "Constant" for o in n.output}
    rows = {r.name: r for r in profile.layers}
    for node in graph.node:
        if node.op_type == "Constant":
            continue
        expected = [made_by[x] for x in node.input if x in made_by]
        assert list(rows[node.name].inputs_from) == list(dict.fromkeys(expected))
    (add,) = _by_type(profile, "Add")
    (stem,) = [r for r in profile.layers if r.type == "Conv" and not r.inputs_from]  # reads the graph input
    first_relu = next(r for r in profile.layers if r.inputs_from == (stem.name,))
    assert first_relu.type == "Relu"
    assert first_relu.name in add.inputs_from and len(add.inputs_from) == 2  # the residual skip
    # weights and graph inputs are not producers
    assert all(p in rows for r in profile.layers for p in r.inputs_from)


def test_onnx_constants_and_initializers_are_not_producers(tmp_path: Path) -> None:
    f = TensorProto.FLOAT
    nodes = [
        helper.make_node("Constant", [], ["c"], name="const", value=helper.make_tensor("v", f, [4], [1, 2, 3, 4])),
        helper.make_node("Add", ["x", "c"], ["a"], name="add"),
        helper.make_node("Mul", ["a", "w"], ["m"], name="mul"),
        helper.make_node("Add", ["m", "a"], ["y"], name="skip"),
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", f, [1, 4])],
        [helper.make_tensor_value_info("y", f, [1, 4])],
        [helper.make_tensor("w", f, [4], [1, 1, 1, 1])],
    )
    path = tmp_path / "consts.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    rows = {r.name: r.inputs_from for r in analyze_onnx(str(path), (InputSpec("x", (1, 4), "float32"),)).layers}
    assert rows == {"add": (), "mul": ("add",), "skip": ("mul", "add")}


def test_torch_rows_follow_the_data_through_views_and_in_place_ops() -> None:
    a = analyze_module(Residual().eval(), (torch.randn(1, 3, 8, 8),))
    rows = {r.name: r.inputs_from for r in a.layers}
    assert rows["stem"] == ()  # reads the input only
    assert rows["conv1"] == ("(root)",)  # torch.relu in the root's own code made its input
    assert rows["(root)"][:1] == ("stem",)
    assert set(rows["(root)"]) >= {"stem", "conv2"}  # the Add reads the skip and the branch
    assert rows["head"] == ("(root)",)  # mean/flatten are the root's own ops
    # meta tensors give the same edges (no data is needed)
    meta = analyze_module(Residual().to("meta").eval(), (torch.randn(1, 3, 8, 8, device="meta"),))
    assert {r.name: r.inputs_from for r in meta.layers} == rows


def test_torch_container_without_a_row_is_looked_through() -> None:
    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a = nn.Linear(4, 4)
            self.b = nn.Linear(4, 4)

        def forward(self, x: torch.Tensor) -> Any:
            y = self.b(self.a(x))
            y += x  # in place: no new tensor, so Block gets no row of its own
            return y

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.first = nn.Linear(4, 4)
            self.block = Block()
            self.last = nn.Linear(4, 4)

        def forward(self, x: torch.Tensor) -> Any:
            return self.last(self.block(self.first(x)))

    a = analyze_module(Net().eval(), (torch.randn(2, 4),))
    rows = {r.name: r.inputs_from for r in a.layers}
    assert "block" not in rows
    assert rows["block.a"] == ("first",)
    assert set(rows["last"]) == {"block.b", "first"}  # through the in-place add: branch and skip


def test_inputs_from_round_trips_and_old_documents_load() -> None:
    doc = json.loads(GOLDEN.read_text())
    assert any(r["inputs_from"] for r in doc["layers"])
    profile = Profile.from_dict(doc)
    assert profile.to_dict() == doc
    old = copy.deepcopy(doc)
    for r in old["layers"]:
        del r["inputs_from"]
    assert all(r.inputs_from == () for r in Profile.from_dict(old).layers)


def test_check_refuses_a_producer_that_is_not_a_row() -> None:
    import dataclasses

    profile = Profile.from_dict(json.loads(GOLDEN.read_text()))
    bad = dataclasses.replace(profile.layers[0], inputs_from=("no such layer",))
    with pytest.raises(AssertionError, match="inputs_from"):
        dataclasses.replace(profile, layers=(bad, *profile.layers[1:])).check()
