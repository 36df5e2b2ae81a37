"""`tradeoff cluster [ADDRESS]`: connect to a Ray cluster and say what it has — nodes, CPUs,
GPUs by accelerator, the Ray and studio versions on its nodes against this machine's. The app's
"Measure on" connection test runs this command (the app never imports Ray)."""

from __future__ import annotations

import argparse

from tradeoff.commands import Subparsers

HELP = "connect to a Ray cluster and list its nodes, GPUs by type and versions (the cluster extra)"


def add_parser(sub: Subparsers) -> argparse.ArgumentParser:
    p = sub.add_parser("cluster", help=HELP, description=HELP)
    p.add_argument(
        "address",
        nargs="?",
        metavar="ADDRESS",
        default="",
        help="auto, local, ray://HOST:10001, HOST:PORT (default: RAY_ADDRESS)",
    )
    p.add_argument("--json", metavar="FILE|-", help="write the tradeoff.cluster/1 document (- = stdout)")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    return p


def render_cluster(doc: dict) -> str:  # type: ignore[type-arg]
    """The cluster as a few lines for the terminal (and the app's connection test)."""
    alive = [n for n in doc["nodes"] if n["alive"]]
    gpus = ", ".join(f"{count} × {name}" for name, count in sorted(doc["gpus_by_type"].items())) or "no GPUs"
    cv, lv = doc["cluster_versions"], doc["client_versions"]
    lines = [
        f"Cluster at {doc['address']}: {len(alive)} node(s) alive, {doc['cpus']:g} CPUs, {gpus}",
        f"Ray {cv.get('ray') or '?'} on the cluster, {lv.get('ray') or '?'} here; "
        f"tradeoff {cv.get('tradeoff') or '?'} on the cluster, {lv.get('tradeoff') or '?'} here",
    ]
    if "error" in cv:
        lines.append(f"! a probe task could not run on the cluster: {cv['error']}")
    for key in ("ray", "tradeoff", "python"):
        if cv.get(key) and lv.get(key) and cv[key] != lv[key]:
            lines.append(f"! version mismatch: {key} {cv[key]} on the cluster, {lv[key]} here (rows would fail)")
    for n in doc["nodes"]:
        acc = f", {', '.join(n['accelerators'])}" if n["accelerators"] else ""
        state = "" if n["alive"] else " (dead)"
        lines.append(f"  {n['host']} {n['address']}: {n['cpus']:g} CPUs, {n['gpus']:g} GPUs{acc}{state}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from profiler.cluster.client import ClusterSession
    from profiler.textsafe import terminal_safe
    from tradeoff.output import emit

    with ClusterSession(args.address) as session:
        doc = session.info().to_dict()
    emit(args, doc, "\n".join(terminal_safe(line) for line in render_cluster(doc).splitlines()), None)
    return 0
