"""Batch tab → Sweep batch: the variant shown, measured at every batch of SWEEP_BATCHES.

The batches run one after another on a thread, in a measurement worker of their own
(profiler/variant_measurer.py, as Optimize… does), so the knobs' worker and its supersede rules
are left alone; each result joins the workspace like any explored variant and the batch chart
fills as they arrive. Batches already measured are not measured again; a batch the memory guard
refuses ends the sweep there (larger ones would need more). Stop ends it after the batch being
measured.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QThread, Signal

from gui.charts.batch_chart import SWEEP_BATCHES
from gui.controller import TIME_LIMIT_S
from profiler.variant import Variant

if TYPE_CHECKING:
    from gui.window.main_window import MainWindow


class BatchSweepThread(QThread):
    measured = Signal(object)  # VariantResult
    stopped = Signal(str)  # why the sweep ended (empty: every batch measured)

    def __init__(self, variants: list[Variant], measurer: Callable[..., Any]) -> None:
        super().__init__()
        self.variants = variants
        self._measurer = measurer
        self._stop = False

    def stop(self) -> None:
        self._stop = True

    def run(self) -> None:
        why = ""
        try:
            with self._measurer(should_stop=lambda: self._stop) as m:
                for v in self.variants:
                    if self._stop:
                        why = "stopped"
                        break
                    result = m.measure(v, True)
                    if result.error is not None:
                        why = f"batch {v.batch}: {result.error}"
                        break
                    self.measured.emit(result)
        except Exception as exc:  # noqa: BLE001 — one line in the chart's status, the app goes on
            why = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        self.stopped.emit(why)


class BatchSweep:
    def __init__(self, w: MainWindow) -> None:
        self._w = w
        self.thread: BatchSweepThread | None = None
        w.batch_chart.sweep_requested.connect(self.start)
        w.batch_chart.stop_requested.connect(self.stop)

    def start(self) -> None:
        w = self._w
        ws = w.workspace
        current = ws.current
        if ws.source is None or current is None or not w.opening.may_run():
            w.batch_chart.set_sweeping(False, "Open a model and wait for its first measurement first.")
            return
        if current.profile is None or current.profile.totals.latency_ms is None:
            w.batch_chart.set_sweeping(False, "This model was counted, not run here: there is no latency to sweep.")
            return
        done = {r.variant.batch or r.profile.config.batch for r in ws.same_except_batch(current.variant) if r.profile}
        todo = [current.variant.with_(batch=b) for b in SWEEP_BATCHES if b not in done]
        if not todo:
            w.batch_chart.set_sweeping(False, "Every batch of the sweep is measured.")
            return
        from profiler.variant_measurer import VariantMeasurer

        request = dataclasses.replace(w.controller._base_request, shapes=ws.shapes)
        measurer = functools.partial(
            VariantMeasurer, str(ws.source), trust=ws.trust, request=request, inputs=None, time_limit_s=TIME_LIMIT_S
        )
        self.thread = thread = BatchSweepThread(todo, measurer)
        self._left = len(todo)
        thread.measured.connect(self._on_measured)
        thread.stopped.connect(self._on_stopped)
        w.batch_chart.set_sweeping(True, f"measuring {len(todo)} batches in a worker of their own…")
        thread.start()

    def stop(self) -> None:
        if self.thread is not None and self.thread.isRunning():
            self.thread.stop()
            self._w.batch_chart.set_sweeping(True, "stopping after the batch being measured…")

    def _on_measured(self, result: Any) -> None:
        w = self._w
        w.workspace.add(result)
        self._left -= 1
        w.results_view.update_charts()
        w.batch_chart.set_sweeping(True, f"batch {result.variant.batch} measured; {self._left} to go")

    def _on_stopped(self, why: str) -> None:
        self._w.batch_chart.set_sweeping(False, "Sweep done." if not why else f"Sweep ended: {why}")
        self._w.schedule_autosave()

    def close(self) -> None:
        if self.thread is not None and self.thread.isRunning():
            self.thread.stop()
            self.thread.wait(15000)
