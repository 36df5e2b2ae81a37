"""The cost report reads as a decision (issue 16, item 6).

- The two demo reports of the issue (`demo:digits-cnn` with two prune ratios × two precisions,
  `demo:resnet18` with training) are written by the real command and fit in 8 pages: page 1 is
  the recommendation, the projected savings, every variant's measured change with its interval,
  the caveats and the contents; the cost section shows the top 3 options per question (no
  per-accelerator appendix: the full tables are in the exports).
- The layout keeps a table with its chart, a heading with its block, and never leaves one row
  of a table alone on a page; the contents' page numbers are the sections' pages.
- A result measured against another model never enters the report.
- File → Export report ends with a message box offering Open and Show in folder.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.gui.conftest import fill_to

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).parent / "data"

#: the two commands of the issue, as a user types them (the PDF path appended)
COMMANDS = {
    "digits-cnn": ["demo:digits-cnn", "--prune", "0,0.3", "--precision", "fp32,int8", "--serve-qps", "200"],
    "resnet18": [
        "demo:resnet18", "--prune", "0,0.3", "--serve-qps", "200", "--train-samples", "1.28e6", "--epochs", "90",
    ],
}  # fmt: skip
MAX_PAGES = 8


def page_count(path: Path) -> int:
    """Pages of a PDF: pypdf when installed, else poppler's pdfinfo, else the page objects."""
    try:
        import pypdf
    except ImportError:
        pass
    else:
        return len(pypdf.PdfReader(str(path)).pages)
    if shutil.which("pdfinfo"):
        out = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
        match = re.search(r"^Pages:\s+(\d+)", out, re.M)
        if match:
            return int(match.group(1))
    return len(re.findall(rb"/Type\s*/Page\b(?!s)", path.read_bytes()))


def page_texts(path: Path) -> list[str]:
    """Each page's text, whitespace collapsed (pypdf, else pdftotext; skipped without either)."""
    try:
        import pypdf
    except ImportError:
        if not shutil.which("pdftotext"):
            pytest.skip("neither pypdf nor pdftotext is installed")
        out = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
        pages = out.split("\f")
    else:
        pages = [p.extract_text() for p in pypdf.PdfReader(str(path)).pages]
    return [re.sub(r"\s+", " ", p) for p in pages if p.strip()]


# --- the two demo reports, written by `tradeoff report` -----------------------------------------


