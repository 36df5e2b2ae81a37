"""Project files (`tradeoff.project/1`), autosave and crash recovery, and the app's settings.

A project is the model source, the knobs, every variant explored with its `VariantResult`
(so reopening shows the results without re-measuring), and the planner inputs. Writes are
atomic (a crash mid-write leaves the old file).

The autosave lives in the user data folder, one per running instance (`autosave-<pid>.tradeoff`,
beside a lock `autosave-<pid>.lock` naming the process and its start time): several instances
never write each other's autosave, and a start offers to restore only an autosave whose instance
is gone without a clean exit (`orphaned_autosaves`), never one whose instance still runs. A clean
exit removes its own autosave and lock. Settings shared by the instances (the recent files) are
re-read before each change, so the last instance to write keeps what the others added.

Trust is never stored: a project (or the autosave) names its model, not whether the user trusted
it. Permission to run a file's code is asked for each time the file is opened; a `"trust"` key in
an older project file is ignored. Only `*.tradeoff` files are projects.
"""

from __future__ import annotations

import json
import os
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
#: an autosave from a version with one autosave for all instances (offered after its crash only)
AUTOSAVE_NAME = "autosave.tradeoff"
AUTOSAVE_PREFIX = "autosave-"
LOCK_SUFFIX = ".lock"
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


def instance_autosave_path(folder: Path, pid: int | None = None) -> Path:
    """This instance's own autosave in `folder` (`autosave-<pid>.tradeoff`)."""
    return folder / f"{AUTOSAVE_PREFIX}{os.getpid() if pid is None else pid}{PROJECT_SUFFIX}"


def _lock_path(autosave: Path) -> Path:
    return autosave.with_suffix(LOCK_SUFFIX)


def _process_started(pid: int) -> float | None:
    """When process `pid` started (seconds since the epoch), or None when there is no such process."""
    try:
        import psutil

        return float(psutil.Process(pid).create_time())
    except Exception:  # gone, not ours to see, or no psutil: treated as not running
        return None


def claim_instance(autosave: Path) -> None:
    """Write the lock beside this instance's `autosave`: its pid and the process's start time (a
    pid reused by another program later is then not taken for this instance)."""
    lock = _lock_path(autosave)
    try:
        lock.parent.mkdir(parents=True, exist_ok=True)
        lock.write_text(json.dumps({"pid": os.getpid(), "started": _process_started(os.getpid())}) + "\n")
    except OSError:
        pass  # a read-only data folder: the autosave fails too and says so


def release_instance(autosave: Path) -> None:
    """A clean exit: this instance's autosave and lock go (nothing to restore)."""
    for path in (autosave, _lock_path(autosave)):
        try:
            path.unlink()
        except OSError:
            pass


def instance_running(autosave: Path) -> bool:
    """Whether the instance that owns `autosave` still runs (another process, same start time)."""
    stem = autosave.stem
    if not stem.startswith(AUTOSAVE_PREFIX) or not stem[len(AUTOSAVE_PREFIX) :].isdigit():
        return False
    pid = int(stem[len(AUTOSAVE_PREFIX) :])
    if pid == os.getpid():
        return False  # a pid of ours from an earlier process, reused: that instance is gone
    started = _process_started(pid)
    if started is None:
        return False
    try:
        lock = json.loads(_lock_path(autosave).read_text(encoding="utf-8"))
        recorded = float(lock["started"])
    except (OSError, ValueError, KeyError, TypeError):
        return True  # a live process with that pid and no readable lock: do not take its autosave
    return abs(recorded - started) < 2.0


