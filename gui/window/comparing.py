"""Run → Compare with…: the open model (A) against a second model (B), side by side.

The window's part (`Comparing`) asks for B (a file or a demo), runs `profiler.tasks:compare_task`
in a measurement worker of its own (`CompareRun`, a `profiler.worker.Runner` polled from a
QTimer as gui/controller.py polls its own; the model's code never runs in the app) under the
app's time limit, and shows the result in a `CompareWindow` (gui/widgets/compare_view.py): totals
with B ÷ A, the aligned layers, the fidelity of B against A and the serving cost of each at the
Planner tab's current inputs (planner/compare_costs.py, as `tradeoff compare` computes them;
planned again when those inputs change). The window shows the progress, can cancel, and exports
the comparison as JSON (`tradeoff.compare/1`), CSV (the aligned layers) or PDF (the compare
page, gui/report/section_compare.py).

Trust follows gui/window/opening.py: A runs only if the open model may run (`may_run`: a .py
factory named by a project asks first); B is the user's choice now, so a .py factory runs (with
the one-time notice). A file that runs code when loaded is refused by the core (`needs_trust`)
and the user is asked about that file. The worker takes one trust flag for both models, so it
is set only when every side is trusted by the user or known not to need it (a demo, ONNX, a
.py factory, or a side that already loaded without trust); when the flag is needed for one side
and the other is unknown, the user is asked about the other too, saying why. Trust lives in
this session only (A's in the workspace, B's for this comparison), never in a file.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QProgressBar, QPushButton, QVBoxLayout, QWidget

from gui import plain_text
from gui.widgets.compare_view import ChooseModelDialog, CompareView
from gui.window.opening import FACTORY_NOTICE, MODEL_FILTER, display_name, is_factory, quick_check, why
from profiler.events import Cancelled, Failed, FailureKind, Finished, Progress, RunEvent

if TYPE_CHECKING:
    from gui.controller import RunnerLike
    from gui.window.main_window import MainWindow

COMPARE_TASK = "profiler.tasks:compare_task"
POLL_MS = 30
#: a comparison measures both models a little harder than a live knob change does
COMPARE_BUDGET_S = 1.0
COMPARE_LAYER_RUNS = 3
SHARED_TRUST = (
    "The comparison loads both models in one measurement worker with one trust setting: to run "
    "the model you trusted, this file must be trusted too."
)


def _default_runner() -> RunnerLike:
    from profiler.worker import Runner

    return Runner()  # type: ignore[return-value]


class CompareRun(QObject):
    """One compare task at a time in a worker of its own; signals say how it went."""

    progress_changed = Signal(float, str)
    finished = Signal(object)  # the task's result: {"profiles": [a, b], "fidelity", "fidelity_note"}
    failed = Signal(object)  # profiler.events.Failed
    cancelled = Signal()

    def __init__(self, runner_factory: Callable[[], RunnerLike] | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._factory = runner_factory or _default_runner
        self._runner: RunnerLike | None = None
        self._run_id: int | None = None
        self._poll = QTimer(self, interval=POLL_MS)
        self._poll.timeout.connect(self._on_poll_timer)

    @property
    def busy(self) -> bool:
        return self._run_id is not None

    def start(self, payload: dict[str, Any], *, time_limit_s: float) -> int:
        if self._runner is None:
            self._runner = self._factory()
        self._run_id = self._runner.submit(COMPARE_TASK, payload, time_limit_s=time_limit_s)
        self._poll.start()
        return self._run_id

    def cancel(self) -> None:
        if self._runner is not None and self._run_id is not None:
            self._runner.cancel()

    def close(self) -> None:
        self._poll.stop()
        self._run_id = None
        if self._runner is not None:
            self._runner.close()
            self._runner = None

    def _on_poll_timer(self) -> None:
        runner = self._runner
        if runner is None:
            self._poll.stop()
            return
        for event in runner.poll(0.0):
            self._dispatch(event)
        if self._run_id is None and not runner.busy:
            self._poll.stop()

    def _dispatch(self, event: RunEvent) -> None:
        if event.run_id != self._run_id:
            return  # an earlier comparison's last word
        if isinstance(event, Progress):
            self.progress_changed.emit(float(event.fraction), event.message)
        elif isinstance(event, Finished):
            self._run_id = None
            self.finished.emit(event.result)
        elif isinstance(event, Failed):
            self._run_id = None
            self.failed.emit(event)
        elif isinstance(event, Cancelled):
            self._run_id = None
            self.cancelled.emit()


class CompareWindow(QWidget):
    """A top-level window over one comparison: progress and Cancel while it runs, then the view
    and the exports. Signals: `comparison_shown(Comparison)`, `compare_failed(str)`,
    `compare_cancelled()`."""

    comparison_shown = Signal(object)
    compare_failed = Signal(str)
    compare_cancelled = Signal()
    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("CompareWindow")
        self.setWindowTitle("Compare — Tradeoff Studio")
        self.comparison: Any = None
        self.title = plain_text.label("", objectName="ModelTitle")
        self.title.setStyleSheet("font-size: 12pt; font-weight: 600;")
        self.stage = plain_text.label("", objectName="Muted")
        self.progress = QProgressBar(maximum=1000, textVisible=True)
        self.progress.setFormat("%p%")  # the stage's words go in a plain label, never in the format
        self.progress.setFixedWidth(260)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the comparison (Esc)")
        self.cancel_button.clicked.connect(self.cancel_requested)
        QShortcut(QKeySequence("Esc"), self, self._on_escape)
        self.status = plain_text.label("")
        self.status.setWordWrap(True)
        self.view = CompareView()
        self.json_button = QPushButton("Export JSON…")
        self.csv_button = QPushButton("Export CSV…")
        self.pdf_button = QPushButton("Export PDF…")
        self.json_button.setToolTip("The comparison as a tradeoff.compare/1 document")
        self.csv_button.setToolTip("The aligned layer table")
        self.pdf_button.setToolTip("The compare page: totals, top layer changes, fidelity and cost")
        self.json_button.clicked.connect(lambda: self.export_json())
        self.csv_button.clicked.connect(lambda: self.export_csv())
        self.pdf_button.clicked.connect(lambda: self.export_pdf())

        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.stage)
        top.addWidget(self.progress)
        top.addWidget(self.cancel_button)
        bottom = QHBoxLayout()
        bottom.addWidget(self.status, 1)
        for b in (self.json_button, self.csv_button, self.pdf_button):
            bottom.addWidget(b)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(10, 8, 10, 8)
        lay.addLayout(top)
        lay.addWidget(self.view, 1)
        lay.addLayout(bottom)
        self._set_exports(False)
        self.resize(1500, 820)

    # -- states ----------------------------------------------------------------------------------

    def _set_exports(self, on: bool) -> None:
        for b in (self.json_button, self.csv_button, self.pdf_button):
            b.setEnabled(on)

    def _set_running(self, running: bool) -> None:
        self.progress.setVisible(running)
        self.cancel_button.setVisible(running)
        self.stage.setVisible(running)

    def show_running(self, source_a: str, source_b: str) -> None:
        self.comparison = None
        self.view.clear()
        self._set_exports(False)
        self.title.setText(f"{display_name(source_a)}  vs  {display_name(source_b)}")
        self.setWindowTitle(
            plain_text.window_title(f"Compare {display_name(source_a)} vs {display_name(source_b)} — Tradeoff Studio")
        )
        self.status.setText(f"Measuring A ({source_a}) and B ({source_b}) in the measurement worker…")
        self.progress.setValue(0)
        self.stage.setText("starting the worker")
        self._set_running(True)

    def show_progress(self, fraction: float, message: str) -> None:
        self.progress.setValue(int(1000 * max(0.0, min(1.0, fraction))))
        self.stage.setText(message[:80])

    def show_comparison(self, c: Any, *, cost_title: str = "") -> None:
        self.comparison = c
        self._set_running(False)
        self.view.set_comparison(c, cost_title=cost_title)
        self.status.setText("Measured on this machine; costs projected from the Planner tab's inputs.")
        self._set_exports(True)
        self.comparison_shown.emit(c)

    def show_costs(self, c: Any, *, cost_title: str = "") -> None:
        self.comparison = c
        self.view.set_costs(c, cost_title=cost_title)

    def show_failure(self, message: str) -> None:
        self._set_running(False)
        self.status.setText(f"Not compared: {message}")
        self.compare_failed.emit(message)

    def show_cancelled(self) -> None:
        self._set_running(False)
        self.status.setText("Comparison cancelled.")
        self.compare_cancelled.emit()

    def _on_escape(self) -> None:
        if self.cancel_button.isVisibleTo(self):
            self.cancel_requested.emit()

    # -- exports ---------------------------------------------------------------------------------

    def _stem(self) -> str:
        c = self.comparison
        return f"compare-{c.profile_a.model.name}-vs-{c.profile_b.model.name}" if c is not None else "compare"

    def _ask_path(self, title: str, suffix: str, kind: str) -> str:
        path, _ = QFileDialog.getSaveFileName(self, title, self._stem() + suffix, f"{kind} (*{suffix})")
        if path and not Path(path).suffix:
            path += suffix
        return path

    def export_json(self, path: str | None = None) -> bool:
        """The comparison as a `tradeoff.compare/1` document; True when written."""
        from profiler.safe_io import write_text_atomic

        return self._export(
            path,
            "Export comparison (JSON)",
            ".json",
            "JSON",
            lambda p: write_text_atomic(p, json.dumps(self.comparison.to_dict(), indent=2) + "\n"),
        )

    def export_csv(self, path: str | None = None) -> bool:
        """The aligned layer table (the columns of `layers[]`)."""
        from profiler.compare import comparison_csv
        from profiler.safe_io import write_text_atomic

        return self._export(
            path,
            "Export aligned layers (CSV)",
            ".csv",
            "CSV",
            lambda p: write_text_atomic(p, comparison_csv(self.comparison)),
        )

    def export_pdf(self, path: str | None = None) -> bool:
        """The compare page as a PDF."""
        from gui.report.section_compare import render_compare_pdf

        return self._export(
            path, "Export comparison (PDF)", ".pdf", "PDF", lambda p: render_compare_pdf(self.comparison, p)
        )

    def _export(self, path: str | None, title: str, suffix: str, kind: str, write: Callable[[str], Any]) -> bool:
        if self.comparison is None:
            return False
        target = path or self._ask_path(title, suffix, kind)
        if not target:
            return False
        try:
            write(target)
        except Exception as exc:  # noqa: BLE001 — an unwritable file is a message, never a crash
            detail = getattr(exc, "problem", None) or getattr(exc, "strerror", None) or str(exc)
            self.status.setText(f"Not exported: {target}: {detail}")
            return False
        self.status.setText(f"Wrote {target}")
        return True

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.cancel_button.isVisibleTo(self):
            self.cancel_requested.emit()
        super().closeEvent(event)


@dataclass
class _Job:
    """One comparison asked for: its two sources and what this comparison knows about trust."""

    source_a: str
    source_b: str
    request: dict[str, Any]
    trusted_b: bool = False
    safe: set[str] = field(default_factory=set)  # sources that loaded without trust
    asked: set[str] = field(default_factory=set)  # asked once per comparison, never in a loop
    started_at: float = 0.0


def known_safe(source: str) -> bool:
    """A source that never needs the trust flag: a demo, an ONNX file, a .py factory (which runs
    by the user's choice of the file, not by the flag)."""
    return source.startswith("demo:") or source.lower().endswith(".onnx") or is_factory(source)


class Comparing:
    """Run → Compare with…; holds the Compare window and its worker."""

    def __init__(self, w: MainWindow, runner_factory: Callable[[], RunnerLike] | None = None) -> None:
        self._w = w
        self.runner_factory = runner_factory
        self.window: CompareWindow | None = None
        self.run: CompareRun | None = None
        self.job: _Job | None = None
        self._flag = False  # the trust flag the running comparison was started with
        w.planner.plan_changed.connect(self._on_planner_plan_changed)

    # == asking ====================================================================================

    def on_compare_action(self) -> None:
        w = self._w
        if w.workspace.source is None:
            w.prompts.error("Compare", "Open a model first: it is A, the model you compare with is B.")
            return
        dialog = ChooseModelDialog(w, model_filter=MODEL_FILTER)
        if dialog.exec() and dialog.source():
            self.compare_with(dialog.source())

    def compare_with(self, source_b: str) -> CompareWindow | None:
        """Compare the open model (A) with `source_b` (B, the user's choice now); the window
        shows the run and then the result. None when nothing could start."""
        w = self._w
        source_a = w.workspace.source
        if source_a is None:
            w.prompts.error("Compare", "Open a model first: it is A, the model you compare with is B.")
            return None
        problem = quick_check(source_b)
        if problem:
            w.prompts.error("Cannot compare", problem)
            return None
        if not w.opening.may_run():
            w.statusBar().showMessage(f"Not compared: {source_a} runs Python code and was not trusted", 15000)
            return None
        if is_factory(source_b):
            self._factory_notice_once(source_b)
        self.job = _Job(source_a, source_b, self._request())
        window = self._window()
        window.show_running(source_a, source_b)
        window.show()
        window.raise_()
        self._start()
        return window

    def _factory_notice_once(self, source: str) -> None:
        w = self._w
        w.statusBar().showMessage(f"{display_name(source)} is a Python file: comparing with it runs its code", 10000)
        if not w.settings.factory_notice_shown:
            w.settings.mark_factory_notice_shown()
            w.prompts.notice("Opening a Python file", FACTORY_NOTICE)

    def _request(self) -> dict[str, Any]:
        from gui.controller import app_measure_threads
        from profiler.analyze import ProfileRequest
        from profiler.tasks import request_to_dict

        ws = self._w.workspace
        request = ProfileRequest(
            shapes=ws.shapes,
            device=str(ws.knobs.device),
            threads=app_measure_threads(),
            budget_s=COMPARE_BUDGET_S,
            layer_runs=COMPARE_LAYER_RUNS,
        )
        return request_to_dict(request)

    # == trust =====================================================================================

    def _trusted_a(self, job: _Job) -> bool:
        ws = self._w.workspace
        return ws.source == job.source_a and ws.trust

    def trust_flag(self, job: _Job) -> bool:
        """The worker's one trust flag: set only when some side is trusted by the user and every
        side is trusted or known not to need it."""
        sides = ((job.source_a, self._trusted_a(job)), (job.source_b, job.trusted_b))
        if not any(t for _, t in sides):
            return False
        return all(t or known_safe(s) or s in job.safe for s, t in sides)

    def _on_needs_trust(self, job: _Job, failure: Failed, flag: bool) -> None:
        w = self._w
        text = failure.message or ""
        b_failed = job.source_b != job.source_a and (
            failure.file == job.source_b or (failure.file != job.source_a and text.startswith(job.source_b))
        )
        if b_failed:
            if not flag:
                job.safe.add(job.source_a)  # A loads first: it opened without trust
            ask, whose, reason = job.source_b, "b", ""
        elif self._trusted_a(job):
            # A is trusted; the flag was held back because B is not known to be safe
            ask, whose, reason = job.source_b, "b", SHARED_TRUST
        else:
            ask, whose, reason = job.source_a, "a", why(w.opening.origin)
        if ask in job.asked:
            self._fail(f"{ask} was not trusted (its code would run)")
            return
        job.asked.add(ask)
        if not w.opening.ask_trust(ask, reason):
            self._fail(f"{ask} was not trusted (its code would run)")
            return
        if whose == "b":
            job.trusted_b = True
        else:
            ws = w.workspace
            ws.trust = True  # as opening.py does: this session's workspace only
            w.controller.set_model(job.source_a, True, ws.shapes)
        self._start()

    # == running ===================================================================================

    def _window(self) -> CompareWindow:
        if self.window is None:
            self.window = CompareWindow(self._w)
            self.window.cancel_requested.connect(self.cancel)
        if self.run is None:
            self.run = CompareRun(self.runner_factory, self._w)
            self.run.progress_changed.connect(self._on_run_progress)
            self.run.finished.connect(self._on_run_finished)
            self.run.failed.connect(self._on_run_failed)
            self.run.cancelled.connect(self._on_run_cancelled)
        return self.window

    def _start(self) -> None:
        from gui.controller import TIME_LIMIT_S

        job, run = self.job, self.run
        assert job is not None and run is not None
        self._flag = self.trust_flag(job)
        payload = {
            "sources": [job.source_a, job.source_b],
            "trust": self._flag,
            "request": job.request,
            "inputs": None,
        }
        job.started_at = time.perf_counter()
        run.start(payload, time_limit_s=TIME_LIMIT_S)

    def cancel(self) -> None:
        if self.run is not None and self.run.busy:
            self.run.cancel()

    def close(self) -> None:
        if self.run is not None:
            self.run.close()
        if self.window is not None:
            self.window.close()

    def _on_run_progress(self, fraction: float, message: str) -> None:
        if self.window is not None:
            self.window.show_progress(fraction, message)

    def _on_run_failed(self, failure: Failed) -> None:
        job = self.job
        if job is None:
            return
        if failure.failure is FailureKind.NEEDS_TRUST:
            self._on_needs_trust(job, failure, self._flag)
            return
        self._fail(failure.message or failure.failure.value)

    def _on_run_cancelled(self) -> None:
        if self.window is not None:
            self.window.show_cancelled()
        self._w.statusBar().showMessage("Comparison cancelled", 5000)

    def _fail(self, message: str) -> None:
        if self.window is not None:
            self.window.show_failure(message)
        self._w.statusBar().showMessage(f"Not compared: {message}", 15000)

    def _on_run_finished(self, result: Any) -> None:
        job = self.job
        if job is None:
            return
        try:
            comparison = self._build(job, result)
        except Exception as exc:  # a malformed result is a bug in the core: say so, carry on
            self._fail(f"the comparison returned an unreadable result ({type(exc).__name__}: {exc})")
            return
        if self.window is not None:
            self.window.show_comparison(comparison, cost_title=self._cost_title())
        took = time.perf_counter() - job.started_at
        self._w.statusBar().showMessage(f"Compared {job.source_a} with {job.source_b} in {took:.1f} s", 8000)

    def _build(self, job: _Job, result: dict[str, Any]) -> Any:
        from profiler.compare import build_comparison
        from profiler.fidelity import Fidelity
        from profiler.result import Profile

        profiles = [Profile.from_dict(d) for d in result["profiles"]]
        for p in profiles:
            p.check()
        fid = result.get("fidelity")
        comparison = build_comparison(
            job.source_a,
            profiles[0],
            job.source_b,
            profiles[1],
            fidelity=None if fid is None else Fidelity.from_dict(fid),
            fidelity_note=result.get("fidelity_note"),
            costs=self.costs_of(profiles),
        )
        comparison.check()
        return comparison

    # == cost ======================================================================================

    def costs_of(self, profiles: list[Any]) -> dict[str, Any]:
        """Each profile's serving answer at the Planner tab's current options and catalog."""
        from planner.compare_costs import plan_each, serving_costs

        planner = self._w.planner
        return serving_costs(plan_each(profiles, planner.options(), planner.catalog))

    def _cost_title(self) -> str:
        return f"Planned with the Planner tab's inputs: ranked by {self._w.planner.serving_cost_title}"

    def _on_planner_plan_changed(self, _plan: object) -> None:
        win = self.window
        if win is None or win.comparison is None or not win.isVisible():
            return
        c = win.comparison
        win.show_costs(replace(c, costs=self.costs_of([c.profile_a, c.profile_b])), cost_title=self._cost_title())
