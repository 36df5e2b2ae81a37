"""The machine's state while timing: other processes' CPU use is seen, and said in words."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from profiler import units
from profiler.conditions import ConditionsProbe, is_busy, noise_warning, spread_is_noisy
from profiler.result import LatencyStats

BURN = "import time\nt = time.time() + 20\nwhile time.time() < t: pass\n"


def _cpu_quota_cores() -> float | None:
    """The cgroup's CPU quota in cores, when one limits this container below its CPU count."""
    try:
        quota, period = open("/sys/fs/cgroup/cpu.max").read().split()
    except (OSError, ValueError):
        return None
    return None if quota == "max" else int(quota) / int(period)


@pytest.mark.skipif(
    (_cpu_quota_cores() or 1e9) < (os.cpu_count() or 1),
    reason="a CPU quota caps the burners below the machine's capacity, which /proc/stat counts",
)
def test_other_processes_burning_every_core_are_seen_as_foreign_load() -> None:
    cores = os.cpu_count() or 1
    burners = [subprocess.Popen([sys.executable, "-c", BURN]) for _ in range(cores)]
    try:
        time.sleep(0.3)  # let them start
        probe = ConditionsProbe()
        time.sleep(1.0)
        conditions = probe.stop()  # before they are reaped: their time is not this process's
    finally:
        for p in burners:
            p.kill()
            p.wait()
    assert conditions.foreign_cpu_percent is not None
    assert conditions.foreign_cpu_percent >= 60
    assert is_busy(conditions.foreign_cpu_percent)


def test_this_process_own_work_is_not_foreign(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import profiler.conditions as c

    # 2 s of wall time on 4 cores: the machine was busy 5 CPU-seconds, 3 of them ours.
    readings = iter([(100.0, 10.0), (105.0, 13.0)])
    clock = iter([50.0, 52.0])
    monkeypatch.setattr(c, "_cpu_seconds", lambda: next(readings))
    monkeypatch.setattr(c.time, "monotonic", lambda: next(clock))
    monkeypatch.setattr(c.os, "cpu_count", lambda: 4)
    conditions = c.ConditionsProbe().stop()
    assert conditions.foreign_cpu_percent == 25.0  # (5 - 3) / (2 s × 4 cores)
    assert conditions.wall_s == 2.0


def test_noise_is_judged_from_the_spread_and_said_plainly() -> None:
    assert not spread_is_noisy(10.0, 9.8, 10.3, 0.02)
    assert spread_is_noisy(10.0, 7.0, 14.0, 0.05)  # p10–p90 is 70 % of the median
    assert spread_is_noisy(10.0, 9.9, 10.1, 0.3)  # rare large outliers
    assert noise_warning(10.0, 7.0, 14.0, 48.0) == "machine busy (other programs used 48 % of the CPU): figures ±35 %"
    assert noise_warning(10.0, 7.0, 14.0, 2.0) == "noisy timing: figures ±35 %"
    assert "p90 is 50× the median" in noise_warning(1.0, 0.9, 50.0, None)
    quiet = LatencyStats(10.0, 9.8, 10.3, 40, 0.02, False)
    assert units.noise_note(quiet, 80.0) == ""  # only a noisy measurement gets a warning
    assert units.noise_note(LatencyStats(10.0, 7.0, 14.0, 40, 0.2, True), 48.0).startswith("machine busy")
