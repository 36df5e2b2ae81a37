"""A time budget for recovery by distillation (issue 15, item 3): `--recover-budget SECONDS`
(Variant.recover_budget_s) ends training at --recover-steps or the budget, whichever comes
first; the `recover` record says how many steps ran and why training stopped."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator

import pytest

from profiler.analyze import ProfileRequest
from profiler.errors import InputError
from profiler.loading import load_model
from profiler.tasks import _bundled
from profiler.torch_backend.distill import RecoverRecord, recover, sample_tensors
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


def test_variant_field_is_written_only_when_set() -> None:
    plain = Variant(prune=0.3, recover_steps=200)
    v = Variant(prune=0.3, recover_steps=200, recover_budget_s=30)
    assert "recover_budget_s" not in plain.to_dict() and "recover_budget_s" not in Variant().to_dict()
    assert v.to_dict()["recover_budget_s"] == 30.0 and v.key() != plain.key()
    assert v.label().endswith("recover 200 steps (budget 30 s)")
    assert Variant.from_dict(json.loads(json.dumps(v.to_dict()))) == v
    # a budget alone trains nothing, and nothing pruned has nothing to recover
    assert Variant(prune=0.3, recover_budget_s=30) == Variant(prune=0.3)
    assert Variant(recover_steps=200, recover_budget_s=30) == Variant()
    for bad in (0, -1, float("inf"), float("nan")):
        with pytest.raises(InputError, match="--recover-budget"):
            Variant(prune=0.3, recover_steps=10, recover_budget_s=bad)


def test_budget_ends_training_and_says_so(session: WhatIfSession) -> None:
    target, *_ = session.transform(Variant(prune=0.3))
    got = sample_tensors(session.samples, ["x"])
    assert not isinstance(got, str)
    ticks = iter(range(1000))
    record = recover(
        target.module, session.loaded.module, got[0], None, 100, budget_s=3, clock=lambda: float(next(ticks))
    )
    assert (record.steps, record.steps_done, record.budget_s, record.stopped_because) == (100, 2, 3, "budget")
    again = RecoverRecord.from_dict(json.loads(json.dumps(record.to_dict())))
    assert again == record


def test_steps_end_training_first_under_a_large_budget(session: WhatIfSession) -> None:
    target, *_ = session.transform(Variant(prune=0.3))
    got = sample_tensors(session.samples, ["x"])
    assert not isinstance(got, str)
    record = recover(target.module, session.loaded.module, got[0], session.samples["y"], 3, budget_s=3600)
    assert (record.steps_done, record.stopped_because, record.budget_s) == (3, "steps", 3600)
    no_budget = recover(target.module, session.loaded.module, got[0], session.samples["y"], 2)
    assert no_budget.to_dict()["budget_s"] is None and no_budget.stopped_because == "steps"


def test_variant_run_honours_the_budget(session: WhatIfSession) -> None:
    result = session.run(Variant(prune=0.3, recover_steps=100_000, recover_budget_s=0.5))
    assert result.error is None and result.recover is not None
    rec = result.recover
    assert rec["stopped_because"] == "budget" and rec["budget_s"] == 0.5
    assert 0 < rec["steps_done"] < 100_000 and rec["seconds"] < 5
    assert any("the 0.5 s budget ran out" in n for n in result.notes)
    again = VariantResult.from_dict(json.loads(json.dumps(result.to_dict())))
    assert again.variant.recover_budget_s == 0.5 and again.recover == rec


def test_skipped_recovery_keeps_the_budget_asked() -> None:
    s = WhatIfSession(load_model("demo:digits-cnn"), ProfileRequest(latency=False))  # no samples
    try:
        result = s.run(Variant(prune=0.3, recover_steps=50, recover_budget_s=10))
    finally:
        s.close()
    assert result.recover is not None and result.recover["skipped"]
    assert result.recover["budget_s"] == 10 and result.recover["stopped_because"] is None


def _args(**over: object) -> argparse.Namespace:
    base = dict(
        prune="0,0.5",
        precision="fp32",
        batch=None,
        seq_len=None,
        prune_method=None,
        runtime=None,
        device="cpu",
        recover_steps="0,200",
        recover_budget=None,
    )
    return argparse.Namespace(**{**base, **over})


def test_sweep_option_gives_every_recovered_variant_the_budget() -> None:
    from tradeoff.options import sweep_variants

    variants = sweep_variants(_args(recover_budget=20.0))
    assert variants == [
        Variant(),
        Variant(prune=0.5),
        Variant(prune=0.5, recover_steps=200, recover_budget_s=20),
    ]
    assert sweep_variants(_args()) == [Variant(), Variant(prune=0.5), Variant(prune=0.5, recover_steps=200)]
    with pytest.raises(InputError, match="--recover-budget"):
        sweep_variants(_args(recover_steps="0", recover_budget=20.0))


def test_parser_takes_a_positive_budget() -> None:
    from tradeoff.options import Parser, add_model_options

    p = Parser(prog="tradeoff sweep")
    add_model_options(p, lists=True, per_variant=True)
    assert p.parse_args(["demo:mlp", "--recover-budget", "12.5"]).recover_budget == 12.5
    assert p.parse_args(["demo:mlp"]).recover_budget is None
    with pytest.raises(SystemExit):
        p.parse_args(["demo:mlp", "--recover-budget", "-3"])


def test_sweep_row_config_carries_the_budget() -> None:
    from profiler.sweep import SweepEntry

    v = Variant(prune=0.5, recover_steps=200, recover_budget_s=20)
    row = SweepEntry(VariantResult(v, None, None, None, {}, error="x"), False).to_dict()
    assert row["config"]["recover_steps"] == 200 and row["config"]["recover_budget_s"] == 20.0
    plain = SweepEntry(VariantResult(Variant(prune=0.5), None, None, None, {}, error="x"), False).to_dict()
    assert "recover_budget_s" not in plain["config"] and "recover_steps" not in plain["config"]
