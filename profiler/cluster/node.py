"""What runs on a cluster node for one task: unpack the shipped files, check that the node runs
the client's versions, lease whole cores, run the task in the same measurement worker a local
run uses (profiler/worker.py: its own process, its time limit, its memory guard), and answer
with JSON text.

The answer is text, never a pickled object: the client decodes it with the contract's
`from_dict`, so a node cannot hand the client an object to unpickle. Every exception becomes a
`failed` answer, so Ray never ships a remote exception (a pickle) back either.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import platform
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .shipping import Shipment, cache_root, unpack

#: Versions that must match between client and node for a row to mean the same thing.
VERSION_KEYS = ("tradeoff", "ray", "python")


def node_versions() -> dict[str, str | None]:
    """The versions this process runs: the studio, Ray, Python, torch and ONNX Runtime."""
    from importlib import metadata

    import profiler

    def version(dist: str) -> str | None:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return None

    return {
        "tradeoff": profiler.__version__,
        "ray": version("ray"),
        "python": platform.python_version(),
        "torch": (version("torch") or "").split("+")[0] or None,
        "onnxruntime": version("onnxruntime"),
    }


def version_mismatch(client: dict[str, Any], node: dict[str, Any]) -> str | None:
    """One line naming the first version that differs (None when they agree)."""
    for key in VERSION_KEYS:
        if client.get(key) and node.get(key) and client[key] != node[key]:
            return f"version mismatch: the node runs {key} {node[key]}, this machine {client[key]}"
    return None


@contextlib.contextmanager
def leased_cores(count: int, prefer: tuple[int, ...] = ()) -> Iterator[list[int]]:
    """Pin this process (and the worker it spawns) to `count` cores no other studio task on the
    node holds: Ray counts CPUs but does not place threads, so two measurements could share a
    core. One file lock per core under the node's cache folder (released if the process dies);
    `prefer`: the cores to try first (those the cached worker was started on)."""
    pool = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if count <= 0 or len(pool) < count:
        yield pool
        return
    lock_dir = cache_root() / "core-locks"
    lock_dir.mkdir(parents=True, exist_ok=True)
    order = [c for c in prefer if c in pool] + [c for c in pool if c not in prefer]
    deadline = time.monotonic() + 30.0
    while True:
        held: dict[int, int] = {}
        for core in order:
            fd = os.open(lock_dir / f"core-{core}.lock", os.O_CREAT | os.O_RDWR, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue
            held[core] = fd
            if len(held) == count:
                break
        if len(held) == count:
            mine = sorted(held)
            try:
                os.sched_setaffinity(0, mine)
                yield mine
            finally:
                with contextlib.suppress(OSError):
                    os.sched_setaffinity(0, pool)
                for fd in held.values():
                    os.close(fd)  # closing releases the lock
            return
        for fd in held.values():
            os.close(fd)
        if time.monotonic() > deadline:  # cores held by something else all along: run unpinned
            yield pool
            return
        time.sleep(0.2)


#: The measurement worker this Ray worker process keeps between tasks, and what it was started
#: under (its cores, the GPU Ray gave it): a sweep's next variant on the same node then skips
#: starting Python and torch and, for the same model, loading it (the worker caches it).
_CACHED: dict[str, Any] = {}


def _runner_for(key: tuple[Any, ...]) -> Any:
    """The cached worker when it was started under `key`, else a new one started now (so it
    inherits this process's affinity and CUDA_VISIBLE_DEVICES)."""
    from ..worker import Runner

    runner = _CACHED.get("runner")
    if runner is not None and _CACHED.get("key") == key:
        return runner
    if runner is not None:
        runner.close()
    runner = Runner()
    runner.start()
    _CACHED.update(runner=runner, key=key)
    return runner


def _drop_runner() -> None:
    runner = _CACHED.pop("runner", None)
    _CACHED.pop("key", None)
    if runner is not None:
        runner.close()


def _answer(**fields: Any) -> str:
    return json.dumps(fields, allow_nan=True)


def _failed(failure: str, message: str, **extra: Any) -> str:
    return _answer(failed={"failure": failure, "message": message, **extra}, node=describe_node())


def describe_node() -> dict[str, Any]:
    """The node as a row's `environment` shows it: host, CPU, GPU, driver, versions."""
    from ..environment import capture_environment, cpu_flags, nvidia_gpu

    env = capture_environment().to_dict()
    for key in ("threads", "foreign_cpu_percent", "cpu_mhz"):  # the measurement's, in its own profile
        env.pop(key, None)
    gpu = nvidia_gpu()
    facts = {
        "cpu_flags": sorted(cpu_flags()),
        "cuda_capability": list(gpu.capability) if gpu and gpu.capability else None,
    }
    return {"host": socket.gethostname(), **env, "versions": node_versions(), "kernel_facts": facts}


def _rewrite_paths(value: Any, local: str, shown: str) -> Any:
    """The node's cache path of the model replaced by the client's own MODEL argument, so the
    document names the file the user gave, not a hash folder on some node."""
    if isinstance(value, str):
        return value.replace(local, shown) if local in value else value
    if isinstance(value, dict):
        return {k: _rewrite_paths(v, local, shown) for k, v in value.items()}
    if isinstance(value, list):
        return [_rewrite_paths(v, local, shown) for v in value]
    return value


def run_on_node(
    task: str,
    payload: dict[str, Any],
    model: Shipment | None,
    model_suffix: str,
    inputs: Shipment | None,
    client_versions: dict[str, Any],
    time_limit_s: float,
    cores: int,
) -> str:
    """One task on this node; JSON text: {"result": …, "node": …} or {"failed": …, "node": …}."""
    try:
        started = time.perf_counter()
        node = describe_node()
        mismatch = version_mismatch(client_versions, node["versions"])
        if mismatch is not None:
            return _answer(failed={"failure": "unusable_input", "message": mismatch}, node=node)
        payload = dict(payload)
        shown = payload.get("source") or payload.get("sources")
        local_model = None
        if model is not None:
            local_model = str(unpack(model)) + model_suffix
            payload["source"] = local_model
        if inputs is not None:
            payload["inputs"] = str(unpack(inputs))
        from ..events import Failed, Finished

        prefer = tuple(_CACHED.get("key", ((),))[0])
        with leased_cores(cores, prefer) as pinned:
            runner = _runner_for((tuple(pinned), os.environ.get("CUDA_VISIBLE_DEVICES")))
            try:
                run_started = time.perf_counter()
                run_id = runner.submit(task, payload, time_limit_s=time_limit_s)
                end = runner.wait(run_id)
                run_s = time.perf_counter() - run_started
            except BaseException:
                _drop_runner()
                raise
        node["pinned_cores"] = pinned if cores > 0 else None
        # where the task's time went on the node: the worker's run, and everything around it
        # (unpacking, leasing cores, starting a worker when none was cached)
        node["seconds"] = {"task": round(time.perf_counter() - started, 3), "run": round(run_s, 3)}
        if isinstance(end, Finished):
            result = end.result
            if local_model is not None and isinstance(shown, str):
                result = _rewrite_paths(
                    result, local_model.removesuffix(model_suffix), shown.removesuffix(model_suffix)
                )
                result = _rewrite_paths(result, str(Path(local_model.removesuffix(model_suffix)).parent), "")
            return _answer(result=result, node=node)
        if isinstance(end, Failed):
            message = end.message
            if local_model is not None and isinstance(shown, str):
                message = message.replace(local_model.removesuffix(model_suffix), shown.removesuffix(model_suffix))
            return _answer(
                failed={
                    "failure": str(end.failure),
                    "message": message,
                    "stage": end.stage,
                    "fields": end.fields,
                },
                node=node,
            )
        return _failed("cancelled", "cancelled on the node")
    except BaseException as exc:  # noqa: BLE001 - a raise would send a pickled exception back
        from ..worker_process import failed_event

        ev = failed_event(exc)
        return _failed(str(ev.failure), ev.message, stage=ev.stage)
