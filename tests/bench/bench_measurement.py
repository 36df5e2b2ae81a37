"""Benchmarks of honest measurement (issue 13, item 8). Prints figures; asserts nothing.

    .venv/bin/python tests/bench/bench_measurement.py [--only parity|fpr] [--repeats N]

(parity) `tradeoff profile FILE --json -` (the worker, as users run it) against an independent
    timing of the same file in a fresh process (torch.utils.benchmark for torch, a plain
    onnxruntime loop for ONNX), alternated `--repeats` times, for three torch formats (torch.export
    .pt2, TorchScript, a .py factory) and two ONNX models (a CNN and a transformer encoder).
    Prints each pair of medians and the median of the differences.
(fpr) The false-positive rate of "significant" when a model is compared with itself (the same
    module on both sides) and with a deep copy (the same computation, weights elsewhere in
    memory), through profiler/comparison.py's interleaved rounds, 20 repeats each, under a
    synthetic background load (a process busy half of the time on one core).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
THREADS = 2

FACTORY = """
import torch
from profiler.demos import build_demo

def build_model():
    return build_demo("resnet18"), (torch.randn(1, 3, 224, 224),)
"""

INDEPENDENT = r"""
import json, sys, statistics, time
kind, path, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
shapes = json.loads(sys.argv[4])
if kind == "onnx":
    import numpy as np, onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    s = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    feeds = {}
    for i in s.get_inputs():
        shape = shapes[i.name]
        feeds[i.name] = (rng.integers(0, 100, shape).astype(np.int64) if "int" in i.type
                         else rng.standard_normal(shape).astype(np.float32))
    run = lambda: s.run(None, feeds)
    for _ in range(5):
        run()
    samples, t_end = [], time.perf_counter() + 3.0
    while time.perf_counter() < t_end:
        t0 = time.perf_counter(); run(); samples.append((time.perf_counter() - t0) * 1000)
    print(statistics.median(samples))
else:
    import torch
    from torch.utils import benchmark
    torch.set_num_threads(threads)
    if kind == "pt2":
        model = torch.export.load(path).module()
    elif kind == "torchscript":
        model = torch.jit.load(path)
    else:
        import importlib.util
        spec = importlib.util.spec_from_file_location("factory", path)
        mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
        model = mod.build_model()[0].eval()
    x = torch.randn(*shapes["x"])
    with torch.inference_mode():
        t = benchmark.Timer("model(x)", globals={"model": model, "x": x}, num_threads=threads)
        print(t.blocked_autorange(min_run_time=3.0).median * 1000)
