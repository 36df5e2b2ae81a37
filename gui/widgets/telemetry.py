"""The telemetry strip: CPU utilisation and memory (this process and the worker), and the GPU.

psutil for the CPU and memory; pynvml for an NVIDIA GPU's utilisation, memory and power, or
"no NVIDIA GPU". Sampled once a second (faster sampling would itself cost the UI time).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QHBoxLayout, QWidget

from gui import plain_text
from gui.theme import fmt_bytes

SAMPLE_MS = 1000


class _Nvml:
    """The first NVIDIA GPU through NVML, or nothing (never raises)."""

    def __init__(self) -> None:
        self.handle: Any = None
        self.name = ""
        try:
            import pynvml

            pynvml.nvmlInit()
            if pynvml.nvmlDeviceGetCount() > 0:
                self.handle = pynvml.nvmlDeviceGetHandleByIndex(0)
                name = pynvml.nvmlDeviceGetName(self.handle)
                self.name = name.decode() if isinstance(name, bytes) else str(name)
            self._nv = pynvml
        except Exception:  # no library, no driver, no device: "no NVIDIA GPU"
            self.handle = None

    def sample(self) -> str:
        if self.handle is None:
            return "no NVIDIA GPU"
        nv = self._nv
        try:
            util = nv.nvmlDeviceGetUtilizationRates(self.handle).gpu
            mem = nv.nvmlDeviceGetMemoryInfo(self.handle)
            power = nv.nvmlDeviceGetPowerUsage(self.handle) / 1000.0
            return f"{self.name}: {util}% · {fmt_bytes(mem.used)} / {fmt_bytes(mem.total)} · {power:.0f} W"
        except Exception:
            return f"{self.name}: unavailable"


class TelemetryStrip(QWidget):
    """Three labels in the status bar, updated every second."""

    def __init__(self, worker_pid: Callable[[], int | None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        import psutil

        self._psutil = psutil
        self._proc = psutil.Process()
        self._proc.cpu_percent(None)
        psutil.cpu_percent(None)
        self._worker_pid = worker_pid
        self._worker: Any = None
        self._nvml = _Nvml()
        self.cpu = plain_text.label()
        self.mem = plain_text.label()
        self.gpu = plain_text.label()  # the GPU's name comes from the driver: plain text
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 4, 0)
        lay.setSpacing(14)
        for w, tip in (
            (self.cpu, "CPU utilisation of the whole machine"),
            (self.mem, "Resident memory of the app and its measurement worker"),
            (self.gpu, "NVIDIA GPU utilisation, memory and power (NVML)"),
        ):
            w.setToolTip(tip)
            w.setObjectName("Muted")
            lay.addWidget(w)
        self.timer = QTimer(self, interval=SAMPLE_MS)
        self.timer.timeout.connect(self.sample)
        self.timer.start()
        self.sample()

    @property
    def has_gpu(self) -> bool:
        return self._nvml.handle is not None

    def sample(self) -> None:
        ps = self._psutil
        self.cpu.setText(f"CPU {ps.cpu_percent(None):.0f}%")
        rss = self._proc.memory_info().rss
        worker = 0
        pid = self._worker_pid()
        if pid is not None:
            try:
                if self._worker is None or self._worker.pid != pid:
                    self._worker = ps.Process(pid)
                worker = self._worker.memory_info().rss
            except ps.Error:
                self._worker = None
        self.mem.setText(f"Memory {fmt_bytes(rss + worker)}" + (f" (worker {fmt_bytes(worker)})" if worker else ""))
        self.gpu.setText(self._nvml.sample())
