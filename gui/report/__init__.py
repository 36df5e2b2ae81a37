"""The cost report: a PDF (Qt's QPdfWriter + QPainter, vector charts, real text) built from the
core's result objects, for the app's File → Export report dialog and for `tradeoff report`
(tradeoff/commands/report.py, which imports this package only when it runs).

Import-light: Qt loads only inside `gui.report.pdf`, `gui.report.export` and the drawing modules they
import (`figures`, `chart_*`, `section_*`, `layout`), torch never at import.
"""

from __future__ import annotations

from .inputs import ReportInputs, build_report_inputs

__all__ = ["ReportInputs", "build_report_inputs", "render_report_pdf"]


def render_report_pdf(inputs: ReportInputs, path: str, *, page_size: str = "a4") -> int:
    """Write the report PDF atomically to `path`; returns the page count (see gui.report.pdf)."""
    from .pdf import render_report_pdf as _render

    return _render(inputs, path, page_size=page_size)
