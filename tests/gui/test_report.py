"""The cost report PDF: real text, the right numbers, page sizes, vector figures, safe writes.

One real set of inputs (demo:mlp measured in process with a short budget: baseline, int8 and a
structured prune; planned over the shipped catalog) is rendered once per page size and read
back with pypdf.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

pypdf = pytest.importorskip("pypdf")

A4_PT = (595.3, 841.9)
LETTER_PT = (612.0, 792.0)


@pytest.fixture(scope="module")
def inputs() -> Any:
    from gui.report import build_report_inputs
    from planner.catalog import load_catalog
    from planner.options import PlanOptions
    from profiler.analyze import ProfileRequest
    from profiler.loading import load_model
    from profiler.variant import Variant
    from profiler.whatif import WhatIfSession

    session = WhatIfSession(load_model("demo:mlp"), ProfileRequest(budget_s=0.3, layer_runs=2))
    try:
        results = [
            session.run(v)
            for v in (Variant(), Variant(precision="int8"), Variant(prune=0.5, prune_method="structured"))
        ]
    finally:
        session.close()
    assert all(r.error is None for r in results), [r.error for r in results]
    baseline = results[0].profile
    options = PlanOptions(train_samples=1e6, serve_qps=50)
    return build_report_inputs(baseline, results, options=options, catalog=load_catalog(), chosen_label="int8")


def _render(inputs: Any, path: Path, page_size: str) -> tuple[int, Any]:
    from gui.report import render_report_pdf

    pages = render_report_pdf(inputs, str(path), page_size=page_size)
    return pages, pypdf.PdfReader(str(path))


@pytest.fixture(scope="module")
def a4(inputs: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[int, Any, str]:
    path = tmp_path_factory.mktemp("report") / "mlp-a4.pdf"
    pages, reader = _render(inputs, path, "a4")
    text = "\n".join(p.extract_text() for p in reader.pages)
    return pages, reader, text


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_page_count_and_a4_size(a4: tuple[int, Any, str]) -> None:
    pages, reader, _ = a4
    assert pages == len(reader.pages) and 4 <= pages <= 8  # a decision, not an appendix of tables
    for page in reader.pages:
        w, h = float(page.mediabox.width), float(page.mediabox.height)
        assert (round(w, 1), round(h, 1)) == pytest.approx(A4_PT, abs=0.5)


def test_letter_size(inputs: Any, tmp_path: Path) -> None:
    pages, reader = _render(inputs, tmp_path / "mlp-letter.pdf", "letter")
    assert pages == len(reader.pages)
    w, h = float(reader.pages[0].mediabox.width), float(reader.pages[0].mediabox.height)
    assert (w, h) == pytest.approx(LETTER_PT, abs=0.5)


def test_text_has_model_totals_and_page_numbers(inputs: Any, a4: tuple[int, Any, str]) -> None:
    from profiler.table import human_bytes, human_count

    pages, _, text = a4
    flat = _flat(text)
    b = inputs.baseline
    assert "mlp" in flat and "demo:mlp" in flat
    assert f"Page 1 of {pages}" in flat and f"Page {pages} of {pages}" in flat
    assert human_count(b.totals.params) in flat
    assert f"{human_count(b.totals.macs, 'MAC')}" in flat
    assert human_bytes(b.totals.weight_bytes) in flat
    assert b.environment is not None and b.environment.cpu in flat
    # the measured latency, formatted as the summary shows it
    from gui.report import fmt

    assert fmt.ms(b.totals.latency_ms.median) in flat
    assert "measured" in flat and "projected" in flat and "counted" in flat
    # every layer of the top table
    for row in b.layers:
        assert row.name in flat


def test_text_has_ranked_hardware_and_savings(inputs: Any, a4: tuple[int, Any, str]) -> None:
    from gui.report import fmt
    from gui.report.inputs import Savings, cheapest_serving, cheapest_training

    _, _, text = a4
    flat = _flat(text)
    ranked = inputs.plan_chosen.inference.options
    for o in ranked[:3]:  # the top 3 per question (the full ranking is in the exports)
        assert o.instance in flat and o.accelerator in flat
        assert fmt.usd(o.usd_per_month) in flat
    assert "CSV/JSON exports" in flat and "Cost tables per hardware" not in flat
    sb, sc = cheapest_serving(inputs.plan_baseline), cheapest_serving(inputs.plan_chosen)
    # a load was given (50 req/s): the answer is the monthly cost, and page 1 leads with it
    assert sb is inputs.plan_baseline.inference.options[0] and sb.usd_per_month is not None
    s = Savings(sb.usd_per_month, sc.usd_per_month)
    assert fmt.usd(s.baseline) in flat and fmt.usd(s.chosen) in flat and fmt.saved_pct(s.saved_fraction) in flat
    tb = cheapest_training(inputs.plan_baseline)
    assert tb.instance in flat and fmt.usd(tb.usd_on_demand) in flat
    assert "Chosen variant: int8" in flat
    assert "Recommendation" in flat and "Caveats" in flat and "Contents" in flat


def test_text_has_assumptions_and_sources(inputs: Any, a4: tuple[int, Any, str]) -> None:
    _, _, text = a4
    flat = _flat(text)
    a = inputs.plan_baseline.assumptions
    for words in (
        "Assumptions and method",
        "MFU (training)",
        "Utilisation when serving",
        "Efficiency, datacenter class",
        "Price dates and sources",
        "Newest price date",
        "Oldest price date",
    ):
        assert words in flat, words
    assert str(a["utilization"]) in flat
    assert a["catalog_as_of"] in flat and a["catalog_oldest_as_of"] in flat
    # a price source, as the catalog names it (long ones wrap: compare the start)
    src = next(i.source for i in inputs.catalog.instances if i.provider == "aws")
    assert src[:30] in flat


def _content(page: Any) -> bytes:
    data = page.get_contents()
    return data.get_data() if data is not None else b""


def test_figures_are_vector_paths_not_images(a4: tuple[int, Any, str]) -> None:
    _, reader, text = a4
    # No raster image anywhere: every chart is painted as PDF path operators.
    for page in reader.pages:
        xobjects = (page.get("/Resources") or {}).get("/XObject") or {}
        for ref in getattr(xobjects, "values", lambda: [])():
            assert ref.get_object().get("/Subtype") != "/Image"
    # The layer page holds the heatmap: many filled rectangles (5 metric rows × 6 layers + legend).
    # (the section titles are also in page 1's contents: find the pages by their captions)
    layer_page = next(i for i, p in enumerate(reader.pages) if "Layer heatmap:" in _flat(p.extract_text()))
    ops = _content(reader.pages[layer_page])
    assert len(re.findall(rb"\bre\b", ops)) + len(re.findall(rb"\bl\b", ops)) >= 30
    assert re.search(rb"\bf\*?\b", ops)  # filled paths
    # the Pareto page draws circles (curves), the serving page bars
    pareto = next(i for i, p in enumerate(reader.pages) if "Pareto chart:" in _flat(p.extract_text()))
    assert len(re.findall(rb"\bc\b", _content(reader.pages[pareto]))) >= 8  # Bézier segments of the markers
    assert "Pareto chart" in _flat(text) and "Layer heatmap" in _flat(text)


def test_unwritable_destination_leaves_nothing(inputs: Any, tmp_path: Path) -> None:
    from gui.report import render_report_pdf
    from profiler.errors import InputError

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    before = sorted(tmp_path.iterdir())
    with pytest.raises(InputError) as info:
        render_report_pdf(inputs, str(blocker / "report.pdf"))
    assert info.value.exit_code == 2 and "cannot write" in str(info.value)
    with pytest.raises(InputError):
        render_report_pdf(inputs, str(tmp_path / "missing" / "report.pdf"))
    with pytest.raises(InputError):
        render_report_pdf(inputs, str(tmp_path), page_size="a4")  # a folder
    with pytest.raises(InputError):
        render_report_pdf(inputs, str(tmp_path / "x.pdf"), page_size="a3")
    assert sorted(tmp_path.iterdir()) == before


def test_existing_file_is_replaced_whole(inputs: Any, tmp_path: Path) -> None:
    from gui.report import render_report_pdf

    dest = tmp_path / "r.pdf"
    dest.write_bytes(b"old")
    render_report_pdf(inputs, str(dest))
    assert dest.read_bytes().startswith(b"%PDF") and not list(tmp_path.glob(".*.tmp"))


def test_baseline_only_report(inputs: Any, tmp_path: Path) -> None:
    """No variants and no plan: the report still renders, saying what is missing."""
    from gui.report import ReportInputs, render_report_pdf

    only = ReportInputs(baseline=inputs.baseline)
    path = tmp_path / "base.pdf"
    pages = render_report_pdf(only, str(path))
    text = _flat("\n".join(p.extract_text() for p in pypdf.PdfReader(str(path)).pages))
    assert pages >= 2 and "No variant was measured" in text and "No cost projection" in text


def test_automatic_choice_respects_the_fidelity_floor(inputs: Any) -> None:
    from gui.report import build_report_inputs

    auto = build_report_inputs(inputs.baseline, inputs.results, options=None, catalog=None, min_cosine=0.99)
    assert auto.chosen is not None and auto.chosen.fidelity.cosine >= 0.99
    assert not auto.chosen.variant.pruned  # the 0.5 prune of the MLP loses fidelity
    strict = build_report_inputs(inputs.baseline, inputs.results, min_cosine=1.01)
    assert strict.chosen is None and "baseline stays" in strict.choice_rule


def test_export_report_dialog_reads_the_window(inputs: Any, qtbot: Any, tmp_path: Path) -> None:
    from PySide6.QtWidgets import QMainWindow

    from gui.report.export import export_data_dialog, export_report_dialog

    class Window(QMainWindow):
        def report_inputs(self) -> Any:
            return inputs

    w = Window()
    qtbot.addWidget(w)
    out = export_report_dialog(w, path=str(tmp_path / "app.pdf"), page_size="letter", quiet=True)
    assert out and Path(out).read_bytes().startswith(b"%PDF")
    reader = pypdf.PdfReader(out)
    assert float(reader.pages[0].mediabox.width) == pytest.approx(LETTER_PT[0], abs=0.5)
    files = export_data_dialog(w, folder=str(tmp_path / "data"), quiet=True)
    names = {Path(f).name for f in files}
    assert {
        "layers.csv",
        "profile.json",
        "variants.csv",
        "sweep.json",
        "costs.csv",
        "plan.json",
        "costs-chosen.csv",
    } <= names

    class Empty(QMainWindow):
        def report_inputs(self) -> Any:
            return None

    e = Empty()
    qtbot.addWidget(e)
    with pytest.raises(RuntimeError):
        export_report_dialog(e, path=str(tmp_path / "none.pdf"), quiet=True)
    assert not (tmp_path / "none.pdf").exists()


def test_export_reads_the_main_windows_workspace_and_planner(inputs: Any, qtbot: Any, tmp_path: Path) -> None:
    """Without report_inputs(), the dialog builds them from `window.workspace` + `window.planner`."""
    from PySide6.QtWidgets import QMainWindow

    from gui.report.export import export_report_dialog
    from planner.options import PlanOptions

    ws_mod = pytest.importorskip("gui.state.workspace")
    ws = ws_mod.Workspace(source="demo:mlp")
    for r in inputs.results:
        ws.add(r)  # the last added (the structured prune) is current: the chosen variant

    class Planner:
        catalog = inputs.catalog

        def options(self) -> PlanOptions:
            return PlanOptions(serve_qps=10)

    class Window(QMainWindow):
        workspace = ws
        planner = Planner()

    w = Window()
    qtbot.addWidget(w)
    out = export_report_dialog(w, path=str(tmp_path / "ws.pdf"), page_size="a4", quiet=True)
    text = " ".join(" ".join(p.extract_text().split()) for p in pypdf.PdfReader(out).pages)
    assert "Chosen variant: prune 0.5 structured · fp32 — chosen by the user" in text
    assert "Serve 10 req/s" in text
