"""`tradeoff profile`: per-layer static analysis and measurement of one configuration."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from tradeoff.cluster_runs import add_cluster_options
from tradeoff.commands import Subparsers
from tradeoff.options import add_model_options, positive_int

if TYPE_CHECKING:
    from profiler.result import Profile

HELP = "per-layer static analysis and measurement of one configuration"


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_model_options(p)
    p.add_argument("--top", type=positive_int, default=10, help="rows in each top-layers table")
    p.add_argument(
        "--no-calibration-record",
        action="store_true",
        help="do not store this measurement as calibration for its device (planner/calibration_store.py)",
    )
    add_cluster_options(p)


def add_parser(sub: Subparsers) -> argparse.ArgumentParser:
    p = sub.add_parser("profile", help=HELP)
    add_arguments(p)
    return p


def run(args: argparse.Namespace) -> int:
    from profiler.table import layers_csv, render_profile
    from tradeoff.cluster_runs import check_cluster_options, profile_on_cluster, wants_cluster
    from tradeoff.output import emit
    from tradeoff.worker_runs import load_profile_for

    check_cluster_options(args)
    if wants_cluster(args):
        from tradeoff.options import check_model_option

        check_model_option(args)
        profile, _node = profile_on_cluster(args)
    else:
        profile = load_profile_for(args)
    profile.check()
    emit(args, profile.to_dict(), render_profile(profile, top=args.top), layers_csv(profile))
    if not args.no_calibration_record and not args.no_latency:
        _record_calibration(profile)
    return 0


def _record_calibration(profile: Profile) -> None:
    """Store a measured profile as calibration for its device; one line on stderr when it did
    (or could not write); silent when the profile does not qualify (not measured, meta, noisy)."""
    import sys

    from planner.calibration_store import record_profile

    done = record_profile(profile)
    for w in done.warnings:
        print(f"warning: {w}", file=sys.stderr)
    if done.status:
        print(done.status, file=sys.stderr)
