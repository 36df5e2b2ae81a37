"""The catalog editor's table: instance prices, editable, written to the user's overrides.

Edits become rows of `<user_catalog_dir>/instances-overrides.csv` (the planner merges every CSV
of that folder over the shipped tables, later rows winning), written atomically.
"""

from __future__ import annotations

import csv
import datetime
import io
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from gui.models.roles import RAW_ROLE
from gui.plain_text import tip
from planner.catalog import Instance
from profiler import units

_Index = QModelIndex | QPersistentModelIndex
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
OVERRIDES_FILE = "instances-overrides.csv"
COLUMNS = (
    ("Provider", "provider", False),
    ("Instance", "instance", False),
    ("Region", "region", False),
    ("Accelerator", "accelerator", False),
    ("GPUs", "count", False),
    ("$/hour", "usd_per_hour", True),
    ("Spot $/hour", "usd_per_hour_spot", True),
    ("Source", "source", False),
)
CSV_HEADER = (
    "provider",
    "instance",
    "region",
    "accelerator",
    "gpu_model",
    "count",
    "gpu_memory_gb",
    "usd_per_hour",
    "usd_per_hour_spot",
    "quality",
    "source",
    "as_of",
    "notes",
)


class CatalogTableModel(QAbstractTableModel):
    """One row per catalog instance; the price columns are editable."""

    def __init__(self, instances: tuple[Instance, ...], parent: Any = None) -> None:
        super().__init__(parent)
        self._rows = list(instances)
        self.edited: set[tuple[str, str, str]] = set()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(COLUMNS)
        ):
            return COLUMNS[section][0]
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        f = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if COLUMNS[index.column()][2]:
            f |= Qt.ItemFlag.ItemIsEditable
        return f

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        inst = self._rows[index.row()]
        _, attr, editable = COLUMNS[index.column()]
        value = getattr(inst, attr)
        if role == RAW_ROLE:
            return value
        if role == Qt.ItemDataRole.DisplayRole:
            if value is None:
                return "—"
            return units.number(value, 4) if isinstance(value, float) else str(value)
        if role == Qt.ItemDataRole.EditRole:
            return "" if value is None else str(value)
        if role == Qt.ItemDataRole.TextAlignmentRole and isinstance(value, (int, float)):
            return _RIGHT
        if role == Qt.ItemDataRole.FontRole and inst.key in self.edited and editable:
            from PySide6.QtGui import QFont

            f = QFont()
            f.setBold(True)
            return f
        if role == Qt.ItemDataRole.ToolTipRole:
            return tip(f"{inst.source} (as of {inst.as_of})" + (f"\n{inst.notes}" if inst.notes else ""))
        return None

    def setData(self, index: _Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or not index.isValid() or not COLUMNS[index.column()][2]:
            return False
        attr = COLUMNS[index.column()][1]
        text = str(value).strip().lstrip("$")
        try:
            number = None if text in ("", "—") and attr == "usd_per_hour_spot" else float(text)
        except ValueError:
            return False
        if number is not None and not number > 0:
            return False
        inst = self._rows[index.row()]
        self._rows[index.row()] = replace(inst, **{attr: number})  # type: ignore[arg-type]  # attr: a numeric column
        self.edited.add(inst.key)
        self.dataChanged.emit(index, index)
        return True

    def overrides_csv(self) -> str:
        """The edited rows as an instances CSV the planner's loader reads."""
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(CSV_HEADER)
        today = datetime.date.today().isoformat()
        for inst in self._rows:
            if inst.key not in self.edited:
                continue
            w.writerow(
                [
                    inst.provider,
                    inst.instance,
                    inst.region,
                    inst.accelerator,
                    inst.gpu_model,
                    inst.count,
                    "" if inst.gpu_memory_gb is None else inst.gpu_memory_gb,
                    inst.usd_per_hour,
                    "" if inst.usd_per_hour_spot is None else inst.usd_per_hour_spot,
                    inst.quality,
                    "user override (Tradeoff Studio catalog editor)",
                    today,
                    f"was: {inst.source}"[:300],
                ]
            )
        return buf.getvalue()

    def save_overrides(self, folder: Path, previous: str | None = None) -> Path:
        """Write the edits (merged over earlier overrides in `previous` CSV text) atomically."""
        from profiler.safe_io import write_text_atomic

        folder.mkdir(parents=True, exist_ok=True)
        path = folder / OVERRIDES_FILE
        text = self.overrides_csv()
        if previous:
            keep = _rows_not_in(previous, self.edited)
            text = text + "".join(keep)
        write_text_atomic(path, text)
        return path


def _rows_not_in(csv_text: str, keys: set[tuple[str, str, str]]) -> list[str]:
    """Data lines of an earlier overrides file whose instance was not edited again."""
    out = []
    reader = csv.DictReader(io.StringIO(csv_text))
    for row in reader:
        key = (row.get("provider", "").lower(), row.get("instance", "").lower(), row.get("region", "").lower())
        if key in keys:
            continue
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerow([row.get(c, "") for c in CSV_HEADER])
        out.append(buf.getvalue())
    return out
