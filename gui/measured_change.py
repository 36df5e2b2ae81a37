"""A variant's measured latency change against the baseline, as the app and the PDF show it.

The numbers come from the core's interleaved experiment (`profiler.comparison`: both timed
alternately in one run); the words come from `profiler.units` (`speed_change`, `noise_note`,
`spread_ms`), the one place the terminal, the app and the PDF format through. This module only
picks which of the result's figures to show and whether a change may be called a gain or a loss:
only a significant one (its interval excludes 1 and it is at least 3 %), so noise is never
coloured or ranked as a gain. Qt-free: the report (gui/report) uses it too.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from profiler import units
from profiler.comparison import MIN_EFFECT
from profiler.conditions import is_busy
from profiler.result import LatencyStats, Profile
from profiler.whatif import VariantResult

__all__ = [
    "BASELINE",
    "METHOD_NOTE",
    "is_baseline",
    "latency_change",
    "throughput_change",
    "verdict",
    "baseline_stats",
    "noise_warning",
    "machine_busy",
    "details",
    "kernel_paths_for",
    "kernel_paths_line",
    "layer_kernel_path",
    "layer_kernel_mark",
    "flagged_layers",
    "recover_line",
    "recover_details",
]

#: what the change column says for the baseline itself (the identity variant)
BASELINE = "baseline"
#: one line on how the change was measured (the PDF's note, the tooltip's last line)
METHOD_NOTE = (
    "Variant and baseline were timed alternately in one run; the 95 % interval is in brackets; "
    f"“≈ no measurable change” means the interval spans 1 or the change is under {MIN_EFFECT:.0%}."
)


def is_baseline(result: VariantResult) -> bool:
    """True for the identity variant: the baseline against itself (nothing compared)."""
    r = result.latency_ratio
    return r is not None and r.rounds == 0


def latency_change(result: VariantResult, reference_batch: int | None = None) -> str:
    """'1.8× faster (1.6–2.0×)', '≈ no measurable change', 'baseline', or '—' when nothing was
    timed. The comparison is with the baseline at the variant's own batch, so the identity at
    another batch than `reference_batch` (the baseline shown beside it) reads 'baseline at batch 8'.
    A result without an experiment (an older project) gets its plain ratio, marked as timed in
    separate runs, since that ratio compares two moments of the machine, not two models."""
    r = result.latency_ratio
    if r is not None and r.rounds == 0:
        batch = None if result.profile is None else result.profile.config.batch
        return f"{BASELINE} at batch {batch}" if reference_batch and batch and batch != reference_batch else BASELINE
    if r is not None:
        return units.speed_change(r, kind="latency")
    ratio = result.delta.get("latency")
    if ratio is None:
        return units.DASH
    return f"{units.change(ratio)} (separate runs)"


def throughput_change(result: VariantResult) -> str:
    """The same change as inferences per second: '1.8× more throughput (1.6–2.0×)'."""
    r = result.throughput_ratio
    if r is None:
        return units.DASH
    return BASELINE if r.rounds == 0 else units.speed_change(r, kind="throughput")


def verdict(result: VariantResult) -> bool | None:
    """True: measurably faster; False: measurably slower; None: no measured change (neutral)."""
    r = result.latency_ratio
    if r is None or r.rounds == 0 or not r.significant:
        return None
    return r.value < 1.0


def baseline_stats(result: VariantResult, reference: Profile | None = None) -> LatencyStats | None:
    """The baseline's latency the variant was compared with: from the same experiment when there
    was one, else the reference baseline's (or the result's own baseline's) end-to-end timing."""
    if result.comparison is not None:
        return result.comparison.baseline_ms
    base = reference if reference is not None else result.baseline
    return None if base is None else base.totals.latency_ms


def _variant_stats(result: VariantResult) -> LatencyStats | None:
    p = result.profile
    return None if p is None else p.totals.latency_ms


