"""The `tradeoff` command line. Import-light: Qt, torch and onnxruntime load only when a
command needs them, so `tradeoff profile` never loads Qt and `tradeoff --version` loads nothing.

Errors a user can act on print one line, `error: FILE: problem`, and exit 2 (bad input) or 3
(the model could not be measured); `--debug` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from profiler import __version__
from profiler.errors import InputError, StudioError
from profiler.textsafe import terminal_safe

DEMO_SOURCE = "demo:resnet18"


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be positive")
    return value


def _time_limit_s(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive, finite number of seconds")
    return value


def add_model_options(p: argparse.ArgumentParser, *, lists: bool = False, per_variant: bool = False) -> None:
    """Options shared by profile, sweep, plan, report and trace (CONTRACT.md)."""
    p.add_argument("model", metavar="MODEL", help="model file, file.py[:callable], config.json/folder, or demo:NAME")
    p.add_argument("--input-shape", action="append", metavar="SHAPE", help="1x3x224x224 or NAME=SHAPE; repeatable")
    p.add_argument("--batch", metavar="N", help="leading dimension of every input" + (" (comma list)" if lists else ""))
    p.add_argument("--seq-len", metavar="N", help="sequence length of token inputs" + (" (comma list)" if lists else ""))
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    p.add_argument("--runtime", choices=["torch", "onnxruntime"], default=None)
    p.add_argument("--threads", type=_positive_int, metavar="N", help="intra-op threads for the measurement")
    p.add_argument("--precision", default="fp32", metavar="P", help="fp32, fp16, bf16, int8 (tf32 on CUDA)")
    p.add_argument("--prune", default="0", metavar="R", help="global pruning ratio, 0 <= R < 1")
    p.add_argument("--prune-method", choices=["structured", "unstructured"], default=None)
    p.add_argument("--no-latency", action="store_true", help="static analysis only")
    p.add_argument("--trust", action="store_true",
                   help="allow opening a file that runs code when loaded (pickle, .pt2, TorchScript, "
                        "a Hugging Face folder with its own code): only for files from people you trust")
    p.add_argument("--time-limit", type=_time_limit_s, default=600.0, metavar="S",
                   help="seconds allowed " + ("per variant" if per_variant else "for loading and measuring the model"))
    p.add_argument("--inputs", metavar="FILE.npz", help="sample inputs for fidelity")
    p.add_argument("--json", metavar="FILE|-", help="write the JSON document (- = stdout)")
    p.add_argument("--csv", metavar="FILE", help="write the table as CSV")
    p.add_argument("--debug", action="store_true", help="show tracebacks")


def parse_count(text: str | None, option: str) -> int | None:
    """A positive integer option value, or None when absent."""
    if text is None:
        return None
    try:
        value = int(text)
    except ValueError:
        raise InputError(option, f"{text!r} is not a positive integer") from None
    if value <= 0:
        raise InputError(option, f"{text!r} must be positive")
    return value


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one `error: OPTION: problem` line (exit 2)."""

    def error(self, message: str) -> Any:  # type: ignore[override]
        option = "tradeoff"
        m = re.match(r"argument ([^:]+): (.*)", message)
        if m:
            option, message = m.group(1).split("/")[-1], m.group(2)
        self.exit(2, f"error: {option}: {message} (see tradeoff {self.prog.split(' ', 1)[-1] if ' ' in self.prog else ''} --help)\n".replace("tradeoff  --help", "tradeoff --help"))


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="tradeoff",
        description="Tradeoff Studio: measure a model per layer, try what-if variants, and project their cost.",
    )
    parser.add_argument("--version", action="version", version=f"tradeoff-studio {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    g = sub.add_parser("gui", help="open the desktop app on MODEL (default: the demo model)")
    g.add_argument("model", nargs="?", default=None, metavar="MODEL")
    g.add_argument("--trust", action="store_true")
    g.add_argument("--debug", action="store_true")

    p = sub.add_parser("profile", help="per-layer static analysis and measurement of one configuration")
    add_model_options(p)
    p.add_argument("--top", type=_positive_int, default=10, help="rows in each top-layers table")

    sw = sub.add_parser("sweep", help="measure a grid of what-if variants against the baseline")
    add_model_options(sw, lists=True, per_variant=True)

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
    _configure_planner(parser)
    if "--debug" not in argv:
        # Library warnings (torch's deprecations, pickle protocol notices) are not for users;
        # what matters reaches them as notes in the result.
        warnings.simplefilter("ignore")
    if not argv:
        argv = ["gui"]
    args = parser.parse_args(argv)
    handlers: dict[str, Callable[[argparse.Namespace], int]] = {
        "gui": _cmd_gui,
        "profile": _cmd_profile,
        "sweep": _cmd_sweep,
        "plan": _cmd_plan,
        "hardware": _cmd_hardware,
        "report": _cmd_report,
        "trace": _cmd_trace,
    }
    handler = handlers.get(args.command or "gui")
    if handler is None:
        parser.error(f"unknown command {args.command!r}")
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
    from multiprocessing import resource_tracker

    from profiler.process_guard import descendant_pids, kill_process_tree

    tracker = getattr(resource_tracker._resource_tracker, "_pid", None)
    import os

    for pid in descendant_pids(os.getpid()):
        if pid != tracker:
            kill_process_tree(pid, group=False)


def _configure_planner(parser: argparse.ArgumentParser) -> None:
    """Add `plan` and `hardware` when the planner is present (it always is in a full install)."""
    try:
        from planner.commands import add_plan_arguments
    except ImportError:
        return
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    from gui.report.commands import configure as configure_report

    configure_report(sub)  # `report` and `trace`
    plan = sub.add_parser("plan", help="project training and inference cost over the hardware catalog")
    add_model_options(plan)
    add_plan_arguments(plan)
    hw = sub.add_parser("hardware", help="list the hardware catalog in use (specs and prices, with sources)")
    hw.add_argument("--json", metavar="FILE|-")
    hw.add_argument("--catalog", metavar="FILE.csv", action="append")
    hw.add_argument("--debug", action="store_true")


# --- shared plumbing --------------------------------------------------------------------------


def emit(args: argparse.Namespace, document: dict[str, Any], table: str, csv_text: str | None) -> None:
    """Write JSON/CSV where asked, and the table to stdout unless JSON goes there."""
    from profiler.safe_io import write_text_atomic

    json_text = json.dumps(document, indent=2) + "\n"
    if getattr(args, "csv", None) and csv_text is not None:
        write_text_atomic(args.csv, csv_text)
    if args.json == "-":
        sys.stdout.write(json_text)
        return
    if args.json:
        write_text_atomic(args.json, json_text)
    print(table)


def request_from_args(args: argparse.Namespace) -> Any:
    from profiler.analyze import ProfileRequest
    from profiler.inputs import parse_shape_options

    shapes = parse_shape_options(args.input_shape)
    precision = str(args.precision).lower()
    if precision not in ("fp32", "fp16", "bf16", "int8", "tf32"):
        raise InputError("--precision", f"{args.precision!r} is not one of fp32, fp16, bf16, int8, tf32")
    if precision != "fp32":
        raise InputError("--precision", f"{precision} variants are measured by `tradeoff sweep`; profile measures fp32")
    prune = _parse_ratio(args.prune)
    if prune:
        raise InputError("--prune", "pruned variants are measured by `tradeoff sweep`; profile measures the model as it is")
    return ProfileRequest(
        shapes=tuple(shapes.items()),
        batch=parse_count(args.batch, "--batch"),
        seq_len=parse_count(args.seq_len, "--seq-len"),
        device=args.device,
        runtime=args.runtime,
        threads=args.threads,
        latency=not args.no_latency,
    )


def _parse_ratio(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InputError("--prune", f"{text!r} is not a number") from None
    if not 0 <= value < 1:
        raise InputError("--prune", f"{value} is outside 0 <= R < 1")
    return value


def load_profile_for(args: argparse.Namespace) -> Any:
    """Load MODEL and profile it per the shared options, in the measurement worker: the model's
    code never runs in this process, and a crash, hang or exit of the model is exit 3."""
    from profiler.result import Profile
    from profiler.tasks import request_to_dict

    request = request_from_args(args)
    check_model_option(args)
    check_inputs_option(args)
    payload = {"source": args.model, "trust": args.trust, "request": request_to_dict(request)}
    result = run_task(args, "profiler.tasks:profile_task", payload)
    return Profile.from_dict(result)


def check_model_option(args: argparse.Namespace) -> None:
    """Fail fast on a MODEL that is missing, empty or of no known kind (nothing is loaded here)."""
    if not args.model.startswith("demo:"):
        from profiler.loading import check_source

        check_source(args.model)


def check_inputs_option(args: argparse.Namespace) -> None:
    """`--inputs FILE.npz` must name a readable file before anything is measured."""
    if getattr(args, "inputs", None):
        from profiler.inputs import check_inputs_file

        check_inputs_file(args.inputs)


def failure_error(payload: dict[str, Any], model: str) -> StudioError:
    """The one-line error for a run's `failed` event: its own file and exit code when the core
    raised a StudioError, else (a crash, a time limit) exit 3 about the model."""
    from profiler.errors import MeasureError

    message = str(payload.get("message") or "failed")
    code = int(payload.get("exit_code") or 3)
    file = str(payload.get("file") or model)
    prefix = f"{file}: "
    problem = message[len(prefix):] if message.startswith(prefix) else message
    error = (InputError if code == 2 else MeasureError)(file, problem, details=payload.get("details") or {})
    return error


def run_task(args: argparse.Namespace, task: str, payload: dict[str, Any], *, label: str = "") -> Any:
    """Run one worker task to its end; its result, or the StudioError its failure means."""
    from profiler.worker import Runner

    progress = _Progress(enabled=sys.stderr.isatty() and args.json != "-")
    progress.label = label or args.model
    with Runner() as runner:
        run_id = runner.submit(task, payload, time_limit_s=args.time_limit)
        end = runner.wait(run_id, on_event=progress.on_event)
    progress.done()
    if end.kind == "finished":
        return end.payload["result"]
    if end.kind == "cancelled":
        raise KeyboardInterrupt
    raise failure_error(end.payload, args.model)


# --- commands ---------------------------------------------------------------------------------


def _cmd_profile(args: argparse.Namespace) -> int:
    from profiler.table import layers_csv, render_profile

    profile = load_profile_for(args)
    profile.check()
    emit(args, profile.to_dict(), render_profile(profile, top=args.top), layers_csv(profile))
    return 0


def _sweep_variants(args: argparse.Namespace) -> list[Any]:
    from profiler.sweep import grid, parse_list

    prunes = parse_list(args.prune, "--prune", float)
    precisions = [p.lower() if p else p for p in parse_list(args.precision, "--precision", str)]
    batches = parse_list(args.batch, "--batch", int)
    seq_lens = parse_list(args.seq_len, "--seq-len", int)
    for label, values in (("--batch", batches), ("--seq-len", seq_lens)):
        if any(v is not None and v <= 0 for v in values):
            raise InputError(label, "values must be positive")
    variants = grid(prunes, precisions, batches, seq_lens, prune_method=args.prune_method,
                    runtime=args.runtime, device=args.device)
    return variants


def run_in_worker(args: argparse.Namespace, variants: list[Any], *, time_limit_s: float = 600.0,
                  exit_codes: list[int] | None = None) -> list[Any]:
    """Measure each variant in the measurement worker (spawned once; the model loads once).

    A failed variant comes back as a VariantResult with `error` (and its exit code appended to
    `exit_codes`); a crash of the worker is reported the same way and the next variant runs in a
    fresh worker. A model that cannot be opened at all raises its StudioError.
    """
    from profiler.inputs import parse_shape_options
    from profiler.tasks import request_to_dict
    from profiler.whatif import VariantResult
    from profiler.worker import Runner

    base = request_from_args_base(args, parse_shape_options(args.input_shape))
    payload_base = {
        "source": args.model, "trust": args.trust, "request": request_to_dict(base),
        "inputs": args.inputs,
    }
    progress = _Progress(enabled=sys.stderr.isatty())
    results: list[Any] = []
    with Runner() as runner:
        for i, variant in enumerate(variants):
            progress.label = f"[{i + 1}/{len(variants)}] {variant.label()}"
            run_id = runner.submit("profiler.tasks:variant_task", {**payload_base, "variant": variant.to_dict()},
                                   time_limit_s=time_limit_s)
            end = runner.wait(run_id, on_event=progress.on_event)
            if end.kind == "finished":
                results.append(VariantResult.from_dict(end.payload["result"]))
                continue
            message = end.payload.get("message", end.kind)
            if (end.payload.get("details") or {}).get("stage") == "load":
                progress.done()  # the model (or its sample inputs) cannot be opened: no variant can run
                raise failure_error(end.payload, args.model)
            if exit_codes is not None:
                exit_codes.append(int(end.payload.get("exit_code") or 3))
            results.append(VariantResult(variant, None, None, None, {}, error=message))
    progress.done()
    return results


def no_variant_error(model: str, results: list[Any], exit_codes: list[int]) -> StudioError:
    """When no variant could be measured: exit 2 if every variant was refused as unusable input
    (e.g. tf32 on a CPU), 3 if any crashed, timed out or raised."""
    from profiler.errors import MeasureError

    first = results[0].error if results else "no variants"
    kind = InputError if exit_codes and all(c == 2 for c in exit_codes) else MeasureError
    return kind(model, f"no variant could be measured ({first})")


def request_from_args_base(args: argparse.Namespace, shapes: dict[str | None, tuple[int, ...]]) -> Any:
    from profiler.analyze import ProfileRequest

    return ProfileRequest(shapes=tuple(shapes.items()), device=args.device, threads=args.threads,
                          latency=not args.no_latency)


class _Progress:
    """One self-overwriting stderr line while variants run (only on a terminal)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.label = ""

    def on_event(self, event: Any) -> None:
        if self.enabled and event.kind == "progress":
            frac = float(event.payload.get("fraction", 0.0))
            line = f"{self.label}: {100 * frac:3.0f}% {str(event.payload.get('message', ''))[:40]:40s}"
            sys.stderr.write("\r" + terminal_safe(line))
            sys.stderr.flush()

    def done(self) -> None:
        if self.enabled:
            sys.stderr.write("\r" + " " * 100 + "\r")


def _cmd_sweep(args: argparse.Namespace) -> int:
    from profiler.sweep import build_sweep, render_sweep, sweep_csv

    variants = _sweep_variants(args)
    check_model_option(args)
    check_inputs_option(args)
    codes: list[int] = []
    results = run_in_worker(args, variants, time_limit_s=args.time_limit, exit_codes=codes)
    ok = [r for r in results if r.error is None and r.baseline is not None]
    if not ok:
        raise no_variant_error(args.model, results, codes)
    baseline = next((r.baseline for r in ok if r.variant.batch is None and r.variant.seq_len is None), ok[0].baseline)
    sweep = build_sweep(ok[0].baseline.model, baseline, results)
    sweep.check()
    emit(args, sweep.to_dict(), render_sweep(sweep), sweep_csv(sweep))
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from gui.report.commands import run_report

    return run_report(args)


def _cmd_trace(args: argparse.Namespace) -> int:
    from gui.report.commands import run_trace

    return run_trace(args)


def _cmd_gui(args: argparse.Namespace) -> int:
    source = args.model or DEMO_SOURCE
    try:
        from gui.app import run_app
    except ImportError:
        # The window is not built yet in this install: show the demo's profile instead.
        ns = build_parser().parse_args(["profile", source] + (["--trust"] if args.trust else []))
        return _cmd_profile(ns)
    return run_app(source, trust=args.trust)


def _cmd_plan(args: argparse.Namespace) -> int:
    import io

    from planner.commands import catalog_from_args, plan_options_from_args, render_plan_table
    from planner.plan import plan, write_plan_csv
    from profiler.result import Profile, SchemaError

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
    emit(args, result.to_dict(), render_plan_table(result), buf.getvalue())
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


def _cmd_hardware(args: argparse.Namespace) -> int:
    from planner.commands import catalog_from_args, hardware_document, render_hardware_table

    catalog = catalog_from_args(args)
    emit(args, hardware_document(catalog), render_hardware_table(catalog), None)
    for w in catalog.warnings:
        print(terminal_safe(f"warning: {w}"), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
