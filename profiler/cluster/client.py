"""The client's side of a cluster run: connect to Ray, submit one task per variant with the
resources a measurement needs, stream the answers back as they finish, and turn every way a
remote task can fail into that variant's row.

Resources (Ray schedules by them; a measurement never shares its device):
- a CUDA measurement asks for `num_gpus=1`, a whole GPU: fractional GPUs would pack several
  tasks onto one device (ray-project/ray#28679) and each would time the others' kernels;
- a CPU measurement asks for `num_cpus=N` (N = `--threads`, default 1) and, on the node, leases
  N cores no other studio task holds (`node.leased_cores`);
- `--accelerator NAME` adds a node constraint: the node label `tradeoff/accelerator=NAME`, else
  Ray's own `ray.io/accelerator-type` label, else a custom resource `accelerator:NAME` (how to
  label a cluster: docs/CLUSTER.md). A constraint no node meets is every row's error at once,
  not a task that waits forever.

Failed tasks are not retried (`max_retries=0`): a retry could land on other hardware and its
row would silently mix two machines.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..errors import InputError
from . import EXTRA
from .node import node_versions
from .shipping import Shipment, pack_path, pack_source

#: Seconds allowed on top of the task's own time limit for queueing, shipping and start-up,
#: before the client gives up on a task (a node that hangs without dying).
SLACK_S = 300.0
ACCELERATOR_LABEL = "tradeoff/accelerator"
RAY_ACCELERATOR_LABEL = "ray.io/accelerator-type"


def import_ray() -> Any:
    """Ray, or a one-line error naming the extra to install."""
    try:
        import ray
    except ImportError:
        raise InputError(
            "--cluster", f'Ray is not installed: pip install "tradeoff-studio[{EXTRA}]" (or pip install ray)'
        ) from None
    return ray


def resolve_address(address: str | None) -> str:
    """`--cluster` as Ray reads it: `local` starts a head in this process, `auto` finds one
    started on this machine with `ray start`, `ray://host:10001` is Ray Client, `host:port` a
    head's GCS; no option means $RAY_ADDRESS."""
    text = (address or os.environ.get("RAY_ADDRESS") or "").strip()
    if not text:
        raise InputError(
            "--cluster", "no cluster address: give --cluster ADDRESS (auto, local, ray://host:10001) or set RAY_ADDRESS"
        )
    return text


def unreachable(address: str, timeout_s: float = 5.0) -> str | None:
    """Why nothing answers at a `host:port` or `ray://host:port` address (None: something
    does, or the address is `auto`/`local`, which Ray resolves itself)."""
    import socket

    text = address.removeprefix("ray://")
    if address in ("auto", "local") or ":" not in text:
        return None
    host, _, port = text.rpartition(":")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s):
            return None
    except ValueError:
        return f"{port!r} is not a port"
    except OSError as exc:
        return f"nothing answers at {host}:{port} ({exc.strerror or type(exc).__name__})"


@dataclass(frozen=True)
class NodeInfo:
    host: str
    address: str
    alive: bool
    cpus: float
    gpus: float
    accelerators: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "address": self.address,
            "alive": self.alive,
            "cpus": self.cpus,
            "gpus": self.gpus,
            "accelerators": list(self.accelerators),
        }


@dataclass(frozen=True)
class ClusterInfo:
    """What a cluster has: its nodes, GPUs by accelerator, the Ray and studio versions its
    nodes run (from a probe task) and this client's."""

    address: str
    nodes: tuple[NodeInfo, ...]
    cluster_versions: dict[str, Any]
    client_versions: dict[str, Any]
    resources: dict[str, float] = field(default_factory=dict)

    @property
    def gpus_by_type(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for n in self.nodes:
            if n.alive and n.gpus:
                name = n.accelerators[0] if n.accelerators else "GPU (unlabelled)"
                out[name] = out.get(name, 0) + int(n.gpus)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": "tradeoff.cluster/1",
            "address": self.address,
            "nodes": [n.to_dict() for n in self.nodes],
            "cpus": sum(n.cpus for n in self.nodes if n.alive),
            "gpus_by_type": self.gpus_by_type,
            "cluster_versions": self.cluster_versions,
            "client_versions": self.client_versions,
        }


def _accelerators(node: dict[str, Any]) -> tuple[str, ...]:
    labels = node.get("Labels") or {}
    names = [labels[k] for k in (ACCELERATOR_LABEL, RAY_ACCELERATOR_LABEL) if labels.get(k)]
    for key in node.get("Resources") or {}:
        if key.startswith("accelerator:"):
            names.append(key.split(":", 1)[1])
        elif key.startswith("accelerator_type:"):
            names.append(key.split(":", 1)[1])
    return tuple(dict.fromkeys(names))


