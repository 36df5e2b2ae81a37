"""The app's side of reports, exports and traces: File → Export report (Ctrl+E), File → Export
data, Tools → Record trace, Tools → Open in TensorBoard.

What these read from the main window (gui/window/exporting.py wires the actions to them), in order
of preference:

- `window.report_inputs() -> gui.report.ReportInputs | None` — the current baseline profile,
  the variants measured so far (VariantResult), the chosen one, and the plans (build it with
  `gui.report.build_report_inputs(baseline, results, options=PlanOptions, catalog=Catalog,
  chosen_label=…)`). None (or a missing method) = nothing to report yet.
- `window.trace_payload() -> dict` — what to trace: the keys of `profiler.tasks.variant_task`'s
  payload: {"source", "trust", "request" (profiler.tasks.request_to_dict), "inputs", "variant"
  (Variant.to_dict() of the current variant)}. The trace runs in its own spawned worker.
- Without those methods: `window.workspace` (gui.state.workspace.Workspace: `reference`,
  `results`, `current`, `source`, `trust`, `shapes`, `knobs`) and `window.planner`
  (`options() -> PlanOptions`, `catalog`). The chosen variant is the workspace's current one
  (when it is not the plain baseline); otherwise the rule of `build_report_inputs`. Prices are
  the catalog's list prices (the panel's negotiated discount is not applied in the PDF).

Each function takes optional arguments that skip its file dialog (tests, scripted use), and
shows a message box on failure unless `quiet=True` (then it raises). A report written ends with a
message box offering Open and Show in folder (`report_written_box`), not with `quiet=True`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QLocale, QStandardPaths, Qt, QTimer, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from gui import plain_text
from profiler.errors import StudioError

from .inputs import ReportInputs

PDF_FILTERS = {"PDF, A4 (*.pdf)": "a4", "PDF, Letter (*.pdf)": "letter"}
_LETTER_TERRITORIES = {"UnitedStates", "Canada", "Mexico", "Chile", "Colombia", "Philippines", "Venezuela", "Guatemala",
                       "CostaRica", "Panama", "DominicanRepublic", "PuertoRico"}  # fmt: skip
_tensorboards: list[Any] = []

if TYPE_CHECKING:
    from profiler.trace import TraceResult


def default_page_size() -> str:
    """Letter where the locale's territory uses it, A4 elsewhere."""
    territory = QLocale().territory()
    name = getattr(territory, "name", str(territory))
    return "letter" if name in _LETTER_TERRITORIES else "a4"


def _inputs_of(window: Any) -> ReportInputs | None:
    """`window.report_inputs()` when the window has it; else built from the main window's
    `workspace` (gui.state.workspace.Workspace: reference profile, results, current variant)
    and `planner` (PlannerPanel: `options()` and `catalog`)."""
    getter = getattr(window, "report_inputs", None)
    if callable(getter):
        return getter()  # type: ignore[no-any-return]
    ws = getattr(window, "workspace", None)
    if ws is None or getattr(ws, "reference", None) is None:
        return None
    from .inputs import _is_plain_baseline, _same_model, build_report_inputs

    # only what was measured on the model shown (build_report_inputs drops any other model's)
    results = [r for r in ws.results.values() if _same_model(r, ws.reference)]
    current = ws.current
    chosen = (
        None
        if current is None
        or current.error is not None
        or _is_plain_baseline(current)
        or not _same_model(current, ws.reference)
        else current.variant.label()
    )
    planner = getattr(window, "planner", None)
    options = catalog = None
    if planner is not None:
        try:
            options, catalog = planner.options(), planner.catalog
        except (AttributeError, ValueError, StudioError):
            options = catalog = None
    inputs = build_report_inputs(ws.reference, results, options=options, catalog=catalog, chosen_label=chosen)
    optimizing = getattr(window, "optimizing", None)
    result = None if optimizing is None else optimizing.outcome_for(ws.source, chosen)
    if result is not None:  # the variant shown is the optimizer's recommendation: page 1 says why
        from dataclasses import replace

        from planner.optimize.result import choice_rule

        inputs = replace(inputs, optimize=result, choice_rule=choice_rule(result))
    return inputs


def _trace_payload_of(window: Any) -> dict[str, Any] | None:
    """`window.trace_payload()`, else the main window's workspace: its model and current variant."""
    getter = getattr(window, "trace_payload", None)
    if callable(getter):
        return getter()  # type: ignore[no-any-return]
    ws = getattr(window, "workspace", None)
    if ws is None or not getattr(ws, "source", None):
        return None
    from profiler.analyze import ProfileRequest
    from profiler.tasks import request_to_dict

    variant = ws.current.variant if ws.current is not None else ws.knobs
    return {
        "source": ws.source,
        "trust": bool(ws.trust),
        "request": request_to_dict(ProfileRequest(shapes=tuple(ws.shapes))),
        "inputs": None,
        "variant": variant.to_dict(),
    }


