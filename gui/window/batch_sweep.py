"""Batch tab → Sweep batch: the variant shown, measured at every batch of SWEEP_BATCHES.

The batches run one after another on a thread, in a measurement worker of their own
(profiler/variant_measurer.py, as Optimize… does), so the knobs' worker and its supersede rules
are left alone; each result joins the workspace like any explored variant and the batch chart
fills as they arrive. Batches already measured are not measured again; a batch the memory guard
refuses ends the sweep there (larger ones would need more). Stop ends it after the batch being
measured.

When Run → Measure on… names a Ray cluster, the same batches run there instead, as one
`tradeoff sweep … --cluster ADDRESS` command (gui/window/cluster_runs.py): a dialog lists the
rows as they finish with the node or the error, Stop/Cancel cancels the remote tasks, and the
finished document's rows join the workspace (their totals: the document has no per-layer rows).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QThread, Signal

from gui.charts.batch_chart import SWEEP_BATCHES
from gui.controller import TIME_LIMIT_S
from gui.window.cluster_runs import (
    CliOutcome,
    CliProcess,
    ClusterRunDialog,
    RowProgress,
    results_from_sweep,
    sweep_arguments,
    unexpressible,
)
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
        self.process: CliProcess | None = None  # a sweep on a cluster
        self.dialog: ClusterRunDialog | None = None
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
        if self.running():
            return
        address = w.settings.measure_on
        if address:
            self._start_on_cluster(todo, address)
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

    def running(self) -> bool:
        return (self.thread is not None and self.thread.isRunning()) or (
            self.process is not None and self.process.running()
        )

    def stop(self) -> None:
        if self.process is not None and self.process.running():
            self.process.cancel()
            self._w.batch_chart.set_sweeping(True, "cancelling the remote tasks…")
            if self.dialog is not None:
                self.dialog.rows.status.setText("Cancelling: the command line cancels the remote tasks…")
                self.dialog.set_running(False)
            return
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

    # --- on a cluster -------------------------------------------------------------------------

    def _start_on_cluster(self, todo: list[Variant], address: str) -> None:
        w = self._w
        ws = w.workspace
        why = unexpressible(todo[0])
        if why:
            w.batch_chart.set_sweeping(
                False,
                f"This variant has {why}, which `tradeoff sweep` cannot ask for: "
                "sweep it on this machine (Run → Measure on…).",
            )
            return
        process = CliProcess(w)
        arguments = sweep_arguments(
            str(ws.source), todo, address=address, trust=ws.trust, shapes=ws.shapes,
            time_limit_s=TIME_LIMIT_S, json_file=process.json_file,
        )  # fmt: skip
        if self.dialog is None:
            self.dialog = ClusterRunDialog("Batch sweep on a cluster", w)
            self.dialog.cancel_requested.connect(self.stop)
        dialog = self.dialog
        dialog.heading.setText(
            f"{todo[0].with_(batch=None).label()} at batch {', '.join(str(v.batch) for v in todo)}, "
            f"measured on the cluster at {address}"
        )
        dialog.rows.reset([v.label() for v in todo])
        dialog.rows.status.setText("Connecting and shipping the model…")
        dialog.set_running(True)
        self.process = process
        process.row_finished.connect(self._on_process_row)
        process.finished.connect(functools.partial(self._on_process_finished, process, todo))
        w.batch_chart.set_sweeping(True, f"measuring {len(todo)} batches on the cluster at {address}…")
        process.start(arguments)
        dialog.show()
        dialog.raise_()

    def _on_process_row(self, row: RowProgress) -> None:
        if self.dialog is None:
            return
        self.dialog.rows.on_row(row)
        where = f"done on {row.host}" if row.ok else "failed"
        self.dialog.rows.status.setText(f"{row.label}: {where}; {row.total - row.done} to go")
        self._w.batch_chart.set_sweeping(True, f"{row.done} of {row.total} batches back from the cluster")

    def _on_process_finished(self, process: CliProcess, todo: list[Variant], outcome: CliOutcome) -> None:
        if process is not self.process:
            return
        self.process = None
        w = self._w
        dialog = self.dialog
        rows = dialog.rows if dialog is not None else None
        if dialog is not None:
            dialog.set_running(False)
        if outcome.cancelled:
            finished = sum(1 for state, _ in rows.states().values() if state in ("done", "failed")) if rows else 0
            if rows is not None:
                rows.end_waiting("cancelled")
            text = f"Sweep cancelled: {finished} of {len(todo)} batches had finished; nothing was kept."
            self._end(text)
            return
        ws = w.workspace
        reference = ws.reference
        if outcome.exit_code != 0 or outcome.document is None or reference is None:
            if rows is not None:
                rows.end_waiting("not run")
            self._end(f"Sweep on the cluster failed: {outcome.error or f'exit code {outcome.exit_code}'}")
            return
        try:
            results = results_from_sweep(outcome.document, todo, reference)
        except (ValueError, KeyError, TypeError) as exc:
            self._end(f"Sweep on the cluster: its document could not be read ({str(exc)[:160]})")
            return
        current = ws.current_key
        ok = [r for r in results if r.error is None and r.profile is not None]
        for r in ok:
            ws.add(r)
        ws.current_key = current  # the shown variant stays shown (a cluster row has totals only)
        w.results_view.update_charts()
        hosts = sorted(
            {str((v.get("environment") or {}).get("host") or "?") for v in outcome.document.get("variants", ())}
        )
        failed = len(results) - len(ok)
        text = f"Sweep done on the cluster: {len(ok)} batches measured on {', '.join(hosts) or '?'}"
        if failed:
            text += f"; {failed} failed (see the list)"
        if rows is not None:
            rows.end_waiting("not run")
        self._end(text + ".")
        w.schedule_autosave()

    def _end(self, text: str) -> None:
        self._w.batch_chart.set_sweeping(False, text)
        if self.dialog is not None:
            self.dialog.rows.status.setText(text)

    def close(self) -> None:
        if self.process is not None and self.process.running():
            process = self.process
            process.cancel()
            if not process.process.waitForFinished(15000):
                process.kill()
        if self.thread is not None and self.thread.isRunning():
            self.thread.stop()
            self.thread.wait(15000)