class ClusterSession:
    """One connection to a Ray cluster for one command; `close()` disconnects (and stops the
    head a `local` address started)."""

    def __init__(self, address: str | None) -> None:
        self.address = resolve_address(address)
        self.ray = import_ray()
        self.client_versions = node_versions()
        self._remote: Any = None
        self._connect()

    def _connect(self) -> None:
        ray = self.ray
        why = unreachable(self.address)
        if why is not None:  # Ray itself would retry for minutes, logging to stderr
            raise InputError("--cluster", f"cannot connect to {self.address}: {why}")
        import logging

        # Ray's own INFO/WARNING lines would garble the command's stderr and the app's progress
        logging.getLogger("ray").setLevel(logging.ERROR)
        kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "logging_level": logging.ERROR}
        # Ray Client's proxy sometimes fails to start the per-client server on a loaded head
        # ("Starting Ray client server failed"): one more try before giving up
        tries = 2 if self.address.startswith("ray://") else 1
        try:
            for attempt in range(tries):
                try:
                    if self.address == "local":
                        ray.init(**kwargs)
                    else:
                        ray.init(address=self.address, **kwargs)
                    break
                except ConnectionError:
                    if attempt + 1 == tries:
                        raise
                    ray.shutdown()
                    time.sleep(2.0)
        except Exception as exc:  # a wrong address, a version mismatch (ray-project/ray#45370), auth
            text = " ".join(str(exc).split())[:300] or type(exc).__name__
            raise InputError("--cluster", f"cannot connect to {self.address}: {text}") from None
        from .node import run_on_node

        # max_retries=0: a measurement that died is reported, not redone on other hardware
        self._remote = ray.remote(max_retries=0)(run_on_node)

    def close(self) -> None:
        try:
            self.ray.shutdown()
        except Exception:
            pass

    def __enter__(self) -> ClusterSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- what the cluster has ----------------------------------------------------------------

    def nodes(self) -> list[NodeInfo]:
        out = []
        for n in self.ray.nodes():
            res = n.get("Resources") or {}
            out.append(
                NodeInfo(
                    host=str(n.get("NodeManagerHostname") or ""),
                    address=str(n.get("NodeManagerAddress") or ""),
                    alive=bool(n.get("Alive")),
                    cpus=float(res.get("CPU", 0.0)),
                    gpus=float(res.get("GPU", 0.0)),
                    accelerators=_accelerators(n),
                )
            )
        return out

    def info(self, timeout_s: float = 60.0) -> ClusterInfo:
        """The nodes and the versions a probe task reports (the probe also proves that a node can
        import the studio)."""
        from .node import describe_node

        probe = self.ray.remote(max_retries=0)(lambda: describe_node())
        try:
            versions = dict(self.ray.get(probe.options(num_cpus=0).remote(), timeout=timeout_s)["versions"])
        except Exception as exc:
            versions = {"error": " ".join(str(exc).split())[:200]}
        return ClusterInfo(self.address, tuple(self.nodes()), versions, self.client_versions,
                           dict(self.ray.cluster_resources()))  # fmt: skip

    # -- placement ---------------------------------------------------------------------------

    def placement(self, device: str, accelerator: str | None, cores: int) -> tuple[dict[str, Any] | None, str | None]:
        """(Ray options for one measurement, None) or (None, why no node can run it)."""
        alive = [n for n in self.ray.nodes() if n.get("Alive")]
        options: dict[str, Any] = {"num_cpus": 1 if device == "cuda" else cores}
        if device == "cuda":
            options["num_gpus"] = 1
            if not any((n.get("Resources") or {}).get("GPU", 0) >= 1 for n in alive):
                return None, "no node of the cluster has a GPU (a CUDA measurement asks for a whole one)"
        elif not any((n.get("Resources") or {}).get("CPU", 0) >= cores for n in alive):
            return None, f"no node of the cluster has {cores} CPU cores for one measurement (--threads)"
        if accelerator:
            label = next(
                (
                    k
                    for k in (ACCELERATOR_LABEL, RAY_ACCELERATOR_LABEL)
                    for n in alive
                    if (n.get("Labels") or {}).get(k) == accelerator
                ),
                None,
            )
            if label is not None:
                options["label_selector"] = {label: accelerator}
            elif any(f"accelerator:{accelerator}" in (n.get("Resources") or {}) for n in alive):
                options["resources"] = {f"accelerator:{accelerator}": 0.001}
            else:
                return None, (
                    f"no node of the cluster has accelerator {accelerator} (label its nodes "
                    f"{ACCELERATOR_LABEL}={accelerator}; see docs/CLUSTER.md)"
                )
        return options, None

    def parallel_slots(self, options: dict[str, Any]) -> int:
        """How many such tasks the cluster runs at once (for the client's overall deadline)."""
        slots = 0
        for n in self.ray.nodes():
            if not n.get("Alive"):
                continue
            res = n.get("Resources") or {}
            per = res.get("CPU", 0) // max(1, options.get("num_cpus", 1))
            if options.get("num_gpus"):
                per = min(per, res.get("GPU", 0))
            slots += int(per)
        return max(1, slots)

    # -- running -----------------------------------------------------------------------------

    def put(self, shipment: Shipment | None) -> Any:
        return None if shipment is None else self.ray.put(shipment)

    def submit(self, options: dict[str, Any], *args: Any) -> Any:
        return self._remote.options(**options).remote(*args)

    def cancel(self, refs: Iterable[Any]) -> None:
        for ref in refs:
            try:
                self.ray.cancel(ref, force=True)
            except Exception:
                pass


