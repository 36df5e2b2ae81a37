"""Views and shape arithmetic (ONNX Identity/Shape/Reshape, torch Flatten, eval Dropout) cost no
projected time and launch no kernel: an ONNX export must not project slower than its own torch
model because its graph spells out the reshapes."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from planner.roofline import project
from planner.workload import Workload
from profiler.result import Profile

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "profile.json"


def _with_views(profile: Profile, n: int) -> Profile:
    row = next(r for r in profile.layers if r.output_shapes)
    views = [
        dataclasses.replace(row, name=f"/view_{k}/Identity", type="Identity", params=0, macs=0, flops=0, weight_bytes=0)
        for k in range(n)
    ]
    return dataclasses.replace(profile, layers=tuple(profile.layers) + tuple(views))


def test_view_rows_add_no_kernel_and_no_time() -> None:
    from planner.catalog import load_catalog
    from planner.roofline import make_target
    from planner.vocab import PeakPrecision

    profile = Profile.from_dict(json.loads(GOLDEN.read_text()))
    padded = _with_views(profile, 40)
    base, more = Workload.from_profile(profile), Workload.from_profile(padded)
    assert more.kernels == base.kernels
    acc = load_catalog(include_user=False).accelerator("H100-SXM")
    target = make_target(acc, PeakPrecision.FP16)
    assert target is not None
    p0, p1 = project(base, target), project(more, target)
    assert p1.latency_ms == p0.latency_ms
    assert all(r.time_ms == 0 for r in p1.layers[len(p0.layers) :])
