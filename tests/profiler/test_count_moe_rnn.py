"""FLOP counting of recurrent layers (nn.LSTM / nn.GRU / nn.RNN) and mixture-of-experts layers,
against hand formulas written here (MACs; FLOPs are 2 per MAC).

RNN: per layer, per direction, per time step and sequence, gates x (input x hidden + hidden x
hidden) MACs (4 gates LSTM, 3 GRU, 1 RNN; a layer after the first takes hidden x directions
inputs; with proj_size the recurrent input is the projection, plus hidden x proj for it).
MoE: tokens x top_k routed rows through the experts' MLPs, plus the router, attention and the
rest of the transformer.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from profiler import hf_config
from profiler.analyze import ProfileRequest, profile_model
from profiler.loading import load_model
from profiler.torch_backend.analysis import analyze_module
from profiler.torch_backend.flops import extra_formulas, zero_cost
from profiler.torch_backend.formulas_rnn_moe import fused_rnn_flops, grouped_mm_flops

GATES = {nn.LSTM: 4, nn.GRU: 3, nn.RNN: 1}


def total_macs(model: nn.Module, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
    a = analyze_module(model, args, kwargs)
    return sum(r.macs for r in a.layers), a.unsupported_ops


def rnn_macs(
    gates: int, steps: int, batch: int, n_in: int, hidden: int, layers: int, directions: int, proj: int = 0
) -> int:
    out = proj or hidden
    total = 0
    for layer in range(layers):
        layer_in = n_in if layer == 0 else out * directions
        per_step = gates * (layer_in * hidden + out * hidden) + (hidden * proj if proj else 0)
        total += directions * steps * batch * per_step
    return total


# --- recurrent layers -----------------------------------------------------------------------


@pytest.mark.parametrize("cls", [nn.LSTM, nn.GRU, nn.RNN])
@pytest.mark.parametrize("device", ["cpu", "meta"])
@pytest.mark.parametrize(
    ("layers", "bidirectional", "batch_first", "bias"),
    [(1, False, False, True), (2, True, True, True), (2, False, True, False), (1, True, False, False)],
)
def test_rnn_counts_the_hand_formula(
    cls: type[nn.Module], device: str, layers: int, bidirectional: bool, batch_first: bool, bias: bool
) -> None:
    steps, batch, n_in, hidden = 7, 3, 24, 32
    with torch.device(device):
        model = cls(n_in, hidden, num_layers=layers, bidirectional=bidirectional, batch_first=batch_first, bias=bias)
        x = torch.randn((batch, steps, n_in) if batch_first else (steps, batch, n_in))
    macs, unsupported = total_macs(model, x)
    assert unsupported == {}
    assert macs == rnn_macs(GATES[cls], steps, batch, n_in, hidden, layers, 2 if bidirectional else 1)


def test_lstm_on_cpu_goes_through_onednn_and_is_counted() -> None:
    # The op this formula exists for: without it the whole LSTM counted zero on CPU.
    seen: list[str] = []

    class Spy(torch.utils._python_dispatch.TorchDispatchMode):
        def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
            seen.append(func.overloadpacket.__name__)
            return func(*args, **(kwargs or {}))

    model = nn.LSTM(16, 32).eval()
    with torch.no_grad(), Spy():
        model(torch.randn(5, 2, 16))
    if "mkldnn_rnn_layer" not in seen:
        pytest.skip("this torch build runs LSTM without oneDNN")
    assert total_macs(model, torch.randn(5, 2, 16)) == (rnn_macs(4, 5, 2, 16, 32, 1, 1), {})


@pytest.mark.filterwarnings("ignore:LSTM with projections")
def test_lstm_with_projection() -> None:
    model = nn.LSTM(16, 32, num_layers=2, proj_size=8, bidirectional=True)
    macs, unsupported = total_macs(model, torch.randn(6, 2, 16))
    assert unsupported == {}
    assert macs == rnn_macs(4, 6, 2, 16, 32, 2, 2, proj=8)


def test_packed_sequence_counts_the_packed_steps() -> None:
    lengths = [6, 4, 1]
    packed = nn.utils.rnn.pack_padded_sequence(torch.randn(6, 3, 16), lengths)
    macs, unsupported = total_macs(nn.GRU(16, 32), packed)
    assert unsupported == {}
    assert macs == sum(lengths) * 3 * (16 * 32 + 32 * 32)


def test_cells_count_one_step() -> None:
    assert total_macs(nn.LSTMCell(16, 32), torch.randn(3, 16)) == (3 * 4 * (16 * 32 + 32 * 32), {})
    assert total_macs(nn.GRUCell(16, 32), torch.randn(3, 16)) == (3 * 3 * (16 * 32 + 32 * 32), {})


def test_cudnn_rnn_formula_on_its_weight_list() -> None:
    # _cudnn_rnn (CUDA) gets every layer's tensors in one list: 2-D weights, 1-D biases.
    model = nn.LSTM(16, 32, num_layers=2, bidirectional=True, proj_size=8)
    shapes = [tuple(p.shape) for p in model._flat_weights]
    steps, batch = 5, 4
    flops = fused_rnn_flops((steps, batch, 16), shapes, 5, None, (4, batch, 8))
    assert flops == 2 * rnn_macs(4, steps, batch, 16, 32, 2, 2, proj=8)
    packed_rows = 11  # a packed input is [rows, features]
    assert fused_rnn_flops((packed_rows, 16), shapes[:4]) == 2 * packed_rows * 4 * (16 * 32 + 8 * 32)


def test_formulas_are_registered_for_the_fused_ops() -> None:
    table = extra_formulas()
    aten = torch.ops.aten
    for name in ("mkldnn_rnn_layer", "_cudnn_rnn", "miopen_rnn", "_grouped_mm"):
        packet = getattr(aten, name, None)
        if packet is not None:
            assert packet in table, name


@pytest.mark.parametrize(
    "op",
    [
        "histc.default",
        "bincount.default",
        "topk.default",
        "sort.default",
        "index_add.default",
        "index_add_.default",
        "scatter_.src",
        "floor_divide.default",
        "aminmax.default",
        "one_hot.default",
        "nonzero.default",
        "unsafe_split.Tensor",
        "_thnn_fused_lstm_cell.default",
        "glu.default",
    ],
)
def test_routing_and_data_movement_cost_zero(op: str) -> None:
    packet, overload = op.split(".")
    assert zero_cost(getattr(getattr(torch.ops.aten, packet), overload))


def test_contractions_are_never_zero_cost() -> None:
    for op in (
        torch.ops.aten._grouped_mm.default,
        torch.ops.aten.mkldnn_rnn_layer.default,
        torch.ops.aten.addmm_.default,
    ):
        assert not zero_cost(op)


# --- grouped matmuls ------------------------------------------------------------------------


class Grouped(nn.Module):
    def __init__(self, experts: int, k: int, n: int) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.randn(experts, k, n))

    def forward(self, x: torch.Tensor, offs: torch.Tensor) -> torch.Tensor:
        return torch._grouped_mm(x, self.w, offs=offs)


def test_grouped_mm_counts_routed_rows_only() -> None:
    rows, k, n = 24, 32, 16
    offs = torch.tensor([5, 12, 12, 24], dtype=torch.int32)  # expert 2 gets no rows
    try:
        macs, unsupported = total_macs(Grouped(4, k, n), torch.randn(rows, k), offs)
    except (RuntimeError, NotImplementedError) as exc:
        pytest.skip(f"no CPU kernel for _grouped_mm here: {exc}")
    assert unsupported == {}
    assert macs == rows * k * n  # not experts x rows x k x n


def test_grouped_mm_formula_layouts() -> None:
    assert grouped_mm_flops((24, 32), (4, 32, 16), out_shape=(24, 16)) == 2 * 24 * 32 * 16  # 2-D x 3-D
    assert grouped_mm_flops((4, 6, 32), (4, 32, 16), out_shape=(4, 6, 16)) == 2 * 4 * 6 * 32 * 16  # 3-D x 3-D
    assert grouped_mm_flops((6, 32), (32, 16)) == 2 * 6 * 32 * 16  # K grouped: one M x K x N in all
    assert grouped_mm_flops((4, 6, 32), (32, 40)) == 2 * 6 * 40 * 32  # 3-D x 2-D, N grouped


# --- mixture-of-experts transformers --------------------------------------------------------

H, FF, LAYERS, HEADS, KV_HEADS, VOCAB, EXPERTS, TOP_K = 64, 128, 2, 4, 2, 1000, 4, 2
HEAD_DIM = H // HEADS


def mixtral_config(**extra: Any) -> dict[str, Any]:
    return {
        "model_type": "mixtral",
        "architectures": ["MixtralForCausalLM"],
        "hidden_size": H,
        "intermediate_size": FF,
        "num_hidden_layers": LAYERS,
        "num_attention_heads": HEADS,
        "num_key_value_heads": KV_HEADS,
        "num_local_experts": EXPERTS,
        "num_experts_per_tok": TOP_K,
        "vocab_size": VOCAB,
        "max_position_embeddings": 256,
        "pad_token_id": 0,
        "bos_token_id": 1,
        "eos_token_id": 2,
        **extra,
    }


def attention_macs(tokens: int, batch: int, seq: int) -> int:
    kv = KV_HEADS * HEAD_DIM
    return tokens * (2 * H * H + 2 * H * kv) + 2 * batch * HEADS * seq * seq * HEAD_DIM


def mixtral_macs(batch: int, seq: int) -> int:
    tokens = batch * seq
    experts = tokens * TOP_K * 3 * H * FF  # gate, up, down of the experts the router chose
    router = tokens * H * EXPERTS
    return LAYERS * (attention_macs(tokens, batch, seq) + router + experts) + tokens * H * VOCAB


def write_config(folder: Path, config: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.json"
    path.write_text(json.dumps(config))
    return path


def close(measured: int, expected: int) -> bool:
    return abs(measured - expected) <= 0.01 * expected


@pytest.mark.parametrize("on_meta", [False, True])
def test_mixtral_config_counts_routed_experts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, on_meta: bool) -> None:
    pytest.importorskip("transformers")
    if on_meta:  # big MoE configs are built on meta: grouped_mm has no fp32 meta kernel there
        monkeypatch.setattr(hf_config, "META_MEMORY_SHARE", 0.0)
    loaded = load_model(str(write_config(tmp_path / "mixtral", mixtral_config())))
    assert loaded.on_meta == on_meta
    p = profile_model(loaded, ProfileRequest(latency=False, batch=2, seq_len=16))
    p.check()
    assert p.unsupported_ops == {}
    assert all(r.counted for r in p.layers)
    assert close(p.totals.macs, mixtral_macs(2, 16))
    assert p.totals.macs == mixtral_macs(2, 16)  # exact today; the 1 % above is the promise
    moe = {r.name: r.macs for r in p.layers if r.name.endswith("mlp.experts")}
    assert moe and all(m == 2 * 16 * TOP_K * 3 * H * FF for m in moe.values())


@pytest.mark.parametrize("implementation", ["grouped_mm", "eager", "batched_mm"])
def test_every_experts_implementation_counts_the_same(implementation: str) -> None:
    transformers = pytest.importorskip("transformers")
    raw = {k: v for k, v in mixtral_config().items() if k not in ("model_type", "architectures")}
    config = transformers.MixtralConfig(**raw)
    torch.manual_seed(0)
    model = transformers.MixtralForCausalLM(config).eval()
    model.set_experts_implementation(implementation)
    ids = torch.randint(0, VOCAB, (2, 16))
    macs, unsupported = total_macs(model, input_ids=ids)
    assert unsupported == {}
    assert macs == mixtral_macs(2, 16)


def test_qwen2_moe_with_shared_expert(tmp_path: Path) -> None:
    transformers = pytest.importorskip("transformers")
    if "qwen2_moe" not in transformers.CONFIG_MAPPING:
        pytest.skip("no Qwen2-MoE in this transformers")
    moe_ff, shared_ff = 32, 96
    config = {
        **mixtral_config(),
        "model_type": "qwen2_moe",
        "architectures": ["Qwen2MoeForCausalLM"],
        "num_experts": EXPERTS,
        "moe_intermediate_size": moe_ff,
        "shared_expert_intermediate_size": shared_ff,
        "decoder_sparse_step": 1,
        "mlp_only_layers": [],
    }
    del config["num_local_experts"]
    p = profile_model(load_model(str(write_config(tmp_path / "q", config))), ProfileRequest(latency=False, seq_len=16))
    assert p.unsupported_ops == {}
    tokens = 16
    per_layer = (
        attention_macs(tokens, 1, 16)
        + tokens * H * EXPERTS  # router
        + tokens * TOP_K * 3 * H * moe_ff  # routed experts
        + tokens * 3 * H * shared_ff  # the shared expert, every token
        + tokens * H  # its sigmoid gate
    )
    assert close(p.totals.macs, LAYERS * per_layer + tokens * H * VOCAB)


@pytest.mark.parametrize(
    ("model_type", "arch", "fields"),
    [
        (
            "qwen3_moe",
            "Qwen3MoeForCausalLM",
            {"num_experts": EXPERTS, "moe_intermediate_size": FF, "head_dim": HEAD_DIM},
        ),
        ("olmoe", "OlmoeForCausalLM", {"num_experts": EXPERTS}),
    ],
)
def test_other_moe_families_count_routed_experts(
    tmp_path: Path, model_type: str, arch: str, fields: dict[str, Any]
) -> None:
    transformers = pytest.importorskip("transformers")
    if model_type not in transformers.CONFIG_MAPPING:
        pytest.skip(f"no {model_type} in this transformers")
    config = {**mixtral_config(), "model_type": model_type, "architectures": [arch], **fields}
    del config["num_local_experts"]
    p = profile_model(
        load_model(str(write_config(tmp_path / model_type, config))), ProfileRequest(latency=False, batch=2, seq_len=16)
    )
    assert p.unsupported_ops == {}
    assert close(p.totals.macs, mixtral_macs(2, 16))


def test_transformers_grouped_mm_fallback_op_is_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    # Where torch's grouped kernel cannot run (older CPU torch, unaligned weights), transformers
    # calls its own custom op, opaque to the dispatch mode: the formula is on the op itself.
    transformers = pytest.importorskip("transformers")
    moe = pytest.importorskip("transformers.integrations.moe")
    if not hasattr(moe, "_can_use_grouped_mm"):
        pytest.skip("this transformers has no grouped_mm fallback")
    monkeypatch.setattr(moe, "_can_use_grouped_mm", lambda *args: False)
    raw = {k: v for k, v in mixtral_config().items() if k not in ("model_type", "architectures")}
    torch.manual_seed(0)
    model = transformers.MixtralForCausalLM(transformers.MixtralConfig(**raw)).eval()
    macs, unsupported = total_macs(model, input_ids=torch.randint(0, VOCAB, (2, 16)))
    assert unsupported == {}
    assert macs == mixtral_macs(2, 16)