def _foreign_cpu(result: VariantResult) -> float | None:
    if result.comparison is not None:
        return result.comparison.foreign_cpu_percent
    env = None if result.profile is None else result.profile.environment
    return None if env is None else env.foreign_cpu_percent


def noise_warning(result: VariantResult, reference: Profile | None = None) -> str:
    """'' when the timing was quiet; else one line such as 'machine busy (other programs used
    48 % of the CPU): figures ±35 %' for the noisier of the variant's and the baseline's timing."""
    sides = [s for s in (_variant_stats(result), baseline_stats(result, reference)) if s is not None]
    comparison_noisy = result.comparison is not None and result.comparison.noisy
    if not sides or not (comparison_noisy or any(s.noisy for s in sides)):
        return ""

    def spread(s: LatencyStats) -> float:
        return (s.p90 - s.p10) / s.median if s.median > 0 else 0.0

    worst = max(sides, key=lambda s: (s.noisy, spread(s)))
    # the experiment as a whole can be noisy (e.g. ratios spread) while each side's samples look tidy
    stats = worst if worst.noisy else dataclasses.replace(worst, noisy=True)
    return units.noise_note(stats, _foreign_cpu(result))


def machine_busy(result: VariantResult) -> bool:
    """True when other programs used enough of the CPU while timing to disturb it."""
    return is_busy(_foreign_cpu(result))


def _stats_line(name: str, stats: LatencyStats | None) -> str:
    if stats is None:
        return f"{name}: not timed"
    return (
        f"{name}: {units.duration_ms(stats.median)} median, p10–p90 {units.spread_ms(stats)} ({stats.samples} samples)"
    )


def details(result: VariantResult, reference: Profile | None = None) -> list[str]:
    """Lines for a tooltip: both sides' median and p10–p90, the change with its interval, rounds
    and confidence, the throughput change, what was timed and the machine's state."""
    lines = [_stats_line("This variant", _variant_stats(result))]
    c = result.comparison
    same_run = " (in the same run)" if c is not None else ""
    lines.append(_stats_line(f"Baseline{same_run}", baseline_stats(result, reference)))
    r = result.latency_ratio
    if r is not None and r.rounds == 0:
        lines.append("This is the baseline: the variants are compared with it.")
    elif r is not None:
        lines.append(f"Change: {latency_change(result)}")
        lines.append(
            f"Variant ÷ baseline {units.times(r.value)}, {_pct(r.confidence)} interval "
            f"{units.times(r.ci_low)}–{units.times(r.ci_high)} over {r.rounds} rounds"
            + (f" of {c.calls_per_round} calls each" if c is not None else "")
        )
        lines.append(f"Throughput: {throughput_change(result)}")
    elif result.delta.get("latency") is not None:
        lines.append(f"Change: {latency_change(result)} — not compared in one run, so no interval")
    timed_as = None if result.profile is None else result.profile.timed_as
    if timed_as:
        lines.append(f"Timed: {timed_as}")
    machine = _machine(result)
    if machine:
        lines.append(machine)
    warning = noise_warning(result, reference)
    if warning:
        lines.append(f"⚠ {warning}")
    if r is not None and r.rounds:
        lines.append(METHOD_NOTE)
    return lines


def _machine(result: VariantResult) -> str:
    c = result.comparison
    env: Any = None if result.profile is None else result.profile.environment
    foreign = c.foreign_cpu_percent if c is not None else getattr(env, "foreign_cpu_percent", None)
    mhz = c.cpu_mhz if c is not None else getattr(env, "cpu_mhz", None)
    parts = []
    if foreign is not None:
        parts.append(f"other programs used {foreign:.0f} % of the CPU")
    if mhz:
        parts.append(f"CPU at {units.number(round(mhz))} MHz")
    return ("While timing: " + ", ".join(parts)) if parts else ""


def _pct(fraction: float) -> str:
    return f"{100 * fraction:.0f} %"


