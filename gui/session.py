"""Project files (`tradeoff.project/1`), autosave and crash recovery, and the app's settings.

A project is the model source, the knobs, every variant explored with its `VariantResult`
(so reopening shows the results without re-measuring), and the planner inputs. Writes are
atomic (a crash mid-write leaves the old file). The autosave lives in the user data folder;
a "clean exit" flag in the settings tells the next start whether to offer restoring it.

Trust is never stored: a project (or the autosave) names its model, not whether the user trusted
it. Permission to run a file's code is asked for each time the file is opened; a `"trust"` key in
an older project file is ignored. Only `*.tradeoff` files are projects.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, QStandardPaths

from gui.state.workspace import Workspace
from profiler.errors import StudioError
from profiler.safe_io import write_text_atomic
from profiler.variant import Variant
from profiler.whatif import VariantResult

PROJECT_SCHEMA = "tradeoff.project/1"
PROJECT_SUFFIX = ".tradeoff"
AUTOSAVE_NAME = "autosave.tradeoff"
MAX_RECENT = 10
#: models whose planner inputs are remembered across sessions
MAX_REMEMBERED_MODELS = 50


class ProjectError(ValueError):
    """A project file that cannot be read; the message is one line for a dialog."""


def project_to_dict(ws: Workspace, planner: dict[str, Any]) -> dict[str, Any]:
    return {
        "schema": PROJECT_SCHEMA,
        "saved_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        # no "trust": permission to run the model's code is the user's answer in this session only
        "model": {"source": ws.source, "shapes": [[n, list(s)] for n, s in ws.shapes]},
        "knobs": ws.knobs.to_dict(),
        "current": ws.current_key,
        "variants": [r.to_dict() for r in ws.results.values()],
        "planner": dict(planner),
    }


def project_from_dict(doc: Any, where: str) -> tuple[Workspace, dict[str, Any]]:
    """A workspace and the planner inputs from a project document; ProjectError says what is wrong.

    The workspace is never trusted: a `"trust"` value in the document is ignored."""
    if not isinstance(doc, dict):
        raise ProjectError(f"{where}: not a Tradeoff Studio project (expected a JSON object)")
    schema = doc.get("schema")
    if schema != PROJECT_SCHEMA:
        raise ProjectError(f"{where}: not a Tradeoff Studio project (schema {schema!r}, expected {PROJECT_SCHEMA!r})")
    try:
        model = doc["model"]
        ws = Workspace(
            source=str(model["source"]) if model.get("source") else None,
            trust=False,  # never from a file: the app asks the user before the model's code runs
            shapes=tuple((n, tuple(int(x) for x in s)) for n, s in model.get("shapes", ())),
            knobs=Variant.from_dict(doc.get("knobs") or {}),
        )
        for item in doc.get("variants", ()):
            result = VariantResult.from_dict(item)
            ws.results[result.variant.key()] = result
        current = doc.get("current")
        ws.current_key = current if current in ws.results else (next(reversed(ws.results)) if ws.results else None)
        planner = dict(doc.get("planner") or {})
    except (KeyError, TypeError, ValueError, AttributeError, ArithmeticError, RecursionError, StudioError) as exc:
        # StudioError: a variant whose knobs the engine refuses (precision "fp7", batch false…)
        detail = exc.problem if isinstance(exc, StudioError) else f"{type(exc).__name__}: {exc}"
        raise ProjectError(f"{where}: the project file is damaged ({detail[:200]})") from None
    return ws, planner


def save_project(path: str | Path, ws: Workspace, planner: dict[str, Any]) -> None:
    """Write the project atomically (InputError naming the file on failure)."""
    write_text_atomic(path, json.dumps(project_to_dict(ws, planner), indent=1) + "\n")


def is_project_path(path: str | Path) -> bool:
    """Whether `path` is opened as a project: by its `.tradeoff` extension only, never by content."""
    return Path(path).suffix.lower() == PROJECT_SUFFIX


def load_project(path: str | Path) -> tuple[Workspace, dict[str, Any]]:
    p = Path(path)
    if not is_project_path(p):
        raise ProjectError(f"{p}: not a project file (Tradeoff Studio projects end in {PROJECT_SUFFIX})")
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProjectError(f"{p}: no such file") from None
    except UnicodeDecodeError:
        raise ProjectError(f"{p}: not a project file (not UTF-8 text)") from None
    except OSError as exc:
        raise ProjectError(f"{p}: cannot be read ({exc.strerror or exc})") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProjectError(
            f"{p}: the project file is damaged (invalid JSON at line {exc.lineno}, column {exc.colno})"
        ) from None
    except RecursionError:
        raise ProjectError(f"{p}: the project file is damaged (nested too deeply)") from None
    return project_from_dict(doc, str(p))


# --- autosave and settings ----------------------------------------------------------------------


def data_dir() -> Path:
    """The user data folder (autosave), e.g. ~/.local/share/Tradeoff Studio/Tradeoff Studio."""
    loc = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(loc or Path.home() / ".local" / "share" / "tradeoff-studio")


class AppSettings:
    """QSettings keys in one place: geometry, window state, recent files, theme, clean exit."""

    def __init__(self, settings: QSettings | None = None) -> None:
        self.qs = settings or QSettings()

    def recent_files(self) -> list[str]:
        value = self.qs.value("recent_files", [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, (list, tuple)):
            value = []
        return [str(v) for v in value][:MAX_RECENT]

    def add_recent(self, source: str) -> list[str]:
        items = [source] + [s for s in self.recent_files() if s != source]
        self.qs.setValue("recent_files", items[:MAX_RECENT])
        return items[:MAX_RECENT]

    def clear_recent(self) -> None:
        self.qs.setValue("recent_files", [])

    def planner_inputs(self) -> dict[str, dict[str, Any]]:
        """Each model's own planner inputs (dataset, load, objective, serving precision), by model
        source, as they were last left: restored when the model is opened again, after a restart."""
        try:
            d = json.loads(str(self.qs.value("planner/per_model", "{}")))
        except ValueError:
            return {}
        if not isinstance(d, dict):
            return {}
        return {str(k): v for k, v in d.items() if isinstance(v, dict)}

    def set_planner_inputs(self, per_model: dict[str, dict[str, Any]]) -> None:
        # the most recent models only: the settings file stays small
        items = list(per_model.items())[-MAX_REMEMBERED_MODELS:]
        self.qs.setValue("planner/per_model", json.dumps(dict(items)))

    @property
    def theme(self) -> str:
        return str(self.qs.value("theme", "light"))

    @theme.setter
    def theme(self, name: str) -> None:
        self.qs.setValue("theme", name)

    @property
    def factory_notice_shown(self) -> bool:
        """Whether the one-time notice "opening a .py file runs its code" was shown (never trust itself)."""
        return str(self.qs.value("notices/python_factory", "false")).lower() == "true"

    def mark_factory_notice_shown(self) -> None:
        self.qs.setValue("notices/python_factory", "true")

    def mark_running(self) -> bool:
        """Record that a session runs; returns True when the previous one did not exit cleanly."""
        crashed = str(self.qs.value("session/running", "false")).lower() == "true"
        self.qs.setValue("session/running", "true")
        self.qs.sync()
        return crashed

    def mark_clean_exit(self) -> None:
        self.qs.setValue("session/running", "false")
        self.qs.sync()
