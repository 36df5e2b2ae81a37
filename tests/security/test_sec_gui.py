"""Security corpus, the app: model text is never markup, and a file's code runs only by the user's choice.

1. Names from a model (ONNX node, initializer and input names, the file's and its folder's
   names) holding `<img src=…>` and `<b>` are shown as those characters in every label, tooltip,
   message box, input dialog, the details pane and the window title. Qt renders rich text when it
   guesses a string is HTML, and then reads the image source (`/dev/zero`: until memory runs out).
   The payload here points at a real 300×300 red PNG: had anything rendered it, the widget would
   be 300 px tall and red, so "nothing is red, everything is small" proves no markup was rendered.
2. A project (`*.tradeoff`), the crash-restore autosave, or the recent-files list never grants
   trust: a `"trust": true` naming a pickle asks again, and a `.py` factory named there asks before
   it runs. Payloads only create marker files under tmp_path. A `.json` holding the project schema
   is a model, never a project.

The real main window (offscreen) with the in-process runner; real dialogs are answered by a
watcher that records what they show and closes them.
"""

from __future__ import annotations

import json
import os
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from answered_prompts import AnsweredPrompts
from PySide6.QtCore import QModelIndex, QPoint, QSettings, Qt, QTimer
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication, QLabel, QToolTip, QWidget
from window_factory import make_windows, scripted_runner

from profiler.events import Failed, FailureKind

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")

TIMEOUT_MS = 30_000
DATA = Path(__file__).resolve().parents[1] / "gui" / "data"
MARKER = "PWNED"
IMG = "red.png"  # relative: Qt resolves it against the current folder (the test's tmp folder)
BIG = 300  # the payload image's size in pixels: anything that rendered it is at least this tall


def hostile(word: str, img: str = IMG) -> str:
    """A name that is markup: an image (read if rendered) and bold text. No '/' beyond the image
    path, so it also works as a file or folder name."""
    return f'<img src="{img}"><b>{word}'


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture
def red_png(tmp_path: Path, qapp: Any, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A 300×300 red PNG in the current folder (the test's own), where `<img src="red.png">` finds it."""
    monkeypatch.chdir(tmp_path)
    img = QImage(BIG, BIG, QImage.Format.Format_RGB32)
    img.fill(QColor(255, 0, 0))
    path = tmp_path / IMG
    assert img.save(str(path))
    check = QLabel(f'<img src="{IMG}">')  # the payload does render where Qt guesses rich text
    assert check.sizeHint().height() >= BIG
    return path


@pytest.fixture
def settings(tmp_path: Path, qapp: Any) -> Any:
    from gui.session import AppSettings

    return AppSettings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))


@pytest.fixture
def prompts() -> AnsweredPrompts:
    return AnsweredPrompts(trust=False)


@pytest.fixture
def make_window(
    qtbot: Any, tmp_path: Path, settings: Any, prompts: AnsweredPrompts, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any]:
    """make_window(runner_factory=InProcessRunner, real_prompts=False): a MainWindow with isolated
    settings and autosave; real_prompts=True shows the app's own dialogs (answer them with Watcher)."""
    yield from make_windows(qtbot, tmp_path, monkeypatch, settings, prompts)


