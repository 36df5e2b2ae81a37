"""The $/M card, the planner summary and the PDF cost section say which share of MACs the cost
projection runs in int8 (only the layers a variant's precision knob converted)."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "planner"))  # plan_fixtures

from plan_fixtures import layer, make_profile  # noqa: E402

from planner.catalog import load_catalog  # noqa: E402
from planner.options import PlanOptions  # noqa: E402
from planner.plan import plan  # noqa: E402
from profiler.result import Profile  # noqa: E402

TIMEOUT_MS = 30_000


def _cnn(precision: str) -> Profile:
    """A CNN-shaped profile: a big fp32 conv and a small head, int8 (8-bit weights) in an int8 variant."""
    head_bytes = 1000 + 40 if precision == "int8" else 4 * 1000
    return make_profile(
        [
            layer("conv", "Conv2d", params=9000, macs=99_000_000, inputs=[(1, 64, 56, 56)], outputs=[(1, 64, 56, 56)]),
            layer("fc", "Linear", params=1000, macs=1_000_000, weight_bytes=head_bytes, inputs=[(1, 100)], outputs=[(1, 10)]),
        ],
        precision=precision,
    )  # fmt: skip


def test_cost_card_caption(qapp: Any) -> None:
    from gui.widgets.deltas_strip import DeltasStrip

    strip = DeltasStrip()
    prof = _cnn("int8")
    strip.show_result(prof, {"macs": 1.0}, 0.12, 0.999, "int8 on 1.0% of MACs")
    card = strip.cards["usd"]
    assert card.title.text() == "$ / M inferences · int8 on 1.0% of MACs"
    assert "int8 on 1.0% of MACs" in card.toolTip()
    assert strip.values["usd_share"] == "int8 on 1.0% of MACs"
    strip.show_result(_cnn("fp32"), {"macs": 1.0}, 0.12, 1.0)  # a float variant: the plain title again
    assert card.title.text() == "$ / M inferences" and "int8" not in card.toolTip()
    strip.show_result(prof, {"macs": 1.0}, 0.12, 0.999, "int8 on 1.0% of MACs")
    strip.clear()  # a new model: no caption of the last result survives
    assert card.title.text() == "$ / M inferences" and "int8" not in card.toolTip()
    assert card.value.text() == "—"


def test_planner_panel_caption_and_summary(qapp: Any) -> None:
    from gui.planner_panel import PlannerPanel

    panel = PlannerPanel(load_catalog(include_user=False))
    int8 = _cnn("int8")
    assert panel.precision_share_caption(int8) == "int8 on 1.0% of MACs"
    assert panel.precision_share_caption(_cnn("fp32")) is None and panel.precision_share_caption(None) is None
    panel.set_profile(int8)
    # auto serving precision: the measured int8 share stays int8, the rest runs at the 16-bit default
    assert "Projected with int8 on 1.0% of MACs (1 of 2 layers); the rest fp16" in panel.summary.text()
    assert "at int8 (the rest fp16)" in panel.summary.text()
    # the heatmap's projection on the target runs the conv at fp16, the head at int8
    proj = panel.projection(int8)
    assert proj is not None and proj.float_precision is not None and str(proj.float_precision) == "fp16"
    panel.serve_precision.setCurrentIndex(panel.serve_precision.findData("measured"))
    panel.replan()
    assert "the rest fp32" in panel.summary.text()


def test_pdf_cost_section_states_the_share() -> None:
    from gui.report.section_costs import CostSections

    catalog = load_catalog(include_user=False)
    base = plan(_cnn("fp32"), PlanOptions(), catalog)
    chosen = plan(_cnn("int8"), PlanOptions(), catalog)
    fake = SimpleNamespace(pb=base, pc=chosen)
    lines = CostSections._precision_shares(fake)  # type: ignore[arg-type]
    assert lines == [
        "The chosen variant is projected with int8 on 1.0% of MACs (1 of 2 layers); the rest fp16 "
        "(the layers its precision knob converted, as measured)."
    ]
    assert CostSections._precision_shares(SimpleNamespace(pb=base, pc=None)) == []  # type: ignore[arg-type]


def test_window_int8_variant_card_says_the_int8_share(qtbot: Any, make_window: Any) -> None:
    """demo:mlp is all Linear: torch int8 quantizes every MAC, and the card says so."""
    w = make_window()
    with qtbot.waitSignal(w.result_shown, timeout=TIMEOUT_MS):
        w.open_model("demo:mlp")
    # with a load (the panel's default 100 req/s) the card is the answer's monthly cost
    assert w.deltas.cards["usd"].title.text() == "$ / month at 100 req/s"
    w.planner.qps.setValue(0)  # no load: $ per million inferences at the stated utilisation
    qtbot.waitUntil(lambda: w.deltas.cards["usd"].title.text() == "$ / M inferences", timeout=5000)
    with qtbot.waitSignal(w.result_shown, timeout=TIMEOUT_MS) as blocker:
        w.knobs.precision.setCurrentIndex(w.knobs.precision.findData("int8"))
    assert str(blocker.args[0].variant.precision) == "int8"
    qtbot.waitUntil(lambda: "int8 on 100% of MACs" in w.deltas.cards["usd"].title.text(), timeout=5000)
    assert w.deltas.values["usd_share"] == "int8 on 100% of MACs"
    assert w.deltas.cards["usd"].change.text().startswith("−")  # cheaper than the fp32 baseline
