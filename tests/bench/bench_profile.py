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
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "hidden_size": 4096,
    "intermediate_size": 11008,
    "num_attention_heads": 32,
    "num_hidden_layers": 32,
    "num_key_value_heads": 32,
    "max_position_embeddings": 4096,
    "rms_norm_eps": 1e-05,
    "vocab_size": 32000,
    "tie_word_embeddings": False,
    "hidden_act": "silu",
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
            capture_output=True,
            text=True,
        )
        t_cli = time.perf_counter() - t0
        rss_kb = next((int(line.split()[-1]) for line in proc.stderr.splitlines() if "Maximum resident" in line), -1)
    print(
        f"(a) Llama-2-7B config: params {profile.totals.params:,}, MACs {profile.totals.macs:.4g} (seq {profile.inputs[0].shape[1]})"
    )
    print(
        f"    analysis in process {t_analyse:.2f} s; model build {t_load:.2f} s cold (imports transformers' modeling code), {t_load_warm:.2f} s warm"
    )
    print(f"    whole CLI {t_cli:.2f} s, peak RSS {rss_kb / 1024:.0f} MiB (exit {proc.returncode})")


def bench_vs_torch_benchmark(source: str = "demo:resnet18", rounds: int = 3) -> None:
    """Alternate `tradeoff profile`'s timing and torch.utils.benchmark on the same model and
    inputs, so drift of a shared VM affects both; prints each round and the mean difference."""
    import torch
    import torch.utils.benchmark as tb

    from profiler.analyze import ProfileRequest, profile_model
    from profiler.loading import load_model, make_inputs

    loaded = load_model(source)
    model = loaded.module
    diffs = []
    for i in range(rounds):
        profile = profile_model(loaded, ProfileRequest(layer_latency=False, budget_s=3.0))
        args, kwargs = make_inputs(loaded, profile.inputs)
        with torch.inference_mode():
            timer = tb.Timer(
                stmt="model(*args, **kwargs)",
                globals={"model": model, "args": args, "kwargs": kwargs},
                num_threads=torch.get_num_threads(),
            )
            m = timer.blocked_autorange(min_run_time=3.0)
        ours = profile.totals.latency_ms
        assert ours is not None
        theirs_ms = m.median * 1000
        diffs.append(100 * (ours.median / theirs_ms - 1))
        print(
            f"(b) {source} round {i + 1}: tradeoff median {ours.median:.2f} ms ({ours.samples} samples, p10-p90 "
            f"{ours.p10:.1f}-{ours.p90:.1f}) vs torch.utils.benchmark {theirs_ms:.2f} ms -> {diffs[-1]:+.1f} %"
        )
    print(
        f"(b) mean difference {sum(diffs) / len(diffs):+.1f} %, mean |difference| {sum(abs(d) for d in diffs) / len(diffs):.1f} %"
    )


def bench_layer_sum(source: str = "demo:resnet18", rounds: int = 3) -> None:
    """Per-layer latencies (hooks) against end to end, in the same process, a few rounds.

    Two views: the sum of the per-layer medians (what the table shows), and the median over
    hooked runs of what the rows of one run add up to (hooks' own cost removed)."""
    import statistics

    from profiler.analyze import ProfileRequest, profile_model
    from profiler.loading import load_model, make_inputs
    from profiler.torch_backend.timing import layer_latencies_ms

    loaded = load_model(source)
    for i in range(rounds):
        profile = profile_model(loaded, ProfileRequest(budget_s=3.0, layer_runs=30))
        e2e = profile.totals.latency_ms
        assert e2e is not None
        total = sum(r.latency_ms or 0.0 for r in profile.layers)
        args, kwargs = make_inputs(loaded, profile.inputs)
        totals: list[float] = []
        layer_latencies_ms(loaded.module, args, kwargs, {r.name for r in profile.layers}, runs=30, run_totals_ms=totals)
        per_run = statistics.median(totals)
        print(
            f"(c) {source} round {i + 1}: end to end {e2e.median:.2f} ms (p10-p90 {e2e.p10:.1f}-{e2e.p90:.1f}); "
            f"sum of per-layer medians {total:.2f} ms ({100 * (total / e2e.median - 1):+.1f} %); "
            f"median per-run layer total {per_run:.2f} ms ({100 * (per_run / e2e.median - 1):+.1f} %)"
        )


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
            from ptflops import get_model_complexity_info

            t0 = time.perf_counter()
            shape = tuple(profile.inputs[0].shape[1:])
            extra = {}
            if profile.inputs[0].dtype.startswith("int"):
                extra["input_constructor"] = lambda _shape, ids=args[0]: {"input_ids": ids}
            macs, _ = get_model_complexity_info(
                loaded.module,
                shape,
                as_strings=False,
                print_per_layer_stat=False,
                verbose=False,
                backend="aten",
                **extra,
            )
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
