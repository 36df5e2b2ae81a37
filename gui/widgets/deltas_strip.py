"""The deltas strip: the current variant against the baseline, always in view.

Latency, params, MACs, memory, fidelity and $ per million inferences, each as a card with the
variant's value and its change; green when better, red when worse. Latency is measured, so its
card shows the change from the interleaved experiment with its interval ("1.8× faster
(1.6–2.0×)") and is coloured only when that change is significant; "≈ no measurable change"
stays neutral. Counted figures (params, MACs, memory) keep their plain ratios. A busy or noisy
measurement shows an amber warning under the cards.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from gui import measured_change, plain_text
from gui.theme import current, fmt_bytes, fmt_count, fmt_fidelity, fmt_ms, fmt_ratio, fmt_share, fmt_usd
from profiler import units
from profiler.result import Profile
from profiler.whatif import VariantResult

LATENCY_TIP = "Median wall-clock latency of one batch, measured here"

CARDS = (
    ("latency", "Latency", LATENCY_TIP),
    ("params", "Params", "Parameters (counted; shared weights once)"),
    ("macs", "MACs", "Multiply-accumulates per forward pass (counted)"),
    ("memory", "Memory", "Weights + peak activations (counted)"),
    ("fidelity", "Fidelity", "Cosine similarity of the outputs to the baseline's on the same inputs (1 = identical)"),
    (
        "usd",
        "$ / M inferences",
        "The Planner's serving answer: $ per month at its load, else per million inferences (projected)",
    ),
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
        # the busy-machine warning sits beside the numbers it qualifies, hidden while timing is quiet
        self.warning = plain_text.label("", objectName="DeltaWarning")
        self.warning.setWordWrap(True)
        self.warning.setMaximumWidth(300)
        self.warning.hide()
        lay.addWidget(self.warning)
        self.label = QLabel("")
        self.label.setObjectName("Muted")
        self.values: dict[str, Any] = {}

    def clear(self) -> None:
        # every card back to its own title and tooltip: no caption of the last result survives
        for key, title, tip in CARDS:
            self.cards[key].set("—")
            self.cards[key].title.setText(title)
            self.cards[key].setToolTip(tip)
        self._set_warning("")
        self.values = {}

    def show_latency(self, result: VariantResult, reference: Profile | None = None) -> None:
        """The latency card from the variant's measured comparison with the baseline: median,
        p10–p90, the change with its interval (coloured only when significant), the details on
        hover, and the warning when the timing was noisy. `reference` is the workspace's baseline
        (used when the result has no experiment of its own)."""
        card = self.cards["latency"]
        stats = None if result.profile is None else result.profile.totals.latency_ms
        ref_batch = None if reference is None else reference.config.batch
        change = measured_change.latency_change(result, ref_batch) if stats is not None else ""
        card.set(units.duration_ms(None if stats is None else stats.median), change, measured_change.verdict(result))
        spread = "" if stats is None else f" · p10–p90 {units.spread_ms(stats)}"
        card.title.setText(f"Latency{spread}")
        lines = [LATENCY_TIP, *measured_change.details(result, reference)] if stats is not None else [LATENCY_TIP]
        card.setToolTip(plain_text.tip("\n".join(lines)))
        warning = measured_change.noise_warning(result, reference) if stats is not None else ""
        self._set_warning(warning)
        self.values.update(
            latency_change=change, latency_warning=warning, latency_verdict=measured_change.verdict(result)
        )

    def _set_warning(self, text: str) -> None:
        self.warning.setText(f"⚠ {text}" if text else "")
        self.warning.setToolTip(
            plain_text.tip(
                f"{text}\nThe latency figures and their change are less certain than usual; "
                "re-measure when the machine is idle."
            )
            if text
            else ""
        )
        color = current().warn
        self.warning.setStyleSheet(f"color: {color}; font-weight: 600; font-size: 8pt;")
        self.warning.setVisible(bool(text))

    def show_result(
        self,
        profile: Any,
        ratios: dict[str, float | None],
        usd: float | None = None,
        usd_ratio: float | None = None,
        usd_share: str | None = None,
        usd_title: str | None = None,
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

        # the change is measured, not a ratio of two medians: show_latency adds it with its interval
        self.cards["latency"].set(fmt_ms(lat))
        self.cards["params"].set(fmt_count(t.params), fmt_ratio(ratios.get("params")), better(ratios.get("params")))
        self.cards["macs"].set(fmt_count(t.macs), fmt_ratio(ratios.get("macs")), better(ratios.get("macs")))
        mem_ratio = ratios.get("weight_bytes")
        self.cards["memory"].set(fmt_bytes(memory), fmt_ratio(mem_ratio), better(mem_ratio))
        if fid is None:
            self.cards["fidelity"].set("—", "")
        else:
            top1, accuracy = ratios.get("top1"), ratios.get("accuracy")
            # labelled samples: the accuracy the variant really has beats agreement with the baseline
            if accuracy is not None:
                extra = f"accuracy {fmt_share(accuracy)}"
            else:
                extra = f"top-1 {fmt_share(top1)}" if top1 is not None else ""
            self.cards["fidelity"].set(fmt_fidelity(fid), extra, None if fid > 0.9999 else fid > 0.99)
        self.cards["usd"].set(fmt_usd(usd), fmt_ratio(usd_ratio), better(usd_ratio))
        # the projection converts only what the variant converted (e.g. "int8 on 0.028% of MACs"): say so
        _, default_title, usd_tip = next(c for c in CARDS if c[0] == "usd")
        usd_title = usd_title or default_title
        self.cards["usd"].title.setText(f"{usd_title} · {usd_share}" if usd_share else usd_title)
        self.cards["usd"].setToolTip(f"{usd_tip}; {usd_share}, the rest as measured" if usd_share else usd_tip)
        self.values["usd_share"] = usd_share
