"""The report's sections assembled in page order: `_Report(doc, inputs).build()`.

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

    def build(self) -> None:
        self.title_and_summary()
        self.layers()
        self.variants()
        self.costs()
        self.per_hardware()
        self.assumptions()
