"""`tradeoff gui [MODEL]` (and bare `tradeoff`): open the desktop app."""

from __future__ import annotations

import argparse

from tradeoff.commands import Subparsers

DEMO_SOURCE = "demo:digits-cnn"  # trained, with labelled held-out samples: real accuracy


def add_parser(sub: Subparsers) -> argparse.ArgumentParser:
    p = sub.add_parser("gui", help="open the desktop app on MODEL (default: the demo model)")
    p.add_argument("model", nargs="?", default=None, metavar="MODEL")
    p.add_argument("--trust", action="store_true")
    p.add_argument("--debug", action="store_true")
    return p


def run(args: argparse.Namespace) -> int:
    source = args.model or DEMO_SOURCE
    try:
        from gui.app import run_app
    except ImportError:
        # The window is not built in this install: show the model's profile instead.
        from tradeoff.commands import profile
        from tradeoff.options import Parser

        parser = Parser(prog="tradeoff profile")
        profile.add_arguments(parser)
        return profile.run(parser.parse_args([source] + (["--trust"] if args.trust else [])))
    return int(run_app(source, trust=args.trust))
