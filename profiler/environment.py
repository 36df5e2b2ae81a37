"""What machine a measurement ran on: CPU, cores, threads, library versions, NVIDIA GPU via pynvml."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass
from importlib import metadata
from typing import TYPE_CHECKING

from .result import Environment

if TYPE_CHECKING:
    from .conditions import Conditions


@dataclass(frozen=True)
class GpuInfo:
    name: str
    memory_bytes: int
    driver: str
    #: CUDA compute capability (major, minor), None when NVML does not say
    capability: tuple[int, int] | None = None


def cpu_model() -> str:
    """The CPU's marketing name from /proc/cpuinfo, falling back to `platform.processor()`."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def nvidia_gpu() -> GpuInfo | None:
    """The first NVIDIA GPU through NVML, or None when there is none (never raises)."""
    try:
        import pynvml
    except ImportError:
        return None
    try:
        pynvml.nvmlInit()
    except Exception:  # NVMLError_LibraryNotFound, DriverNotLoaded, …: no NVIDIA GPU here
        return None
    try:
        if pynvml.nvmlDeviceGetCount() < 1:
            return None
        handle = pynvml.nvmlDeviceGetHandleByIndex(0)
        name = pynvml.nvmlDeviceGetName(handle)
        mem = pynvml.nvmlDeviceGetMemoryInfo(handle)
        driver = pynvml.nvmlSystemGetDriverVersion()
        try:
            major, minor = pynvml.nvmlDeviceGetCudaComputeCapability(handle)
            capability: tuple[int, int] | None = (int(major), int(minor))
        except Exception:  # older drivers: the kernel-path rules then say "unknown"
            capability = None
        return GpuInfo(
            name=name.decode() if isinstance(name, bytes) else str(name),
            memory_bytes=int(mem.total),
            driver=driver.decode() if isinstance(driver, bytes) else str(driver),
            capability=capability,
        )
    except Exception:
        return None
    finally:
        try:
            pynvml.nvmlShutdown()
        except Exception:
            pass


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def capture_environment(threads: int | None = None, conditions: Conditions | None = None) -> Environment:
    """Describe this machine; `threads` is the intra-op thread count the measurement used and
    `conditions` what the machine did while it was timed (other load, CPU clock)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    gpu = nvidia_gpu()
    torch_version = _version("torch")
    return Environment(
        cpu=cpu_model(),
        cores=cores,
        threads=threads if threads is not None else cores,
        gpu=gpu.name if gpu else None,
        torch=torch_version.split("+")[0] if torch_version else None,
        onnxruntime=_version("onnxruntime"),
        python=platform.python_version(),
        os=f"{platform.system()} {platform.release()}",
        gpu_memory_bytes=gpu.memory_bytes if gpu else None,
        gpu_driver=gpu.driver if gpu else None,
        foreign_cpu_percent=conditions.foreign_cpu_percent if conditions else None,
        cpu_mhz=conditions.cpu_mhz if conditions else None,
    )


def describe_gpu() -> str:
    """One line for the UI and the table: the GPU, or 'no NVIDIA GPU'."""
    gpu = nvidia_gpu()
    if gpu is None:
        return "no NVIDIA GPU"
    return f"{gpu.name}, {gpu.memory_bytes / 2**30:.0f} GiB, driver {gpu.driver}"


def cpu_flags() -> set[str]:
    """CPU feature flags from /proc/cpuinfo (empty when unknown): which SIMD and low-precision
    instructions this machine has (the precision knob and the CPU calibration read them)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()