# == kernel paths: the prediction before a variant is timed, its check after ======================
#
# The record is profiler.kernel_paths.kernel_paths_record (the sweep's `kernel_paths`): per layer
# a verdict and its reason, and once measured the layer's change with both rows' p10–p90. A
# layer's change is worded as a gain or a loss only when it is beyond both spreads (and at least
# MIN_EFFECT); otherwise "≈ no measurable change", never coloured.

_FACTS: dict[str, Any] = {}


def _facts(device: str) -> Any:
    """This machine's DeviceFacts for `device`, read once (CPU flags, the GPU's capability)."""
    from profiler.kernel_paths import DeviceFacts

    if device not in _FACTS:
        _FACTS[device] = DeviceFacts.detect(device)
    return _FACTS[device]


def kernel_paths_for(
    reference: Profile | None, variant: Any, result: VariantResult | None = None, facts: Any = None
) -> dict[str, Any] | None:
    """The kernel-path record of `variant` against the baseline `reference`: the prediction only
    (before the variant is measured: from the baseline's rows and the knobs), or with `result`
    its check against the measurement. None without a baseline, for a failed result, and for
    the baseline itself (nothing to predict)."""
    from profiler.kernel_paths import kernel_paths_record

    if result is not None and (result.error is not None or result.profile is None):
        return None
    base = result.baseline if result is not None and result.baseline is not None else reference
    if base is None or is_baseline_variant(variant):
        return None
    f = facts or _facts(str(variant.device))
    return kernel_paths_record(base, variant, f, None if result is None else result.profile)


def is_baseline_variant(variant: Any) -> bool:
    """No knob that changes a kernel: nothing pruned, fp32, the model's own runtime (batch and
    shapes change sizes, not kernels)."""
    return not variant.pruned and str(variant.precision) == "fp32" and variant.runtime is None