@pytest.fixture(scope="module")
def demo_reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, dict[str, Any], list[str]]]:
    tmp = tmp_path_factory.mktemp("decision")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp / "xdg")}
    out: dict[str, tuple[Path, dict[str, Any], list[str]]] = {}
    for name, args in COMMANDS.items():
        pdf, doc = tmp / f"{name}.pdf", tmp / f"{name}.json"
        proc = subprocess.run(
            [sys.executable, "-m", "tradeoff", "report", *args, "--output", str(pdf), "--json", str(doc)],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        out[name] = (pdf, json.loads(doc.read_text(encoding="utf-8")), page_texts(pdf))
    return out


@pytest.mark.slow
@pytest.mark.parametrize("name", list(COMMANDS))
def test_demo_report_fits_in_eight_pages(demo_reports: Any, name: str) -> None:
    pdf, doc, _ = demo_reports[name]
    pages = page_count(pdf)
    assert pages == doc["pages"] and 1 <= pages <= MAX_PAGES, f"{name}: {pages} pages"


@pytest.mark.slow
@pytest.mark.parametrize("name", list(COMMANDS))
def test_page_one_is_the_decision_with_its_caveats_and_contents(demo_reports: Any, name: str) -> None:
    _, doc, texts = demo_reports[name]
    first = texts[0]
    for words in ("Recommendation", "What it costs (projected)", "Serve 200 req/s", "Every variant measured", "Caveats",
                  "projected", "measured", "Contents"):  # fmt: skip
        assert words in first, words
    # the caveats: where it was measured, random weights (both demos are untrained but digits-cnn)
    assert "Measured on this machine's CPU and projected to the GPUs" in first
    if name == "resnet18":
        assert "Random weights" in first and "compared on 1 input only" in first
    if doc["chosen"] is None:
        assert "the baseline stays" in first


@pytest.mark.slow
@pytest.mark.parametrize("name", list(COMMANDS))
def test_contents_gives_each_section_its_page(demo_reports: Any, name: str) -> None:
    _, doc, texts = demo_reports[name]
    first = texts[0]
    details = "Baseline and chosen variant in detail" if doc["chosen"] else "The baseline in detail"
    sections = ["Recommendation", details, "Where the cost is: layers", "Variants explored",
                "Cost: the top 3 options per question", "Assumptions and method"]  # fmt: skip
    for title in sections:
        match = re.search(re.escape(title) + r" (\d+)\b", first)
        assert match, f"{title!r} is not in the contents"
        page = int(match.group(1))
        assert 1 <= page <= len(texts)
        assert title in texts[page - 1], f"{title!r} is not on page {page}"


@pytest.mark.slow
@pytest.mark.parametrize("name", list(COMMANDS))
def test_top_three_per_question_and_no_per_accelerator_appendix(demo_reports: Any, name: str) -> None:
    _, doc, texts = demo_reports[name]
    text = " ".join(texts)
    assert "Cost tables per hardware" not in text and "TFLOPS dense" not in text
    assert "Serve 200 req/s: the 3 cheapest fleets" in text
    assert "$ per million inferences: the 3 cheapest" in text
    assert "full ranked tables" in text and "CSV/JSON exports" in text
    if name == "resnet18":
        assert re.search(r"Train the (model|chosen variant): the 3 cheapest options", text)
    else:
        assert "Not projected: give a training set size" in text
    # each answer of the plan heads its table: the top option is the planner's answer
    plan = doc["plan_chosen"] or doc["plan"]
    assert plan["inference"]["options"][0]["instance"] in text


@pytest.mark.slow
@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_measured_change_carries_its_interval(demo_reports: Any, name: str) -> None:
    """Page 1 words each variant's change as the interleaved experiment measured it: with its
    interval, or "≈ no measurable change" when the interval spans 1 — never a bare ratio."""
    from profiler import units
    from profiler.comparison import RatioEstimate

    _, doc, texts = demo_reports[name]
    first = texts[0]
    compared = [v for v in doc["sweep"]["variants"] if v["latency_ratio"] and v["latency_ratio"]["rounds"] > 0]
    assert compared
    for v in compared:
        ratio = RatioEstimate.from_dict(v["latency_ratio"])
        words = units.speed_change(ratio, kind="latency")
        assert words in first, (v["label"], words)
        if not ratio.significant:
            assert words == "≈ no measurable change"
        else:
            assert re.search(r"\(\d[\d.]*–\d[\d.]*×\)", words), words


# --- the layout: kept together, no orphans, contents ----------------------------------------


def test_keep_together_moves_a_table_and_its_chart_to_the_next_page(doc: Any) -> None:
    from gui.report.layout import Column

    fill_to(doc, 120)
    where: dict[str, int] = {}

    def group() -> None:
        doc.heading("A table and its chart", 2)
        doc.table([Column("a", 1), Column("b", 1, "r")], [["x", "1"], ["y", "2"], ["z", "3"]])
        where["table"] = doc.page_index()
        doc.figure(150, lambda p, r: None, caption="its chart")
        where["chart"] = doc.page_index()

    doc.keep_together(group)
    assert where == {"table": 1, "chart": 1}
    assert len(doc.pages) == 2


def test_a_table_never_leaves_one_row_alone(doc: Any) -> None:
    from gui.report.layout import Column, font

    rows = [[f"row {i}", str(i)] for i in range(40)]
    line = doc.metrics(font(8)).height() + doc.pt(3.2)
    head = doc.text_height("a", font(8, bold=True), doc.width) + doc.pt(4)
    # room for the header and every row but the last: that one would be alone on the next page
    doc.y = doc.bottom - (head + (len(rows) - 0.5) * line)
    doc.table([Column("a", 1), Column("b", 1, "r")], rows)
    assert len(doc.pages) == 2
    # the new page holds the repeated header, the last two rows and the closing rule
    assert len(doc.pages[-1]) == 1 + 2 + 1


def test_a_short_table_moves_whole_and_a_heading_goes_with_its_block(doc: Any) -> None:
    from gui.report.layout import Column

    fill_to(doc, 100)  # room for the heading, not for the heading and its table
    doc.heading("Short table", 2)
    doc.table([Column("a", 1), Column("b", 1, "r")], [[f"r{i}", str(i)] for i in range(6)])
    assert len(doc.pages) == 2
    # the heading moved with its table: the first page ends with the filler, nothing else
    assert len(doc.pages[0]) == 1
    assert [t for t in doc.toc if t[1] == "Short table"] == []  # level 2: not in the contents


def test_contents_numbers_the_sections_pages(qapp: Any, tmp_path: Path) -> None:
    from gui.report.layout import Doc, make_writer

    def lay_out(lines: int) -> Any:
        writer = make_writer(str(tmp_path / "toc.pdf"), "a4", title="t", creator="test")
        d = Doc(writer, header="h", footer_left="f")
        d.toc_lines = lines
        d.heading("First", 1)
        d.contents()
        d.heading("Second", 1, page_break=True)
        d.heading("Third", 1, page_break=True)
        d.paragraph("text")
        return d

    first = lay_out(0)
    second = lay_out(len(first.toc))
    assert [(t, p) for _, t, p in second.toc] == [("First", 0), ("Second", 1), ("Third", 2)]
    assert second.paint() == 3
    texts = page_texts(tmp_path / "toc.pdf")
    assert re.search(r"First 1 .*Second 2 .*Third 3", texts[0])
    first.pages.clear()
    second.pages.clear()


# --- inputs from the current model only ---------------------------------------------------------


def test_results_of_another_model_never_enter_the_report() -> None:
    from gui.report import build_report_inputs
    from profiler.whatif import VariantResult

    ours = VariantResult.from_dict(json.loads((DATA / "data_mlp_baseline.json").read_text()))
    assert ours.profile is not None and ours.baseline is not None
    other_model = dataclasses.replace(ours.baseline.model, source="demo:other")
    theirs = dataclasses.replace(ours, baseline=dataclasses.replace(ours.baseline, model=other_model))
    inputs = build_report_inputs(ours.profile, [ours, theirs])
    assert inputs.results == (ours,)


# --- File → Export report: Open and Show in folder ---------------------------------------------


@pytest.fixture
def small_inputs() -> Any:
    from gui.report import build_report_inputs
    from profiler.whatif import VariantResult

    result = VariantResult.from_dict(json.loads((DATA / "data_mlp_baseline.json").read_text()))
    return build_report_inputs(result.profile, [result])


@pytest.mark.parametrize(("button", "target"), [("open_report", "file"), ("show_report_folder", "folder")])
def test_export_ends_with_open_and_show_in_folder(
    small_inputs: Any, qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, button: str, target: str
) -> None:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMainWindow, QMessageBox, QPushButton

    from gui.report import export

    opened: list[str] = []

    def fake_open(url: Any) -> bool:
        opened.append(url.toLocalFile())
        return True

    monkeypatch.setattr(export, "open_url", fake_open)

    class Window(QMainWindow):
        def report_inputs(self) -> Any:
            return small_inputs

    w = Window()
    qtbot.addWidget(w)
    seen: dict[str, Any] = {}

    def answer() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, answer)
            return
        seen["text"] = box.text()
        seen["buttons"] = {b.objectName(): b.text() for b in box.findChildren(QPushButton) if b.objectName()}
        found = box.findChild(QPushButton, button)
        assert found is not None, button
        found.click()

    QTimer.singleShot(0, answer)
    pdf = tmp_path / "report.pdf"
    assert export.export_report_dialog(w, path=str(pdf), page_size="a4") == str(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    assert seen["buttons"] == {"open_report": "Open", "show_report_folder": "Show in folder"}
    assert "The report was written" in seen["text"]
    assert opened == [str(pdf) if target == "file" else str(tmp_path)]
    assert "Report written to" in w.statusBar().currentMessage()


def test_quiet_export_shows_no_box(
    small_inputs: Any, qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtWidgets import QMainWindow

    from gui.report import export

    monkeypatch.setattr(export, "report_written_box", lambda *a: pytest.fail("quiet export showed a box"))

    class Window(QMainWindow):
        def report_inputs(self) -> Any:
            return small_inputs

    w = Window()
    qtbot.addWidget(w)
    out = export.export_report_dialog(w, path=str(tmp_path / "q.pdf"), page_size="a4", quiet=True)
    assert out and Path(out).exists()
