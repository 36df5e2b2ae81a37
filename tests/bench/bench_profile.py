"""Benchmarks of the foundation (issue 2, item 9). Prints figures; asserts nothing.

    .venv/bin/python tests/bench/bench_profile.py [--only a|b|c|d]

(a) Llama-2-7B config static analysis: in-process time, whole-CLI time, peak RSS.
(b) `profile` end-to-end latency vs an independent torch.utils.benchmark timing, same run.
(c) per-layer latencies summed vs end-to-end, demo:resnet18.
(d) MACs and analysis time side by side with ptflops and fvcore, where installed.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

LLAMA_2_7B = {
    "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 4096,
    "intermediate_size": 11008, "num_attention_heads": 32, "num_hidden_layers": 32,
    "num_key_value_heads": 32, "max_position_embeddings": 4096, "rms_norm_eps": 1e-05,
    "vocab_size": 32000, "tie_word_embeddings": False, "hidden_act": "silu",
}


def bench_llama() -> None:
    from profiler.analyze import ProfileRequest, profile_model
    from profiler.loading import load_model

    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "config.json"
        cfg.write_text(json.dumps(LLAMA_2_7B))
        t0 = time.perf_counter()
        loaded = load_model(str(cfg))
        t_load = time.perf_counter() - t0
        t0 = time.perf_counter()
        profile = profile_model(loaded, ProfileRequest(latency=False))
        t_analyse = time.perf_counter() - t0
        t0 = time.perf_counter()
        loaded = load_model(str(cfg))
        t_load_warm = time.perf_counter() - t0
        exe = Path(sys.executable).with_name("tradeoff")
        t0 = time.perf_counter()
        proc = subprocess.run(
            ["/usr/bin/time", "-v", str(exe), "profile", str(cfg), "--json", "-"],
            capture_output=True, text=True,
        )
        t_cli = time.perf_counter() - t0
        rss_kb = next((int(line.split()[-1]) for line in proc.stderr.splitlines() if "Maximum resident" in line), -1)
    print(f"(a) Llama-2-7B config: params {profile.totals.params:,}, MACs {profile.totals.macs:.4g} (seq {profile.inputs[0].shape[1]})")
    print(f"    analysis in process {t_analyse:.2f} s; model build {t_load:.2f} s cold (imports transformers' modeling code), {t_load_warm:.2f} s warm")
    print(f"    whole CLI {t_cli:.2f} s, peak RSS {rss_kb / 1024:.0f} MiB (exit {proc.returncode})")


def bench_vs_torch_benchmark(source: str = "demo:resnet18") -> None:
    import torch
    import torch.utils.benchmark as tb

    from profiler.analyze import ProfileRequest, profile_model
    from profiler.loading import load_model, make_inputs

    loaded = load_model(source)
    profile = profile_model(loaded, ProfileRequest(layer_latency=False, budget_s=5.0))
    args, kwargs = make_inputs(loaded, profile.inputs)
    model = loaded.module
    with torch.inference_mode():
        timer = tb.Timer(stmt="model(*args, **kwargs)", globals={"model": model, "args": args, "kwargs": kwargs},
                         num_threads=torch.get_num_threads())
        m = timer.blocked_autorange(min_run_time=3.0)
    ours = profile.totals.latency_ms
    assert ours is not None
    theirs_ms = m.median * 1000
    print(f"(b) {source}: tradeoff median {ours.median:.2f} ms ({ours.samples} samples) vs torch.utils.benchmark "
          f"{theirs_ms:.2f} ms -> {100 * (ours.median / theirs_ms - 1):+.1f} %")


def bench_layer_sum(source: str = "demo:resnet18") -> None:
    from profiler.analyze import ProfileRequest, profile_model
    from profiler.loading import load_model

    profile = profile_model(load_model(source), ProfileRequest(budget_s=5.0, layer_runs=20))
    total = sum(r.latency_ms or 0.0 for r in profile.layers)
    e2e = profile.totals.latency_ms
    assert e2e is not None
    print(f"(c) {source}: per-layer sum {total:.2f} ms vs end-to-end {e2e.median:.2f} ms -> {100 * (total / e2e.median - 1):+.1f} %")


def bench_other_counters() -> None:
    from profiler.analyze import ProfileRequest, profile_model
    from profiler.loading import load_model, make_inputs

    for name in ("resnet18", "resnet50", "mobilenetv2", "mlp", "gpt-small"):
        loaded = load_model(f"demo:{name}")
        t0 = time.perf_counter()
        profile = profile_model(loaded, ProfileRequest(latency=False))
        ours_s = time.perf_counter() - t0
        args, _ = make_inputs(loaded, profile.inputs)
        line = f"(d) {name:12s} tradeoff {profile.totals.macs / 1e9:8.4f} GMACs in {ours_s:.2f} s"
        try:
            import torch
            from ptflops import get_model_complexity_info

            t0 = time.perf_counter()
            shape = tuple(profile.inputs[0].shape[1:])
            extra = {}
            if profile.inputs[0].dtype.startswith("int"):
                extra["input_constructor"] = lambda _shape: {"input_ids": args[0]}
            macs, _ = get_model_complexity_info(loaded.module, shape, as_strings=False, print_per_layer_stat=False,
                                                verbose=False, backend="aten", **extra)
            line += f" | ptflops(aten) {macs / 1e9:8.4f} in {time.perf_counter() - t0:.2f} s"
        except Exception as exc:  # a bench reports what it could not do
            line += f" | ptflops: {type(exc).__name__}"
        try:
            from fvcore.nn import FlopCountAnalysis

            t0 = time.perf_counter()
            fca = FlopCountAnalysis(loaded.module, args)
            fca.unsupported_ops_warnings(False)
            fca.uncalled_modules_warnings(False)
            total = fca.total()  # fvcore counts one per MAC
            line += f" | fvcore {total / 1e9:8.4f} in {time.perf_counter() - t0:.2f} s"
        except Exception as exc:
            line += f" | fvcore: {type(exc).__name__}"
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", choices=list("abcd"))
    only = parser.parse_args().only
    steps = {"a": bench_llama, "b": bench_vs_torch_benchmark, "c": bench_layer_sum, "d": bench_other_counters}
    for key, fn in steps.items():
        if only in (None, key):
            fn()
    print(f"peak RSS of this script: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
