"""Every command-line option in one place: the shared model options, the plan options, the
parser class that reports a usage error as one line, and the helpers that turn option values
into the core's requests and variants (a bad value is an InputError: `error: --option: problem`,
exit 2). Nothing here loads torch, onnxruntime or Qt.
"""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Callable
from typing import Any, NoReturn

from planner.catalog import Catalog, load_catalog
from planner.options import DEFAULT_MAX_BATCH, DEFAULT_OUTPUT_TOKENS, DEFAULT_PUE, DEFAULT_UTILIZATION, PlanOptions
from planner.vocab import PeakPrecision
from profiler.errors import InputError
from profiler.vocab import Device, Precision, PruneMethod, Runtime, choices

# --- argparse types ---------------------------------------------------------------------------


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be positive")
    return value


def time_limit_s(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive, finite number of seconds")
    return value


class Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one `error: OPTION: problem` line (exit 2)."""

    def error(self, message: str) -> NoReturn:
        option = "tradeoff"
        m = re.match(r"argument ([^:]+): (.*)", message)
        if m:
            option, message = m.group(1).split("/")[-1], m.group(2)
        self.exit(
            2,
            f"error: {option}: {message} (see tradeoff {self.prog.split(' ', 1)[-1] if ' ' in self.prog else ''} --help)\n".replace(
                "tradeoff  --help", "tradeoff --help"
            ),
        )


# --- the shared model options -----------------------------------------------------------------


def add_model_options(p: argparse.ArgumentParser, *, lists: bool = False, per_variant: bool = False) -> None:
    """Options shared by profile, sweep, plan, report and trace (docs/CONTRACT.md)."""
    p.add_argument("model", metavar="MODEL", help="model file, file.py[:callable], config.json/folder, or demo:NAME")
    p.add_argument("--input-shape", action="append", metavar="SHAPE", help="1x3x224x224 or NAME=SHAPE; repeatable")
    p.add_argument("--batch", metavar="N", help="leading dimension of every input" + (" (comma list)" if lists else ""))
    p.add_argument(
        "--seq-len", metavar="N", help="sequence length of token inputs" + (" (comma list)" if lists else "")
    )
    p.add_argument("--device", choices=[str(d) for d in Device], default=str(Device.CPU))
    p.add_argument("--runtime", choices=[str(r) for r in Runtime], default=None)
    p.add_argument("--threads", type=positive_int, metavar="N", help="intra-op threads for the measurement")
    p.add_argument("--precision", default=str(Precision.FP32), metavar="P", help=f"{choices(Precision)} (tf32 on CUDA)")
    p.add_argument("--prune", default="0", metavar="R", help="global pruning ratio, 0 <= R < 1")
    p.add_argument("--prune-method", choices=[str(m) for m in PruneMethod], default=None)
    if lists:
        p.add_argument(
            "--recover-steps",
            default="0",
            metavar="N",
            help="after structured pruning, train the pruned model N steps towards the baseline's outputs on the "
            "sample inputs (knowledge distillation; needs --inputs or a demo's own samples; 0 = none; comma list)",
        )
        p.add_argument(
            "--recover-budget",
            type=time_limit_s,
            default=None,
            metavar="SECONDS",
            help="stop each recovery at --recover-steps or after this many seconds of training, whichever comes "
            "first (the variant's recover record says which)",
        )
    p.add_argument("--no-latency", action="store_true", help="static analysis only")
    p.add_argument(
        "--trust",
        action="store_true",
        help="allow opening a file that runs code when loaded (pickle, .pt2, TorchScript, "
        "a Hugging Face folder with its own code): only for files from people you trust",
    )
    p.add_argument(
        "--time-limit",
        type=time_limit_s,
        default=600.0,
        metavar="S",
        help="seconds allowed " + ("per variant" if per_variant else "for loading and measuring the model"),
    )
    p.add_argument("--inputs", metavar="FILE.npz", help="sample inputs for fidelity")
    p.add_argument("--json", metavar="FILE|-", help="write the JSON document (- = stdout)")
    p.add_argument("--csv", metavar="FILE", help="write the table as CSV")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    p.add_argument(
        "--progress",
        action="store_true",
        help="print one stderr line per stage of the run with its percentage (also when stderr is not a terminal)",
    )


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


def parse_ratio(text: str) -> float:
    """--prune as one ratio, 0 <= R < 1."""
    try:
        value = float(text)
    except ValueError:
        raise InputError("--prune", f"{text!r} is not a number") from None
    if not 0 <= value < 1:
        raise InputError("--prune", f"{value} is outside 0 <= R < 1")
    return value


def request_from_args(args: argparse.Namespace) -> Any:
    """The ProfileRequest of `tradeoff profile` (and plan): fp32, unpruned, single values."""
    from profiler.analyze import ProfileRequest
    from profiler.inputs import parse_shape_options

    shapes = parse_shape_options(args.input_shape)
    precision = str(args.precision).lower()
    if precision not in set(Precision):
        raise InputError("--precision", f"{args.precision!r} is not one of {choices(Precision)}")
    if precision != Precision.FP32:
        raise InputError("--precision", f"{precision} variants are measured by `tradeoff sweep`; profile measures fp32")
    prune = parse_ratio(args.prune)
    if prune:
        raise InputError(
            "--prune", "pruned variants are measured by `tradeoff sweep`; profile measures the model as it is"
        )
    return ProfileRequest(
        shapes=tuple(shapes.items()),
        batch=parse_count(args.batch, "--batch"),
        seq_len=parse_count(args.seq_len, "--seq-len"),
        device=args.device,
        runtime=args.runtime,
        threads=args.threads,
        latency=not args.no_latency,
    )


def request_from_args_base(args: argparse.Namespace, shapes: dict[str | None, tuple[int, ...]]) -> Any:
    """The request every variant starts from (the variant adds batch, precision, pruning…)."""
    from profiler.analyze import ProfileRequest

    return ProfileRequest(
        shapes=tuple(shapes.items()), device=args.device, threads=args.threads, latency=not args.no_latency
    )


def sweep_variants(args: argparse.Namespace) -> list[Any]:
    """The grid of --prune × --precision × --batch × --seq-len comma lists (sweep, report)."""
    from profiler.sweep import grid, parse_list

    prunes = parse_list(args.prune, "--prune", float)
    precisions = [p.lower() if p else p for p in parse_list(args.precision, "--precision", str)]
    batches = parse_list(args.batch, "--batch", int)
    seq_lens = parse_list(args.seq_len, "--seq-len", int)
    for label, values in (("--batch", batches), ("--seq-len", seq_lens)):
        if any(v is not None and v <= 0 for v in values):
            raise InputError(label, "values must be positive")
    variants: list[Any] = grid(
        prunes, precisions, batches, seq_lens, prune_method=args.prune_method, runtime=args.runtime, device=args.device
    )
    recover = parse_list(getattr(args, "recover_steps", None) or "0", "--recover-steps", int)
    if any(s is not None and s < 0 for s in recover):
        raise InputError("--recover-steps", "values must not be negative")
    if getattr(args, "recover_budget", None) is not None and not any(recover):
        raise InputError("--recover-budget", "limits recovery: give --recover-steps N as well")
    if recover != [0]:
        # each variant with each step count; unpruned ones drop it, so duplicates go
        expanded: list[Any] = []
        for v in variants:
            for steps in recover:
                w = v.with_(recover_steps=steps or None, recover_budget_s=getattr(args, "recover_budget", None))
                if w not in expanded:
                    expanded.append(w)
        variants = expanded
    return variants


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


# --- the plan options -------------------------------------------------------------------------


def add_plan_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the plan-only options of docs/CONTRACT.md (and the planner's extensions). Values stay
    strings here; `plan_options_from_args` parses them so a bad one is an InputError."""
    g = parser.add_argument_group("plan")
    g.add_argument("--train-tokens", metavar="N", help="training set size in tokens (accepts 2e12)")
    g.add_argument("--train-samples", metavar="N", help="training set size in samples")
    g.add_argument("--epochs", metavar="E", help="passes over the training set (default 1)")
    g.add_argument("--mfu", metavar="F", help="model FLOPs utilisation, 0 < F ≤ 1 (default per accelerator class)")
    g.add_argument(
        "--gpu", metavar="NAME[,NAME…]", help="only these accelerators (names as `tradeoff hardware` lists them)"
    )
    g.add_argument("--provider", metavar="NAME[,…]", help="only these providers")
    g.add_argument("--region", metavar="NAME", help="only this region")
    g.add_argument("--serve-qps", metavar="Q", help="requests per second to serve")
    g.add_argument("--slo-ms", metavar="MS", help="latency objective per request")
    g.add_argument(
        "--utilization",
        metavar="U",
        help=f"average accelerator utilisation when serving (default {DEFAULT_UTILIZATION})",
    )
    g.add_argument(
        "--catalog", metavar="FILE.csv", action="append", help="extra or overriding catalog rows (repeatable)"
    )
    x = parser.add_argument_group("plan (extensions)")
    x.add_argument(
        "--serve-precision",
        metavar="P",
        help=f"serving precision: auto (default: 16-bit per model class), measured (as profiled), {choices(PeakPrecision)}",
    )
    x.add_argument(
        "--train-precision", metavar="P", help="training precision (default bf16; fp16 where there is no bf16)"
    )
    x.add_argument("--train-gpus", metavar="N", help="GPUs to train on (default: one instance, or the memory minimum)")
    x.add_argument("--train-days", metavar="D", help="finish training within D days (scales out each instance type)")
    x.add_argument("--micro-batch", metavar="N", help="training micro-batch per GPU (default: the profiled batch)")
    x.add_argument("--pue", metavar="X", help=f"data-centre PUE, ≥ 1 (default {DEFAULT_PUE})")
    x.add_argument("--scaling-efficiency", metavar="F", help="throughput kept per doubling of nodes (default 0.95)")
    x.add_argument(
        "--flop-convention",
        choices=("6n_attention", "6nd"),
        help="training FLOP count and the convention --mfu is read in: 3 × forward with attention (default) or 6·N·D",
    )
    x.add_argument("--max-batch", metavar="N", help=f"largest serving batch tried (default {DEFAULT_MAX_BATCH})")
    x.add_argument(
        "--output-tokens",
        metavar="N",
        help=f"generated tokens per request, decoder LMs (default {DEFAULT_OUTPUT_TOKENS})",
    )
    x.add_argument(
        "--decoder-lm", choices=("auto", "yes", "no"), default="auto", help="treat the model as a decoder LM"
    )
    x.add_argument("--kv-layers", metavar="N", help="transformer blocks holding a KV cache")
    x.add_argument("--kv-heads", metavar="N", help="key/value heads per block")
    x.add_argument("--head-dim", metavar="N", help="width of one head")
    x.add_argument("--compute-efficiency", metavar="F", help="fraction of peak FLOPS reached (default per class)")
    x.add_argument("--memory-efficiency", metavar="F", help="fraction of peak bandwidth reached (default per class)")
    x.add_argument("--kernel-overhead-us", metavar="US", help="fixed cost per kernel launch (default per class)")
    x.add_argument(
        "--calibrate",
        metavar="DEVICE",
        help="calibrate per layer type against the local measurement on DEVICE (a catalog row)",
    )
    x.add_argument(
        "--no-stored-calibration",
        action="store_true",
        help="ignore the calibrations stored from earlier measurements (tradeoff profile records them per device)",
    )
    x.add_argument("--discount", metavar="D", help="discount on every catalog price, 0 ≤ D < 1 (e.g. 0.3 for 30 %%)")
    x.add_argument("--exclude-suspect-prices", action="store_true", help="skip price rows flagged quality=suspect")
    x.add_argument("--ttft-slo-ms", metavar="MS", help="decoder LMs: time-to-first-token objective (mean)")
    x.add_argument("--tpot-slo-ms", metavar="MS", help="decoder LMs: time-per-output-token objective (mean)")


def _number(option: str, raw: str | None, kind: Callable[[float], Any] = float) -> Any:
    if raw is None:
        return None
    try:
        value = float(raw.replace("_", ""))
    except ValueError:
        raise InputError(option, f"{raw!r} is not a number") from None
    if not math.isfinite(value):
        raise InputError(option, f"{raw!r} is not a finite number")
    if kind is int:
        if value != int(value):
            raise InputError(option, f"{raw!r} is not a whole number")
        return int(value)
    return kind(value)


def _names(raw: str | None) -> tuple[str, ...]:
    return tuple(n.strip() for n in raw.split(",") if n.strip()) if raw else ()


def _precision(option: str, raw: str | None) -> PeakPrecision | None:
    if raw is None:
        return None
    try:
        return PeakPrecision(raw.lower())
    except ValueError:
        raise InputError(option, f"{raw!r} is not one of {', '.join(str(p) for p in PeakPrecision)}") from None


def _serve_precision(raw: str | None) -> PeakPrecision | None:
    """--serve-precision: a precision, or `auto` / `measured` (None here; see serve_as_measured)."""
    if raw is not None and raw.lower() in ("auto", "measured"):
        return None
    try:
        return _precision("--serve-precision", raw)
    except InputError:
        names = ", ".join(["auto", "measured", *(str(p) for p in PeakPrecision)])
        raise InputError("--serve-precision", f"{raw!r} is not one of {names}") from None


def plan_options_from_args(args: argparse.Namespace) -> PlanOptions:
    """PlanOptions from parsed arguments; raises InputError('--option', 'problem')."""

    def get(name: str) -> Any:
        return getattr(args, name, None)  # a parser (or a test's) may lack some options

    catalog = get("catalog")
    kw: dict[str, Any] = {
        "train_tokens": _number("--train-tokens", get("train_tokens")),
        "train_samples": _number("--train-samples", get("train_samples")),
        "mfu": _number("--mfu", get("mfu")),
        "gpus": _names(get("gpu")),
        "providers": _names(get("provider")),
        "region": get("region"),
        "serve_qps": _number("--serve-qps", get("serve_qps")),
        "slo_ms": _number("--slo-ms", get("slo_ms")),
        "ttft_slo_ms": _number("--ttft-slo-ms", get("ttft_slo_ms")),
        "tpot_slo_ms": _number("--tpot-slo-ms", get("tpot_slo_ms")),
        "catalog_file": catalog[-1] if isinstance(catalog, list) and catalog else catalog,
        "precision": _serve_precision(get("serve_precision")),
        "serve_as_measured": str(get("serve_precision") or "").lower() == "measured",
        "train_days": _number("--train-days", get("train_days")),
        "train_gpus": _number("--train-gpus", get("train_gpus"), int),
        "micro_batch": _number("--micro-batch", get("micro_batch"), int),
        "kv_layers": _number("--kv-layers", get("kv_layers"), int),
        "kv_heads": _number("--kv-heads", get("kv_heads"), int),
        "head_dim": _number("--head-dim", get("head_dim"), int),
        "compute_efficiency": _number("--compute-efficiency", get("compute_efficiency")),
        "memory_efficiency": _number("--memory-efficiency", get("memory_efficiency")),
        "kernel_overhead_us": _number("--kernel-overhead-us", get("kernel_overhead_us")),
        "calibrate_with": get("calibrate"),
        "use_stored_calibration": not get("no_stored_calibration"),
        "include_suspect_prices": not get("exclude_suspect_prices"),
        "decoder_lm": {"yes": True, "no": False}.get(get("decoder_lm") or "auto"),
    }
    optional = {
        "epochs": _number("--epochs", get("epochs")),
        "utilization": _number("--utilization", get("utilization")),
        "train_precision": _precision("--train-precision", get("train_precision")),
        "pue": _number("--pue", get("pue")),
        "scaling_per_doubling": _number("--scaling-efficiency", get("scaling_efficiency")),
        "max_batch": _number("--max-batch", get("max_batch"), int),
        "output_tokens": _number("--output-tokens", get("output_tokens"), int),
        "price_discount": _number("--discount", get("discount")),
        "flop_convention": get("flop_convention"),
    }
    kw.update({k: v for k, v in optional.items() if v is not None})
    options = PlanOptions(**kw)
    options.check()
    return options


def catalog_from_args(args: argparse.Namespace) -> Catalog:
    """The catalog in use: shipped + user config dir + every --catalog FILE (InputError when
    one of those files cannot be used)."""
    extra = getattr(args, "catalog", None)
    return load_catalog(extra=extra or None)
