"""Opening models and projects: the file dialogs, the trust and shape questions, the recent
list, saving projects, the autosave and the offer to restore it after a crash.

Code from a model file runs only by the user's choice. Formats that run code when loaded
(pickles, torch.export, TorchScript, Hugging Face custom code) are refused by the core without
trust (a `Failed` event of kind `needs_trust`): the window then asks. A `.py` factory runs
when the user chose that file (File → Open, the command line, a drop); named by a project, the
autosave or the recent-files list, the window asks first. Trust lives in this session's
workspace only: never in a project, the autosave or the settings.
"""

from __future__ import annotations

import dataclasses
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QFileDialog

from gui.session import (
    PROJECT_SUFFIX,
    ProjectError,
    claim_instance,
    is_project_path,
    load_project,
    orphaned_autosaves,
    release_instance,
    save_project,
)
from gui.state.workspace import Workspace
from profiler.errors import StudioError
from profiler.events import Failed, FailureKind
from profiler.variant import Variant

if TYPE_CHECKING:
    from gui.window.main_window import MainWindow

MODEL_FILTER = "Models (*.onnx *.pt2 *.pt *.pth *.ts *.ckpt *.bin *.py *.json);;All files (*)"
PROJECT_FILTER = f"Tradeoff projects (*{PROJECT_SUFFIX})"
AUTOSAVE_DELAY_MS = 1500
#: How a model came to be opened: only "chosen" (File → Open, the command line, a drop, a demo)
#: is the user's own choice of the file; the others ask before a .py factory runs.
CHOSEN, PROJECT, AUTOSAVE, RECENT = "chosen", "project", "autosave", "recent"
FACTORY_NOTICE = (
    "Opening a .py file runs its Python code — the function that builds the model — on this "
    "computer, with your permissions, as if you ran the file yourself. Open only files you trust."
)
Shapes = tuple[tuple[str | None, tuple[int, ...]], ...]


