"""The `tradeoff` command line: the parser and `main(argv) -> int`. Import-light: Qt, torch and
onnxruntime load only when a command needs them, so `tradeoff profile` never loads Qt and
`tradeoff --version` loads nothing.

Errors a user can act on print one line, `error: FILE: problem`, and exit 2 (bad input) or 3
(the model could not be measured); `--debug` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Callable, Sequence

from profiler import __version__
from profiler.errors import StudioError
from profiler.textsafe import terminal_safe
from tradeoff.commands import cluster, compare, gui, hardware, optimize, plan, profile, report, sweep, trace
from tradeoff.options import Parser

# in the order `tradeoff --help` lists them
COMMANDS = {
    "gui": gui,
    "profile": profile,
    "sweep": sweep,
    "report": report,
    "trace": trace,
    "plan": plan,
    "optimize": optimize,
    "compare": compare,
    "hardware": hardware,
    "cluster": cluster,
}


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="tradeoff",
        description="Tradeoff Studio: measure a model per layer, try what-if variants, and project their cost.",
    )
    parser.add_argument("--version", action="version", version=f"tradeoff-studio {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMANDS.values():
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    for stream in (sys.stdout, sys.stderr):
        # A file name that is not valid text (bytes smuggled through surrogateescape) must not
        # turn an error message into a UnicodeEncodeError.
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    parser = build_parser()
    if "--debug" not in argv:
        # Library warnings (torch's deprecations, pickle protocol notices) are not for users;
        # what matters reaches them as notes in the result.
        warnings.simplefilter("ignore")
    if not argv:
        argv = ["gui"]
    args = parser.parse_args(argv)
    handlers: dict[str, Callable[[argparse.Namespace], int]] = {name: m.run for name, m in COMMANDS.items()}
    handler = handlers.get(args.command or "gui")
    if handler is None:
        parser.error(f"unknown command {args.command!r}")
        return 2  # not reached: error() exits
    if args.command != "gui":
        from profiler.process_guard import become_subreaper

        # a process a model detached from a worker that then died is re-parented here, and
        # reaped on the way out (see _reap_orphans)
        become_subreaper()
    try:
        return handler(args)
    except StudioError as exc:
        if getattr(args, "debug", False):
            raise
        print(f"error: {terminal_safe(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `tradeoff … | head`: the reader left; not an error of ours
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    finally:
        if args.command != "gui":
            _reap_orphans()


def _reap_orphans() -> None:
    """Kill what is left of the model's processes: every child of this process but
    multiprocessing's resource tracker (the workers are closed by now)."""
    import os
    from multiprocessing import resource_tracker

    from profiler.process_guard import descendant_pids, kill_process_tree

    tracker = getattr(resource_tracker._resource_tracker, "_pid", None)
    for pid in descendant_pids(os.getpid()):
        if pid != tracker:
            kill_process_tree(pid, group=False)


if __name__ == "__main__":
    sys.exit(main())
