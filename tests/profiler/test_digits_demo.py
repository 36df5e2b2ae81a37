"""demo:digits-cnn: trained weights and labelled held-out samples ship with the project, so the
what-if shows real accuracy, and pruning shows a real accuracy drop (not a change of noise)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from profiler.analyze import ProfileRequest
from profiler.demos import bundled_samples, demo_spec
from profiler.demos_digits import HELDOUT_FILE, WEIGHTS_FILE, demo_file
from profiler.loading import load_model
from profiler.tasks import _bundled
from profiler.variant import Variant
from profiler.whatif import WhatIfSession


def test_shipped_files_are_small_plain_arrays() -> None:
    for name in (WEIGHTS_FILE, HELDOUT_FILE):
        path = demo_file(name)
        assert path.stat().st_size < 400_000
        with np.load(path, allow_pickle=False) as arrays:  # no object arrays: nothing to unpickle
            assert arrays.files
    samples = bundled_samples("digits-cnn")
    assert samples is not None and samples["x"].shape == (360, 1, 8, 8) and samples["y"].shape == (360,)
    assert set(np.unique(samples["y"])) == set(range(10))
    assert bundled_samples("resnet18") is None and _bundled("demo:mlp") is None and _bundled("model.onnx") is None
    assert demo_spec("digits-cnn").inputs == (("x", (1, 1, 8, 8), "float32"),)


def test_trained_weights_classify_the_held_out_digits() -> None:
    import torch

    model = load_model("demo:digits-cnn").module
    samples = bundled_samples("digits-cnn")
    assert model is not None and samples is not None
    with torch.no_grad():
        predicted = model(torch.from_numpy(samples["x"])).argmax(1).numpy()
    assert (predicted == samples["y"]).mean() >= 0.98  # 0.994 when trained; random weights give ~0.1


def test_what_if_reports_real_accuracy_and_pruning_costs_some() -> None:
    samples = _bundled("demo:digits-cnn")
    session = WhatIfSession(
        load_model("demo:digits-cnn"), ProfileRequest(budget_s=0.2, layer_runs=2), sample_inputs=samples
    )
    try:
        base = session.run(Variant())
        pruned = session.run(Variant(prune=0.5, prune_method="structured"))
    finally:
        session.close()
    assert base.error is None and pruned.error is None
    assert base.profile is not None and base.profile.config.batch == 360  # measured on the samples
    assert base.fidelity is not None and base.fidelity.accuracy == pytest.approx(0.994, abs=0.006)
    assert pruned.fidelity is not None and pruned.fidelity.accuracy is not None
    assert pruned.fidelity.baseline_accuracy == base.fidelity.accuracy
    assert pruned.fidelity.accuracy < base.fidelity.accuracy - 0.1  # half the channels: a real drop


def test_caveats_name_random_weights_only_for_untrained_models() -> None:
    from planner.answer import caveats_of
    from profiler.result import ModelInfo

    base = _profile_stub()
    for source, fmt, random in (
        ("demo:digits-cnn", "demo", False),
        ("demo:resnet18", "demo", True),
        ("llama/config.json", "hf-config", True),
        ("model.onnx", "onnx", False),
    ):
        p = dataclasses.replace(base, model=ModelInfo(name="m", source=source, format=fmt))
        assert any("random weights" in c for c in caveats_of(p)) is random, source


def _profile_stub():  # type: ignore[no-untyped-def]
    import json
    from pathlib import Path

    from profiler.result import Profile

    return Profile.from_dict(json.loads((Path(__file__).parents[1] / "golden" / "profile.json").read_text()))
