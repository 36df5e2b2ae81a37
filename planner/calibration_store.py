"""Calibration from measurements: every measured profile calibrates the roofline of its device.

A profile with measured per-layer latency (`latency_source == "measured"`, not the meta device,
not `--no-latency`, not noisy) becomes a `CalibrationRun`: per op class (planner/op_classes.py)
the measured seconds, each layer's less the device class's kernel overhead (the launch cost a
projection adds back per kernel, so that the factor scales with the work and not with the
number of launches), and the ideal roofline seconds (efficiencies 1, no overhead) on the device
it ran on, at the precision it ran at. The device is

- a GPU: the catalog accelerator its name matches (`match_gpu`: "NVIDIA H100 80GB HBM3" →
  `H100-SXM`, "NVIDIA A100 80GB PCIe" → `A100-PCIe-80GB`; form factor and memory decide between
  rows of one family); a GPU no catalog row matches is not recorded;
- the CPU: its model name as the machine reports it (`Environment.cpu`), described by a catalog
  row of that name when one has a peak and a bandwidth, else by `planner.roofline.cpu_spec` from
  the threads the measurement used, the clock in the model name (or psutil's), the SIMD width of
  this machine's flags and `DEFAULT_CPU_BANDWIDTH_GB_S`.

The store is JSON (`tradeoff.calibration/1`) at `$XDG_CONFIG_HOME/tradeoff-studio/calibration.json`
(default `~/.config/…`, beside the user catalog folder), written atomically under a lock, the
last `MAX_RUNS_PER_DEVICE` runs per device. A file that cannot be read is a one-line warning
(and, before the next write, is kept as `calibration.json.bad`); a bad entry is skipped with a
warning and never takes other devices' entries with it.

Per device, precision and op class, the factor is the median of measured ÷ ideal over the runs
(each at least 1, as `calibrate()` clamps), and the spread is the relative half-width of the runs'
p10–p90, averaged over the classes by their share of measured time and never below the
median run's own timing spread: `Calibration(runs=N, spread_fraction=x)`, shown as
"calibrated on N runs (±x %)". A plan uses a stored calibration only for targets on that
device at that precision (`resolve_calibration`); every time it yields is still *projected*
(`projected-calibrated`).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import statistics
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from planner.catalog import Accelerator, Catalog
from planner.op_classes import op_class
from planner.roofline import (
    Calibration,
    cpu_spec,
    default_efficiency,
    measured_vs_ideal,
    resolve_precision,
    timing_spread,
)
from planner.vocab import AcceleratorKind, PeakPrecision
from profiler.result import Environment, Profile
from profiler.vocab import Device

SCHEMA = "tradeoff.calibration/1"
FILE_NAME = "calibration.json"
#: Runs kept per device (the oldest go first).
MAX_RUNS_PER_DEVICE = 20
#: Memory bandwidth assumed for a CPU no catalog row describes: dual-channel DDR4-3200 is
#: 51.2 GB/s in theory and reaches roughly 40 in practice. A rough figure, not a measurement:
#: the same figure divides every run of the device and multiplies its projection, so it
#: cancels on the device itself; add a catalog row with the CPU's name to set it.
DEFAULT_CPU_BANDWIDTH_GB_S = 40.0
#: Clock assumed when neither the model name nor the OS states one.
DEFAULT_CPU_GHZ = 2.5
#: The most a measured ratio may be (a per-layer time 1000× its ideal roofline is a broken run).
_MAX_RATIO = 1e4

GPU = "gpu"
CPU = "cpu"
#: Precisions that run on the same peak of every catalog GPU.
_SAME_PEAK = {PeakPrecision.FP16: PeakPrecision.BF16, PeakPrecision.BF16: PeakPrecision.FP16}


def calibration_path() -> Path:
    """`$XDG_CONFIG_HOME/tradeoff-studio/calibration.json` (default `~/.config/…`)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "tradeoff-studio" / FILE_NAME


# ----------------------------------------------------------------------------- one run


