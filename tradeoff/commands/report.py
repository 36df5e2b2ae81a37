"""`tradeoff report`: measure the variants, plan their cost, choose one, and write the PDF.

The PDF is rendered by gui.report (Qt, loaded only here, inside `run`); the measuring runs in
the measurement worker. `--json` writes `tradeoff.report/1`.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from profiler.errors import InputError
from profiler.textsafe import terminal_safe
from tradeoff.commands import Subparsers
from tradeoff.options import add_model_options, add_plan_arguments

REPORT_SCHEMA = "tradeoff.report/1"


def add_parser(sub: Subparsers) -> argparse.ArgumentParser:
    r = sub.add_parser("report", help="write the cost report PDF")
    add_model_options(r, lists=True, per_variant=True)
    add_plan_arguments(r)
    g = r.add_argument_group("report")
    g.add_argument("-o", "--output", required=True, metavar="FILE.pdf", help="the PDF to write")
    g.add_argument(
        "--page-size", choices=["a4", "letter"], default="a4", type=str.lower, help="paper size (default a4)"
    )
    g.add_argument(
        "--choose", metavar="LABEL", help="the variant the summary compares (its label as `tradeoff sweep` prints it)"
    )
    g.add_argument(
        "--min-cosine",
        metavar="F",
        default="0.99",
        help="fidelity floor for the automatically chosen variant: output cosine vs baseline (default 0.99)",
    )
    g.add_argument(
        "--export-dir", metavar="DIR", help="also write layers, variants and cost tables as CSV and JSON into DIR"
    )
    g.add_argument("--title", default="Cost report", help="the report's title")
    return r


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


def run(args: argparse.Namespace) -> int:
    """Measure the baseline and the variants of --prune/--precision/--batch/--seq-len lists in the
    worker, plan their cost, choose a variant, and write the PDF (plus --json, --csv, --export-dir)."""
    from gui.report import build_report_inputs, render_report_pdf
    from gui.report.inputs import report_recommendation
    from profiler.variant import Variant
    from tradeoff.options import (
        catalog_from_args,
        check_inputs_option,
        check_model_option,
        plan_options_from_args,
        sweep_variants,
    )
    from tradeoff.worker_runs import no_variant_error, run_in_worker

    _check_destination(args.output)
    min_cos = _min_cosine(args.min_cosine)
    options = plan_options_from_args(args)
    catalog = catalog_from_args(args)
    variants = sweep_variants(args)
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
        baseline = next(
            (r.baseline for r in ok if r.variant.batch is None and r.variant.seq_len is None), ok[0].baseline
        )
    baseline.check()
    inputs = build_report_inputs(
        baseline,
        results,
        options=options,
        catalog=catalog,
        chosen_label=args.choose,
        min_cosine=min_cos,
        title=args.title,
    )
    pages = render_report_pdf(inputs, args.output, page_size=args.page_size)
    _write_extras(args, inputs, pages)
    if args.json != "-":
        chosen = inputs.chosen_label or "none (baseline only)"
        print(terminal_safe(f"wrote {args.output}: {pages} pages, {args.page_size.upper()}; chosen variant: {chosen}"))
        if inputs.plan_baseline is not None:
            print(terminal_safe(report_recommendation(inputs)))
    for w in catalog.warnings:
        print(terminal_safe(f"warning: {w}"), file=sys.stderr)
    return 0


def report_document(
    inputs: Any, *, pdf: str | None = None, pages: int | None = None, page_size: str | None = None
) -> dict[str, Any]:
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
        export_bundle(
            args.export_dir,
            profile=inputs.baseline,
            sweep=inputs.sweep,
            plan=inputs.plan_baseline,
            plan_csv=plan_csv_text,
            extra_plans={"chosen": inputs.plan_chosen},
        )
