"""Vector figures for the report, painted with QPainter into a rectangle (PDF paths, no images).

Every figure takes the numbers the core computed; shares are each value over the column total,
as the app's heat colours are.
"""

from __future__ import annotations

# The figures live in chart_axes (ticks, frame), chart_heatmap and chart_plots (Pareto, bars);
# every name stays importable from gui.report.figures.
from .chart_axes import Axis as Axis
from .chart_axes import _frame as _frame
from .chart_axes import _pt as _pt
from .chart_axes import _text as _text
from .chart_axes import axis_for as axis_for
from .chart_axes import log_ticks as log_ticks
from .chart_axes import nice_ticks as nice_ticks
from .chart_axes import tick_label as tick_label
from .chart_heatmap import HEAT_HIGH as HEAT_HIGH
from .chart_heatmap import HEAT_LOW as HEAT_LOW
from .chart_heatmap import HeatRow as HeatRow
from .chart_heatmap import draw_heatmap as draw_heatmap
from .chart_heatmap import heat_color as heat_color
from .chart_plots import BarSeries as BarSeries
from .chart_plots import ScatterPoint as ScatterPoint
from .chart_plots import draw_hbars as draw_hbars
from .chart_plots import draw_pareto as draw_pareto
from .chart_plots import draw_summary_bars as draw_summary_bars