class Opening:
    """Which model is open, how it came to be opened, and whether its code may run."""

    def __init__(self, w: MainWindow) -> None:
        self._w = w
        #: how the open model came to be opened (CHOSEN, PROJECT…) and the file that named it
        self.origin: tuple[str, str] = (CHOSEN, "")
        self.declined: Workspace | None = None  # the workspace whose code the user declined to run
        #: kept until the new model's first result arrives: a file that fails to open must not
        #: cost the user the model they had
        self.previous_open: tuple[Workspace, Path | None, tuple[str, str]] | None = None
        self.opened_at = 0.0
        self.has_static = False  # the open model's counted profile is on screen
        self.autosave_timer = QTimer(w, singleShot=True, interval=AUTOSAVE_DELAY_MS)
        self.autosave_timer.timeout.connect(self.autosave)

    # == opening ===================================================================================

    def start(self, source: str, trust: bool = False) -> None:
        """Offer the autosave of an instance that is gone without a clean exit (never that of an
        instance still running: gui/session.py), then open `source`."""
        w = self._w
        crashed = w.settings.mark_running()
        claim_instance(w.autosave_path)
        orphans = orphaned_autosaves(w.autosave_path.parent, legacy_crashed=crashed)
        if orphans:
            newest = orphans[0]
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(newest.stat().st_mtime))
            restored = w.prompts.ask_restore(when) and self.open_project(newest, remember=False, origin=AUTOSAVE)
            # asked once: the orphans go (what was restored lives on as this instance's autosave)
            for orphan in orphans:
                if orphan != w.autosave_path:
                    release_instance(orphan)
            if restored:
                return
        if is_project_path(source):
            self.open_project(source)
        else:
            self.open_model(source, trust=trust)

    def open_model(self, source: str, *, trust: bool = False, shapes: Shapes = (), origin: str = CHOSEN) -> None:
        w = self._w
        problem = quick_check(source)
        if problem:
            self.fail_open(source, problem)
            return
        if origin == CHOSEN and is_factory(source):
            trust = True  # the user chose to open this Python file: running it is what that means
            self._factory_notice_once(source)
        w.controller.cancel()
        if w.workspace.results:
            self.previous_open = (w.workspace, w.project_path, self.origin)
        w.planner.switch_model(w.workspace.source, source)
        w.workspace = Workspace(source=source, trust=trust, shapes=tuple(shapes))
        self.origin = (origin, self.origin[1] if origin in (PROJECT, AUTOSAVE) else "")
        w.project_path = None
        self.has_static = False
        self.opened_at = time.perf_counter()
        w.controller.set_model(source, trust, tuple(shapes))
        w.knobs.set_variant(Variant())
        w.knobs.clear_model(f"{display_name(source)} is opening")  # the previous model's rules go
        w.deltas.clear()
        w.details.show_hint()
        w.model_label.setText(display_name(source))
        w.env_label.setText("opening…")
        w.update_title()
        w.statusBar().showMessage(f"Opening {source}…")
        if not self.request(Variant(), immediate=True):
            self.fail_open(source, f"{source}: not opened (its code was not trusted)")

    def open_project(self, path: str | Path, *, remember: bool = True, origin: str = PROJECT) -> bool:
        w = self._w
        try:
            ws, planner_state = load_project(path)
        except ProjectError as exc:
            w.prompts.error("Cannot open project", str(exc))
            return False
        if ws.source is None:
            w.prompts.error("Cannot open project", f"{path}: the project names no model")
            return False
        named_by = (origin, Path(path).name)
        if not ws.results and is_factory(ws.source):
            # Nothing stored to show: opening means running the factory. Ask before anything changes.
            if not self.ask_trust(ws.source, why(named_by)):
                w.prompts.error("Cannot open project", f"{path}: not opened (the code of {ws.source} was not trusted)")
                return False
            ws.trust = True
        w.controller.cancel()
        self.previous_open = None
        self.declined = None
        w.planner.switch_model(w.workspace.source, ws.source)  # the project's own inputs follow
        w.workspace = ws
        self.origin = named_by
        w.project_path = Path(path) if remember else None
        w.controller.set_model(ws.source, ws.trust, ws.shapes)
        w.model_label.setText(display_name(ws.source))
        w.planner.set_state(planner_state)
        self.has_static = bool(ws.results)
        current = ws.current
        if current is not None:
            w.results_view.restoring = True
            try:
                w.knobs.set_variant(ws.knobs)
                w.results_view.apply_model_profile(ws.reference or current.profile or current.baseline)
                w.results_view.show_result(current)
            finally:
                w.results_view.restoring = False
            w.statusBar().showMessage(f"Opened project {path} ({len(ws.results)} variants)", 5000)
        else:
            w.knobs.set_variant(Variant())
            w.knobs.clear_model(f"{display_name(ws.source)} is opening")
            w.deltas.clear()
            w.env_label.setText("opening…")
            self.request(Variant(), immediate=True)
        if remember:
            self.remember(str(path))
        w.update_title()
        return True

    def open_path(self, path: str) -> None:
        """A file the user chose (File → Open, a drop): a project by its `.tradeoff` extension
        only (a .json is a model, whatever it holds), else a model."""
        if is_project_path(path):
            self.open_project(path)
        else:
            self.open_model(path)

    def fail_open(self, source: str, message: str) -> None:
        w = self._w
        self._restore_previous_open()
        w.statusBar().showMessage(message, 10000)
        w.model_failed.emit(message)
        w.prompts.error("Cannot open model", message)

    def abandon_open(self, message: str) -> None:
        """The open was cancelled before the model's first result: back to the previous model."""
        self._restore_previous_open()
        self._w.statusBar().showMessage(message, 8000)

    def _restore_previous_open(self) -> None:
        """Back to the model that was open before a failed (or cancelled) open, results and all:
        its header, knobs and their rules, planner inputs and rows. With none before, the window
        says that no model is open (never "opening…")."""
        w = self._w
        if w.workspace.results:
            return
        previous = self.previous_open
        self.previous_open = None
        if previous is None:
            w.planner.switch_model(w.workspace.source, None)
            w.workspace = Workspace()
            w.project_path = None
            self.origin = (CHOSEN, "")
            self.has_static = False
            w.model_label.setText("No model")
            w.env_label.setText("")
            w.env_label.setToolTip("")
            w.knobs.set_variant(Variant())
            w.knobs.clear_model("open a model first")
            w.deltas.clear()
            shown = w.layer_data.profile
            if shown is not None and shown.layers:  # the failed model's counted rows go too
                w.layer_data.set_profile(dataclasses.replace(shown, layers=()))
                w.heatmap.reset()
                w.table.reset()
            w.details.show_hint()
            w.update_title()
            return
        ws, project_path, self.origin = previous
        w.planner.switch_model(w.workspace.source, ws.source)
        w.workspace = ws
        w.project_path = project_path
        assert ws.source is not None
        w.controller.set_model(ws.source, ws.trust, ws.shapes)
        w.model_label.setText(display_name(ws.source))
        current = ws.current
        w.results_view.restoring = True
        try:
            w.knobs.set_variant(current.variant if current is not None else ws.knobs)
            w.results_view.apply_model_profile(ws.reference or (current.profile if current else None))
            self.has_static = True
        finally:
            w.results_view.restoring = False
        if current is not None:
            for view in (w.heatmap, w.table):
                view.overrides = dict(current.variant.layer_prune)
            w.results_view.show_result(current)
        w.update_title()

    def remember(self, source: str) -> None:
        if source.startswith("demo:"):
            return
        self._w.settings.add_recent(source)
        self._w.menus.fill_recent()

    def model_failed_to_open(self, failure: Failed) -> None:
        """The worker could not open the model (no result yet): ask for a missing input size,
        else give up on this file and go back to the previous one."""
        w = self._w
        ws = w.workspace
        source = ws.source or ""
        message = failure.message
        missing = failure.fields.get("missing_dim")
        if failure.failure is FailureKind.MISSING_DIM and isinstance(missing, dict):
            raw = missing.get("input")
            name = str(raw) if raw is not None else None
            shape = w.prompts.ask_shape(name, message, missing)
            if shape:
                parsed = parse_shape(shape)
                if parsed is None:
                    self.fail_open(source, f"{shape!r} is not a shape like 1x3x224x224")
                    return
                shapes = tuple(s for s in ws.shapes if s[0] != name) + ((name, parsed),)
                self.open_model(source, trust=ws.trust, shapes=shapes, origin=self.origin[0])
                return
        self.fail_open(source, message)

    # == trust =====================================================================================

    def on_needs_trust(self, source: str, message: str) -> None:
        """The core refused to load the model without trust (its code would run): ask once per open."""
        w = self._w
        ws = w.workspace
        variant = w.controller.current_variant or Variant()
        if self.declined is not ws and self.ask_trust(source, why(self.origin)):
            if not ws.results:
                self.open_model(source, trust=True, shapes=ws.shapes, origin=self.origin[0])
            else:  # a project's stored results are on screen: measure the variant asked for
                ws.trust = True
                w.controller.set_model(source, True, ws.shapes)
                w.controller.request(variant, immediate=True)
            return
        self.declined = ws
        if not ws.results:
            self.fail_open(source, f"{source}: not opened (the file was not trusted)")
        else:
            w.statusBar().showMessage(
                f"{variant.label()} not measured: {source} was not trusted (its code would run) — "
                "the stored results are kept",
                15000,
            )
            w.results_view.restore_current_rows()

    def ask_trust(self, source: str, why: str) -> bool:
        """The trust question, with `why` (the project or autosave that named the file)."""
        return bool(self._w.prompts.confirm_trust(source, why))

    def may_run(self) -> bool:
        """Whether the open model may be loaded now. A .py factory that the user did not choose
        this session (a project, the autosave or a recent entry named it) asks first, once per open."""
        w = self._w
        ws = w.workspace
        if ws.source is None or ws.trust or not is_factory(ws.source):
            return True
        if self.declined is ws:
            return False
        if self.ask_trust(ws.source, why(self.origin)):
            ws.trust = True
            w.controller.set_model(ws.source, True, ws.shapes)
            return True
        self.declined = ws
        return False

    def request(self, variant: Variant, *, immediate: bool = False) -> bool:
        """Measure `variant` of the open model, if its code may run (`may_run`); False if not."""
        w = self._w
        if not self.may_run():
            w.statusBar().showMessage(
                f"Not measured: {w.workspace.source} runs Python code and was not trusted — reopen it to be asked again",
                15000,
            )
            return False
        w.controller.request(variant, immediate=immediate)
        return True

    def _factory_notice_once(self, source: str) -> None:
        """The first .py factory the user opens: say once that opening it runs its code."""
        w = self._w
        w.statusBar().showMessage(f"{display_name(source)} is a Python file: opening it runs its code", 10000)
        if w.settings.factory_notice_shown:
            return
        w.settings.mark_factory_notice_shown()
        w.prompts.notice("Opening a Python file", FACTORY_NOTICE)

    # == projects and autosave =====================================================================

    def schedule_autosave(self) -> None:
        if self._w.workspace.source is not None:
            self.autosave_timer.start()

    def autosave(self) -> None:
        w = self._w
        try:
            w.autosave_path.parent.mkdir(parents=True, exist_ok=True)
            save_project(w.autosave_path, w.workspace, w.planner_state())
        except (OSError, StudioError) as exc:
            detail = exc.problem if isinstance(exc, StudioError) else (exc.strerror or str(exc))
            w.statusBar().showMessage(f"Autosave failed: {detail}", 8000)

    def save_project(self, path: str | Path) -> bool:
        w = self._w
        try:
            save_project(path, w.workspace, w.planner_state())
        except (OSError, StudioError) as exc:
            detail = exc.problem if isinstance(exc, StudioError) else (exc.strerror or str(exc))
            w.prompts.error("Cannot save project", f"{path}: {detail}")
            return False
        w.project_path = Path(path)
        self.remember(str(path))
        w.update_title()
        w.statusBar().showMessage(f"Saved {path}", 5000)
        return True

    # == File menu =================================================================================

    def on_open_action(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self._w, "Open model", "", MODEL_FILTER)
        if path:
            self.open_path(path)

    def on_open_project_action(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self._w, "Open project", "", PROJECT_FILTER)
        if path:
            self.open_project(path)

    def on_save_action(self) -> None:
        if self._w.project_path is None:
            self.on_save_as_action()
        else:
            self.save_project(self._w.project_path)

    def on_save_as_action(self) -> None:
        default = (self._w.workspace.source or "project").split(":")[-1]
        path, _ = QFileDialog.getSaveFileName(
            self._w, "Save project", Path(default).stem + PROJECT_SUFFIX, PROJECT_FILTER
        )
        if path:
            if not Path(path).suffix:
                path += PROJECT_SUFFIX
            self.save_project(path)