def _documents_dir() -> str:
    return QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation) or str(Path.home())


def _fail(window: Any, title: str, message: str, quiet: bool, exc: BaseException | None = None) -> None:
    if quiet:
        if exc is not None:
            raise exc
        raise RuntimeError(message)
    # messages name files and repeat errors: plain text, never markup (gui/plain_text.py)
    plain_text.warning(window if isinstance(window, QWidget) else None, title, message)


def export_report_dialog(
    window: Any, *, path: str | None = None, page_size: str | None = None, quiet: bool = False
) -> str | None:
    """File → Export report (Ctrl+E): ask where (A4 or Letter by the chosen filter), render the
    PDF from `window.report_inputs()`, write it atomically. Returns the path written, or None."""
    inputs = _inputs_of(window)
    if inputs is None:
        _fail(
            window, "Export report", "There is nothing to report yet: open a model and let it be measured first.", quiet
        )
        return None
    if path is None:
        size = page_size or default_page_size()
        filters = list(PDF_FILTERS)
        selected = next(f for f, s in PDF_FILTERS.items() if s == size)
        suggested = os.path.join(_documents_dir(), f"{inputs.model_name}-cost-report.pdf")
        path, chosen_filter = QFileDialog.getSaveFileName(
            window if isinstance(window, QWidget) else None, "Export report", suggested, ";;".join(filters), selected
        )
        if not path:
            return None
        if not path.lower().endswith(".pdf"):
            path += ".pdf"
        page_size = PDF_FILTERS.get(chosen_filter, size)
    from .pdf import render_report_pdf

    QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
    try:
        pages = render_report_pdf(inputs, path, page_size=page_size or default_page_size())
    except StudioError as exc:
        QGuiApplication.restoreOverrideCursor()
        _fail(window, "Export report", f"The report was not written.\n\n{exc}", quiet, exc)
        return None
    else:
        QGuiApplication.restoreOverrideCursor()
    _status(window, f"Report written to {path}")
    if not quiet:  # the user asked for the file: offer to open it, or the folder it is in
        report_written_box(window if isinstance(window, QWidget) else None, path, pages).exec()
    return path


def open_url(url: QUrl) -> bool:
    """Open a file or folder with the desktop's handler (QDesktopServices; tests replace this)."""
    return bool(QDesktopServices.openUrl(url))


def report_written_box(parent: QWidget | None, path: str, pages: int) -> QMessageBox:
    """The end of File → Export report: "The report was written" with Open (the PDF in the
    desktop's viewer), Show in folder (the folder holding it) and Close. Built, not shown: the
    caller runs `exec()`. The buttons are named `open_report` and `show_report_folder`."""
    folder = os.path.dirname(os.path.abspath(path))
    box = plain_text.message_box(
        parent,
        QMessageBox.Icon.Information,
        "Export report",
        f"The report was written ({pages} page{'s' if pages != 1 else ''}).",
        f"{path}\n\nThe full tables (every layer, variant and hardware option) are in File → Export data (CSV and JSON).",
    )
    open_button = box.addButton("Open", QMessageBox.ButtonRole.AcceptRole)
    open_button.setObjectName("open_report")
    folder_button = box.addButton("Show in folder", QMessageBox.ButtonRole.ActionRole)
    folder_button.setObjectName("show_report_folder")
    box.addButton(QMessageBox.StandardButton.Close)
    box.setDefaultButton(open_button)

    def on_clicked(button: Any) -> None:
        if button is open_button:
            target = path
        elif button is folder_button:
            target = folder
        else:
            return
        if not open_url(QUrl.fromLocalFile(os.path.abspath(target))):
            plain_text.warning(parent, "Export report", f"No application could open {target}.")

    box.buttonClicked.connect(on_clicked)
    return box