class Watcher:
    """Closes every modal dialog that opens (Cancel / Escape), after recording its labels and a grab."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []
        self.timer = QTimer(interval=20)
        self.timer.timeout.connect(self._poll)
        self.timer.start()

    def _poll(self) -> None:
        w = QApplication.activeModalWidget()
        if w is None:
            return
        labels = [
            (lab.objectName(), lab.textFormat(), lab.text(), lab.sizeHint())
            for lab in w.findChildren(QLabel)
            if lab.text()
        ]
        self.seen.append(
            {
                "class": w.metaObject().className(),
                "title": w.windowTitle(),
                "labels": labels,
                "image": w.grab().toImage(),
                "size": w.sizeHint(),
            }
        )
        w.reject()  # type: ignore[attr-defined]

    def stop(self) -> None:
        self.timer.stop()


@pytest.fixture
def watcher() -> Iterator[Watcher]:
    wt = Watcher()
    yield wt
    wt.stop()


def red_pixels(img: QImage, step: int = 3) -> int:
    """Pure-red pixels on a grid (the payload image is 300×300 red: a rendered one shows up)."""
    n = 0
    for y in range(0, img.height(), step):
        for x in range(0, img.width(), step):
            c = img.pixelColor(x, y)
            if c.red() > 240 and c.green() < 20 and c.blue() < 20:
                n += 1
    return n


def assert_plain_dialog(seen: dict[str, Any], *must_show: str) -> None:
    """Every label of the dialog that holds markup characters is plain text, shows them, and is small."""
    texts = []
    for name, fmt, text, size in seen["labels"]:
        texts.append(text)
        if "<" in text:
            assert fmt == Qt.TextFormat.PlainText, (name, text)
        assert size.height() < BIG, (name, text, size)
    for s in must_show:
        assert any(s in t for t in texts), (s, texts)
    assert red_pixels(seen["image"]) == 0, "the dialog rendered the payload image"


def save_onnx(path: Path, *, dynamic: bool = False) -> Path:
    """A MatMul + Add model whose input, initializer, node, output and graph names are markup."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    img = str(Path(IMG).resolve())  # node names may hold '/': the absolute path works from anywhere
    n = lambda w: hostile(w, img) + "</b>"  # noqa: E731
    dims: list[Any] = [1, 8] if not dynamic else [1, hostile("width")]
    x = helper.make_tensor_value_info(n("in"), TensorProto.FLOAT, dims)
    y = helper.make_tensor_value_info(n("out"), TensorProto.FLOAT, [1, 4])
    w = numpy_helper.from_array(np.ones((8, 4), np.float32), n("W"))
    b = numpy_helper.from_array(np.ones((4,), np.float32), n("B"))
    nodes = [
        helper.make_node("MatMul", [n("in"), n("W")], [n("mm")], name=n("matmul")),
        helper.make_node("Add", [n("mm"), n("B")], [n("out")], name=n("add")),
    ]
    model = helper.make_model(
        helper.make_graph(nodes, n("graph"), [x], [y], [w, b]), opset_imports=[helper.make_opsetid("", 17)]
    )
    model.ir_version = 8
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


@pytest.fixture
def hostile_dir(tmp_path: Path, red_png: Path) -> Path:
    d = tmp_path / hostile("dir")
    d.mkdir()
    return d


class _Payload:
    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return os.system, (self.command,)


def hostile_pickle(path: Path, marker: Path) -> Path:
    import torch

    torch.save({"state_dict": {}, "hyper_parameters": _Payload(f"touch {shlex.quote(str(marker))}")}, str(path))
    return path


def factory(path: Path, marker: Path) -> Path:
    path.write_text(
        f"import pathlib\npathlib.Path({str(marker)!r}).write_text('ran')\nimport torch\n\n\n"
        "def build_model():\n    return torch.nn.Linear(4, 2), (torch.randn(1, 4),)\n"
    )
    return path


def project(path: Path, source: Path | str, *, trust: bool = True, with_results: bool = False) -> Path:
    from gui.session import PROJECT_SCHEMA

    variants = [json.loads((DATA / "data_mlp_baseline.json").read_text())] if with_results else []
    doc = {
        "schema": PROJECT_SCHEMA,
        "model": {"source": str(source), "trust": trust, "shapes": []},
        "knobs": {},
        "variants": variants,
        "planner": {},
    }
    path.write_text(json.dumps(doc))
    return path


# --- 1. model text is plain text --------------------------------------------------------------


