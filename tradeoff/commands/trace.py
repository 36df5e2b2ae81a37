"""`tradeoff trace`: record a torch.profiler trace for TensorBoard's PyTorch profiler plugin.

The trace is recorded in the measurement worker; with --open, TensorBoard runs on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from profiler.textsafe import terminal_safe
from tradeoff.commands import Subparsers
from tradeoff.options import add_model_options


def add_parser(sub: Subparsers) -> argparse.ArgumentParser:
    t = sub.add_parser("trace", help="record a torch.profiler trace for TensorBoard's PyTorch profiler plugin")
    add_model_options(t)
    tg = t.add_argument_group("trace")
    tg.add_argument("--logdir", required=True, metavar="DIR", help="log folder (one run per model/variant is added)")
    tg.add_argument("--open", action="store_true", help="start TensorBoard on localhost and open the browser")
    tg.add_argument("--run-name", metavar="NAME", help="run folder name (default: model and variant)")
    tg.add_argument("--port", type=int, metavar="N", help="TensorBoard port (default: a free one)")
    return t


def trace_variant_from_args(args: argparse.Namespace) -> Any:
    """The one variant `tradeoff trace` records (--prune, --precision, --batch, --seq-len single values)."""
    from profiler.variant import Variant
    from tradeoff.options import parse_count, parse_ratio

    prune = parse_ratio(str(args.prune))
    return Variant(
        prune=prune, prune_method=args.prune_method if prune else None, precision=str(args.precision).lower(),
        batch=parse_count(args.batch, "--batch"), seq_len=parse_count(args.seq_len, "--seq-len"),
        runtime=args.runtime, device=args.device,
    )  # fmt: skip


def run(args: argparse.Namespace) -> int:
    """Record the trace in the measurement worker; with --open, start TensorBoard on 127.0.0.1
    (a free port), open the browser, and keep serving until Ctrl+C."""
    from profiler.inputs import parse_shape_options
    from profiler.tasks import request_to_dict
    from profiler.trace import TraceResult, _prepare_logdir, render_trace_result
    from tradeoff.options import check_inputs_option, check_model_option, request_from_args_base
    from tradeoff.worker_runs import run_task

    variant = trace_variant_from_args(args)
    _prepare_logdir(args.logdir)  # an unwritable log folder fails before the model loads
    base = request_from_args_base(args, parse_shape_options(args.input_shape))
    payload = {
        "source": args.model, "trust": args.trust, "request": request_to_dict(base), "inputs": args.inputs,
        "variant": variant.to_dict(), "logdir": str(args.logdir), "run_name": args.run_name,
    }  # fmt: skip
    check_model_option(args)
    check_inputs_option(args)
    result = TraceResult.from_dict(run_task(args, "profiler.trace:trace_task", payload))
    if args.json:
        text = json.dumps({"schema": "tradeoff.trace/1", **result.to_dict()}, indent=2) + "\n"
        if args.json == "-":
            sys.stdout.write(text)
        else:
            from profiler.safe_io import write_text_atomic

            write_text_atomic(args.json, text)
    if args.json != "-":
        print(render_trace_result(result))
    if not args.open:
        if args.json != "-":
            print(terminal_safe(f"view it: tradeoff trace … --open, or tensorboard --logdir {result.logdir}"))
        return 0
    from profiler.tensorboard import install_stop_handlers, start_tensorboard

    install_stop_handlers()  # SIGTERM/SIGHUP stop TensorBoard before this process goes
    tb = start_tensorboard(result.logdir, port=args.port, open_browser=True)
    try:
        print(
            f"TensorBoard: {tb.profiler_url}  (Ctrl+C to stop)",
            file=sys.stderr if args.json == "-" else sys.stdout,
            flush=True,
        )
        tb.process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        tb.stop()
    return 0
