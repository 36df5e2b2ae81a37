"""The app's Run → Measure on… against a real Ray head (tests/cluster/conftest.py): the connection
test says what the cluster has, a bad address is its one-line error, a batch sweep on the cluster
fills the batch chart and lists each row with its node, and Cancel ends the command (no row left
waiting). The app runs the command line in a QProcess; it never imports Ray itself."""

from __future__ import annotations

from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest

from tests.answered_prompts import AnsweredPrompts
from tests.cluster.conftest import FAKE_ACCELERATOR
from tests.window_factory import make_windows

# with the other tests on the Ray head, on one xdist worker (they look for Ray tasks machine-wide)
pytestmark = pytest.mark.xdist_group("ray")


@pytest.fixture
def make_window(qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from PySide6.QtCore import QSettings

    from gui.session import AppSettings

    # what the commands the app starts inherit (tests/cluster/conftest.py `cluster_env`)
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")
    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", "0")
    settings = AppSettings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    prompts = AnsweredPrompts(trust=True, shape="1x3x32x32")
    yield from make_windows(qtbot, tmp_path, monkeypatch, settings, prompts)


def _test_connection(qtbot: Any, w: Any, address: str) -> Any:
    dialog = w.menus.measure_on.show()
    dialog.address.setText(address)
    dialog.test_button.click()
    assert dialog.testing and not dialog.test_button.isEnabled()
    qtbot.waitUntil(lambda: not dialog.testing, timeout=180_000)
    return dialog


def test_connection_test_says_what_the_cluster_has(qtbot: Any, make_window: Any, ray_head: str) -> None:
    w = make_window()
    dialog = _test_connection(qtbot, w, ray_head)
    text = dialog.result_text()
    assert dialog.state.text() == f"Connected to {ray_head}", text
    assert dialog.has.text().startswith("1 node alive · 2 CPUs · GPUs: ")
    assert f"1 × {FAKE_ACCELERATOR}" in dialog.has.text()
    ray = version("ray")
    assert dialog.versions.text().startswith(f"Ray {ray} on the cluster, {ray} here")
    assert not dialog.warnings.isVisibleTo(dialog)  # the same versions: no mismatch
    assert dialog.nodes.rowCount() == 1 and FAKE_ACCELERATOR in dialog.nodes.item(0, 4).text().split(", ")
    assert dialog.nodes.item(0, 5).text() == "alive"
    dialog.accept()
    assert w.settings.measure_on == ray_head


def test_a_bad_address_shows_the_one_line_error(qtbot: Any, make_window: Any) -> None:
    w = make_window()
    dialog = _test_connection(qtbot, w, "127.0.0.1:1")
    assert dialog.state.text() == "No connection"
    error = dialog.error.text()
    assert error.startswith("error: --cluster: cannot connect to 127.0.0.1:1"), error
    assert "\n" not in error and "Traceback" not in error
    assert dialog.nodes.rowCount() == 0


@pytest.mark.slow
def test_a_batch_sweep_on_the_cluster_fills_the_chart_and_cancel_stops_it(
    qtbot: Any, make_window: Any, ray_head: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gui.window.batch_sweep as batch_sweep

    w = make_window()
    with qtbot.waitSignal(w.result_shown, timeout=180_000):
        w.open_model("demo:digits-cnn")
    w.settings.set_measure_on(True, ray_head)
    monkeypatch.setattr(batch_sweep, "SWEEP_BATCHES", (2, 4))  # two rows: a short test
    shown = w.workspace.current_key
    w.batch_chart.sweep_button.click()
    sweep = w.batch_sweep
    assert sweep.process is not None and sweep.process.running() and w.batch_chart.sweeping
    assert "--cluster" in sweep.process.arguments and "--progress" in sweep.process.arguments
    dialog = sweep.dialog
    assert dialog is not None and dialog.isVisible()
    assert set(dialog.rows.states().values()) == {("queued on the cluster", "")}
    qtbot.waitUntil(lambda: not w.batch_chart.sweeping, timeout=300_000)
    states = dialog.rows.states()
    assert [s for s, _ in states.values()] == ["done", "done"], (states, w.batch_chart.status.text())
    assert all(where and "ms" in where for _, where in states.values())  # "HOST (8.89 ms)"
    assert dialog.rows.progress.value() == 2 and dialog.rows.progress.format() == "2 / 2 rows"
    assert w.batch_chart.status.text().startswith("Sweep done on the cluster: 2 batches measured on ")
    assert {2, 4} <= {b for b, _ in w.batch_chart.points}
    cluster_rows = [r for r in w.workspace.results.values() if r.notes and r.notes[-1].endswith("(cluster)")]
    assert sorted(r.profile.config.batch for r in cluster_rows) == [2, 4]
    assert all(r.profile.totals.latency_ms is not None for r in cluster_rows)
    assert w.workspace.current_key == shown  # the variant shown stays shown

    # Cancel: SIGINT to the command, which cancels the remote tasks; no row left waiting
    monkeypatch.setattr(batch_sweep, "SWEEP_BATCHES", (8, 16))
    w.batch_chart.sweep_button.click()
    process = sweep.process
    assert process is not None and process.running()
    qtbot.wait(1500)
    dialog.cancel_button.click()
    assert "cancelling" in w.batch_chart.status.text()
    qtbot.waitUntil(lambda: not w.batch_chart.sweeping, timeout=60_000)
    assert not process.running() and sweep.process is None
    states = dialog.rows.states()
    assert "queued on the cluster" not in {s for s, _ in states.values()}, states
    assert w.batch_chart.status.text().startswith("Sweep cancelled"), w.batch_chart.status.text()


@pytest.mark.slow
def test_optimize_on_the_cluster_fills_the_dialog(qtbot: Any, make_window: Any, ray_head: str) -> None:
    w = make_window()
    with qtbot.waitSignal(w.result_shown, timeout=180_000):
        w.open_model("demo:digits-cnn")
    w.settings.set_measure_on(True, ray_head)
    w.optimizing.on_optimize_action()
    dialog = w.optimizing.dialog
    assert dialog is not None
    dialog.max_prune.setValue(0.3)
    dialog.overrides.setChecked(False)
    dialog.onnxruntime.setChecked(False)
    for name, box in dialog.precisions.items():
        box.setChecked(name == "fp32")
    dialog.budget_variants.setValue(2)
    dialog.start_button.click()
    process = w.optimizing.process
    assert process is not None and process.running() and "--cluster" in process.arguments
    assert dialog.external_running and dialog.side_panel is w.optimizing.rows and not dialog.start_button.isEnabled()
    qtbot.waitUntil(lambda: dialog.start_button.isEnabled(), timeout=300_000)
    assert dialog.outcome is not None, dialog.status.text()
    assert dialog.table.rowCount() == len(dialog.outcome.trials) >= 1
    states = w.optimizing.rows.states()
    assert states and all(s == "done" for s, _ in states.values()), states
    assert dialog.status.text().startswith(f"{len(dialog.outcome.trials)} variants tried")
