"""`tradeoff profile`: per-layer static analysis and measurement of one configuration."""

from __future__ import annotations

import argparse

from tradeoff.commands import Subparsers
from tradeoff.options import add_model_options, positive_int

HELP = "per-layer static analysis and measurement of one configuration"


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_model_options(p)
    p.add_argument("--top", type=positive_int, default=10, help="rows in each top-layers table")


def add_parser(sub: Subparsers) -> argparse.ArgumentParser:
    p = sub.add_parser("profile", help=HELP)
    add_arguments(p)
    return p


def run(args: argparse.Namespace) -> int:
    from profiler.table import layers_csv, render_profile
    from tradeoff.output import emit
    from tradeoff.worker_runs import load_profile_for

    profile = load_profile_for(args)
    profile.check()
    emit(args, profile.to_dict(), render_profile(profile, top=args.top), layers_csv(profile))
    return 0
