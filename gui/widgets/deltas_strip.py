"""The deltas strip: the current variant against the baseline, always in view.

Latency, params, MACs, memory, fidelity and $ per million inferences, each as a card with the
variant's value and its change; green when better, red when worse.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from gui import plain_text
from gui.theme import current, fmt_bytes, fmt_count, fmt_fidelity, fmt_ms, fmt_ratio, fmt_share, fmt_usd

CARDS = (
    ("latency", "Latency", "Median wall-clock latency of one batch, measured here"),
    ("params", "Params", "Parameters (counted; shared weights once)"),
    ("macs", "MACs", "Multiply-accumulates per forward pass (counted)"),
    ("memory", "Memory", "Weights + peak activations (counted)"),
    ("fidelity", "Fidelity", "Cosine similarity of the outputs to the baseline's on the same inputs (1 = identical)"),
    ("usd", "$ / M inferences", "Cheapest serving option in the Planner, per million inferences (projected)"),
)


class _Card(QFrame):
    def __init__(self, title: str, tip: str) -> None:
        super().__init__()
        self.setObjectName("DeltaCard")
        self.setToolTip(tip)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 4, 8, 4)
        lay.setSpacing(0)
        self.title = QLabel(title)
        self.title.setObjectName("DeltaTitle")
        row = QHBoxLayout()
        row.setSpacing(6)
        self.value = plain_text.label("—", objectName="DeltaValue")
        self.change = plain_text.label("")
        row.addWidget(self.value)
        row.addStretch(1)
        row.addWidget(self.change)
        lay.addWidget(self.title)
        lay.addLayout(row)

    def set(self, value: str, change: str = "", better: bool | None = None) -> None:
        self.value.setText(value)
        self.change.setText(change)
        t = current()
        color = t.muted if better is None else (t.good if better else t.bad)
        self.change.setStyleSheet(f"color: {color}; font-weight: 600;")


class DeltasStrip(QWidget):
    """Six cards in a row; `show_result` fills them."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(6)
        self.cards: dict[str, _Card] = {}
        for key, title, tip in CARDS:
            card = _Card(title, tip)
            self.cards[key] = card
            lay.addWidget(card, 1)
        self.label = QLabel("")
        self.label.setObjectName("Muted")
        self.values: dict[str, Any] = {}

    def clear(self) -> None:
        for card in self.cards.values():
            card.set("—")
        self.values = {}

    def show_result(
        self, profile: Any, ratios: dict[str, float | None], usd: float | None = None, usd_ratio: float | None = None
    ) -> None:
        """Fill the cards from the variant's profile and its ratios to the baseline."""
        t = profile.totals
        lat = t.latency_ms.median if t.latency_ms else None
        memory = t.weight_bytes + (t.activation_peak_bytes or 0)
        fid = ratios.get("fidelity")
        self.values = {
            "latency_ms": lat,
            "params": t.params,
            "macs": t.macs,
            "memory_bytes": memory,
            "fidelity": fid,
            "usd_per_million": usd,
            **{f"ratio_{k}": v for k, v in ratios.items()},
        }

        def better(r: float | None, lower_is_better: bool = True) -> bool | None:
            if r is None or abs(r - 1.0) < 0.005:
                return None
            return (r < 1.0) == lower_is_better

        self.cards["latency"].set(fmt_ms(lat), fmt_ratio(ratios.get("latency")), better(ratios.get("latency")))
        self.cards["params"].set(fmt_count(t.params), fmt_ratio(ratios.get("params")), better(ratios.get("params")))
        self.cards["macs"].set(fmt_count(t.macs), fmt_ratio(ratios.get("macs")), better(ratios.get("macs")))
        mem_ratio = ratios.get("weight_bytes")
        self.cards["memory"].set(fmt_bytes(memory), fmt_ratio(mem_ratio), better(mem_ratio))
        if fid is None:
            self.cards["fidelity"].set("—", "")
        else:
            top1 = ratios.get("top1")
            extra = f"top-1 {fmt_share(top1)}" if top1 is not None else ""
            self.cards["fidelity"].set(fmt_fidelity(fid), extra, None if fid > 0.9999 else fid > 0.99)
        self.cards["usd"].set(fmt_usd(usd), fmt_ratio(usd_ratio), better(usd_ratio))
