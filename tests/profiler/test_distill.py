"""Recovery by knowledge distillation after structured pruning (profiler/torch_backend/distill.py):
on demo:digits-cnn, whose samples are real labelled digits, a few hundred steps bring most of the
accuracy that pruning lost back — measured on samples the recovery did not train on."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator

import numpy as np
import pytest

from profiler.analyze import Cancelled, ProfileRequest
from profiler.loading import load_model
from profiler.tasks import _bundled
from profiler.torch_backend.distill import recover, sample_tensors, split_indices
from profiler.variant import Variant
from profiler.whatif import VariantResult, WhatIfSession


@pytest.fixture(scope="module")
def session() -> Iterator[WhatIfSession]:
    s = WhatIfSession(
        load_model("demo:digits-cnn"), ProfileRequest(latency=False), sample_inputs=_bundled("demo:digits-cnn")
    )
    try:
        yield s
    finally:
        s.close()


@pytest.mark.parametrize(("ratio", "margin"), [(0.3, 0.05), (0.5, 0.1)])
def test_recovery_raises_held_out_accuracy(session: WhatIfSession, ratio: float, margin: float) -> None:
    result = session.run(Variant(prune=ratio, recover_steps=200))
    assert result.error is None and result.recover is not None
    rec = result.recover
    assert rec["skipped"] is None and rec["steps"] == rec["steps_done"] == 200
    assert (rec["samples"], rec["held_out"], rec["labelled"]) == (240, 120, True)
    before, after = rec["quality_before"], rec["quality_after"]
    # measured (3 runs): 0.3 → 0.75 -> 1.00; 0.5 → 0.35 -> 1.00 (held-out accuracy)
    assert after["accuracy"] > before["accuracy"] + margin
    assert after["accuracy"] >= 0.9 and after["cosine"] > before["cosine"]
    assert rec["loss_last"] < rec["loss_first"]
    # the variant's fidelity is measured on the recovered model, on the held-out samples only
    assert result.fidelity is not None
    assert result.fidelity.accuracy == pytest.approx(after["accuracy"])
    assert result.fidelity.cosine == pytest.approx(after["cosine"], abs=1e-4)
    assert any("held-out" in n for n in result.notes)
    assert result.prune_report is not None and result.prune_report["param_ratio"] < 0.8


def test_the_teacher_is_left_as_it_was(session: WhatIfSession) -> None:
    before = session.run(Variant())
    session.run(Variant(prune=0.5, recover_steps=20))
    after = session.run(Variant())
    assert before.fidelity is not None and after.fidelity is not None
    assert after.fidelity.accuracy == before.fidelity.accuracy == pytest.approx(0.994, abs=0.006)


def test_record_round_trips_json(session: WhatIfSession) -> None:
    result = session.run(Variant(prune=0.5, recover_steps=10, precision="int8"))
    assert result.error is None and result.recover is not None and result.recover["steps_done"] == 10
    text = json.dumps(result.to_dict())
    again = VariantResult.from_dict(json.loads(text))
    assert again.to_dict() == result.to_dict() and again.recover == result.recover
    assert again.variant.recover_steps == 10


def test_variant_field_is_written_only_when_set() -> None:
    plain = Variant(prune=0.5)
    assert "recover_steps" not in plain.to_dict() and "recover" not in plain.label()
    v = Variant(prune=0.5, recover_steps=200)
    assert v.to_dict()["recover_steps"] == 200 and v.label().endswith("recover 200 steps")
    assert Variant.from_dict(v.to_dict()) == v and Variant.from_dict(plain.to_dict()) == plain
    assert v.key() != plain.key()
    assert Variant(recover_steps=200) == Variant()  # nothing pruned, nothing to recover
    assert Variant(prune=0.5, recover_steps=0) == plain


def test_no_samples_means_no_training() -> None:
    s = WhatIfSession(load_model("demo:digits-cnn"), ProfileRequest(latency=False))  # no sample inputs
    try:
        result = s.run(Variant(prune=0.5, recover_steps=200))
    finally:
        s.close()
    assert result.error is None and result.recover is not None
    assert result.recover["steps_done"] == 0 and "needs sample inputs" in result.recover["skipped"]
    assert any(n.startswith("no recovery: recovery needs sample inputs") for n in result.notes)


def test_unstructured_is_not_recovered(session: WhatIfSession) -> None:
    result = session.run(Variant(prune=0.5, prune_method="unstructured", recover_steps=50))
    assert result.error is None and result.recover is not None and result.recover["steps_done"] == 0
    assert "structured pruning only" in result.recover["skipped"]


def test_cancel_stops_training(session: WhatIfSession) -> None:
    target, *_ = session.transform(Variant(prune=0.5))
    samples = session.samples
    got = sample_tensors(samples, ["x"])
    assert not isinstance(got, str)
    inputs, _ = got
    asked = 0

    def should_stop() -> bool:
        nonlocal asked
        asked += 1
        return asked > 5

    with pytest.raises(Cancelled):
        recover(target.module, session.loaded.module, inputs, samples["y"], 1000, should_stop=should_stop)
    assert asked == 6  # checked every step: stopped at the sixth


def test_split_is_fixed_and_disjoint() -> None:
    train, held = split_indices(360)
    again_train, again_held = split_indices(360)
    assert np.array_equal(train, again_train) and np.array_equal(held, again_held)
    assert len(train) == 240 and len(held) == 120 and not set(train) & set(held)
    assert sorted({*train, *held}) == list(range(360))
    assert split_indices(3)[0].size == 2 and split_indices(3)[1].size == 1
    assert "at least" in str(sample_tensors({"x": np.zeros((2, 1, 8, 8), np.float32)}, ["x"]))


def test_sweep_option_expands_pruned_variants() -> None:
    from tradeoff.options import sweep_variants

    args = argparse.Namespace(
        prune="0,0.5",
        precision="fp32",
        batch=None,
        seq_len=None,
        prune_method=None,
        runtime=None,
        device="cpu",
        recover_steps="0,200",
    )
    variants = sweep_variants(args)
    assert variants == [Variant(), Variant(prune=0.5), Variant(prune=0.5, recover_steps=200)]


def test_time_budget_ends_training_early(session: WhatIfSession) -> None:
    target, *_ = session.transform(Variant(prune=0.3))
    got = sample_tensors(session.samples, ["x"])
    assert not isinstance(got, str)
    ticks = iter(range(1000))
    record = recover(
        target.module, session.loaded.module, got[0], None, 100, budget_s=3, clock=lambda: float(next(ticks))
    )
    assert record.steps_done == 2 and not record.labelled  # no labels: distillation only
    assert record.quality_before["accuracy"] is None and (record.quality_after["cosine"] or 0) > 0