def test_hostile_names_are_plain_text_in_the_window(
    qtbot: Any, make_window: Any, hostile_dir: Path, tmp_path: Path
) -> None:
    from gui.models.roles import LAYER_ROLE
    from gui.state.layer_data import HEADERS

    path = save_onnx(hostile_dir / (hostile("m") + ".onnx"))
    w = make_window(real_prompts=True)
    w.resize(1366, 768)
    w.show()
    with qtbot.waitSignal(w.result_shown, timeout=TIMEOUT_MS):
        w.open_model(str(path))
    names = [w.table.model.index(r, 0).data(LAYER_ROLE) for r in range(w.table.model.rowCount())]
    assert any("<img" in str(n) for n in names), names  # the layers do carry the markup

    # window title: the literal file name
    assert hostile("m") in w.windowTitle()
    # every label that shows markup characters shows them as plain text, and nothing is image-tall
    shown = [lab for lab in w.findChildren(QLabel) if "<" in lab.text()]
    assert {w.model_label, w.env_label} <= set(shown)
    for lab in shown:
        assert lab.textFormat() == Qt.TextFormat.PlainText, lab.text()
        assert lab.sizeHint().height() < BIG
    assert "<img" in w.env_label.text() and hostile("dir") in w.env_label.text()
    # every tooltip of both layer views: escaped; the raw markup never reaches Qt's guess
    for model in (w.table.model, w.heatmap.model):
        stack = [QModelIndex()]
        while stack:
            parent = stack.pop()
            for r in range(model.rowCount(parent)):
                stack.append(model.index(r, 0, parent))
                for c in range(len(HEADERS)):
                    tip = model.index(r, c, parent).data(Qt.ItemDataRole.ToolTipRole) or ""
                    assert "<img" not in tip and "<b>" not in tip, tip
    name_tip = w.table.model.index(0, 0).data(Qt.ItemDataRole.ToolTipRole)
    assert "&lt;img src=" in name_tip
    # widget tooltips too
    for wid in w.findChildren(QWidget):
        assert "<img" not in wid.toolTip(), (wid, wid.toolTip())
    # the tooltip as Qt shows it: the characters, not an image
    QToolTip.showText(w.table.view.mapToGlobal(QPoint(20, 20)), name_tip, w.table.view)
    tips = [t for t in QApplication.topLevelWidgets() if t.metaObject().className() == "QTipLabel" and t.isVisible()]
    assert tips, "no tooltip shown"
    tip_label = tips[0]
    assert isinstance(tip_label, QLabel)
    assert tip_label.sizeHint().height() < BIG and red_pixels(tip_label.grab().toImage()) == 0
    tip_label.grab().save(str(tmp_path / "tooltip.png"))
    QToolTip.hideText()
    # the details pane: escaped HTML, no image element
    layer = next(n for n in names if "matmul" in str(n))
    w._on_layer_selected(layer)
    assert "<img" not in w.details.text.toHtml() and layer in w.details.text.toPlainText()
    # a per-layer override names the layer in the knobs; a Pareto point's tooltip with a name
    from profiler.variant import Variant

    w.knobs.set_variant(Variant(prune_method="unstructured", layer_prune=((layer, 0.5),)))
    assert w.knobs.overrides_label.textFormat() == Qt.TextFormat.PlainText and "<img" in w.knobs.overrides_label.text()
    pareto_tip = w.pareto_chart._tip(1.0, 0.99, {"label": f"{w.knobs.variant.label()} {layer}", "weights": "1 KB"})
    assert "<img" not in pareto_tip and "&lt;img" in pareto_tip
    # and the whole window, as painted, shows no payload image anywhere
    qtbot.wait(50)  # let the layouts settle, so the saved picture is what a user sees
    img = w.grab().toImage()
    img.save(str(tmp_path / "window.png"))
    assert red_pixels(img, step=4) == 0


def test_cannot_open_dialog_shows_a_hostile_path_as_text(
    qtbot: Any, make_window: Any, hostile_dir: Path, watcher: Watcher
) -> None:
    w = make_window(real_prompts=True)
    missing = hostile_dir / (hostile("nowhere") + ".onnx")
    w.open_model(str(missing))  # the quick check: a message box at once
    qtbot.waitUntil(lambda: len(watcher.seen) == 1, timeout=5000)
    assert_plain_dialog(watcher.seen[0], str(missing))
    # a file that exists but is corrupt: the worker's error, asynchronously
    corrupt = hostile_dir / (hostile("corrupt") + ".onnx")
    corrupt.write_bytes(b"\x08\x07" + bytes(range(256)) * 8)
    w.open_model(str(corrupt))
    qtbot.waitUntil(lambda: len(watcher.seen) == 2, timeout=TIMEOUT_MS)
    assert_plain_dialog(watcher.seen[1], hostile("corrupt"))
    assert watcher.seen[1]["title"] == "Cannot open model"
    watcher.seen[1]["image"].save(str(hostile_dir.parent / "cannot-open.png"))