def flagged_layers(record: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """Layers with a measured finding (beyond noise): name → the record's layer entry."""
    if not record:
        return {}
    return {e["layer"]: e for e in record.get("layers", ()) if e.get("flags")}


def _layer_change_words(m: dict[str, Any] | None) -> str:
    """'1.3× slower (p10–p90 …)' beyond noise, '≈ no measurable change' within it, '' untimed."""
    if not m:
        return ""
    spreads = (
        f"baseline {units.duration_ms(m['baseline_ms'])} (p10–p90 {units.duration_ms(m['baseline_p10_ms'])}–"
        f"{units.duration_ms(m['baseline_p90_ms'])}), variant {units.duration_ms(m['variant_ms'])} "
        f"(p10–p90 {units.duration_ms(m['variant_p10_ms'])}–{units.duration_ms(m['variant_p90_ms'])})"
    )
    if not m.get("beyond_noise"):
        floor = float(m.get("min_effect", MIN_EFFECT))
        why = (
            f"within the p10–p90 spreads or under {floor:.0%}"
            if floor <= MIN_EFFECT + 1e-9
            else f"within the p10–p90 spreads, or under the {floor:.0%} this noisy timing can resolve"
        )
        return f"{units.NO_CHANGE} ({why}); {spreads}"
    ratio = float(m["ratio"])
    words = f"{_factor_words(ratio)} slower" if ratio > 1 else f"{_factor_words(1 / ratio)} faster"
    return f"{words}, beyond both p10–p90 spreads; {spreads}"


def _factor_words(x: float) -> str:
    return f"{x:.2f}×" if x < 1.1 else f"{units.sig(x, 2)}×"


def layer_kernel_path(entry: dict[str, Any] | None) -> list[str]:
    """Lines for one layer (tooltip, details pane): the prediction with its reason, then the
    measured change and any flag."""
    if not entry:
        return []
    lines = [f"Kernel path (predicted): {entry['verdict']} — {entry['reason']}"]
    measured = _layer_change_words(entry.get("measured"))
    if measured:
        lines.append(f"Measured: {measured}")
    for flag in entry.get("flags") or ():
        lines.append(f"⚠ {flag}")
    return lines


def layer_kernel_mark(entry: dict[str, Any] | None) -> str:
    """A short mark beside a layer's name: '⚠ smaller but slower', '⚠ slower than predicted',
    '▾ predicted slower' (not yet contradicted), or ''."""
    if not entry:
        return ""
    flags = entry.get("flags") or ()
    if "smaller but slower" in flags:
        return "⚠ smaller but slower"
    if "predicted faster, measured slower" in flags:
        return "⚠ slower than predicted"
    if "predicted slower, measured faster" in flags:
        return "faster than predicted"
    if entry.get("verdict") == "slower" and not (entry.get("measured") or {}).get("beyond_noise"):
        return "▾ predicted slower"
    return ""


def kernel_paths_line(record: dict[str, Any] | None, measured: bool) -> tuple[str, bool]:
    """The deltas strip's line and whether it warns: before timing 'Kernel paths (predicted): …';
    after, the "smaller but slower" layers with their measured change, else the summary."""
    if not record:
        return "", False
    flagged = flagged_layers(record)
    if measured and flagged:
        parts = []
        for name, e in list(flagged.items())[:2]:
            m = e.get("measured") or {}
            ratio = float(m.get("ratio") or 1.0)
            change = f"{_factor_words(ratio)} slower" if ratio > 1 else f"{_factor_words(1 / ratio)} faster"
            parts.append(f"{name} {e['flags'][0]} ({change}, beyond its p10–p90)")
        more = f" and {len(flagged) - 2} more" if len(flagged) > 2 else ""
        return "⚠ Kernel paths, measured: " + "; ".join(parts) + more, True
    summary = str(record.get("summary", ""))
    if not measured:
        summary = summary.split("; measured:", 1)[0]
        slow = any(e.get("verdict") == "slower" for e in record.get("layers", ()))
        return f"Kernel paths (predicted, before timing): {summary}", slow
    return f"Kernel paths: {summary}", False


# == recovery by distillation: quality before → after ===========================================


def recover_line(recover: dict[str, Any] | None) -> str:
    """'accuracy 81.4 % → 99.2 % after 200 distillation steps (held-out 120 samples)'; cosine
    without labels; the budget when it ended training early; why recovery did not run."""
    if not recover:
        return ""
    if recover.get("skipped"):
        return f"not recovered: {recover['skipped']}"
    before, after = recover.get("quality_before") or {}, recover.get("quality_after") or {}
    if before.get("accuracy") is not None and after.get("accuracy") is not None:
        quality = f"accuracy {_pct1(before['accuracy'])} → {_pct1(after['accuracy'])}"
    else:
        quality = f"cosine {units.fidelity(before.get('cosine'))} → {units.fidelity(after.get('cosine'))}"
    done, asked = int(recover.get("steps_done") or 0), int(recover.get("steps") or 0)
    steps = f"{done} distillation step" + ("" if done == 1 else "s")
    if recover.get("stopped_because") == "budget":
        steps = f"{done} of {asked} distillation steps (the {recover.get('budget_s'):g} s budget ran out)"
    return f"{quality} after {steps} (held-out {recover.get('held_out')} samples)"


def recover_details(recover: dict[str, Any] | None) -> list[str]:
    """Tooltip lines: what recovery did and its limits."""
    if not recover:
        return []
    lines = [f"Recovery by distillation: {recover_line(recover)}"]
    if not recover.get("skipped"):
        lines.append(
            f"Trained {recover.get('seconds', 0):.1f} s on {recover.get('samples')} samples "
            f"({'labelled' if recover.get('labelled') else 'unlabelled'}), loss "
            f"{recover.get('loss_first')} → {recover.get('loss_last')}; fidelity is measured on the held-out samples only."
        )
        lines.append("A few steps on a small sample is not a full training run: the figures are noisy.")
    return lines


def _pct1(fraction: float) -> str:
    return f"{100 * fraction:.1f} %"
