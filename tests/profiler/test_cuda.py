"""CUDA paths: latency with CUDA events, peak memory, fp16/bf16/tf32 variants, NVML environment.

Skipped cleanly on machines without an NVIDIA GPU (CI never has one).
"""

import pytest

torch = pytest.importorskip("torch")
pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device: the CUDA paths need an NVIDIA GPU"),
]


def test_profile_on_cuda_uses_events_and_reports_peak_memory() -> None:
    from profiler.analyze import ProfileRequest, profile_model
    from profiler.loading import load_model

    profile = profile_model(load_model("demo:resnet18"), ProfileRequest(device="cuda", budget_s=1.0, layer_runs=2))
    profile.check()
    assert profile.config.device == "cuda"
    assert profile.totals.latency_ms is not None and profile.totals.latency_ms.median > 0
    assert profile.totals.peak_memory_bytes is not None
    assert profile.totals.peak_memory_bytes >= profile.totals.weight_bytes
    assert profile.environment is not None and profile.environment.gpu


@pytest.mark.parametrize("precision", ["fp16", "bf16", "tf32"])
def test_reduced_precision_variants_run_on_cuda(precision: str) -> None:
    from profiler.analyze import ProfileRequest
    from profiler.loading import load_model
    from profiler.variant import Variant
    from profiler.whatif import WhatIfSession

    session = WhatIfSession(load_model("demo:mlp"), ProfileRequest(device="cuda", budget_s=0.5, layer_runs=1))
    result = session.run(Variant(precision=precision, device="cuda"))
    assert result.error is None, result.error
    assert result.fidelity is not None and result.fidelity.cosine > 0.99
    assert not any("no fast path" in n for n in result.notes)


def test_nvml_reports_the_gpu() -> None:
    from profiler.environment import describe_gpu, nvidia_gpu

    gpu = nvidia_gpu()
    assert gpu is not None and gpu.memory_bytes > 0
    assert "no NVIDIA GPU" not in describe_gpu()