def test_trust_question_names_the_file_as_text_and_says_what_trust_means(
    qtbot: Any, make_window: Any, hostile_dir: Path, tmp_path: Path, watcher: Watcher
) -> None:
    marker = tmp_path / MARKER
    pt = hostile_pickle(hostile_dir / (hostile("model") + ".pt"), marker)
    w = make_window(real_prompts=True)
    w.open_model(str(pt))
    qtbot.waitUntil(lambda: len(watcher.seen) >= 2, timeout=TIMEOUT_MS)  # the question, then "not opened"
    question, refusal = watcher.seen[0], watcher.seen[1]
    assert question["title"] == "Run code from this file?"
    assert_plain_dialog(
        question, str(pt), "read, change or delete your files", "Only trust files from people you trust"
    )
    assert_plain_dialog(refusal, hostile("model"), "not trusted")
    assert not marker.exists(), "the pickle ran although trust was declined"
    question["image"].save(str(tmp_path / "trust.png"))


def test_shape_question_shows_a_hostile_input_name_as_text(
    qtbot: Any, make_window: Any, hostile_dir: Path, watcher: Watcher
) -> None:
    path = save_onnx(hostile_dir / "dynamic.onnx", dynamic=True)
    w = make_window(real_prompts=True)
    w.open_model(str(path))
    qtbot.waitUntil(lambda: len(watcher.seen) >= 2, timeout=TIMEOUT_MS)  # the shape question, then the error
    assert watcher.seen[0]["class"] == "QInputDialog"
    assert_plain_dialog(watcher.seen[0], "<img src=")
    watcher.seen[0]["image"].save(str(hostile_dir.parent / "shape.png"))


def test_plain_text_helpers(qtbot: Any, red_png: Path, watcher: Watcher) -> None:
    from gui import plain_text

    name = hostile("layer") + "</b> & co [*]"
    assert "<img" not in plain_text.tip(name) and "&lt;img" in plain_text.tip(name)
    assert plain_text.tip(None) == "" and plain_text.menu_text("a&b") == "a&&b"
    parent = QWidget()
    qtbot.addWidget(parent)
    parent.setWindowTitle(plain_text.window_title(name))
    assert parent.windowTitle().count("[*]") == 2  # doubled: Qt shows one literal [*]
    plain_text.ask_int(parent, "Per-layer pruning", f"Share of “{name}” to prune (%):", 50, 0, 95, 5)
    plain_text.ask_text(parent, "Input shape needed", name)
    plain_text.warning(parent, name, name)
    assert len(watcher.seen) == 3
    for seen in watcher.seen:
        assert_plain_dialog(seen, "<img src=")


def test_pdf_report_draws_hostile_names_as_text(tmp_path: Path, red_png: Path, qapp: Any) -> None:
    """The PDF draws text with QPainter.drawText (never HTML): a hostile layer name is in the text."""
    pypdf = pytest.importorskip("pypdf")
    from dataclasses import replace

    from gui.report import build_report_inputs
    from gui.report.pdf import render_report_pdf
    from profiler.whatif import VariantResult

    result = VariantResult.from_dict(json.loads((DATA / "data_mlp_baseline.json").read_text()))
    assert result.profile is not None
    name = hostile("fc1") + "</b>"
    profile = replace(
        result.profile,
        layers=tuple(replace(r, name=name if i == 0 else r.name) for i, r in enumerate(result.profile.layers)),
        model=replace(result.profile.model, name=hostile("model")),
    )
    inputs = build_report_inputs(profile, [replace(result, profile=profile)])
    out = tmp_path / "report.pdf"
    render_report_pdf(inputs, str(out))
    text = "".join(page.extract_text() for page in pypdf.PdfReader(str(out)).pages)
    assert "<img" in text and "fc1" in text


# --- 2. trust comes only from the user ---------------------------------------------------------


