"""The report's sections assembled in page order: `_Report(doc, inputs).build()`.

Page 1 is the decision (section_summary.decision); then the details of baseline and chosen, the
layers, the variants, the cost (top 3 per question) and the assumptions — no per-accelerator
appendix: the full cost tables are in the CSV/JSON exports.

The sections live in their own modules (section_summary, section_model, section_costs,
section_assumptions); this class holds the inputs they share and runs them in order.
"""

from __future__ import annotations

from typing import Any

from .inputs import ReportInputs
from .section_assumptions import AssumptionSections
from .section_costs import CostSections
from .section_model import ModelSections
from .section_summary import SummarySection


class _Report(SummarySection, ModelSections, CostSections, AssumptionSections):
    def __init__(self, doc: Any, inputs: ReportInputs) -> None:
        self.doc = doc
        self.x = inputs
        self.base = inputs.baseline
        self.chosen = inputs.chosen
        self.cprof = None if inputs.chosen is None else inputs.chosen.profile
        self.pb = inputs.plan_baseline
        self.pc = inputs.plan_chosen
        #: accelerators named in the cost section (their specification sources are listed)
        self.shown_accelerators: set[str] = set()

    def _layers_then_variants(self) -> None:
        self.layers()
        self.variants()

    def _split_layers_then_variants(self) -> None:
        self.layers(split=True)
        self.variants()

    def build(self) -> None:
        self.decision()  # page 1: recommendation, savings, measured change, caveats, contents
        self.details()
        # the layers' heatmap and table on one page, or split so that the heatmap fills the end
        # of the details page: whichever lets the variants end sooner (fewer pages, less empty)
        self.doc.best_of(self._layers_then_variants, self._split_layers_then_variants)
        self.costs()  # the top 3 options per question (the full tables are in the exports)
        self.assumptions()
