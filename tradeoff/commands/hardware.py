"""`tradeoff hardware`: list the hardware catalog in use (specs and prices, with sources)."""

from __future__ import annotations

import argparse
import sys

from profiler.textsafe import terminal_safe
from tradeoff.commands import Subparsers


def add_parser(sub: Subparsers) -> argparse.ArgumentParser:
    p = sub.add_parser("hardware", help="list the hardware catalog in use (specs and prices, with sources)")
    p.add_argument("--json", metavar="FILE|-")
    p.add_argument("--catalog", metavar="FILE.csv", action="append")
    p.add_argument("--debug", action="store_true")
    return p


def run(args: argparse.Namespace) -> int:
    from planner.render import hardware_document, render_hardware_table
    from tradeoff.options import catalog_from_args
    from tradeoff.output import emit

    catalog = catalog_from_args(args)
    emit(args, hardware_document(catalog), render_hardware_table(catalog), None)
    for w in catalog.warnings:
        print(terminal_safe(f"warning: {w}"), file=sys.stderr)
    return 0
