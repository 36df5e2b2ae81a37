"""The cost report PDF: QPdfWriter + QPainter, real text, vector charts, page numbers, A4/Letter.

`render_report_pdf(inputs, path, page_size="a4")` lays out the sections below and writes the
file atomically (a temporary file in the destination folder, then `os.replace`); an unwritable
destination raises InputError and leaves nothing behind. Works headless: a QGuiApplication is
created when none exists (QT_QPA_PLATFORM=offscreen needs no display).

Sections (a report that reads as a decision, ≤ 8 pages for a model with a few variants):
page 1 is the decision — the recommendation (the optimizer's when the report comes from a
search, and the planner's answer), the projected savings of the chosen variant against the
baseline, what was measured here with its noise interval, the caveats, and the contents ·
baseline and chosen variant in detail (configuration, machine, every metric with its basis) ·
where the cost is (layer heatmap, top layers) · variants explored (table, Pareto chart) · cost:
the top 3 options per question (serve at the load, $ per million inferences, train), each table
with its chart · assumptions and method (what is measured, counted or projected; MFU,
utilisation, efficiencies; price dates and sources). The full ranked tables are in the CSV/JSON
exports (`--export-dir`, File → Export data), not in the PDF.

Layout keeps a table with its chart and a heading with what follows it (`Doc.keep_together`),
never leaves one row of a table alone on a page, and numbers the contents after the layout.
Pages are filled rather than left a third empty: a chart may be drawn a little smaller (the
heatmap down to 150 pt, the Pareto chart down to 150 pt) when that keeps its group on the page,
and the layers section is laid out whole or with its heatmap and its table as two groups,
whichever lets the variants end sooner (`Doc.best_of`).

Every number comes from the core's objects (Profile, VariantResult, Sweep, Plan, Catalog);
the report only formats them and compares baseline with chosen (gui.report.inputs.Savings).
"""

from __future__ import annotations

import gc
import os
from pathlib import Path
from typing import Any

from profiler.errors import InputError

from .inputs import ReportInputs
from .inputs import Savings as Savings  # re-exported: imported from here before the split
from .inputs import cheapest_monthly as cheapest_monthly
from .inputs import cheapest_serving as cheapest_serving
from .inputs import cheapest_training as cheapest_training

# the sections moved to their own modules; these names stay importable from gui.report.pdf
from .sections import _Report
from .sections_base import RANKED_SERVING as RANKED_SERVING
from .sections_base import RANKED_TRAINING as RANKED_TRAINING
from .sections_base import TOP_LAYERS as TOP_LAYERS
from .sections_base import _measured_latency as _measured_latency
from .sections_base import _muted as _muted
from .sections_base import _precision_of as _precision_of


def ensure_gui_application() -> Any:
    """The running Qt application, or a new QApplication (offscreen when there is no display).
    A QApplication rather than a bare QGuiApplication, so widgets can still be made later in
    the same process (the app, pytest-qt) — Qt allows one application object per process."""
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtWidgets import QApplication

    from .qt_compat import protect_none_refcount

    protect_none_refcount()
    app = QCoreApplication.instance()
    if app is None:
        if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
            os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        app = QApplication(["tradeoff-report"])
    from PySide6.QtGui import QGuiApplication

    if not isinstance(app, QGuiApplication):
        raise RuntimeError("a QCoreApplication runs in this process: painting a PDF needs a QGuiApplication")
    return app


def check_pdf_destination(path: str | os.PathLike[str], page_size: str) -> Path:
    """The PDF's path, after refusing a paper size we do not lay out or a folder (InputError)."""
    dest = Path(path)
    if page_size.lower() not in ("a4", "letter"):
        raise InputError("--page-size", f"{page_size!r} is not a4 or letter")
    if dest.is_dir():
        raise InputError(str(path), "is a folder: name the PDF file to write")
    return dest


def render_report_pdf(inputs: ReportInputs, path: str | os.PathLike[str], *, page_size: str = "a4") -> int:
    """Lay out and write the report to `path`; returns the number of pages."""
    dest = check_pdf_destination(path, page_size)
    from profiler.safe_io import atomic_output

    ensure_gui_application()
    # a temporary beside the PDF, renamed over it when complete (written in place to a FIFO or
    # a device, honouring the umask); removed on any failure
    with atomic_output(dest) as tmp:
        return _render_to(inputs, str(tmp), page_size)


def _render_to(inputs: ReportInputs, path: str, page_size: str) -> int:
    from profiler import __version__

    from .layout import Doc, make_writer

    title = f"{inputs.title}: {inputs.model_name}"
    writer = make_writer(path, page_size, title=title, creator=f"Tradeoff Studio {__version__}")
    date = inputs.created.strftime("%Y-%m-%d %H:%M %Z").strip()

    def lay_out(writer: Any, toc_lines: int) -> Doc:
        doc = Doc(
            writer, header=f"{title} · {date}", footer_left=f"Tradeoff Studio {__version__} · {inputs.created:%Y-%m-%d}"
        )
        doc.toc_lines = toc_lines
        _Report(doc, inputs).build()
        return doc

    # laid out once to count the contents' lines, then again with room for exactly that many
    # (the page numbers themselves are read when the pages are painted)
    doc = lay_out(writer, 0)
    try:
        if doc.toc and len(doc.toc) != doc.toc_lines:
            doc.pages.clear()
            doc.writer = None  # type: ignore[assignment]  # the second layout paints
            doc = lay_out(writer, len(doc.toc))
        pages = doc.paint()
    finally:
        # Drop every Qt object (fonts and colours in the page closures, the writer) now, while
        # the application exists: left to interpreter exit, PySide6 may free them after it.
        doc.pages.clear()
        doc.writer = None  # type: ignore[assignment]  # released while the application exists
        del doc
        del writer  # flushes and closes the file
        gc.collect()
    return pages
