"""Light and dark palettes, the heat colour of a share, and number formats with units.

Why one module: every widget, delegate and chart must agree on colours and on how a number
reads ("1.82 G", "44.6 MiB", "41.7 ms"), or the same figure would look different in two views.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QBrush, QColor, QPalette
from PySide6.QtWidgets import QApplication

# the number formats live in gui/fmt.py (Qt-free, shared with gui/state); re-exported here
from gui.fmt import fmt_bytes as fmt_bytes
from gui.fmt import fmt_count as fmt_count
from gui.fmt import fmt_fidelity as fmt_fidelity
from gui.fmt import fmt_ms as fmt_ms
from gui.fmt import fmt_ratio as fmt_ratio
from gui.fmt import fmt_share as fmt_share
from gui.fmt import fmt_usd as fmt_usd


@dataclass(frozen=True)
class Theme:
    name: str
    window: str
    base: str
    alt_base: str
    text: str
    muted: str
    accent: str
    heat: str  # the colour a 100 % share is painted with (blended over `base`)
    good: str
    bad: str
    warn: str  # "careful" (a busy machine, a noisy figure): neither gain (good) nor loss (bad)
    grid: str
    highlight: str
    highlighted_text: str

    def color(self, attr: str) -> QColor:
        return QColor(getattr(self, attr))


LIGHT = Theme(
    name="light",
    window="#f3f3f5",
    base="#ffffff",
    alt_base="#f7f7fa",
    text="#1d1d22",
    muted="#6b6b76",
    accent="#2f6fde",
    heat="#e4572e",
    good="#1f8a4c",
    bad="#c0392b",
    warn="#9a5b00",
    grid="#d8d8de",
    highlight="#2f6fde",
    highlighted_text="#ffffff",
)
DARK = Theme(
    name="dark",
    window="#23252b",
    base="#1b1c21",
    alt_base="#212329",
    text="#e6e6ea",
    muted="#9a9aa6",
    accent="#6ea0ff",
    heat="#ff7a4d",
    good="#52c47f",
    bad="#ff6b5e",
    warn="#f2b84b",
    grid="#3a3c44",
    highlight="#3b6fd1",
    highlighted_text="#ffffff",
)
THEMES = {"light": LIGHT, "dark": DARK}
_current: Theme = LIGHT


def current() -> Theme:
    return _current


def apply_theme(app: QApplication, name: str) -> Theme:
    """Set the Fusion style and a palette for `name` ("light" or "dark"); returns the theme."""
    global _current
    theme = THEMES.get(name, LIGHT)
    _current = theme
    app.setStyle("Fusion")
    pal = QPalette()
    roles = {
        QPalette.ColorRole.Window: theme.window,
        QPalette.ColorRole.WindowText: theme.text,
        QPalette.ColorRole.Base: theme.base,
        QPalette.ColorRole.AlternateBase: theme.alt_base,
        QPalette.ColorRole.ToolTipBase: theme.base,
        QPalette.ColorRole.ToolTipText: theme.text,
        QPalette.ColorRole.Text: theme.text,
        QPalette.ColorRole.Button: theme.window,
        QPalette.ColorRole.ButtonText: theme.text,
        QPalette.ColorRole.Highlight: theme.highlight,
        QPalette.ColorRole.HighlightedText: theme.highlighted_text,
        QPalette.ColorRole.PlaceholderText: theme.muted,
        QPalette.ColorRole.Link: theme.accent,
    }
    for role, value in roles.items():
        pal.setColor(role, QColor(value))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        pal.setColor(QPalette.ColorGroup.Disabled, role, QColor(theme.muted))
    app.setPalette(pal)
    app.setStyleSheet(_stylesheet(theme))
    return theme


def _stylesheet(t: Theme) -> str:
    return f"""
    QToolTip {{ color: {t.text}; background: {t.base}; border: 1px solid {t.grid}; padding: 4px; }}
    QFrame#DeltaCard {{ background: {t.base}; border: 1px solid {t.grid}; border-radius: 6px; }}
    QLabel#DeltaTitle {{ color: {t.muted}; font-size: 8pt; }}
    QLabel#DeltaValue {{ font-size: 11pt; font-weight: 600; }}
    QLabel#Muted {{ color: {t.muted}; }}
    QLabel#Warning {{ color: {t.bad}; }}
    QGroupBox {{ font-weight: 600; border: 1px solid {t.grid}; border-radius: 6px; margin-top: 10px; padding-top: 6px; }}
    QGroupBox::title {{ subcontrol-origin: margin; left: 8px; padding: 0 3px; }}
    QTreeView, QTableView {{ gridline-color: {t.grid}; }}
    """


_HEAT_LEVELS = 64
_heat_brushes: dict[tuple[str, int], QBrush] = {}


def heat_brush(share_of_max: float | None, theme: Theme | None = None) -> QBrush | None:
    """A cell background for the model's BackgroundRole, from a cache of 64 levels per theme.

    Served as item data (not painted by a Python delegate) so the C++ view paints thousands of
    cells without calling back into Python for each."""
    if not share_of_max:
        return None
    t = theme or _current
    level = round(max(0.0, min(1.0, share_of_max)) * (_HEAT_LEVELS - 1))
    if level == 0:
        return None
    key = (t.name, level)
    brush = _heat_brushes.get(key)
    if brush is None:
        brush = _heat_brushes[key] = QBrush(heat_color(level / (_HEAT_LEVELS - 1), t))
    return brush


_delta_brushes: dict[tuple[str, int], QBrush] = {}


def delta_brush(signed_level: float | None, theme: Theme | None = None) -> QBrush | None:
    """A Δ-vs-baseline cell's background: `good` for a saving (negative level), `bad` for a
    growth (positive), as strong as `heat_level` of the change's share of the baseline total."""
    if not signed_level:
        return None
    t = theme or _current
    level = round(max(-1.0, min(1.0, signed_level)) * (_HEAT_LEVELS - 1))
    if level == 0:
        return None
    key = (t.name, level)
    brush = _delta_brushes.get(key)
    if brush is None:
        colour = t.good if level < 0 else t.bad
        brush = _delta_brushes[key] = QBrush(heat_color(abs(level) / (_HEAT_LEVELS - 1), t, colour))
    return brush


def heat_color(share_of_max: float, theme: Theme | None = None, colour: str | None = None) -> QColor:
    """The background of a cell of colour strength `share_of_max` (0…1, `layer_data.heat_level`
    of its share of the column's model total), in the theme's heat colour (or `colour`).

    Blended with the base colour at ≤ 70 % so the text stays legible in both themes."""
    t = theme or _current
    s = max(0.0, min(1.0, share_of_max))
    base, heat = QColor(t.base), QColor(colour or t.heat)
    a = 0.7 * s**0.8
    return QColor(
        round(base.red() + (heat.red() - base.red()) * a),
        round(base.green() + (heat.green() - base.green()) * a),
        round(base.blue() + (heat.blue() - base.blue()) * a),
    )