@dataclass(frozen=True)
class CalibrationRun:
    """One measured profile as calibration: per op class, measured and ideal milliseconds."""

    device: str
    kind: str  # "gpu" | "cpu"
    precision: PeakPrecision
    model: str
    recorded_at: str  # ISO 8601, UTC
    measured_ms: Mapping[str, float]
    ideal_ms: Mapping[str, float]
    #: relative half-width of the end-to-end p10–p90 of the measurement
    timing_spread: float | None = None
    #: the end-to-end median of the measurement
    latency_ms: float | None = None
    batch: int = 1
    runtime: str = ""
    #: the device as the machine named it ("NVIDIA H100 80GB HBM3", the CPU's model name)
    hardware: str = ""
    #: the spec the ideal roofline used: peak TFLOPS at `precision` and bandwidth in GB/s
    peak_tflops: float | None = None
    bandwidth_gb_s: float | None = None
    #: launch cost taken off each layer's measured time (the kernel overhead a projection adds back)
    kernel_overhead_us: float = 0.0

    def ratios(self) -> dict[str, float]:
        """measured ÷ ideal per op class."""
        return {c: self.measured_ms[c] / i for c, i in self.ideal_ms.items() if i > 0 and c in self.measured_ms}

    def to_dict(self) -> dict[str, Any]:
        return {
            "device": self.device, "kind": self.kind, "precision": str(self.precision), "model": self.model,
            "recorded_at": self.recorded_at, "measured_ms": dict(self.measured_ms), "ideal_ms": dict(self.ideal_ms),
            "timing_spread": self.timing_spread, "latency_ms": self.latency_ms, "batch": self.batch,
            "runtime": self.runtime, "hardware": self.hardware, "peak_tflops": self.peak_tflops,
            "bandwidth_gb_s": self.bandwidth_gb_s, "kernel_overhead_us": self.kernel_overhead_us,
        }  # fmt: skip

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CalibrationRun:
        """ValueError (or KeyError/TypeError) for an entry that does not fit."""

        def times(x: Any) -> dict[str, float]:
            if not isinstance(x, Mapping) or not x:
                raise ValueError("per-class times must be a non-empty object")
            out = {str(k): float(v) for k, v in x.items()}
            if not all(math.isfinite(v) and v >= 0 for v in out.values()):
                raise ValueError("per-class times must be finite and ≥ 0")
            return out

        def opt(x: Any) -> float | None:
            if x is None:
                return None
            v = float(x)
            if not math.isfinite(v):
                raise ValueError("not a finite number")
            return v

        kind = str(d["kind"])
        if kind not in (GPU, CPU):
            raise ValueError(f"kind {kind!r}")
        run = cls(
            device=str(d["device"]), kind=kind, precision=PeakPrecision(d["precision"]), model=str(d["model"]),
            recorded_at=str(d["recorded_at"]), measured_ms=times(d["measured_ms"]), ideal_ms=times(d["ideal_ms"]),
            timing_spread=opt(d.get("timing_spread")), latency_ms=opt(d.get("latency_ms")),
            batch=int(d.get("batch", 1)), runtime=str(d.get("runtime", "")), hardware=str(d.get("hardware", "")),
            peak_tflops=opt(d.get("peak_tflops")), bandwidth_gb_s=opt(d.get("bandwidth_gb_s")),
            kernel_overhead_us=opt(d.get("kernel_overhead_us")) or 0.0,
        )  # fmt: skip
        if not run.ratios():
            raise ValueError("no op class with an ideal time")
        return run


# ----------------------------------------------------------------------------- devices

_TOKEN = re.compile(r"[A-Za-z0-9.]+")
_MEMORY = re.compile(r"^(\d+)GB$")
_FORM_FACTORS = ("SXM", "PCIE", "NVL")
_VENDOR_WORDS = frozenset({"NVIDIA", "TESLA", "AMD", "INSTINCT", "GEFORCE", "QUADRO", "RADEON"})


def _tokens(name: str) -> list[str]:
    out = []
    for t in _TOKEN.findall(name.upper()):
        t = t.strip(".")
        if re.fullmatch(r"SXM\d*", t):
            t = "SXM"
        if t:
            out.append(t)
    return out


def _memory_gb(tokens: Sequence[str]) -> float | None:
    for t in tokens:
        m = _MEMORY.match(t)
        if m:
            return float(m.group(1))
    return None


