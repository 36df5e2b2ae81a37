"""`--cluster ADDRESS` for sweep, optimize and profile: the command's variants measured as Ray
tasks (profiler/cluster/), with per-row progress on stderr, each row's node in its
`environment`, and CUDA measurements recorded as calibration for the node's accelerator."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from profiler.textsafe import terminal_safe


def add_cluster_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("cluster (the optional `cluster` extra: Ray)")
    g.add_argument(
        "--cluster",
        metavar="ADDRESS",
        help="measure on a Ray cluster: auto (one started with `ray start`), local (a head in this process), "
        "ray://HOST:10001 (Ray Client) or HOST:PORT; RAY_ADDRESS when the option has no value",
        nargs="?",
        const="",
    )
    g.add_argument(
        "--accelerator",
        metavar="NAME",
        help="only on nodes with this accelerator (node label tradeoff/accelerator=NAME; see docs/CLUSTER.md)",
    )


def wants_cluster(args: argparse.Namespace) -> bool:
    return getattr(args, "cluster", None) is not None


def check_cluster_options(args: argparse.Namespace) -> None:
    from profiler.errors import InputError

    if getattr(args, "accelerator", None) and not wants_cluster(args):
        raise InputError("--accelerator", "chooses cluster nodes: give --cluster ADDRESS as well")


class _RowProgress:
    """One stderr line per finished row: `progress: 37.5% [3/8] LABEL: done on HOST (…)`."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.enabled = bool(getattr(args, "progress", False)) or sys.stderr.isatty()

    def __call__(self, index: int, row: Any, done: int, total: int) -> None:
        if not self.enabled:
            return
        r = row.result
        host = (row.node or {}).get("host") or "?"
        if r.error is None and r.profile is not None and r.profile.totals.latency_ms is not None:
            what = f"done on {host} ({r.profile.totals.latency_ms.median:.3g} ms)"
        elif r.error is None:
            what = f"done on {host}"
        else:
            what = f"failed on {host}: {r.error}" if row.node else f"failed: {r.error}"
        line = f"progress: {100 * done / max(1, total):.1f}% [{done}/{total}] {r.variant.label()}: {what}"
        try:
            print(terminal_safe(line), file=sys.stderr, flush=True)
        except (OSError, ValueError):
            self.enabled = False


def _payload_base(args: argparse.Namespace) -> dict[str, Any]:
    from profiler.inputs import parse_shape_options
    from profiler.tasks import request_to_dict
    from tradeoff.options import request_from_args_base

    base = request_from_args_base(args, parse_shape_options(args.input_shape))
    return {"source": args.model, "trust": args.trust, "request": request_to_dict(base), "inputs": args.inputs}


def sweep_on_cluster(
    args: argparse.Namespace, variants: list[Any], exit_codes: list[int]
) -> tuple[list[Any], list[dict[str, Any] | None]]:
    """The sweep's variants as Ray tasks: (VariantResults in grid order, each row's node).
    A model that cannot be opened on the node raises its one-line error, as a local run does."""
    from profiler.cluster.client import ClusterSession
    from profiler.cluster.runs import measure_variants
    from profiler.variant_measurer import failure_error

    with ClusterSession(args.cluster) as session:
        rows = measure_variants(
            session, _payload_base(args), variants, time_limit_s=args.time_limit,
            accelerator=args.accelerator, on_row=_RowProgress(args),
        )  # fmt: skip
    for row in rows:
        if row.load_failure is not None:
            raise failure_error(row.load_failure, args.model)
        if row.exit_code is not None:
            exit_codes.append(row.exit_code)
    record_cuda_calibration([row.result for row in rows])
    return [row.result for row in rows], [row.node for row in rows]


def record_cuda_calibration(results: list[Any]) -> None:
    """A CUDA measurement from a node calibrates that node's accelerator (as a local `profile`
    on a GPU does); one stderr line per accelerator."""
    from planner.calibration_store import record_profile

    last: dict[str, str] = {}
    for r in results:
        for p in (r.baseline, r.profile) if r.error is None else ():
            if p is None or str(p.config.device) != "cuda":
                continue
            done = record_profile(p)
            if done.status and done.calibration is not None:
                last[p.environment.gpu if p.environment else "?"] = done.status
    for status in last.values():
        print(terminal_safe(status + " (measured on the cluster)"), file=sys.stderr)


def profile_on_cluster(args: argparse.Namespace) -> tuple[Any, dict[str, Any] | None]:
    """`tradeoff profile --cluster`: the profile measured on a node, and the node."""
    from profiler.cluster.client import ClusterSession
    from profiler.cluster.runs import measure_profile
    from profiler.result import Profile
    from profiler.tasks import request_to_dict
    from profiler.variant_measurer import failure_error
    from tradeoff.options import request_from_args

    payload = {"source": args.model, "trust": args.trust, "request": request_to_dict(request_from_args(args))}
    with ClusterSession(args.cluster) as session:
        doc, failed, node = measure_profile(
            session, payload, device=args.device, time_limit_s=args.time_limit, accelerator=args.accelerator
        )
    if failed is not None:
        raise failure_error(failed, args.model)
    assert doc is not None
    return Profile.from_dict(doc), node


class ClusterMeasurer:
    """`VariantMeasurer`'s interface over a cluster, for `optimize --cluster`: each measurement
    is one Ray task on a node that has what it needs (the search asks for one variant at a time,
    so the cluster gives it the hardware, not parallelism)."""

    def __init__(self, args: argparse.Namespace) -> None:
        from profiler.cluster.client import ClusterSession

        self.args = args
        self.session = ClusterSession(args.cluster)
        self.payload = _payload_base(args)
        self.nodes: list[dict[str, Any] | None] = []

    def __enter__(self) -> ClusterMeasurer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.session.close()

    def measure(self, variant: Any, timed: bool) -> Any:
        from profiler.cluster.runs import measure_variants
        from profiler.variant_measurer import failure_error

        (row,) = measure_variants(
            self.session, {**self.payload, "timed": timed}, [variant], time_limit_s=self.args.time_limit,
            accelerator=self.args.accelerator, on_row=_RowProgress(self.args),
        )  # fmt: skip
        if row.load_failure is not None:
            raise failure_error(row.load_failure, self.args.model)
        self.nodes.append(row.node)
        record_cuda_calibration([row.result])
        return row.result
