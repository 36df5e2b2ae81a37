"""Paints a numeric cell's background by its share of the column (HEAT_ROLE), text on top."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from gui.models.roles import HEAT_ROLE
from gui.theme import heat_color


class HeatDelegate(QStyledItemDelegate):
    """Heat background under the default text (selection keeps the palette's highlight)."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> None:
        heat: Any = index.data(HEAT_ROLE)
        if heat and not (option.state & QStyle.StateFlag.State_Selected):
            painter.fillRect(option.rect, heat_color(float(heat)))
        super().paint(painter, option, index)
