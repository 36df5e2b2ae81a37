"""Shared state and helpers of the report sections (gui.report.sections assembles them).

Each section module adds methods to a mixin over `SectionBase`; `gui.report.sections._Report`
combines them and sets the attributes declared here.
"""

from __future__ import annotations

from typing import Any

from .inputs import ReportInputs

#: layers in the report's top table (all of them are in the per-layer export, layers.csv)
TOP_LAYERS = 12
RANKED_SERVING = 12
RANKED_TRAINING = 10


def _measured_latency(profile: Any) -> float | None:
    lat = profile.totals.latency_ms if profile is not None else None
    return None if lat is None else lat.median


def _muted() -> Any:
    from .layout import MUTED

    return MUTED


def _precision_of(plan: Any) -> Any:
    from planner.vocab import PeakPrecision

    try:
        return PeakPrecision(str(plan.assumptions.get("precision", "fp32")))
    except ValueError:
        return PeakPrecision.FP32


class SectionBase:
    """The attributes every section reads (set by `_Report.__init__`) and the option key."""

    doc: Any
    x: ReportInputs
    base: Any
    chosen: Any
    cprof: Any
    pb: Any
    pc: Any
    shown_accelerators: set[str]

    def _key(self, o: Any) -> tuple[str, str, str]:
        return (o.provider, o.instance, o.region)