@dataclass
class Outcome:
    """One task's end: `answer` (the node's decoded JSON) or `error` (one line: why the task
    produced none) with the exit code its row counts as."""

    index: int
    answer: dict[str, Any] | None = None
    error: str | None = None
    exit_code: int = 3


def ray_failure(exc: BaseException) -> str:
    """One line for a Ray exception: what happened to the task, in the user's words."""
    import ray.exceptions as rex

    if isinstance(exc, rex.OutOfMemoryError):
        return "killed by Ray's memory monitor: the node ran out of memory"
    if isinstance(exc, rex.NodeDiedError | rex.LocalRayletDiedError):
        return "the node running it was lost"
    if isinstance(exc, rex.WorkerCrashedError):
        return "the Ray worker running it died (killed or crashed)"
    if isinstance(exc, rex.TaskCancelledError):
        return "cancelled"
    if isinstance(exc, rex.TaskUnschedulableError):
        return "Ray could not schedule it on any node"
    if isinstance(exc, rex.GetTimeoutError):
        return "timed out on the cluster"
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__


def decode_answer(raw: Any) -> dict[str, Any]:
    """A node's answer: JSON text only (never an object to unpickle)."""
    import json

    if not isinstance(raw, str):
        raise ValueError(f"the node answered with {type(raw).__name__}, not JSON text")
    answer = json.loads(raw)
    if not isinstance(answer, dict) or not ("result" in answer or "failed" in answer):
        raise ValueError("the node's answer is not a result")
    return answer


def stream(
    session: ClusterSession,
    jobs: list[tuple[dict[str, Any] | None, str | None, tuple[Any, ...]]],
    *,
    time_limit_s: float,
    on_outcome: Callable[[Outcome, int, int], None] | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> list[Outcome]:
    """Submit every job `(options, why_not, args)` and yield their outcomes as they finish
    (`on_outcome(outcome, done, total)`); a job with `why_not` is an outcome at once. Returns the
    outcomes in job order. Cancels what is left on KeyboardInterrupt or `should_stop()`."""
    ray = session.ray
    outcomes: dict[int, Outcome] = {}
    pending: dict[Any, int] = {}
    total = len(jobs)

    def done(o: Outcome) -> None:
        outcomes[o.index] = o
        if on_outcome is not None:
            on_outcome(o, len(outcomes), total)

    slots = 1
    for i, (options, why_not, args) in enumerate(jobs):
        if options is None:
            done(Outcome(i, error=why_not or "cannot be placed", exit_code=2))
            continue
        slots = session.parallel_slots(options)
        pending[session.submit(options, *args)] = i
    waves = math.ceil(max(1, len(pending)) / slots)
    deadline = time.monotonic() + waves * time_limit_s + SLACK_S
    try:
        while pending:
            if should_stop():
                raise KeyboardInterrupt
            ready, _ = ray.wait(list(pending), num_returns=1, timeout=0.5)
            for ref in ready:
                i = pending.pop(ref)
                try:
                    done(Outcome(i, answer=decode_answer(ray.get(ref))))
                except Exception as exc:  # the task produced no answer: that row's error
                    done(Outcome(i, error=ray_failure(exc)))
            if time.monotonic() > deadline:
                session.cancel(pending)
                waited_s = waves * time_limit_s + SLACK_S
                for i in list(pending.values()):
                    done(Outcome(i, error=f"timed out on the cluster (no answer within {waited_s:.0f} s)"))
                pending.clear()
    except BaseException:
        session.cancel(pending)  # Ctrl-C, the app's Cancel: the remote tasks stop too
        raise
    return [outcomes[i] for i in range(total)]


def ship(session: ClusterSession, source: str, inputs: str | None) -> tuple[Any, str, Any]:
    """(model ref, suffix for the node's path, inputs ref), put once into the object store."""
    from pathlib import Path

    model, suffix = pack_source(source)
    shipped_inputs = pack_path(Path(inputs), "the --inputs file") if inputs else None
    return session.put(model), suffix, session.put(shipped_inputs)
