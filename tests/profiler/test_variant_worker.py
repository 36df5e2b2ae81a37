"""The real variant task in the real worker (issue 3, item 5): `profiler.tasks:variant_task` run by
`profiler.worker.Runner` in a spawned process, as the app and `tradeoff sweep` run it.

One Runner serves the module (the model stays loaded in it between tests, as in the app); tests
that switch models or stop runs leave it ready for the next request.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import pytest

from profiler.analyze import ProfileRequest
from profiler.events import (
    Cancelled,
    Failed,
    FailureKind,
    Finished,
    LayerMeasured,
    Progress,
    RunEvent,
    Started,
    StaticResult,
)
from profiler.tasks import request_to_dict
from profiler.variant import Variant
from profiler.whatif import VariantResult
from profiler.worker import Runner

TASK = "profiler.tasks:variant_task"
REQUEST = ProfileRequest(budget_s=0.3, layer_runs=1)


def payload(variant: Variant, source: str = "demo:mlp", request: ProfileRequest = REQUEST) -> dict[str, Any]:
    return {
        "source": source,
        "trust": False,
        "request": request_to_dict(request),
        "inputs": None,
        "variant": variant.to_dict(),
    }


@pytest.fixture(scope="module")
def runner() -> Iterator[Runner]:
    with Runner(grace_s=1.0) as r:
        yield r


def run(
    runner: Runner,
    variant: Variant,
    source: str = "demo:mlp",
    timeout_s: float = 120.0,
    request: ProfileRequest = REQUEST,
    **kw: Any,
) -> tuple[RunEvent, list[RunEvent], float]:
    """Submit and wait; the terminal event, every event of the run, and seconds it took."""
    seen: list[RunEvent] = []
    t0 = time.perf_counter()
    run_id = runner.submit(TASK, payload(variant, source, request), **kw)
    end = runner.wait(run_id, timeout_s=timeout_s, on_event=seen.append)
    return end, seen, time.perf_counter() - t0


def until(runner: Runner, run_id: int, kinds: tuple[type[RunEvent], ...], timeout_s: float = 120.0) -> RunEvent:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        for event in runner.poll(0.02):
            if event.run_id == run_id and (isinstance(event, kinds) or event.terminal):
                return event
    raise AssertionError(f"run {run_id}: none of {kinds} within {timeout_s} s")


def test_variant_result_and_event_stream(runner: Runner) -> None:
    end, seen, _ = run(runner, Variant(prune=0.3))
    assert isinstance(end, Finished), end
    kinds = [type(e) for e in seen]
    assert kinds[0] is Started and kinds[-1] is Finished
    assert {Progress, StaticResult, LayerMeasured} <= set(kinds), kinds
    assert all(e.run_id == end.run_id for e in seen)
    static = next(e for e in seen if isinstance(e, StaticResult) and not e.baseline)
    assert static.profile["schema"] == "tradeoff.profile/1"
    layer = next(e for e in seen if isinstance(e, LayerMeasured))
    assert isinstance(layer.layer, str) and layer.latency_ms is not None and layer.latency_ms >= 0
    assert {e.stage for e in seen if isinstance(e, Progress)} - {None}  # progress names its stage
    result = VariantResult.from_dict(end.result)
    assert result.variant.key() == Variant(prune=0.3).key()
    assert result.error is None and result.profile is not None and result.baseline is not None
    assert result.profile.totals.params < result.baseline.totals.params
    assert result.profile.totals.latency_ms is not None
    assert result.fidelity is not None and 0 < result.fidelity.cosine < 1
    assert result.prune_report is not None and result.prune_report["ratio_asked"] == 0.3
    assert VariantResult.from_dict(result.to_dict()) == result
    assert runner.worker_pid is not None and runner.worker_pid != os.getpid()
    assert not runner.busy


@pytest.mark.serial  # the sibling xdist worker reads as a busy machine
def test_second_variant_reuses_the_loaded_model(runner: Runner) -> None:
    # A base request no other test uses: the worker opens a fresh session (loads the model and
    # measures its baseline) for the first variant, and reuses both for the second.
    request = ProfileRequest(budget_s=0.25, layer_runs=1)
    first, seen_first, t_first = run(runner, Variant(precision="int8"), request=request)
    pid = runner.worker_pid
    second, seen_second, t_second = run(runner, Variant(prune=0.2), request=request)
    assert isinstance(first, Finished) and isinstance(second, Finished)
    assert runner.worker_pid == pid  # same process
    # the first counted the baseline and the variant; the second only the variant
    assert [e.kind for e in seen_first].count("static") == 2
    assert [e.kind for e in seen_second].count("static") == 1
    assert not any(isinstance(e, Progress) and e.message.startswith("baseline:") for e in seen_second)
    assert t_second < t_first + 0.5, (t_first, t_second)
    result = VariantResult.from_dict(second.result)
    assert result.profile is not None and result.profile.model.source == "demo:mlp"
    assert result.baseline == VariantResult.from_dict(first.result).baseline


def test_identical_requests_return_the_cached_result(runner: Runner) -> None:
    variant = Variant(prune=0.4)
    first, _, _ = run(runner, variant, cache_key=variant.key())
    again, seen, took = run(runner, variant, cache_key=variant.key())
    assert isinstance(first, Finished) and isinstance(again, Finished)
    assert again.cached is True and [type(e) for e in seen] == [Started, Finished]
    assert again.result == first.result
    assert took < 0.1


def test_supersede_a_running_resnet_variant_with_an_mlp_one(runner: Runner) -> None:
    old = runner.submit(TASK, payload(Variant(prune=0.2), "demo:resnet18"))
    first = until(runner, old, (StaticResult, LayerMeasured))  # measuring, at a check point's reach
    assert not first.terminal, first
    t0 = time.perf_counter()
    new = runner.submit(TASK, payload(Variant(precision="int8")))
    old_end = runner.wait(old, timeout_s=10)
    cancelled_after = time.perf_counter() - t0
    assert isinstance(old_end, Cancelled) and old_end.reason == "superseded", old_end
    print(f"superseded run cancelled after {1000 * cancelled_after:.0f} ms (killed: {old_end.killed})")
    # Stopped at a check point: fast. A phase without check points (Torch-Pruning's step, one
    # forward) is killed after the grace period instead; both end the old run promptly.
    limit_s = 0.5 if not old_end.killed else runner.grace_s + 1.5
    assert cancelled_after < limit_s
    new_end = runner.wait(new, timeout_s=120)
    assert isinstance(new_end, Finished), new_end
    assert VariantResult.from_dict(new_end.result).variant == Variant(precision="int8")


def test_cancel_leaves_the_worker_idle_and_alive(runner: Runner) -> None:
    run_id = runner.submit(TASK, payload(Variant(prune=0.1), "demo:resnet18"))
    until(runner, run_id, (StaticResult, LayerMeasured))
    pid = runner.worker_pid
    runner.cancel()
    end = runner.wait(run_id, timeout_s=10)
    assert isinstance(end, Cancelled) and end.reason == "cancelled"
    assert not runner.busy
    if not end.killed:
        assert runner.worker_pid == pid  # stopped at a check point: the loaded model survives


def test_invalid_variant_fails_with_exit_code_2_and_one_line(runner: Runner) -> None:
    end, seen, _ = run(runner, Variant(precision="tf32"))
    assert isinstance(end, Failed)
    assert end.exit_code == 2 and end.failure is FailureKind.UNUSABLE_INPUT
    message = end.message
    assert "tf32" in message and "\n" not in message and "Traceback" not in message
    assert not any(isinstance(e, Finished) for e in seen)
    # a variant that cannot even be built (a raw dict the engine refuses) fails the same way
    bad = runner.submit(TASK, {**payload(Variant()), "variant": {"precision": "fp8"}})
    end = runner.wait(bad, timeout_s=60)
    assert isinstance(end, Failed) and end.exit_code == 2 and "fp8" in end.message
    ok, _, _ = run(runner, Variant())
    assert isinstance(ok, Finished)


def test_memory_guard_refuses_a_huge_batch_and_the_next_request_works(runner: Runner) -> None:
    # 8192 images are under the absurd-shape limit (2^31 elements, exit 2), but resnet18's
    # activations at that batch need far more memory than a test machine has
    end, _, took = run(runner, Variant(batch=8192), source="demo:resnet18")
    assert isinstance(end, Failed), end
    assert end.failure is FailureKind.OUT_OF_MEMORY and end.exit_code == 3
    message = end.message
    assert message.startswith("demo:resnet18: needs about") and "GiB" in message and "is free" in message
    assert "lower the batch" in message and "\n" not in message
    print(f"memory guard refused in {took:.2f} s")
    pid = runner.worker_pid
    nxt, _, took = run(runner, Variant(batch=2), source="demo:resnet18")
    print(f"next request finished in {took:.2f} s")
    assert isinstance(nxt, Finished), nxt
    assert runner.worker_pid == pid  # refused before allocating: the worker did not die
    result = VariantResult.from_dict(nxt.result)
    assert result.profile is not None and result.profile.inputs[0].shape == (2, 3, 224, 224)


def test_a_time_limit_stops_a_variant(runner: Runner) -> None:
    end, _, took = run(runner, Variant(prune=0.3), source="demo:resnet18", time_limit_s=0.05)
    assert isinstance(end, Failed | Finished)  # a result that made it in time is kept
    print(f"time-limited run: {end.kind} {getattr(end, 'failure', '')} after {took:.2f} s")
    if isinstance(end, Failed):
        assert end.failure is FailureKind.TIMED_OUT and "time limit" in end.message
    assert took < 5
    ok, _, _ = run(runner, Variant())
    assert isinstance(ok, Finished)
