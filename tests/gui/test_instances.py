"""Several app instances at once (issue 16, item 2): each has its own autosave and lock, a start
never offers to restore the autosave of an instance that still runs, and the recent-files list
is merged, never overwritten by the last instance to write it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gui.session import (
    AUTOSAVE_NAME,
    claim_instance,
    instance_autosave_path,
    instance_running,
    orphaned_autosaves,
)

TIMEOUT_MS = 60_000
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def other_process() -> Iterator[subprocess.Popen[bytes]]:
    """A live process standing for a first instance of the app (another pid, still running)."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    time.sleep(0.2)  # its start time is on record
    yield proc
    proc.kill()
    proc.wait()


def _write_instance(folder: Path, pid: int, project_text: str) -> Path:
    """An instance's autosave and lock as that instance writes them (its pid, its start time)."""
    import psutil

    path = instance_autosave_path(folder, pid)
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(project_text)
    started = psutil.Process(pid).create_time()
    path.with_suffix(".lock").write_text(json.dumps({"pid": pid, "started": started}))
    return path


def _project_text(qtbot: Any, make_window: Any, tmp_path: Path) -> str:
    w = make_window()
    with qtbot.waitSignal(w.result_shown, timeout=TIMEOUT_MS):
        w.open_model("demo:mlp")
    p = tmp_path / "saved.tradeoff"
    assert w.save_project(p)
    w.close()
    return p.read_text()


def test_each_instance_has_its_own_autosave(make_window: Any, tmp_path: Path) -> None:
    w = make_window()
    assert w.autosave_path == instance_autosave_path(tmp_path / "data")
    assert str(os.getpid()) in w.autosave_path.name and w.autosave_path.name != AUTOSAVE_NAME


def test_a_running_instance_is_not_offered_as_a_crash(
    qtbot: Any, make_window: Any, prompts: Any, tmp_path: Path, other_process: Any
) -> None:
    text = _project_text(qtbot, make_window, tmp_path)
    folder = tmp_path / "data"
    first = _write_instance(folder, other_process.pid, text)
    assert instance_running(first)
    asked = len(prompts.asked)
    w = make_window()
    with qtbot.waitSignal(w.result_shown, timeout=TIMEOUT_MS):
        w.start("demo:digits-cnn")
    assert "restore" not in [k for k, _ in prompts.asked[asked:]]
    assert first.is_file(), "the running instance's autosave is left alone"
    assert w.workspace.source == "demo:digits-cnn"
    # this instance writes its own autosave, never the first one's
    w.autosave()
    assert w.autosave_path.is_file() and w.autosave_path != first
    assert first.read_text() == text


def test_an_instance_that_died_is_offered_once(
    qtbot: Any, make_window: Any, prompts: Any, tmp_path: Path, other_process: Any
) -> None:
    text = _project_text(qtbot, make_window, tmp_path)
    folder = tmp_path / "data"
    first = _write_instance(folder, other_process.pid, text)
    other_process.kill()
    other_process.wait()
    assert not instance_running(first)
    assert orphaned_autosaves(folder) == [first]
    asked = len(prompts.asked)
    w = make_window()
    w.start("demo:digits-cnn")
    qtbot.waitUntil(lambda: w.workspace.current is not None, timeout=TIMEOUT_MS)
    assert [k for k, _ in prompts.asked[asked:]] == ["restore"]
    assert w.workspace.source == "demo:mlp"  # what the dead instance had
    assert not first.exists() and not first.with_suffix(".lock").exists()  # offered once
    w2 = make_window()
    assert orphaned_autosaves(folder) == [] or all(p == w2.autosave_path for p in orphaned_autosaves(folder))


def test_a_clean_exit_leaves_nothing_to_restore(qtbot: Any, make_window: Any, tmp_path: Path) -> None:
    w = make_window()
    w.start("demo:mlp")
    qtbot.waitUntil(lambda: w.workspace.current is not None, timeout=TIMEOUT_MS)
    w.autosave()
    assert w.autosave_path.is_file() and w.autosave_path.with_suffix(".lock").is_file()
    w.close()
    assert not w.autosave_path.exists() and not w.autosave_path.with_suffix(".lock").exists()
    assert orphaned_autosaves(tmp_path / "data") == []


def test_a_lock_with_another_start_time_is_a_reused_pid(tmp_path: Path, other_process: Any) -> None:
    path = instance_autosave_path(tmp_path, other_process.pid)
    path.write_text("{}")
    path.with_suffix(".lock").write_text(json.dumps({"pid": other_process.pid, "started": 12345.0}))
    assert not instance_running(path)  # that pid now belongs to another program
    claim_instance(instance_autosave_path(tmp_path))
    assert orphaned_autosaves(tmp_path) == [path]


_OTHER_INSTANCE = """
import sys
from PySide6.QtCore import QSettings
from gui.session import AppSettings
s = AppSettings(QSettings(sys.argv[1], QSettings.Format.IniFormat))
for name in sys.argv[2:]:
    s.add_recent(name)
"""


def _other_instance_adds(ini: Path, *names: str) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-c", _OTHER_INSTANCE, str(ini), *names], check=True, env=env, cwd=ROOT)


def test_recent_files_of_two_instances_are_merged(settings: Any, tmp_path: Path) -> None:
    ini = Path(settings.qs.fileName())
    settings.add_recent("/models/first.onnx")
    assert settings.recent_files() == ["/models/first.onnx"]
    _other_instance_adds(ini, "/models/second.onnx", "/models/third.onnx")
    # this (older) instance adds one more later: what the other stored meanwhile stays
    settings.add_recent("/models/fourth.onnx")
    assert settings.recent_files() == [
        "/models/fourth.onnx",
        "/models/third.onnx",
        "/models/second.onnx",
        "/models/first.onnx",
    ]
    _other_instance_adds(ini, "/models/fifth.onnx")  # the other instance again, closing last
    from PySide6.QtCore import QSettings

    from gui.session import AppSettings

    fresh = AppSettings(QSettings(str(ini), QSettings.Format.IniFormat))
    assert fresh.recent_files()[:2] == ["/models/fifth.onnx", "/models/fourth.onnx"]
    assert "/models/first.onnx" in fresh.recent_files()


def test_the_window_recent_menu_shows_what_another_instance_added(qtbot: Any, make_window: Any, settings: Any) -> None:
    w = make_window()
    _other_instance_adds(Path(settings.qs.fileName()), "/models/elsewhere.onnx")
    with qtbot.waitSignal(w.result_shown, timeout=TIMEOUT_MS):
        w.open_model("demo:mlp")
    assert "/models/elsewhere.onnx" in settings.recent_files()