def test_project_file_never_carries_trust(tmp_path: Path) -> None:
    from gui.session import ProjectError, load_project, project_to_dict, save_project
    from gui.state.workspace import Workspace

    doc = project_to_dict(Workspace(source="model.pt", trust=True), {})
    assert "trust" not in doc["model"]
    path = project(tmp_path / "p.tradeoff", tmp_path / "model.pt", trust=True)
    ws, _ = load_project(path)
    assert ws.trust is False
    save_project(tmp_path / "q.tradeoff", Workspace(source="model.pt", trust=True), {})
    assert "trust" not in (tmp_path / "q.tradeoff").read_text()
    # a .json holding the project schema is not a project, whatever it says
    as_json = project(tmp_path / "p.json", tmp_path / "model.pt")
    with pytest.raises(ProjectError, match="not a project file"):
        load_project(as_json)


def test_project_saying_trust_true_asks_before_a_pickle_runs(
    qtbot: Any, make_window: Any, prompts: AnsweredPrompts, tmp_path: Path
) -> None:
    marker = tmp_path / MARKER
    pt = hostile_pickle(tmp_path / "evil.pt", marker)
    proj = project(tmp_path / "evil.tradeoff", pt, trust=True)
    w = make_window()
    with qtbot.waitSignal(w.model_failed, timeout=TIMEOUT_MS) as blocker:
        assert w.open_project(proj)
    assert ("trust", str(pt)) in prompts.asked and "not trusted" in blocker.args[0]
    assert "evil.tradeoff" in prompts.whys[-1] and "never keep trust" in prompts.whys[-1]
    assert all(not p.get("trust") for _, p in w.controller.runner.submitted)
    assert not marker.exists(), "a project's trust flag ran the pickle"


def test_project_with_stored_results_asks_before_measuring_a_pickle(
    qtbot: Any, make_window: Any, prompts: AnsweredPrompts, tmp_path: Path
) -> None:
    """The stored results show without loading anything; the first measurement asks, and a "no" keeps them."""
    marker = tmp_path / MARKER
    pt = hostile_pickle(tmp_path / "evil.pt", marker)
    proj = project(tmp_path / "evil.tradeoff", pt, trust=True, with_results=True)
    w = make_window()
    assert w.open_project(proj) and w.workspace.results and not prompts.asked
    assert not w.controller.runner.submitted  # shown from the file
    w.knobs.batch_slider.setValue(1)
    qtbot.waitUntil(lambda: ("trust", str(pt)) in prompts.asked, timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: "not trusted" in w.statusBar().currentMessage(), timeout=TIMEOUT_MS)
    w.knobs.batch_slider.setValue(2)  # declined once: not asked again on every knob change
    qtbot.wait(300)
    assert [k for k, _ in prompts.asked].count("trust") == 1
    assert all(not p.get("trust") for _, p in w.controller.runner.submitted)
    assert w.workspace.results and not marker.exists()


def test_crash_restore_does_not_grant_trust(
    qtbot: Any, make_window: Any, prompts: AnsweredPrompts, settings: Any, tmp_path: Path
) -> None:
    marker = tmp_path / MARKER
    pt = hostile_pickle(tmp_path / "evil.pt", marker)
    w = make_window()
    w.autosave_path.parent.mkdir(parents=True, exist_ok=True)
    project(w.autosave_path, pt, trust=True)
    settings.qs.setValue("session/running", "true")  # the last session crashed
    prompts.restore = True
    with qtbot.waitSignal(w.model_failed, timeout=TIMEOUT_MS):
        w.start("demo:mlp")
    assert [k for k, _ in prompts.asked][:2] == ["restore", "trust"]
    assert "crash" in prompts.whys[-1]
    assert not marker.exists()