def match_gpu(name: str, catalog: Catalog, memory_bytes: int | None = None) -> Accelerator | None:
    """The catalog GPU a device name (as NVML or torch reports it) is, or None.

    A row matches when its first name part (the family: H100, A100, A10G, L4, …) is a word of the
    device name and each of its other parts agrees: a form factor (SXM, PCIe, NVL) the device name
    states, a memory size within 15 % of the device's (from the name or `memory_bytes`), any other
    word present. The most parts agreeing wins; SXM breaks a tie (NVML names an SXM H100 "H100
    80GB HBM3")."""
    dev = [t for t in _tokens(name) if t not in _VENDOR_WORDS]
    if not dev:
        return None
    words = set(dev)
    form = next((f for f in _FORM_FACTORS if f in words), None)
    if form is None and "HBM3" in words and "H100" in words:
        form = "SXM"
    mem = _memory_gb(dev)
    if mem is None and memory_bytes:
        mem = memory_bytes / 2**30
    best: tuple[int, int, int] | None = None
    chosen: Accelerator | None = None
    for index, acc in enumerate(catalog.accelerators):
        if acc.kind is not AcceleratorKind.GPU:
            continue
        parts = _tokens(acc.name)
        if not parts or parts[0] not in words:
            continue
        score, ok, own_form = 1, True, None
        for part in parts[1:]:
            pm = _MEMORY.match(part)
            if part in _FORM_FACTORS:
                own_form = part
                if form is not None and part != form:
                    ok = False
                elif form is not None:
                    score += 1
            elif pm:
                if mem is not None and abs(float(pm.group(1)) - mem) > 0.15 * float(pm.group(1)):
                    ok = False
                elif mem is not None:
                    score += 1
            elif part in words:
                score += 1
            else:
                ok = False
        if not ok:
            continue
        key = (score, 1 if own_form == "SXM" else 0, -index)
        if best is None or key > best:
            best, chosen = key, acc
    return chosen


def _local_cpu_flags() -> set[str]:
    from profiler.environment import cpu_flags

    return cpu_flags()


def _is_this_machine(env: Environment) -> bool:
    from profiler.environment import cpu_model

    return env.cpu == cpu_model()


def describe_cpu(env: Environment, threads: int | None, catalog: Catalog | None = None) -> Accelerator:
    """The CPU a profile was measured on, for the ideal roofline: a catalog row of that name with
    a peak and a bandwidth, else `cpu_spec` (see the module docstring)."""
    if catalog is not None:
        row = catalog.accelerator(env.cpu)
        if row is not None and row.bandwidth_gb_s and row.fp32_tflops:
            return row
    local = _is_this_machine(env)
    cores = max(1, min(threads or env.threads or env.cores, env.cores or 1))
    ghz = None
    m = re.search(r"@\s*([\d.]+)\s*GHz", env.cpu, re.I)
    if m:
        with contextlib.suppress(ValueError):
            ghz = float(m.group(1))
    if ghz is None and local:
        with contextlib.suppress(Exception):
            import psutil

            freq = psutil.cpu_freq()
            if freq is not None and freq.max > 0:
                ghz = freq.max / 1000
    if ghz is None and env.cpu_mhz:
        ghz = env.cpu_mhz / 1000
    simd = 256
    if local:
        flags = _local_cpu_flags()
        if "avx512f" in flags:
            simd = 512
        elif flags and not ({"avx2", "avx"} & flags):
            simd = 128
    return cpu_spec(
        env.cpu, cores=cores, ghz=ghz or DEFAULT_CPU_GHZ, simd_bits=simd, bandwidth_gb_s=DEFAULT_CPU_BANDWIDTH_GB_S
    )


def why_not_recorded(profile: Profile) -> str | None:
    """Why a profile cannot calibrate (one line), or None when it can."""
    if profile.latency_source != "measured":
        return "latency was not measured"
    if profile.layer_latency_method is None or not any(r.latency_ms is not None for r in profile.layers):
        return "no per-layer latency"
    if profile.environment is None:
        return "the profile does not say which machine it ran on"
    lat = profile.totals.latency_ms
    if lat is not None and lat.noisy:
        return "the timing was noisy (the machine was busy)"
    if profile.config.device is Device.CUDA and not profile.environment.gpu:
        return "the profile does not name its GPU"
    return None