def export_data_dialog(window: Any, *, folder: str | None = None, quiet: bool = False) -> list[str]:
    """File → Export data: write layers, variants and cost tables as CSV and JSON (the
    docs/CONTRACT.md schemas) into a folder. Returns the paths written."""
    inputs = _inputs_of(window)
    if inputs is None:
        _fail(
            window, "Export data", "There is nothing to export yet: open a model and let it be measured first.", quiet
        )
        return []
    if folder is None:
        folder = QFileDialog.getExistingDirectory(
            window if isinstance(window, QWidget) else None, "Export data to folder", _documents_dir()
        )
        if not folder:
            return []
    from planner.plan import plan_csv_text
    from profiler.exports import export_bundle

    try:
        written = export_bundle(
            folder,
            profile=inputs.baseline,
            sweep=inputs.sweep,
            plan=inputs.plan_baseline,
            plan_csv=plan_csv_text,
            extra_plans={"chosen": inputs.plan_chosen},
        )
    except StudioError as exc:
        _fail(window, "Export data", f"The data was not exported.\n\n{exc}", quiet, exc)
        return []
    _status(window, f"{len(written.paths)} files written to {folder}")
    return [str(p) for p in written.paths]


def record_trace_dialog(
    window: Any, *, logdir: str | None = None, quiet: bool = False, timeout_s: float = 600.0
) -> TraceResult | None:
    """Tools → Record trace: profile the current variant with torch.profiler in a worker
    process (a progress dialog can cancel it) into a log folder. Returns the TraceResult."""
    from profiler.events import Cancelled, Failed, Finished, Progress
    from profiler.trace import TraceResult
    from profiler.worker import Runner

    payload = _trace_payload_of(window)
    if not payload:
        _fail(window, "Record trace", "There is no model to trace yet.", quiet)
        return None
    if logdir is None:
        logdir = QFileDialog.getExistingDirectory(
            window if isinstance(window, QWidget) else None, "Log folder for the trace", _documents_dir()
        )
        if not logdir:
            return None
    parent = window if isinstance(window, QWidget) else None
    progress = plain_text.progress_dialog("Recording a torch.profiler trace…", "Cancel", 0, 100, parent)
    progress.setWindowModality(Qt.WindowModality.WindowModal)
    progress.setMinimumDuration(300)
    runner = Runner()
    end: list[Any] = []
    try:
        run_id = runner.submit("profiler.trace:trace_task", {**payload, "logdir": str(logdir)}, time_limit_s=timeout_s)
        from PySide6.QtCore import QEventLoop

        loop = QEventLoop()

        def poll() -> None:
            if progress.wasCanceled():
                runner.cancel()
            for ev in runner.poll():
                if ev.run_id != run_id:
                    continue
                if isinstance(ev, Progress):
                    progress.setValue(int(100 * ev.fraction))
                    progress.setLabelText(ev.message)  # the dialog's label is plain text (plain_text.progress_dialog)
                if ev.terminal:
                    end.append(ev)
                    loop.quit()

        timer = QTimer()
        timer.timeout.connect(poll)
        timer.start(50)
        loop.exec()
        timer.stop()
    finally:
        progress.close()
        runner.close()
    ev = end[0] if end else None
    if not isinstance(ev, Finished):
        if isinstance(ev, Cancelled):
            return None
        message = ev.message if isinstance(ev, Failed) else "the trace was not recorded"
        _fail(window, "Record trace", f"The trace was not recorded.\n\n{message}", quiet)
        return None
    result = TraceResult.from_dict(ev.result)
    _status(window, f"Trace recorded: {result.run_dir} (Chrome trace for Perfetto: {result.chrome_trace})")
    return result


def open_in_tensorboard(window: Any, logdir: str, *, open_browser: bool = True, quiet: bool = False) -> Any:
    """Tools → Open in TensorBoard: start TensorBoard with the PyTorch profiler plugin on
    127.0.0.1 (a free port) over `logdir` and open the browser. The server is stopped when the
    application quits. Returns the TensorBoardProcess."""
    from profiler.tensorboard import start_tensorboard

    QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
    try:
        tb = start_tensorboard(logdir, open_browser=open_browser)
    except StudioError as exc:
        QGuiApplication.restoreOverrideCursor()
        _fail(window, "Open in TensorBoard", f"TensorBoard did not start.\n\n{exc}", quiet, exc)
        return None
    QGuiApplication.restoreOverrideCursor()
    _tensorboards.append(tb)
    app = QGuiApplication.instance()
    if app is not None and len(_tensorboards) == 1:
        app.aboutToQuit.connect(stop_tensorboards)
    _status(window, f"TensorBoard: {tb.profiler_url}")
    return tb


def stop_tensorboards() -> None:
    """Stop every TensorBoard this app started."""
    while _tensorboards:
        _tensorboards.pop().stop()


def _status(window: Any, message: str) -> None:
    bar = getattr(window, "statusBar", None)
    if callable(bar):
        try:
            bar().showMessage(message, 8000)
        except Exception:  # a window without a status bar: the message is optional
            pass