def test_project_naming_a_python_factory_asks_before_running_it(
    qtbot: Any, make_window: Any, prompts: AnsweredPrompts, tmp_path: Path
) -> None:
    marker = tmp_path / MARKER
    py = factory(tmp_path / "net.py", marker)
    w = make_window()
    # no stored results: opening means running, so the project asks first; "no" changes nothing
    assert not w.open_project(project(tmp_path / "net.tradeoff", py))
    assert ("trust", str(py)) in prompts.asked and "net.tradeoff" in prompts.whys[-1]
    assert w.controller._runner is None or not w.controller._runner.submitted
    assert w.workspace.source is None and not marker.exists()
    # stored results: they show, and the first measurement asks
    assert w.open_project(project(tmp_path / "stored.tradeoff", py, with_results=True))
    asked = len(prompts.asked)
    w.knobs.batch_slider.setValue(1)
    qtbot.waitUntil(lambda: len(prompts.asked) > asked, timeout=5000)
    assert prompts.asked[-1] == ("trust", str(py))
    qtbot.wait(200)
    assert not marker.exists() and "not trusted" in w.statusBar().currentMessage()
    # "yes" runs it
    prompts.trust = True
    with qtbot.waitSignal(w.result_shown, timeout=TIMEOUT_MS):
        assert w.open_project(project(tmp_path / "yes.tradeoff", py))
    assert marker.exists()


def test_recent_entry_of_a_python_factory_asks(
    qtbot: Any, make_window: Any, prompts: AnsweredPrompts, settings: Any, tmp_path: Path
) -> None:
    marker = tmp_path / MARKER
    py = factory(tmp_path / "net & co.py", marker)
    settings.add_recent(str(py))
    w = make_window()
    action = w.recent_menu.actions()[0]
    assert action.text() == str(py).replace("&", "&&")
    with qtbot.waitSignal(w.model_failed, timeout=5000):
        action.trigger()
    assert prompts.asked[0] == ("trust", str(py)) and "recent" in prompts.whys[-1]
    assert not marker.exists()


def test_a_python_file_the_user_chose_runs_with_a_one_time_notice(
    qtbot: Any, make_window: Any, prompts: AnsweredPrompts, settings: Any, tmp_path: Path
) -> None:
    marker = tmp_path / MARKER
    py = factory(tmp_path / "net.py", marker)
    w = make_window()
    with qtbot.waitSignal(w.result_shown, timeout=TIMEOUT_MS):
        w._open_path(str(py))  # File → Open and drops go here
    assert marker.exists() and not [k for k, _ in prompts.asked if k == "trust"]
    assert len(prompts.notices) == 1 and "runs its Python code" in prompts.notices[0]
    assert settings.factory_notice_shown
    marker.unlink()
    with qtbot.waitSignal(w.result_shown, timeout=TIMEOUT_MS):
        w.open_model(str(py) + ":build_model")
    assert marker.exists() and len(prompts.notices) == 1  # once
    assert "trust" not in str(settings.qs.allKeys())  # the notice is remembered, trust never


def test_json_with_the_project_schema_is_opened_as_a_model(
    qtbot: Any, make_window: Any, prompts: AnsweredPrompts, tmp_path: Path
) -> None:
    marker = tmp_path / MARKER
    pt = hostile_pickle(tmp_path / "evil.pt", marker)
    doc = project(tmp_path / "config.json", pt, trust=True)
    w = make_window()
    with qtbot.waitSignal(w.model_failed, timeout=TIMEOUT_MS) as blocker:
        w._open_path(str(doc))
    assert "config.json" in blocker.args[0] and w.project_path is None
    assert not [k for k, _ in prompts.asked if k == "trust"] and not marker.exists()


def test_trust_question_follows_the_failure_details_not_its_wording(
    qtbot: Any, make_window: Any, prompts: AnsweredPrompts, tmp_path: Path
) -> None:
    model = tmp_path / "m.pt"
    model.write_bytes(b"x")
    failures = [
        Failed(
            failure=FailureKind.UNUSABLE_INPUT,
            file=str(model),
            message=f"{model}: pass --trust only if you trust where it came from",
        )
    ]
    w = make_window(scripted_runner(failures))
    with qtbot.waitSignal(w.model_failed, timeout=5000):
        w.open_model(str(model))
    assert prompts.asked == [("error", f"{model}: pass --trust only if you trust where it came from")]
    failures.append(Failed(failure=FailureKind.NEEDS_TRUST, file=str(model), message=f"{model}: refused"))
    with qtbot.waitSignal(w.model_failed, timeout=5000):
        w.open_model(str(model))
    assert ("trust", str(model)) in prompts.asked
