"""Running a model in the measurement worker for a command: the model's code never runs in
this process, and a crash, hang or exit of the model is exit 3 (a StudioError)."""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Callable
from typing import Any

from profiler.errors import InputError, StudioError
from profiler.events import Cancelled, Failed, Finished, Progress, RunEvent
from profiler.textsafe import terminal_safe
from profiler.variant_measurer import failure_error
from tradeoff.options import check_inputs_option, check_model_option, request_from_args, request_from_args_base


class _Progress:
    """Progress of a model run on stderr (never stdout: it may carry `--json -`).

    With `--progress` (`lines`): one line per stage change, `progress: 47.3% pruning: building the
    dependency graph (12 s)`, at most one per LINE_INTERVAL_S, and again every REPEAT_S while a
    stage runs on, on any stderr (a file, a pipe, a CI log). One decimal: a long stage in a narrow
    window moves by tenths. Otherwise one self-overwriting line, only on a terminal (`enabled`)."""

    LINE_INTERVAL_S = 0.3  # a few lines a second at most
    REPEAT_S = 5.0  # a long stage says again how far it is, with its seconds

    def __init__(self, enabled: bool, *, lines: bool = False, clock: Callable[[], float] = time.monotonic) -> None:
        self.enabled = enabled and not lines
        self.lines = lines
        self.label = ""  # the model, or the variant of a sweep
        self.prefix = ""  # shown in lines mode: "[2/3 prune 0.5 structured] " in a sweep
        self._clock = clock
        self._last_key: str | None = None
        self._last_at = -1e9

    def on_event(self, event: RunEvent) -> None:
        if not isinstance(event, Progress):
            return
        if self.lines:
            self._line(event)
        elif self.enabled:
            frac = float(event.fraction)
            line = f"{self.label}: {100 * frac:3.0f}% {event.message[:40]:40s}"
            sys.stderr.write("\r" + terminal_safe(line))
            sys.stderr.flush()

    def _line(self, event: Progress) -> None:
        key = f"{self.prefix}{stage_key(event.message)}"
        now = self._clock()
        since = now - self._last_at
        if since < self.LINE_INTERVAL_S or (key == self._last_key and since < self.REPEAT_S):
            return
        self._last_key, self._last_at = key, now
        pct = 100 * max(0.0, min(1.0, float(event.fraction)))
        try:
            sys.stderr.write(terminal_safe(f"progress: {self.prefix}{pct:.1f}% {event.message}") + "\n")
            sys.stderr.flush()
        except (OSError, ValueError):
            self.lines = False  # stderr went away: the run goes on without progress

    def done(self) -> None:
        if self.enabled:
            sys.stderr.write("\r" + " " * 100 + "\r")


_DETAIL = re.compile(r"\s*\([^()]*\)\s*$")  # "(group 3/12, 12 s)": detail and seconds, not the stage
_COUNTER = re.compile(r"(\s*[:,]?\s*\S*\d\S*)+$")  # "round 3", "layer 12/40": a count within the stage


def stage_key(message: str) -> str:
    """The stage a progress message belongs to: the message without its trailing detail and counts."""
    return _COUNTER.sub("", _DETAIL.sub("", message)) or message


def _wants_lines(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "progress", False))


def run_task(args: argparse.Namespace, task: str, payload: dict[str, Any], *, label: str = "") -> Any:
    """Run one worker task to its end; its result, or the StudioError its failure means."""
    from profiler.worker import Runner

    progress = _Progress(enabled=sys.stderr.isatty() and args.json != "-", lines=_wants_lines(args))
    progress.label = label or args.model
    with Runner() as runner:
        run_id = runner.submit(task, payload, time_limit_s=args.time_limit)
        end = runner.wait(run_id, on_event=progress.on_event)
    progress.done()
    if isinstance(end, Finished):
        return end.result
    if isinstance(end, Failed):
        raise failure_error(end, args.model)
    raise KeyboardInterrupt  # Cancelled: the runner was closed under the run


def load_profile_for(args: argparse.Namespace) -> Any:
    """Load MODEL and profile it per the shared options, in the measurement worker."""
    from profiler.result import Profile
    from profiler.tasks import request_to_dict

    request = request_from_args(args)
    check_model_option(args)
    check_inputs_option(args)
    payload = {"source": args.model, "trust": args.trust, "request": request_to_dict(request)}
    result = run_task(args, "profiler.tasks:profile_task", payload)
    return Profile.from_dict(result)


def run_in_worker(
    args: argparse.Namespace, variants: list[Any], *, time_limit_s: float = 600.0, exit_codes: list[int] | None = None
) -> list[Any]:
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
        "source": args.model,
        "trust": args.trust,
        "request": request_to_dict(base),
        "inputs": args.inputs,
    }
    progress = _Progress(enabled=sys.stderr.isatty(), lines=_wants_lines(args))
    results: list[Any] = []
    with Runner() as runner:
        for i, variant in enumerate(variants):
            progress.label = f"[{i + 1}/{len(variants)}] {variant.label()}"
            progress.prefix = f"{progress.label}: "
            run_id = runner.submit(
                "profiler.tasks:variant_task", {**payload_base, "variant": variant.to_dict()}, time_limit_s=time_limit_s
            )
            end = runner.wait(run_id, on_event=progress.on_event)
            if isinstance(end, Finished):
                results.append(VariantResult.from_dict(end.result))
                continue
            failed = end if isinstance(end, Failed) else None
            if failed is not None and failed.stage == "load":
                progress.done()  # the model (or its sample inputs) cannot be opened: no variant can run
                raise failure_error(failed, args.model)
            if exit_codes is not None:
                exit_codes.append(failed.exit_code if failed is not None else 3)
            message = failed.message if failed is not None else Cancelled.kind
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


def compare_in_worker(args: argparse.Namespace, sources: list[str | None]) -> dict[str, Any]:
    """`tradeoff compare`: profile each model of `sources` (None: a side given as a saved
    profile) and compare their outputs, all in one measurement worker under --time-limit."""
    from profiler.tasks import request_to_dict

    request = request_from_args(args)
    payload = {"sources": sources, "trust": args.trust, "request": request_to_dict(request), "inputs": args.inputs}
    label = " vs ".join(s for s in sources if s is not None)
    result: dict[str, Any] = run_task(args, "profiler.tasks:compare_task", payload, label=label)
    return result
