"""Run → Compare with…: the Compare window over the real measurement worker (a spawned process),
its table, fidelity and costs, cancelling, trust, the exports, and names shown as plain text."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from gui.window.comparing import CompareWindow, known_safe
from profiler.compare import build_comparison
from profiler.events import Failed, FailureKind
from profiler.result import Profile

HOSTILE = '<img src="/dev/zero"><b>bold</b> & co'


def _cell(table: Any, row: int, col: int) -> str:
    item = table.item(row, col)
    return "" if item is None else str(item.text())


def _open_a(qtbot: Any, w: Any, source: str) -> None:
    with qtbot.waitSignal(w.result_shown, timeout=120_000):
        w.open_model(source)


@pytest.mark.slow
def test_compare_digits_with_itself_in_the_real_worker(qtbot: Any, make_window: Any, tmp_path: Path) -> None:
    w = make_window()  # A is measured in process; the comparison runs in its own spawned worker
    _open_a(qtbot, w, "demo:digits-cnn")
    assert w.menus.compare_action.isEnabled() and w.menus.compare_action.text() == "Compare &with…"
    with qtbot.waitSignal(w.planner.plan_changed, timeout=5_000):
        w.planner.qps.setValue(10)  # the cost is taken at the Planner tab's load
    shown: list[Any] = []
    win = w.comparing.compare_with("demo:digits-cnn")
    assert isinstance(win, CompareWindow) and win.isVisible()
    assert win.cancel_button.isVisible() and not win.pdf_button.isEnabled()
    win.comparison_shown.connect(shown.append)
    qtbot.waitUntil(lambda: bool(shown) or "Not compared" in win.status.text(), timeout=240_000)
    assert shown, win.status.text()
    c = shown[0]
    assert w.comparing.run is not None and w.comparing.run._runner.__class__.__name__ == "Runner"
    # rows: every layer of digits-cnn paired with itself by name
    rows = win.view.layer_texts()
    assert len(rows) == len(c.profile_a.layers) > 5
    assert {r[2] for r in rows} == {"same name"}
    assert [r[0] for r in rows] == [r[1] for r in rows]
    assert all(r[3] == "±0" and r[4] == "±0" for r in rows)
    # totals: B ÷ A is 1 for everything counted
    totals = {_cell(win.view.totals, r, 0): _cell(win.view.totals, r, 3) for r in range(win.view.totals.rowCount())}
    assert totals["Parameters"] == "1.00×" and totals["MACs"] == "1.00×"
    # fidelity: the same model on the same (bundled, labelled) samples
    fid = {_cell(win.view.fidelity, r, 0): _cell(win.view.fidelity, r, 1) for r in range(win.view.fidelity.rowCount())}
    assert c.fidelity is not None and c.fidelity.cosine == pytest.approx(1.0, abs=1e-6)
    assert fid["Top-1 agreement"] == "100.0%" and "Accuracy A (labels)" in fid
    # costs at the planner's load: both sides answered, the difference stated per month
    assert c.costs["a"]["serving"] is not None and c.costs["difference"]["basis"] == "usd_per_month"
    assert win.view.costs.rowCount() == 2 and _cell(win.view.costs, 0, 2).startswith("$")
    assert "B costs the same as A per month" in win.view.cost_note.text()
    assert not win.cancel_button.isVisible() and win.pdf_button.isEnabled()
    # the planner's inputs change: the costs are planned again, nothing is measured again
    with qtbot.waitSignal(w.planner.plan_changed, timeout=5_000):
        w.planner.qps.setValue(0)
    assert win.comparison.costs["difference"]["basis"] == "usd_per_million"
    assert "per million inferences" in win.view.cost_note.text()
    # sorting by a column works on the raw numbers
    win.view.layers.sortByColumn(6, Qt.SortOrder.DescendingOrder)
    assert len(win.view.layer_texts()) == len(rows)
    # exports: JSON (tradeoff.compare/1), CSV (the aligned layers), PDF
    assert win.export_json(str(tmp_path / "c.json")) and win.export_csv(str(tmp_path / "c.csv"))
    doc = json.loads((tmp_path / "c.json").read_text(encoding="utf-8"))
    assert doc["schema"] == "tradeoff.compare/1" and len(doc["layers"]) == len(rows)
    assert (tmp_path / "c.csv").read_text(encoding="utf-8").splitlines()[0].startswith("name_a,name_b,match")
    assert win.export_pdf(str(tmp_path / "c.pdf"))
    assert (tmp_path / "c.pdf").read_bytes().startswith(b"%PDF")
    assert not win.export_pdf(str(tmp_path / "no-such-folder" / "c.pdf"))
    assert win.status.text().startswith("Not exported:")
    w.comparing.close()


@pytest.mark.slow
def test_cancel_stops_the_comparison(qtbot: Any, make_window: Any) -> None:
    w = make_window()
    _open_a(qtbot, w, "demo:mlp")
    win = w.comparing.compare_with("demo:resnet18")
    assert win is not None
    progressed: list[Any] = []
    assert w.comparing.run is not None
    w.comparing.run.progress_changed.connect(lambda f, m: progressed.append((f, m)))
    qtbot.waitUntil(lambda: bool(progressed), timeout=120_000)
    with qtbot.waitSignal(win.compare_cancelled, timeout=60_000):
        win.cancel_button.click()
    assert win.status.text() == "Comparison cancelled." and not win.cancel_button.isVisible()
    assert win.comparison is None and not win.json_button.isEnabled()
    # the next comparison runs in the same window after a cancel
    again = w.comparing.compare_with("demo:mlp")
    assert again is win
    with qtbot.waitSignal(win.comparison_shown, timeout=240_000):
        pass
    assert win.comparison is not None and win.comparison.source_b == "demo:mlp"
    w.comparing.close()


def test_a_missing_second_model_is_refused_before_anything_runs(make_window: Any, prompts: Any) -> None:
    w = make_window()
    w.workspace.source = "demo:mlp"
    assert w.comparing.compare_with("/no/such/model.onnx") is None
    assert w.comparing.run is None
    assert any("no such file" in e for e in prompts.errors())


def test_trust_flag_needs_every_side_trusted_or_safe(make_window: Any) -> None:
    from gui.window.comparing import _Job

    w = make_window()
    w.workspace.source = "a.pt"
    job = _Job("a.pt", "b.onnx", {})
    assert known_safe("demo:mlp") and known_safe("b.onnx") and known_safe("net.py:make") and not known_safe("a.pt")
    assert not w.comparing.trust_flag(job)  # nobody trusted anything
    w.workspace.trust = True
    assert w.comparing.trust_flag(job)  # A trusted, B is ONNX
    job2 = _Job("a.pt", "b.pt", {})
    assert not w.comparing.trust_flag(job2)  # B unknown: the one flag would cover it
    job2.trusted_b = True
    assert w.comparing.trust_flag(job2)


def test_needs_trust_for_b_asks_about_b_and_runs_again(make_window: Any, prompts: Any) -> None:
    w = make_window()
    w.workspace.source = "demo:mlp"
    comparing = w.comparing
    from gui.window.comparing import _Job

    starts: list[bool] = []
    comparing._start = lambda: starts.append(comparing.trust_flag(comparing.job))
    comparing.job = _Job("demo:mlp", "/m/b.pt", {})
    comparing._window()
    failure = Failed(FailureKind.NEEDS_TRUST, "/m/b.pt: holds a pickled Python object", file="/m/b.pt")
    comparing._on_run_failed(failure)
    assert prompts.asked[-1] == ("trust", "/m/b.pt") and starts == [True]
    comparing._on_run_failed(failure)  # refused again: asked once per comparison, then it stops
    assert starts == [True] and "was not trusted" in comparing.window.status.text()
    prompts.trust = False
    comparing.job = _Job("demo:mlp", "/m/c.pt", {})
    comparing._on_run_failed(Failed(FailureKind.NEEDS_TRUST, "x", file="/m/c.pt"))
    assert starts == [True] and comparing.window.status.text().startswith("Not compared: /m/c.pt was not trusted")
    assert w.workspace.trust is False  # trust for B never becomes A's


def _mlp_profile() -> Profile:
    d = json.loads((Path(__file__).parent / "data" / "data_mlp_baseline.json").read_text(encoding="utf-8"))
    return Profile.from_dict(d["profile"])


def test_hostile_names_are_plain_text(qtbot: Any, make_window: Any) -> None:
    from gui import plain_text

    a = _mlp_profile()
    d = copy.deepcopy(a.to_dict())
    d["layers"][1]["name"] = HOSTILE  # fc1, renamed: aligned by order with A's fc1
    d["layers"].append({**d["layers"][2], "name": HOSTILE + " extra", "type": "Softsign"})
    b = Profile.from_dict(d)
    w = make_window()
    c = build_comparison(f"/tmp/{HOSTILE}.onnx", a, "demo:mlp", b, costs=w.comparing.costs_of([a, b]))
    c.check()
    win = CompareWindow(w)
    qtbot.addWidget(win)
    win.show_running(c.source_a, c.source_b)
    win.show_comparison(c)
    rows = win.view.layer_texts()
    assert [HOSTILE in r[1] for r in rows].count(True) == 2
    only_b = [r for r in rows if r[2] == "only in B"]
    assert only_b and only_b[0][1] == HOSTILE + " extra" and only_b[0][0] == "—"
    m = win.view.layers_model
    row = next(i for i in range(m.rowCount()) if m.pair(i).name_b == HOSTILE)
    tip = m.index(row, 0).data(Qt.ItemDataRole.ToolTipRole)
    assert "<img" not in tip and "&lt;img" in tip
    assert m.index(row, 0).data(Qt.ItemDataRole.ForegroundRole) is None  # matched: not marked
    only_row = next(i for i in range(m.rowCount()) if m.pair(i).match == "only_b")
    assert m.index(only_row, 0).data(Qt.ItemDataRole.ForegroundRole) is not None  # marked
    for lab in (win.view.side_a, win.view.side_b, win.title, win.status, win.view.cost_note):
        assert lab.textFormat() == plain_text.PLAIN
    assert HOSTILE in win.view.side_a.text() and "b> & co.onnx  vs  mlp" == win.title.text()


def test_compare_without_an_open_model_says_so(make_window: Any, prompts: Any) -> None:
    w = make_window()
    assert w.comparing.compare_with("demo:mlp") is None
    assert any("Open a model first" in e for e in prompts.errors())


def test_choose_model_dialog_offers_the_demos(qtbot: Any) -> None:
    from gui.widgets.compare_view import ChooseModelDialog

    dialog = ChooseModelDialog()
    qtbot.addWidget(dialog)
    assert dialog.source() == ""
    dialog.demo.setCurrentIndex(dialog.demo.findData("demo:mlp"))
    assert dialog.source() == "demo:mlp"


def test_run_menu_compare_action_asks_for_b(make_window: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from gui.widgets.compare_view import ChooseModelDialog

    w = make_window()
    w.workspace.source = "demo:mlp"
    asked: list[str] = []
    monkeypatch.setattr(ChooseModelDialog, "exec", lambda self: (self.path.setText("demo:digits-cnn"), 1)[1])
    monkeypatch.setattr(w.comparing, "compare_with", asked.append)
    w.menus.compare_action.trigger()
    assert asked == ["demo:digits-cnn"]


@pytest.mark.slow
def test_a_pickled_b_asks_for_trust_then_compares(qtbot: Any, make_window: Any, prompts: Any, tmp_path: Path) -> None:
    import torch
    from torch import nn

    torch.manual_seed(0)
    b = tmp_path / "pickled.pt"
    torch.save(nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 10)), str(b))
    w = make_window()
    w.workspace.source, w.workspace.shapes = "demo:mlp", (("x", (1, 1, 28, 28)),)
    win = w.comparing.compare_with(str(b))
    assert win is not None
    shown: list[Any] = []
    win.comparison_shown.connect(shown.append)
    qtbot.waitUntil(lambda: bool(shown) or "Not compared" in win.status.text(), timeout=240_000)
    assert shown, win.status.text()
    assert ("trust", str(b)) in prompts.asked  # asked about B, the pickle, once
    assert prompts.asked.count(("trust", str(b))) == 1 and ("trust", "demo:mlp") not in prompts.asked
    assert w.workspace.trust is False  # B's trust is this comparison's, never the open model's
    assert {r.type for r in shown[0].profile_b.layers} >= {"Flatten", "Linear"}
    w.comparing.close()