def run_from_profile(
    profile: Profile, catalog: Catalog, *, now: datetime | None = None
) -> tuple[CalibrationRun | None, str | None]:
    """(the calibration run of a measured profile, None) or (None, why not)."""
    why = why_not_recorded(profile)
    if why is not None:
        return None, why
    env = profile.environment
    assert env is not None
    if profile.config.device is Device.CUDA:
        assert env.gpu is not None
        acc = match_gpu(env.gpu, catalog, env.gpu_memory_bytes)
        if acc is None:
            return None, f"GPU {env.gpu!r} matches no catalog accelerator"
        kind, device = GPU, acc.name
    else:
        acc = describe_cpu(env, profile.config.threads or env.threads, catalog)
        kind, device = CPU, env.cpu
    overhead_us = default_efficiency(acc).kernel_overhead_us
    try:
        prec, measured, ideal = measured_vs_ideal(profile, acc, key=op_class, overhead_s=overhead_us * 1e-6)
    except ValueError as exc:
        return None, str(exc)
    lat = profile.totals.latency_ms
    stamp = (now or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    run = CalibrationRun(
        device=device, kind=kind, precision=prec, model=profile.model.name, recorded_at=stamp,
        measured_ms={c: measured[c] * 1e3 for c in sorted(measured)},
        ideal_ms={c: ideal[c] * 1e3 for c in sorted(ideal)},
        timing_spread=timing_spread(profile), latency_ms=None if lat is None else lat.median,
        batch=profile.config.batch, runtime=str(profile.config.runtime),
        hardware=env.gpu if kind == GPU and env.gpu else env.cpu,
        peak_tflops=acc.peak_tflops(prec), bandwidth_gb_s=acc.bandwidth_gb_s, kernel_overhead_us=overhead_us,
    )  # fmt: skip
    return run, None


# ----------------------------------------------------------------------------- aggregation


def _half_width(values: Sequence[float]) -> float:
    """Half the p10–p90 range (0 for one value)."""
    if len(values) < 2:
        return 0.0
    q = statistics.quantiles(values, n=10, method="inclusive")
    return (q[8] - q[0]) / 2


def aggregate(device: str, precision: PeakPrecision, runs: Sequence[CalibrationRun]) -> Calibration | None:
    """The calibration of `device` at `precision` from its runs (None: no run at that precision)."""
    mine = [r for r in runs if r.precision is precision]
    if not mine:
        return None
    by_class: dict[str, list[float]] = {}
    weight: dict[str, float] = {}
    for r in mine:
        for c, ratio in r.ratios().items():
            if math.isfinite(ratio) and 0 <= ratio <= _MAX_RATIO:
                # as `calibrate()` clamps: faster than the spec's roofline counts as the roofline
                by_class.setdefault(c, []).append(max(1.0, ratio))
                weight[c] = weight.get(c, 0.0) + r.measured_ms.get(c, 0.0)
    if not by_class:
        return None
    factors = []
    spread_sum = weight_sum = 0.0
    for c in sorted(by_class):
        ratios = by_class[c]
        med = statistics.median(ratios)
        factors.append((c, med))
        spread_sum += weight[c] * _half_width(ratios) / med
        weight_sum += weight[c]
    spread: float | None = spread_sum / weight_sum if weight_sum > 0 else 0.0
    noise = [r.timing_spread for r in mine if r.timing_spread is not None]
    if noise:
        spread = max(spread or 0.0, statistics.median(noise))
    elif len(mine) == 1:
        spread = None  # one run and no timing spread: nothing to say
    return Calibration(
        device=device, precision=precision, factors=tuple(factors), runs=len(mine), spread_fraction=spread
    )


@dataclass(frozen=True)
class StoredCalibrations:
    """The store's calibrations, one per device and precision, and what could not be read."""

    calibrations: tuple[Calibration, ...] = ()
    warnings: tuple[str, ...] = ()
    _index: dict[tuple[str, PeakPrecision], Calibration] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for c in self.calibrations:
            self._index[(c.device.lower(), c.precision)] = c

    def for_accelerator(self, name: str, precision: PeakPrecision) -> Calibration | None:
        """The calibration measured on the device `name` (a catalog accelerator name, or a CPU's
        model name) at `precision` (fp16 and bf16 stand in for each other: one tensor-core peak);
        None when there is none."""
        key = name.lower()
        found = self._index.get((key, precision))
        if found is None and precision in _SAME_PEAK:
            found = self._index.get((key, _SAME_PEAK[precision]))
        return found

    def summary(self) -> dict[str, str]:
        """{'H100-SXM fp16': 'calibrated on 5 runs (±8 %)', …} for a plan's assumptions."""
        return {f"{c.device} {c.precision}": c.describe() for c in self.calibrations}


def resolve_calibration(
    one_shot: Calibration | None,
    stored: StoredCalibrations | None,
    accelerator: Accelerator,
    precision: PeakPrecision,
) -> Calibration | None:
    """The calibration a target on `accelerator` at `precision` (resolved to a precision it has,
    as `make_target` does) uses: one measured on that same device, else `one_shot` (`--calibrate`,
    applied to every target as before), else None."""
    if stored is not None and stored.calibrations:
        resolved = resolve_precision(accelerator, precision)
        if resolved is not None:
            own = stored.for_accelerator(accelerator.name, resolved)
            if own is not None:
                return own
    return one_shot


#: Runs of a device before its calibration's own spread is trusted as the band: one or two runs
#: say nothing about how the factors transfer to another model, so until then the band is at
#: least the model class's default.
MIN_RUNS_FOR_OWN_BAND = 3


def uncertainty_of(
    calibration: Calibration, accelerator: str | None = None, floor: float | None = None
) -> tuple[float | None, str]:
    """(relative half-width of the band, its basis) for a projection calibrated by `calibration`
    on `accelerator`: the calibration's spread and 'calibrated on N runs (±x %)'; for factors
    measured on another device (`--calibrate`), no band of their own (None) and a basis that
    says so. With fewer than MIN_RUNS_FOR_OWN_BAND runs the band is at least `floor` (the
    uncalibrated default)."""
    if accelerator is not None and accelerator.lower() != calibration.device.lower():
        return None, f"per-layer factors measured on {calibration.device}, another device"
    fraction = calibration.spread_fraction
    basis = calibration.describe()
    if floor is not None and calibration.runs < MIN_RUNS_FOR_OWN_BAND and (fraction is None or fraction < floor):
        fraction = floor
        basis += f"; under {MIN_RUNS_FOR_OWN_BAND} runs, so the uncalibrated ±{floor * 100:.0f} % band stands"
    return fraction, basis


# ----------------------------------------------------------------------------- the store


def _parse_runs(device: str, raw: Any, warnings: list[str], where: str) -> list[CalibrationRun]:
    entries = raw.get("runs") if isinstance(raw, Mapping) else None
    if not isinstance(entries, list):
        warnings.append(f"{where}: device {device!r}: no list of runs; skipped")
        return []
    runs = []
    bad = 0
    for e in entries:
        try:
            if not isinstance(e, Mapping):
                raise ValueError("not an object")
            run = CalibrationRun.from_dict(e)
            if run.device != device:
                raise ValueError("filed under another device")
            runs.append(run)
        except (ValueError, KeyError, TypeError):
            bad += 1
    if bad:
        warnings.append(f"{where}: device {device!r}: {bad} unreadable run(s) skipped")
    return runs


class CalibrationStore:
    """The JSON file of calibration runs per device (see the module docstring)."""

    def __init__(self, path: Path | str | None = None, *, max_runs: int = MAX_RUNS_PER_DEVICE) -> None:
        self.path = Path(path) if path is not None else calibration_path()
        self.max_runs = max_runs

    def _read_raw(self) -> tuple[dict[str, Any] | None, list[str]]:
        """The file's devices as raw JSON ({} when there is no file; None when it is unreadable)."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}, []
        except (OSError, UnicodeDecodeError) as exc:
            return None, [f"{self.path}: calibration store unreadable ({exc.__class__.__name__}); ignored"]
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            return None, [f"{self.path}: calibration store is not JSON ({exc.msg}, line {exc.lineno}); ignored"]
        if not isinstance(data, dict) or data.get("schema") != SCHEMA or not isinstance(data.get("devices"), dict):
            return None, [f"{self.path}: not a {SCHEMA} document; ignored"]
        return dict(data["devices"]), []

    def load(self) -> tuple[dict[str, list[CalibrationRun]], list[str]]:
        """Every readable run per device, and one warning per problem; never raises."""
        raw, warnings = self._read_raw()
        out: dict[str, list[CalibrationRun]] = {}
        for device, entry in (raw or {}).items():
            runs = _parse_runs(str(device), entry, warnings, str(self.path))
            if runs:
                out[str(device)] = runs
        return out, warnings

    def calibrations(self) -> StoredCalibrations:
        """The aggregated calibration of every device and precision in the store."""
        runs, warnings = self.load()
        cals = []
        for device in sorted(runs):
            for prec in sorted({r.precision for r in runs[device]}, key=str):
                c = aggregate(device, prec, runs[device])
                if c is not None:
                    cals.append(c)
        return StoredCalibrations(tuple(cals), tuple(warnings))

    def add(self, run: CalibrationRun) -> tuple[Calibration, list[str]]:
        """Append `run` to its device (the oldest beyond `max_runs` dropped) and write the file;
        returns the device's calibration at the run's precision and any warnings. Other devices'
        entries are written back as they were read. Raises InputError when the file cannot be
        written."""
        from profiler.safe_io import write_text_atomic

        self.path.parent.mkdir(parents=True, exist_ok=True)
        with _locked(self.path):
            raw, warnings = self._read_raw()
            if raw is None:
                bad = self.path.with_name(self.path.name + ".bad")
                with contextlib.suppress(OSError):
                    os.replace(self.path, bad)
                    warnings.append(f"{self.path}: the unreadable store was kept as {bad.name}")
                raw = {}
            runs = _parse_runs(run.device, raw[run.device], warnings, str(self.path)) if run.device in raw else []
            runs = [*runs, run][-self.max_runs :]
            raw[run.device] = {"kind": run.kind, "runs": [r.to_dict() for r in runs]}
            doc = {"schema": SCHEMA, "max_runs_per_device": self.max_runs, "devices": raw}
            write_text_atomic(self.path, json.dumps(doc, indent=1, sort_keys=False) + "\n")
        cal = aggregate(run.device, run.precision, runs)
        assert cal is not None
        return cal, warnings


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive advisory lock on `path`'s lock file (the app and the CLI may record at once);
    no lock where the platform has no flock."""
    try:
        import fcntl
    except ImportError:  # Windows
        yield
        return
    lock = path.with_name(path.name + ".lock")
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


#: (path, mtime_ns, size) → the aggregated calibrations: the app re-plans on every slider tick,
#: and the store changes only when a measurement is recorded
_loaded: dict[tuple[str, int, int], StoredCalibrations] = {}


def load_stored_calibrations(enabled: bool = True, path: Path | str | None = None) -> StoredCalibrations | None:
    """The store's calibrations for a plan (None when switched off: `use_stored_calibration`);
    read again only when the file changed."""
    if not enabled:
        return None
    store = CalibrationStore(path)
    try:
        st = store.path.stat()
    except OSError:
        return store.calibrations()  # no store yet (or unreadable): nothing to cache
    key = (str(store.path), st.st_mtime_ns, st.st_size)
    if key not in _loaded:
        _loaded.clear()
        _loaded[key] = store.calibrations()
    return _loaded[key]


def calibration_for(
    accelerator_name: str, precision: PeakPrecision, *, path: Path | str | None = None
) -> Calibration | None:
    """The stored calibration of one device at one precision (reads the store each call)."""
    return CalibrationStore(path).calibrations().for_accelerator(accelerator_name, precision)


# ----------------------------------------------------------------------------- recording


@dataclass(frozen=True)
class Recorded:
    """What recording one profile did: `status` is one line for people (None when the profile
    does not qualify: `reason` says why), `calibration` the device's calibration after it."""

    status: str | None
    calibration: Calibration | None = None
    reason: str | None = None
    warnings: tuple[str, ...] = ()


def record_profile(
    profile: Profile,
    *,
    catalog: Catalog | None = None,
    path: Path | str | None = None,
    now: datetime | None = None,
) -> Recorded:
    """Record a measured profile into the store; never raises (a write failure is a status)."""
    try:
        if catalog is None:
            from planner.catalog import load_catalog

            catalog = load_catalog()
        run, why = run_from_profile(profile, catalog, now=now)
        if run is None:
            return Recorded(None, reason=why)
        store = CalibrationStore(path)
        cal, warnings = store.add(run)
    except Exception as exc:  # the store is a convenience: never fail a measurement over it
        return Recorded(f"calibration not recorded: {exc}", reason=str(exc))
    env = profile.environment
    local = run.kind == CPU and env is not None and _is_this_machine(env)
    what = "this CPU" if local else run.device
    runs = f"{cal.runs} run{'' if cal.runs == 1 else 's'}"
    band = cal.describe().partition("(")[2].rstrip(")")
    status = f"Calibrated {what} ({cal.precision}): {runs}" + (f" ({band})" if band else "")
    return Recorded(status, cal, warnings=tuple(warnings))