def display_name(source: str) -> str:
    if source.startswith("demo:"):
        return source.split(":", 1)[1]
    return Path(source.split(":")[0]).name if source else ""


def quick_check(source: str) -> str | None:
    """Problems the UI can see without loading anything (the worker finds the rest)."""
    if source.startswith("demo:") or not source:
        return None if source else "no model given"
    path = Path(re.sub(r"(\.py):[A-Za-z_][\w.]*$", r"\1", source))
    if not path.exists():
        return f"{source}: no such file"
    if path.is_file() and path.stat().st_size == 0:
        return f"{source}: the file is empty"
    return None


def parse_shape(text: str) -> tuple[int, ...] | None:
    from profiler.errors import InputError
    from profiler.inputs import parse_shape as parse

    try:
        return parse(text)
    except InputError:
        return None


def is_factory(source: str) -> bool:
    """A Python factory (`net.py` or `net.py:make`): opening it runs the file's code."""
    if source.startswith("demo:"):
        return False
    path = re.sub(r"(\.py):[A-Za-z_][\w.]*$", r"\1", source)
    return path.lower().endswith(".py")


def why(origin: tuple[str, str]) -> str:
    """Why the trust question comes up again: the file was named by a project, the autosave or
    the recent list, and trust is never stored. "" when the user chose the file just now."""
    kind, name = origin
    if kind == PROJECT:
        return (
            f"The project {name} names this file. Projects never keep trust, so Tradeoff Studio asks "
            "before the file's code runs."
        )
    if kind == AUTOSAVE:
        return (
            "The session restored after a crash names this file. The autosave never keeps trust, so "
            "Tradeoff Studio asks before the file's code runs."
        )
    if kind == RECENT:
        return (
            "You picked this file from the recent files list. Trust is never remembered, so Tradeoff Studio asks again."
        )
    return ""