"""


def _prepare(tmp: Path) -> list[tuple[str, str, str, dict[str, list[int]]]]:
    """(label, kind, path, input shapes) for each model file, written into `tmp`."""
    import torch

    from profiler.demos import build_demo

    model = build_demo("resnet18").eval()
    x = torch.randn(1, 3, 224, 224)
    files = []
    pt2 = tmp / "resnet18.pt2"
    torch.export.save(torch.export.export(model, (x,)), str(pt2))
    files.append(("resnet18 torch.export (.pt2)", "pt2", str(pt2), {"x": [1, 3, 224, 224]}))
    ts = tmp / "resnet18.ts"
    with torch.inference_mode():
        torch.jit.save(torch.jit.trace(model, (x,)), str(ts))
    files.append(("resnet18 TorchScript", "torchscript", str(ts), {"x": [1, 3, 224, 224]}))
    py = tmp / "resnet18_factory.py"
    py.write_text(FACTORY)
    files.append(("resnet18 .py factory", "py", f"{py}:build_model", {"x": [1, 3, 224, 224]}))
    onnx_cnn = tmp / "resnet18.onnx"
    torch.onnx.export(model, (x,), str(onnx_cnn), input_names=["x"], dynamo=False)
    files.append(("resnet18 ONNX", "onnx", str(onnx_cnn), {"x": [1, 3, 224, 224]}))
    from transformers import BertConfig, BertModel

    from profiler.onnx_backend.transforms import export_onnx

    torch.manual_seed(0)
    bert = BertModel(BertConfig(hidden_size=256, num_hidden_layers=4, num_attention_heads=4, intermediate_size=1024))
    ids = torch.randint(0, 100, (1, 128))
    mask = torch.ones(1, 128, dtype=torch.long)
    onnx_bert = tmp / "bert.onnx"
    names = ["input_ids", "attention_mask"]
    export_onnx(bert.eval(), (), {"input_ids": ids, "attention_mask": mask}, names, onnx_bert, source="bert")
    shapes = {"input_ids": [1, 128], "attention_mask": [1, 128]}
    files.append(("BERT encoder (4×256) ONNX", "onnx", str(onnx_bert), shapes))
    return files


def _tool_median_ms(path: str, shapes: dict[str, list[int]]) -> tuple[float, str | None]:
    exe = Path(sys.executable).with_name("tradeoff")
    cmd = [str(exe), "profile", path, "--json", "-", "--threads", str(THREADS), "--trust"]
    if path.endswith(".ts"):  # TorchScript does not say its input shapes
        cmd += ["--input-shape", "x".join(map(str, shapes["x"]))]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    doc = json.loads(out)
    return float(doc["totals"]["latency_ms"]["median"]), doc.get("timed_as")


def _independent_ms(kind: str, path: str, shapes: dict[str, list[int]]) -> float:
    file = path.split(":")[0]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run(
        [sys.executable, "-c", INDEPENDENT, kind, file, str(THREADS), json.dumps(shapes)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout
    return float(out.strip().splitlines()[-1])


def bench_parity(repeats: int) -> None:
    print(f"(parity) tool vs independent timing, {THREADS} threads, alternated {repeats}×")
    with tempfile.TemporaryDirectory() as tmp:
        for label, kind, path, shapes in _prepare(Path(tmp)):
            diffs = []
            for _ in range(repeats):
                tool, timed_as = _tool_median_ms(path, shapes)
                indep = _independent_ms(kind, path, shapes)
                diffs.append(100 * (tool - indep) / indep)
                print(f"  {label:28s} tool {tool:8.2f} ms  independent {indep:8.2f} ms  {diffs[-1]:+5.1f} %")
            print(f"  {label:28s} median difference {statistics.median(diffs):+.1f} %  (timed as: {timed_as})")


def _background_load(stop: multiprocessing.synchronize.Event) -> None:  # type: ignore[name-defined]
    """Busy for 50 ms, idle for 50 ms, until stopped: a neighbour that comes and goes."""
    while not stop.is_set():
        t_end = time.perf_counter() + 0.05
        while time.perf_counter() < t_end:
            pass
        time.sleep(0.05)


def bench_fpr(repeats: int = 20) -> None:
    import copy

    import torch

    from profiler.comparison import interleave, summarize
    from profiler.demos import build_demo

    torch.set_num_threads(THREADS)
    for name, shape in (("mlp", (1, 784)), ("resnet18", (1, 3, 224, 224))):
        model = build_demo(name).eval()
        x = torch.randn(*shape)
        # "same": one module on both sides (the interval's own calibration); "copy": a deep copy,
        # the same computation on weights elsewhere in memory (what a transformed variant is).
        for mode, twin in (("same", model), ("copy", copy.deepcopy(model))):
            stop = multiprocessing.Event()
            load = multiprocessing.Process(target=_background_load, args=(stop,), daemon=True)
            load.start()
            significant, outside, values, busy = 0, 0, [], []
            try:
                with torch.inference_mode():
                    for _ in range(repeats):
                        gen = interleave(partial(model, x), partial(twin, x), budget_s=1.5)
                        while True:
                            try:
                                next(gen)
                            except StopIteration as done:
                                run = done.value
                                break
                        ratio, cmp = summarize(run)
                        significant += ratio.significant
                        outside += not ratio.ci_low <= 1.0 <= ratio.ci_high
                        values.append(ratio.value)
                        busy.append(cmp.foreign_cpu_percent or 0.0)
            finally:
                stop.set()
                load.join()
            print(
                f"(fpr) {name}, {mode}: {repeats} repeats under a 50 % duty background load: "
                f"{significant}/{repeats} significant ({100 * significant / repeats:.0f} %), "
                f"{outside}/{repeats} intervals excluding 1; ratio median {statistics.median(values):.3f} "
                f"(min {min(values):.3f}, max {max(values):.3f}); other load {statistics.median(busy):.0f} %"
            )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", choices=["parity", "fpr"])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if args.only in (None, "parity"):
        bench_parity(args.repeats)
    if args.only in (None, "fpr"):
        bench_fpr()


if __name__ == "__main__":
    main()
