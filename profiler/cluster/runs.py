"""Variants and profiles measured on a cluster, as the local runs measure them: the same worker
task (`profiler.tasks:variant_task`, `profile_task`), the same payload, the same documents.
Each result comes back with the node it ran on (`environment`: host, CPU, GPU, driver, versions)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .client import ClusterSession, Outcome, ship, stream


@dataclass(frozen=True)
class RemoteRow:
    """One variant measured on a node: its VariantResult, the node, and the row's exit code
    when it failed (2: the input, 3: the run)."""

    result: Any
    node: dict[str, Any] | None
    exit_code: int | None = None
    load_failure: Any = None  # the Failed event when the model itself could not be opened


def _failed_event(failed: dict[str, Any]) -> Any:
    from ..events import Failed, FailureKind

    try:
        kind = FailureKind(str(failed.get("failure")))
    except ValueError:
        kind = FailureKind.MODEL_FAILED
    return Failed(
        kind,
        str(failed.get("message") or "failed"),
        None,
        failed.get("stage") if isinstance(failed.get("stage"), str) else None,
        dict(failed.get("fields") or {}) if isinstance(failed.get("fields"), dict) else {},
    )


def _row(variant: Any, outcome: Outcome) -> RemoteRow:
    from ..whatif import VariantResult

    answer = outcome.answer
    if answer is None:
        return RemoteRow(VariantResult(variant, None, None, None, {}, error=outcome.error), None, outcome.exit_code)
    node = answer.get("node") if isinstance(answer.get("node"), dict) else None
    if "result" in answer:
        try:
            return RemoteRow(VariantResult.from_dict(answer["result"]), node)
        except Exception as exc:  # a node on other code sent a document this client cannot read
            message = f"the node's result does not decode: {' '.join(str(exc).split())[:160]}"
            return RemoteRow(VariantResult(variant, None, None, None, {}, error=message), node, 3)
    failed = _failed_event(answer["failed"])
    row = VariantResult(variant, None, None, None, {}, error=failed.message)
    return RemoteRow(row, node, failed.exit_code, failed if failed.stage == "load" else None)


def threads_for(request: dict[str, Any], device: str) -> int:
    """Cores one CPU measurement gets: `--threads`, default 1 (a CUDA one needs one to drive it)."""
    threads = request.get("threads")
    return int(threads) if threads and device != "cuda" else 1


def measure_variants(
    session: ClusterSession,
    payload_base: dict[str, Any],
    variants: list[Any],
    *,
    time_limit_s: float,
    accelerator: str | None = None,
    on_row: Callable[[int, RemoteRow, int, int], None] | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    task: str = "profiler.tasks:variant_task",
) -> list[RemoteRow]:
    """Each variant as one Ray task; rows in `variants` order, streamed to `on_row(index, row,
    done, total)` as they finish. `payload_base` is the local worker's payload without the
    variant (source, trust, request, inputs)."""
    model_ref, suffix, inputs_ref = ship(session, payload_base["source"], payload_base.get("inputs"))
    request = dict(payload_base.get("request") or {})
    jobs = []
    for v in variants:
        cores = threads_for(request, str(v.device))
        req = dict(request)
        if str(v.device) != "cuda":
            req["threads"] = cores  # the worker's torch threads = the cores it leased
        options, why_not = session.placement(str(v.device), accelerator, cores)
        payload = {**payload_base, "request": req, "variant": v.to_dict()}
        if "timed" in payload_base:
            payload["timed"] = payload_base["timed"]
        args = (task, payload, model_ref, suffix, inputs_ref, session.client_versions, time_limit_s,
                cores if str(v.device) != "cuda" else 0)  # fmt: skip
        jobs.append((options, why_not, args))

    def outcome(o: Outcome, done: int, total: int) -> None:
        if on_row is not None:
            on_row(o.index, _row(variants[o.index], o), done, total)

    outcomes = stream(session, jobs, time_limit_s=time_limit_s, on_outcome=outcome, should_stop=should_stop)
    return [_row(variants[o.index], o) for o in outcomes]


def measure_profile(
    session: ClusterSession,
    payload: dict[str, Any],
    *,
    device: str,
    time_limit_s: float,
    accelerator: str | None = None,
) -> tuple[dict[str, Any] | None, Any, dict[str, Any] | None]:
    """`tradeoff profile` on a node: (the profile document, None, node) or (None, Failed, node)."""
    from ..events import Failed, FailureKind

    model_ref, suffix, inputs_ref = ship(session, payload["source"], payload.get("inputs"))
    request = dict(payload.get("request") or {})
    cores = threads_for(request, device)
    if device != "cuda":
        request["threads"] = cores
    options, why_not = session.placement(device, accelerator, cores)
    args = ("profiler.tasks:profile_task", {**payload, "request": request}, model_ref, suffix, inputs_ref,
            session.client_versions, time_limit_s, cores if device != "cuda" else 0)  # fmt: skip
    (o,) = stream(session, [(options, why_not, args)], time_limit_s=time_limit_s)
    if o.answer is None:
        kind = FailureKind.UNUSABLE_INPUT if o.exit_code == 2 else FailureKind.MODEL_FAILED
        return None, Failed(kind, o.error or "failed"), None
    node = o.answer.get("node") if isinstance(o.answer.get("node"), dict) else None
    if "result" in o.answer:
        return o.answer["result"], None, node
    return None, _failed_event(o.answer["failed"]), node
