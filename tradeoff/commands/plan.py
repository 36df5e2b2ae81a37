"""`tradeoff plan`: project training and inference cost over the hardware catalog."""

from __future__ import annotations

import argparse
import json
import sys

from profiler.errors import InputError
from profiler.textsafe import terminal_safe
from tradeoff.commands import Subparsers
from tradeoff.options import add_model_options, add_plan_arguments


def add_parser(sub: Subparsers) -> argparse.ArgumentParser:
    p = sub.add_parser("plan", help="project training and inference cost over the hardware catalog")
    add_model_options(p)
    add_plan_arguments(p)
    return p


def run(args: argparse.Namespace) -> int:
    import io

    from planner.answer import caveats_of
    from planner.plan import plan, write_plan_csv
    from planner.render import render_plan_table
    from profiler.result import Profile, SchemaError
    from tradeoff.options import catalog_from_args, plan_options_from_args
    from tradeoff.output import emit
    from tradeoff.worker_runs import load_profile_for

    options = plan_options_from_args(args)
    if args.model.endswith(".json") and _is_profile_json(args.model):
        try:
            with open(args.model, encoding="utf-8") as f:
                profile = Profile.from_dict(json.load(f))
        except (OSError, ValueError, SchemaError) as exc:
            raise InputError(args.model, f"not a readable tradeoff.profile/1 document: {exc}") from None
    else:
        profile = load_profile_for(args)
    catalog = catalog_from_args(args)
    result = plan(profile, options, catalog)
    buf = io.StringIO()
    write_plan_csv(result, buf)
    emit(args, result.to_dict(), render_plan_table(result, caveats=caveats_of(profile)), buf.getvalue())
    for w in catalog.warnings:
        print(terminal_safe(f"warning: {w}"), file=sys.stderr)
    return 0


def _is_profile_json(path: str) -> bool:
    try:
        with open(path, encoding="utf-8") as f:
            head = f.read(4096)
    except OSError:
        return False
    return '"tradeoff.profile/' in head
