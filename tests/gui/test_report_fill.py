"""The report's pages are filled (issue 16): a group whose flexible figures can be drawn a little
smaller stays on the page instead of leaving it a third empty; the layers section splits its
heatmap from its table only when that makes the report end sooner; a squeezed chart keeps its
axis title whole. End to end, the digits demo's pages between the first and the last are
mostly full."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.gui.conftest import fill_to

ROOT = Path(__file__).resolve().parents[2]
#: the issue's digits command, as a user types it
DIGITS = ["demo:digits-cnn", "--prune", "0,0.3", "--precision", "fp32,int8", "--serve-qps", "200"]
#: how full every page between the decision page and the last must be
MIN_FILL = 0.75


def _group(doc: Any) -> Any:
    """A heading, a flexible figure (200 pt, down to 150), its caption and a line after it."""

    def lay_out() -> None:
        doc.heading("Where the cost is", 1)
        doc.figure(200, lambda p, r: None, caption="a chart", min_height_pt=150)
        doc.paragraph("after the chart", size=8)

    return lay_out


def test_a_group_squeezes_its_figure_to_stay_on_the_page(doc: Any) -> None:
    fill_to(doc, 240)  # the group needs ~270 pt at full size, ~220 pt squeezed
    before = len(doc.pages)
    doc.keep_together(_group(doc))
    assert len(doc.pages) == before  # stayed on this page
    assert doc.y <= doc.bottom
    assert doc.page_fill()[0] > 0.95


def test_a_group_that_does_not_fit_even_squeezed_moves_at_full_size(doc: Any) -> None:
    from gui.report.layout import Doc

    fill_to(doc, 150)  # too little even at the figure's smallest
    drawn: list[float] = []
    real = Doc.figure

    def spy(self: Any, height_pt: float, draw: Any, **kw: Any) -> None:
        start = self.y
        real(self, height_pt, draw, **kw)
        drawn.append((self.y - start) / self.pt(1))

    Doc.figure = spy  # type: ignore[method-assign]
    try:
        doc.keep_together(_group(doc))
    finally:
        Doc.figure = real  # type: ignore[method-assign]
    assert len(doc.pages) == 2
    assert drawn[-1] >= 200  # laid out again on the new page at its full height
    assert doc.page_fill()[0] < 0.85  # the first page kept its room (nothing squeezed into it)


def test_best_of_keeps_the_layout_that_ends_sooner_and_the_first_on_a_tie(doc: Any) -> None:
    def long() -> None:
        doc.heading("A", 1, page_break=True)
        doc.paragraph("x")

    def short() -> None:
        doc.paragraph("x")

    doc.best_of(long, short)
    assert len(doc.pages) == 1 and [t for _, t, _ in doc.toc] == []

    def first_op(p: Any) -> None: ...

    def second_op(p: Any) -> None: ...

    def first() -> None:
        doc.add(first_op)
        doc.space(10)

    def second() -> None:
        doc.add(second_op)
        doc.space(10)

    doc.best_of(first, second)  # the same end: the first is kept
    assert doc.pages[0][-1] is first_op
    doc.best_of(first, lambda: doc.add(second_op))  # the second ends higher: kept
    assert doc.pages[0][-1] is second_op


def test_a_squeezed_pareto_chart_keeps_its_axis_title_whole(qapp: Any, tmp_path: Path) -> None:
    from PySide6.QtCore import QRectF
    from PySide6.QtGui import QPainter

    from gui.report.chart_plots import draw_pareto
    from gui.report.figures import ScatterPoint
    from gui.report.layout import make_writer

    drawn: list[tuple[str, int]] = []
    real = QPainter.drawText

    class Recording(QPainter):
        def drawText(self, *args: Any) -> None:  # type: ignore[override]  # noqa: N802
            if len(args) == 3 and isinstance(args[2], str):
                drawn.append((args[2], int(args[1])))
            real(self, *args)

    writer = make_writer(str(tmp_path / "p.pdf"), "a4", title="t", creator="test")
    p = Recording()
    assert p.begin(writer)
    try:
        points = [ScatterPoint(1.0, 1.0, "fp32", True, baseline=True), ScatterPoint(0.5, 0.8, "int8", True)]
        ylabel = "output cosine vs baseline (measured)"
        draw_pareto(p, QRectF(0, 0, 8000, 150 * 1200 / 72), points, xlabel="x", ylabel=ylabel, xfmt=str, yfmt=str)
    finally:
        p.end()
    from PySide6.QtCore import Qt

    flags = [f for text, f in drawn if text == ylabel]
    assert flags and flags[0] & int(Qt.TextFlag.TextWordWrap)  # on two lines, not cut at the plot's height


@pytest.fixture(scope="module")
def digits_layout(tmp_path_factory: pytest.TempPathFactory) -> list[float]:
    """The digits demo's report laid out as `tradeoff report` lays it out: its page fill."""
    tmp = tmp_path_factory.mktemp("fill")
    script = tmp / "capture.py"
    script.write_text(
        "import pickle, sys\n"
        "def main():\n"
        "    import gui.report as R\n"
        "    real = R.render_report_pdf\n"
        "    def capture(inputs, path, **kw):\n"
        f"        pickle.dump(inputs, open({str(tmp / 'inputs.pickle')!r}, 'wb'))\n"
        "        return real(inputs, path, **kw)\n"
        "    R.render_report_pdf = capture\n"
        "    from tradeoff.main import main as run\n"
        "    return run(sys.argv[1:])\n"
        "if __name__ == '__main__':\n"
        "    sys.exit(main())\n",
        encoding="utf-8",
    )
    subprocess.run(
        [sys.executable, str(script), "report", *DIGITS, "--output", str(tmp / "digits.pdf")],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=600,
        env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    with open(tmp / "inputs.pickle", "rb") as f:
        inputs = pickle.load(f)  # noqa: S301 (written by this test a moment ago)
    from gui.report.layout import Doc, make_writer
    from gui.report.pdf import ensure_gui_application
    from gui.report.sections import _Report

    ensure_gui_application()

    def lay_out(lines: int) -> Doc:
        writer = make_writer(str(tmp / "again.pdf"), "a4", title="t", creator="test")
        d = Doc(writer, header="h", footer_left="f")
        d.toc_lines = lines
        _Report(d, inputs).build()
        return d

    first = lay_out(0)
    doc = lay_out(len(first.toc))
    fill = doc.page_fill()
    first.pages.clear()
    doc.pages.clear()
    return fill


def test_digits_report_pages_are_mostly_full(digits_layout: list[float]) -> None:
    fill = digits_layout
    assert len(fill) <= 8
    middle = fill[1:-1]  # page 1 is the decision (its own page); the last ends where it ends
    assert middle and all(f >= MIN_FILL for f in middle), [f"{f:.0%}" for f in fill]
    assert fill[1] >= 0.9  # page 2 — the details — is not left a third empty
