"""One MainWindow factory for the GUI, reliability and security tests: an in-process runner (or a
given factory), isolated settings and autosave, and canned prompts (or the app's own dialogs)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest


def make_windows(
    qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Any, prompts: Any
) -> Iterator[Callable[..., Any]]:
    """Yield `make(runner_factory=InProcessRunner, debounce_ms=20, real_prompts=False)`; closes
    every window's controller afterwards. Use as `yield from make_windows(...)` in a fixture."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    from gui.controller import InProcessRunner, RunController
    from gui.main_window import MainWindow

    windows = []

    def make(runner_factory: Any = InProcessRunner, debounce_ms: int = 20, real_prompts: bool = False) -> Any:
        controller = RunController(runner_factory, debounce_ms=debounce_ms)
        w = MainWindow(
            controller, settings=settings, prompts=None if real_prompts else prompts, autosave_dir=tmp_path / "data"
        )
        qtbot.addWidget(w)
        windows.append(w)
        return w

    yield make
    for w in windows:
        w.controller.close()


def scripted_runner(failures: list[Any]) -> Any:
    """An in-process runner class whose next submits fail with the given `Failed` events (in
    order; their run ids are filled in), then runs for real."""
    from gui.controller import InProcessRunner
    from profiler.events import Started

    class Scripted(InProcessRunner):  # type: ignore[misc]
        def submit(self, task: str, payload: Any = None, **kw: Any) -> int:
            if failures:
                self._next_id += 1
                self.submitted.append((task, dict(payload or {})))
                failed = dataclasses.replace(failures.pop(0), run_id=self._next_id)
                self._backlog += [Started(run_id=self._next_id, task=task), failed]
                return int(self._next_id)
            return int(super().submit(task, payload, **kw))

    return Scripted
