"""`tradeoff report` and `tradeoff trace`: the command-line face of the report and the traces.

The lead wires them in gui/cli.py::

    from gui.report.commands import configure, run_report, run_trace
    configure(sub)                                   # adds the `report` and `trace` subparsers
    handlers |= {"report": run_report, "trace": run_trace}

Import-light: Qt loads only when a PDF is rendered, torch only in the measurement worker.
Errors are StudioError (InputError → exit 2, MeasureError → exit 3), which cli.main prints as
one line `error: FILE: problem`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from profiler.errors import InputError
from profiler.textsafe import terminal_safe

REPORT_SCHEMA = "tradeoff.report/1"


def configure(subparsers: Any) -> None:
    """Add `report` and `trace` to the `tradeoff` subparsers (an argparse _SubParsersAction)."""
    from gui.cli import add_model_options

    r = subparsers.add_parser("report", help="write the cost report PDF")
    add_model_options(r, lists=True, per_variant=True)
    try:
        from planner.commands import add_plan_arguments
    except ImportError:  # pragma: no cover - the planner ships with every install
        pass
    else:
        add_plan_arguments(r)
    g = r.add_argument_group("report")
    g.add_argument("-o", "--output", required=True, metavar="FILE.pdf", help="the PDF to write")
    g.add_argument("--page-size", choices=["a4", "letter"], default="a4", type=str.lower, help="paper size (default a4)")
    g.add_argument("--choose", metavar="LABEL", help="the variant the summary compares (its label as `tradeoff sweep` prints it)")
    g.add_argument("--min-cosine", metavar="F", default="0.99",
                   help="fidelity floor for the automatically chosen variant: output cosine vs baseline (default 0.99)")
    g.add_argument("--export-dir", metavar="DIR", help="also write layers, variants and cost tables as CSV and JSON into DIR")
    g.add_argument("--title", default="Cost report", help="the report's title")

    t = subparsers.add_parser("trace", help="record a torch.profiler trace for TensorBoard's PyTorch profiler plugin")
    add_model_options(t)
    tg = t.add_argument_group("trace")
    tg.add_argument("--logdir", required=True, metavar="DIR", help="log folder (one run per model/variant is added)")
    tg.add_argument("--open", action="store_true", help="start TensorBoard on localhost and open the browser")
    tg.add_argument("--run-name", metavar="NAME", help="run folder name (default: model and variant)")
    tg.add_argument("--port", type=int, metavar="N", help="TensorBoard port (default: a free one)")


# ------------------------------------------------------------------------------------ report


def _check_destination(path: str) -> None:
    """Fail fast (before minutes of measuring) on a destination that cannot be written."""
    dest = Path(path)
    if dest.is_dir():
        raise InputError(path, "is a folder: name the PDF file to write")
    folder = dest.parent if str(dest.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(path, f"cannot write: folder {str(folder)!r} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(path, "cannot write: permission denied")


def _min_cosine(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InputError("--min-cosine", f"{text!r} is not a number") from None
    if not -1.0 <= value <= 1.0:
        raise InputError("--min-cosine", f"{value} is outside -1 ≤ F ≤ 1")
    return value


def run_report(args: argparse.Namespace) -> int:
    """Measure the baseline and the variants of --prune/--precision/--batch/--seq-len lists in the
    worker, plan their cost, choose a variant, and write the PDF (plus --json, --csv, --export-dir)."""
    from gui.cli import _sweep_variants, check_inputs_option, check_model_option, no_variant_error, run_in_worker
    from planner.commands import catalog_from_args, plan_options_from_args
    from profiler.variant import Variant

    from .inputs import build_report_inputs
    from .pdf import render_report_pdf

    _check_destination(args.output)
    min_cos = _min_cosine(args.min_cosine)
    options = plan_options_from_args(args)
    catalog = catalog_from_args(args)
    variants = _sweep_variants(args)
    check_model_option(args)
    check_inputs_option(args)
    plain = Variant(runtime=args.runtime, device=args.device)
    if plain not in variants:
        variants.insert(0, plain)
    codes: list[int] = []
    results = run_in_worker(args, variants, time_limit_s=args.time_limit, exit_codes=codes)
    ok = [r for r in results if r.error is None and r.baseline is not None]
    if not ok:
        raise no_variant_error(args.model, results, codes)
    baseline = next((r.profile for r in ok if r.variant == plain and r.profile is not None), None)
    if baseline is None:
        baseline = next((r.baseline for r in ok if r.variant.batch is None and r.variant.seq_len is None), ok[0].baseline)
    baseline.check()
    inputs = build_report_inputs(baseline, results, options=options, catalog=catalog, chosen_label=args.choose,
                                 min_cosine=min_cos, title=args.title)
    pages = render_report_pdf(inputs, args.output, page_size=args.page_size)
    _write_extras(args, inputs, pages)
    if args.json != "-":
        chosen = inputs.chosen_label or "none (baseline only)"
        print(terminal_safe(f"wrote {args.output}: {pages} pages, {args.page_size.upper()}; chosen variant: {chosen}"))
    for w in catalog.warnings:
        print(terminal_safe(f"warning: {w}"), file=sys.stderr)
    return 0


def report_document(inputs: Any, *, pdf: str | None = None, pages: int | None = None, page_size: str | None = None) -> dict[str, Any]:
    """`tradeoff.report/1`: the documents the report was made from, each in its own schema."""
    return {
        "schema": REPORT_SCHEMA,
        "pdf": pdf, "pages": pages, "page_size": page_size,
        "created": inputs.created.isoformat(),
        "chosen": inputs.chosen_label, "choice_rule": inputs.choice_rule,
        "profile": inputs.baseline.to_dict(),
        "sweep": None if inputs.sweep is None else inputs.sweep.to_dict(),
        "plan": None if inputs.plan_baseline is None else inputs.plan_baseline.to_dict(),
        "plan_chosen": None if inputs.plan_chosen is None else inputs.plan_chosen.to_dict(),
    }  # fmt: skip


def _write_extras(args: argparse.Namespace, inputs: Any, pages: int) -> None:
    from planner.plan import plan_csv_text
    from profiler.exports import export_bundle, json_text
    from profiler.safe_io import write_text_atomic

    if args.json:
        text = json_text(report_document(inputs, pdf=str(args.output), pages=pages, page_size=args.page_size))
        if args.json == "-":
            sys.stdout.write(text)
        else:
            write_text_atomic(args.json, text)
    if args.csv:
        plan = inputs.plan_chosen or inputs.plan_baseline
        if plan is not None:
            write_text_atomic(args.csv, plan_csv_text(plan))
    if args.export_dir:
        export_bundle(args.export_dir, profile=inputs.baseline, sweep=inputs.sweep, plan=inputs.plan_baseline,
                      plan_csv=plan_csv_text, extra_plans={"chosen": inputs.plan_chosen})


# ------------------------------------------------------------------------------------- trace


def trace_variant_from_args(args: argparse.Namespace) -> Any:
    """The one variant `tradeoff trace` records (--prune, --precision, --batch, --seq-len single values)."""
    from gui.cli import _parse_ratio, parse_count
    from profiler.variant import Variant

    prune = _parse_ratio(str(args.prune))
    return Variant(
        prune=prune, prune_method=args.prune_method if prune else None, precision=str(args.precision).lower(),
        batch=parse_count(args.batch, "--batch"), seq_len=parse_count(args.seq_len, "--seq-len"),
        runtime=args.runtime, device=args.device,
    )  # fmt: skip


def run_trace(args: argparse.Namespace) -> int:
    """Record the trace in the measurement worker; with --open, start TensorBoard on 127.0.0.1
    (a free port), open the browser, and keep serving until Ctrl+C."""
    from gui.cli import check_inputs_option, check_model_option, request_from_args_base, run_task
    from profiler.inputs import parse_shape_options
    from profiler.tasks import request_to_dict
    from profiler.trace import TraceResult, _prepare_logdir, render_trace_result

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
    from profiler.trace import install_stop_handlers, start_tensorboard

    install_stop_handlers()  # SIGTERM/SIGHUP stop TensorBoard before this process goes
    tb = start_tensorboard(result.logdir, port=args.port, open_browser=True)
    try:
        print(f"TensorBoard: {tb.profiler_url}  (Ctrl+C to stop)", file=sys.stderr if args.json == "-" else sys.stdout, flush=True)
        tb.process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        tb.stop()
    return 0


# ------------------------------------------------------------------------ standalone entry


def main_report(argv: list[str]) -> int:
    """`tradeoff report|trace …` without going through gui.cli.main (the render script uses it;
    it works whether or not the lead has wired `configure` into gui.cli yet)."""
    import warnings

    from gui.cli import build_parser
    from profiler.errors import StudioError

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    if "report" not in sub.choices:
        configure(sub)
    if "--debug" not in argv:
        warnings.simplefilter("ignore")
    args = parser.parse_args(argv)
    handler = {"report": run_report, "trace": run_trace}.get(args.command)
    if handler is None:
        parser.error(f"main_report runs report or trace, not {args.command!r}")
    try:
        return handler(args)
    except StudioError as exc:
        if args.debug:
            raise
        from profiler.textsafe import terminal_safe

        print(f"error: {terminal_safe(str(exc))}", file=sys.stderr)
        return exc.exit_code
