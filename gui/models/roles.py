"""Custom item roles shared by every model and delegate."""

from PySide6.QtCore import Qt

RAW_ROLE = Qt.ItemDataRole.UserRole + 1  # the raw number (float or None): sorting, charts
SHARE_ROLE = Qt.ItemDataRole.UserRole + 2  # share of the column total (0…1 or None)
HEAT_ROLE = Qt.ItemDataRole.UserRole + 3  # cell colour strength (0…1) from the share of the column's model total
#   (layer_data.heat_level; the same scale for layers and groups); a Δ column's is signed (−1…1)
LAYER_ROLE = Qt.ItemDataRole.UserRole + 4  # the layer's full name (str), or a group's path