def orphaned_autosaves(folder: Path, legacy_crashed: bool = False) -> list[Path]:
    """Autosaves in `folder` whose instance is gone without a clean exit, newest first; the
    single-instance `autosave.tradeoff` of older versions when `legacy_crashed` says it crashed."""
    try:
        found = [p for p in folder.glob(f"{AUTOSAVE_PREFIX}*{PROJECT_SUFFIX}") if p.is_file()]
    except OSError:
        return []
    out = [p for p in found if not instance_running(p)]
    legacy = folder / AUTOSAVE_NAME
    if legacy_crashed and legacy.is_file():
        out.append(legacy)

    def mtime(p: Path) -> float:
        try:
            return p.stat().st_mtime
        except OSError:
            return 0.0

    return sorted(out, key=mtime, reverse=True)


def data_dir() -> Path:
    """The user data folder (autosave), e.g. ~/.local/share/Tradeoff Studio/Tradeoff Studio."""
    loc = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(loc or Path.home() / ".local" / "share" / "tradeoff-studio")


class AppSettings:
    """QSettings keys in one place: geometry, window state, recent files, theme, clean exit,
    where to measure (this machine or a cluster address)."""

    def __init__(self, settings: QSettings | None = None) -> None:
        self.qs = settings or QSettings()

    def recent_files(self) -> list[str]:
        self.qs.sync()  # what the other instances stored since: the list is shared
        value = self.qs.value("recent_files", [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, (list, tuple)):
            value = []
        return [str(v) for v in value][:MAX_RECENT]

    def add_recent(self, source: str) -> list[str]:
        # another instance may have added files since this one read them: re-read, merge, write now
        self.qs.sync()
        items = [source] + [s for s in self.recent_files() if s != source]
        self.qs.setValue("recent_files", items[:MAX_RECENT])
        self.qs.sync()
        return items[:MAX_RECENT]

    def clear_recent(self) -> None:
        self.qs.setValue("recent_files", [])
        self.qs.sync()

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
        # merged with what other instances stored meanwhile (this one's inputs win for its models);
        # the most recent models only: the settings file stays small
        self.qs.sync()
        stored = {k: v for k, v in self.planner_inputs().items() if k not in per_model}
        items = [*stored.items(), *per_model.items()][-MAX_REMEMBERED_MODELS:]
        self.qs.setValue("planner/per_model", json.dumps(dict(items)))

    @property
    def theme(self) -> str:
        return str(self.qs.value("theme", "light"))

    @theme.setter
    def theme(self, name: str) -> None:
        self.qs.setValue("theme", name)

    @property
    def measure_on(self) -> str:
        """Where sweeps and Optimize… measure: "" for this machine (the default), else the Ray
        cluster address the user chose (Run → Measure on…). Shared by the instances, re-read."""
        self.qs.sync()
        if str(self.qs.value("cluster/use", "false")).lower() != "true":
            return ""
        return self.cluster_address

    @property
    def cluster_address(self) -> str:
        """The cluster address last typed (kept when "this machine" is chosen again)."""
        return str(self.qs.value("cluster/address", "") or "").strip()

    def set_measure_on(self, use_cluster: bool, address: str) -> None:
        self.qs.setValue("cluster/use", "true" if use_cluster and address.strip() else "false")
        self.qs.setValue("cluster/address", address.strip())
        self.qs.sync()

    @property
    def factory_notice_shown(self) -> bool:
        """Whether the one-time notice "opening a .py file runs its code" was shown (never trust itself)."""
        return str(self.qs.value("notices/python_factory", "false")).lower() == "true"

    def mark_factory_notice_shown(self) -> None:
        self.qs.setValue("notices/python_factory", "true")

    def mark_running(self) -> bool:
        """Record that a session runs; returns True when the previous one did not exit cleanly.
        With several instances this flag cannot tell a crash from another running instance: the
        window asks `orphaned_autosaves` instead (the flag only speaks for an older version's
        single `autosave.tradeoff`)."""
        crashed = str(self.qs.value("session/running", "false")).lower() == "true"
        self.qs.setValue("session/running", "true")
        self.qs.sync()
        return crashed

    def mark_clean_exit(self) -> None:
        self.qs.setValue("session/running", "false")
        self.qs.sync()
