"""Per-layer rows against end to end, before and after reconciliation. Prints figures; asserts nothing.

    .venv/bin/python tests/bench/bench_layer_sum.py [--rounds 3] [--threads 2] [--only resnet18|bert|distilbert]

For each model and runtime (ResNet-18 demo and a BERT-like / DistilBERT-like encoder with random
weights, in torch with forward hooks and exported to ONNX with onnxruntime's profiler), a few
rounds of `profile_model` print: the end-to-end median, what the per-layer profiler's raw rows
add up to (`latency_raw_ms`, or `latency_ms` where they are the same), what the reconciled rows
add up to (`latency_ms`), both as a ratio of end to end, the largest share a zero-cost row
(shape op, view, no-op module) takes, and the profile's `layer_latency_note` once.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

SEQ = 128
BERT = {"hidden_size": 256, "num_hidden_layers": 4, "num_attention_heads": 4, "intermediate_size": 1024}
DISTILBERT = {"dim": 256, "n_layers": 4, "n_heads": 4, "hidden_dim": 1024}


def _hf_model(kind: str) -> Any:
    import torch
    from transformers import BertConfig, BertModel, DistilBertConfig, DistilBertModel

    torch.manual_seed(0)
    if kind == "bert":
        return BertModel(BertConfig(**BERT)).eval()
    return DistilBertModel(DistilBertConfig(**DISTILBERT)).eval()


def _write_config(kind: str, folder: Path) -> Path:
    from transformers import BertConfig, DistilBertConfig

    cfg = BertConfig(**BERT, architectures=["BertModel"]) if kind == "bert" else None
    if cfg is None:
        cfg = DistilBertConfig(**DISTILBERT, architectures=["DistilBertModel"])
    folder.mkdir(parents=True, exist_ok=True)
    cfg.to_json_file(str(folder / "config.json"))
    return folder / "config.json"


def _export(kind: str, folder: Path) -> Path:
    """The model exported as the app exports it (`export_onnx`, TorchScript exporter, opset 17)."""
    import torch

    from profiler.onnx_backend.transforms import export_onnx

    path = folder / f"{kind}.onnx"
    if kind == "resnet18":
        from profiler.demos import build_demo

        export_onnx(build_demo("resnet18"), (torch.randn(1, 3, 224, 224),), {}, ["x"], path, source="demo:resnet18")
        return path
    ids = torch.randint(0, 1000, (1, SEQ))
    mask = torch.ones(1, SEQ, dtype=torch.long)
    names = ["input_ids", "attention_mask"]
    export_onnx(_hf_model(kind), (), {"input_ids": ids, "attention_mask": mask}, names, path, source=kind)
    return path


def _one(label: str, source: str, request: Any, rounds: int) -> None:
    from profiler.analyze import profile_model
    from profiler.layer_reconcile import NOOP_MODULES_LABEL, SHAPE_OPS_LABEL
    from profiler.loading import load_model

    loaded = load_model(source)
    for i in range(rounds):
        p = profile_model(loaded, request)
        e2e = p.totals.latency_ms
        assert e2e is not None
        timed = [r for r in p.layers if r.latency_ms is not None]
        raw = sum(r.latency_raw_ms if r.latency_raw_ms is not None else (r.latency_ms or 0.0) for r in timed)
        rec = sum(r.latency_ms or 0.0 for r in timed)
        zero = [r.latency_ms or 0.0 for r in timed if r.scope.endswith((SHAPE_OPS_LABEL, NOOP_MODULES_LABEL))]
        top_zero = max(zero, default=0.0) / rec if rec else 0.0
        print(
            f"{label:22s} round {i + 1}: end to end {e2e.median:8.3f} ms (p10-p90 {e2e.p10:.2f}-{e2e.p90:.2f}) | "
            f"raw rows {raw:8.3f} ms ({raw / e2e.median:5.2f}×) | reconciled {rec:8.3f} ms ({rec / e2e.median:5.3f}×) | "
            f"{len(timed)} rows, {len(zero)} zero-cost, largest {100 * top_zero:.2f} %"
        )
        if i == 0:
            print(f"{'':22s} note: {p.layer_latency_note}")


def main() -> None:
    from profiler.analyze import ProfileRequest

    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--only", choices=["resnet18", "bert", "distilbert"])
    opts = parser.parse_args()
    base = {"budget_s": 2.0, "layer_runs": 10, "threads": opts.threads}
    with tempfile.TemporaryDirectory(prefix="bench-layer-sum-") as tmp:
        folder = Path(tmp)
        if opts.only in (None, "resnet18"):
            _one("resnet18 torch hooks", "demo:resnet18", ProfileRequest(**base), opts.rounds)  # type: ignore[arg-type]
            _one("resnet18 onnxruntime", str(_export("resnet18", folder)), ProfileRequest(**base), opts.rounds)  # type: ignore[arg-type]
        for kind in ("bert", "distilbert"):
            if opts.only not in (None, kind):
                continue
            cfg = _write_config(kind, folder / kind)
            _one(f"{kind} torch hooks", str(cfg), ProfileRequest(seq_len=SEQ, **base), opts.rounds)  # type: ignore[arg-type]
            shapes = (("input_ids", (1, SEQ)), ("attention_mask", (1, SEQ)))
            onnx_path = str(_export(kind, folder))
            _one(f"{kind} onnxruntime", onnx_path, ProfileRequest(shapes=shapes, **base), opts.rounds)  # type: ignore[arg-type]
    print(f"peak RSS of this script: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
