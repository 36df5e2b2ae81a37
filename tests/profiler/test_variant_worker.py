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
from profiler.tasks import request_to_dict
from profiler.variant import Variant
from profiler.whatif import VariantResult
from profiler.worker import RunEvent, Runner

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


def until(runner: Runner, run_id: int, kinds: set[str], timeout_s: float = 120.0) -> RunEvent:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        for event in runner.poll(0.02):
            if event.run_id == run_id and (event.kind in kinds or event.terminal):
                return event
    raise AssertionError(f"run {run_id}: none of {kinds} within {timeout_s} s")


def test_variant_result_and_event_stream(runner: Runner) -> None:
    end, seen, _ = run(runner, Variant(prune=0.3))
    assert end.kind == "finished", end.payload
    kinds = [e.kind for e in seen]
    assert kinds[0] == "started" and kinds[-1] == "finished"
    assert {"progress", "static", "layer"} <= set(kinds), kinds
    assert all(e.run_id == end.run_id for e in seen)
    static = next(e for e in seen if e.kind == "static")
    assert static.payload["profile"]["schema"] == "tradeoff.profile/1"
    layer = next(e for e in seen if e.kind == "layer")
    assert isinstance(layer.payload["layer"], str) and layer.payload["latency_ms"] >= 0
    result = VariantResult.from_dict(end.payload["result"])
    assert result.variant.key() == Variant(prune=0.3).key()
    assert result.error is None and result.profile is not None and result.baseline is not None
    assert result.profile.totals.params < result.baseline.totals.params
    assert result.profile.totals.latency_ms is not None
    assert result.fidelity is not None and 0 < result.fidelity.cosine < 1
    assert result.prune_report is not None and result.prune_report["ratio_asked"] == 0.3
    assert VariantResult.from_dict(result.to_dict()) == result
    assert runner.worker_pid is not None and runner.worker_pid != os.getpid()
    assert not runner.busy


def test_second_variant_reuses_the_loaded_model(runner: Runner) -> None:
    # A base request no other test uses: the worker opens a fresh session (loads the model and
    # measures its baseline) for the first variant, and reuses both for the second.
    request = ProfileRequest(budget_s=0.25, layer_runs=1)
    first, seen_first, t_first = run(runner, Variant(precision="int8"), request=request)
    pid = runner.worker_pid
    second, seen_second, t_second = run(runner, Variant(prune=0.2), request=request)
    assert first.kind == second.kind == "finished"
    assert runner.worker_pid == pid  # same process
    # the first counted the baseline and the variant; the second only the variant
    assert [e.kind for e in seen_first].count("static") == 2
    assert [e.kind for e in seen_second].count("static") == 1
    assert not any(str(e.payload.get("message", "")).startswith("baseline:") for e in seen_second)
    assert t_second < t_first + 0.5, (t_first, t_second)
    result = VariantResult.from_dict(second.payload["result"])
    assert result.profile is not None and result.profile.model.source == "demo:mlp"
    assert result.baseline == VariantResult.from_dict(first.payload["result"]).baseline


def test_identical_requests_return_the_cached_result(runner: Runner) -> None:
    variant = Variant(prune=0.4)
    first, _, _ = run(runner, variant, cache_key=variant.key())
    again, seen, took = run(runner, variant, cache_key=variant.key())
    assert first.kind == again.kind == "finished"
    assert again.payload["cached"] is True and [e.kind for e in seen] == ["started", "finished"]
    assert again.payload["result"] == first.payload["result"]
    assert took < 0.1


def test_supersede_a_running_resnet_variant_with_an_mlp_one(runner: Runner) -> None:
    old = runner.submit(TASK, payload(Variant(prune=0.2), "demo:resnet18"))
    first = until(runner, old, {"static", "layer"})  # measuring, at a check point's reach
    assert not first.terminal, first
    t0 = time.perf_counter()
    new = runner.submit(TASK, payload(Variant(precision="int8")))
    old_end = runner.wait(old, timeout_s=10)
    cancelled_after = time.perf_counter() - t0
    assert old_end.kind == "cancelled" and old_end.payload["reason"] == "superseded", old_end
    print(f"superseded run cancelled after {1000 * cancelled_after:.0f} ms (killed: {old_end.payload['killed']})")
    # Stopped at a check point: fast. A phase without check points (Torch-Pruning's step, one
    # forward) is killed after the grace period instead; both end the old run promptly.
    limit_s = 0.5 if not old_end.payload["killed"] else runner.grace_s + 1.5
    assert cancelled_after < limit_s
    new_end = runner.wait(new, timeout_s=120)
    assert new_end.kind == "finished", new_end.payload
    assert VariantResult.from_dict(new_end.payload["result"]).variant == Variant(precision="int8")


def test_cancel_leaves_the_worker_idle_and_alive(runner: Runner) -> None:
    run_id = runner.submit(TASK, payload(Variant(prune=0.1), "demo:resnet18"))
    until(runner, run_id, {"static", "layer"})
    pid = runner.worker_pid
    runner.cancel()
    end = runner.wait(run_id, timeout_s=10)
    assert end.kind == "cancelled" and end.payload["reason"] == "cancelled"
    assert not runner.busy
    if not end.payload["killed"]:
        assert runner.worker_pid == pid  # stopped at a check point: the loaded model survives


def test_invalid_variant_fails_with_exit_code_2_and_one_line(runner: Runner) -> None:
    end, seen, _ = run(runner, Variant(precision="tf32"))
    assert end.kind == "failed"
    assert end.payload["exit_code"] == 2 and end.payload["kind"] == "error"
    message = end.payload["message"]
    assert "tf32" in message and "\n" not in message and "Traceback" not in message
    assert "finished" not in [e.kind for e in seen]
    # a variant that cannot even be built (a raw dict the engine refuses) fails the same way
    bad = runner.submit(TASK, {**payload(Variant()), "variant": {"precision": "fp8"}})
    end = runner.wait(bad, timeout_s=60)
    assert end.kind == "failed" and end.payload["exit_code"] == 2 and "fp8" in end.payload["message"]
    ok, _, _ = run(runner, Variant())
    assert ok.kind == "finished"


def test_memory_guard_refuses_a_huge_batch_and_the_next_request_works(runner: Runner) -> None:
    # 8192 images are under the absurd-shape limit (2^31 elements, exit 2), but resnet18's
    # activations at that batch need far more memory than a test machine has
    end, _, took = run(runner, Variant(batch=8192), source="demo:resnet18")
    assert end.kind == "failed", end.payload
    assert end.payload["kind"] == "memory" and end.payload["exit_code"] == 3
    message = end.payload["message"]
    assert message.startswith("demo:resnet18: needs about") and "GiB" in message and "is free" in message
    assert "lower the batch" in message and "\n" not in message
    print(f"memory guard refused in {took:.2f} s")
    pid = runner.worker_pid
    nxt, _, took = run(runner, Variant(batch=2), source="demo:resnet18")
    print(f"next request finished in {took:.2f} s")
    assert nxt.kind == "finished", nxt.payload
    assert runner.worker_pid == pid  # refused before allocating: the worker did not die
    result = VariantResult.from_dict(nxt.payload["result"])
    assert result.profile is not None and result.profile.inputs[0].shape == (2, 3, 224, 224)


def test_a_time_limit_stops_a_variant(runner: Runner) -> None:
    end, _, took = run(runner, Variant(prune=0.3), source="demo:resnet18", time_limit_s=0.05)
    assert end.kind in ("failed", "finished")  # a result that made it in time is kept
    print(f"time-limited run: {end.kind} {end.payload.get('kind', '')} after {took:.2f} s")
    if end.kind == "failed":
        assert end.payload["kind"] == "timeout" and "time limit" in end.payload["message"]
    assert took < 5
    ok, _, _ = run(runner, Variant())
    assert ok.kind == "finished"
