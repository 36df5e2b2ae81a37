"""The deltas strip: the current variant against the baseline, always in view.

Latency, params, MACs, memory, fidelity and $ per million inferences, each as a card with the
variant's value and its change; green when better, red when worse. Latency is measured, so its
card shows the change from the interleaved experiment with its interval ("1.8× faster
(1.6–2.0×)") and is coloured only when that change is significant; "≈ no measurable change"
stays neutral. Counted figures (params, MACs, memory) keep their plain ratios. A busy or noisy
measurement shows an amber warning under the cards.

Under the cards, one line each when there is something to say: the kernel-path prediction for
the knobs (profiler/kernel_paths.py: before the variant is timed, from the baseline's layers),
then, once measured, the layers that got smaller but slower beyond their p10–p90 spread; and,
for a variant recovered by distillation, its held-out quality before → after.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from gui import measured_change, plain_text
from gui.state.workspace import counted_memory_bytes
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


class _ElidedLabel(QLabel):
    """A plain-text line cut with "…" at its width (the tooltip carries the whole text)."""

    def __init__(self, object_name: str) -> None:
        super().__init__()
        plain_text.plain(self)
        self.setObjectName(object_name)
        self._full = ""

    def set_full_text(self, text: str) -> None:
        self._full = text
        self._elide()

    def full_text(self) -> str:
        return self._full

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        width = self.width() if self.isVisible() else 1 << 20
        self.setText(self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight, width))


class DeltasStrip(QWidget):
    """Six cards in a row; `show_result` fills them."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(2)
        lay = QHBoxLayout()
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(6)
        outer.addLayout(lay)
        self.cards: dict[str, _Card] = {}
        for key, title, tip in CARDS:
            card = _Card(title, tip)
            self.cards[key] = card
            lay.addWidget(card, 1)
        # the busy-machine warning sits beside the numbers it qualifies, hidden while timing is quiet
        self.warning = plain_text.label("", objectName="DeltaWarning")
        self.warning.setWordWrap(True)
        self.warning.setMaximumWidth(380)  # two lines at most beside the cards
        self.warning.hide()
        lay.addWidget(self.warning)
        self.label = QLabel("")
        self.label.setObjectName("Muted")
        self.values: dict[str, Any] = {}
        # the kernel-path line and the recovery line: text from the model (layer names) stays plain;
        # long lines are cut at the window's edge (the tooltip has all), never widen it
        info = QHBoxLayout()
        info.setContentsMargins(2, 0, 2, 0)
        info.setSpacing(16)
        self.recover_line = plain_text.label("", objectName="RecoverLine")
        self.recover_line.hide()
        self.kernel_line = _ElidedLabel("KernelPathLine")
        self.kernel_line.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.kernel_line.hide()
        info.addWidget(self.recover_line)  # short: shown whole
        info.addWidget(self.kernel_line, 1)  # cut at the window's edge
        outer.addLayout(info)
        self.kernel_text = ""
        self.kernel_warns = False
        self.recover_text = ""

    def clear(self) -> None:
        # every card back to its own title and tooltip: no caption of the last result survives
        for key, title, tip in CARDS:
            self.cards[key].set("—")
            self.cards[key].title.setText(title)
            self.cards[key].setToolTip(tip)
        self._set_warning("")
        self.values = {}
        self.show_kernel_paths(None)
        self.show_recover(None)

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
        memory = counted_memory_bytes(t)
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
        mem_ratio = ratios.get("memory")  # the ratio of the figure shown (weights + peak activations)
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

    def show_kernel_paths(self, record: dict[str, Any] | None, measured: bool = False) -> None:
        """The kernel-path line: the prediction (before timing) or, measured, the layers that got
        smaller but slower beyond their spread (amber); hidden when there is nothing to say."""
        text, warns = measured_change.kernel_paths_line(record, measured)
        self.kernel_text, self.kernel_warns = text, warns
        self.kernel_line.setVisible(bool(text))
        self.kernel_line.set_full_text(text)
        lines = [text]
        if record:
            lines += [
                "",
                "Predicted per layer from this device's features (CPU flags "
                + (", ".join(record.get("cpu_flags") or ()) or "unknown")
                + "); hover a layer or select it for its kernel path.",
            ]
            if measured:
                lines.append(
                    "A layer's measured change counts only beyond both its p10–p90 spreads (and at least 3 %): "
                    "smaller changes are noise, never a gain or a loss."
                )
        self.kernel_line.setToolTip(plain_text.tip("\n".join(lines)) if text else "")
        t = current()
        self.kernel_line.setStyleSheet(f"color: {t.warn if warns else t.muted}; font-size: 8pt;")

    def show_recover(self, recover: dict[str, Any] | None) -> None:
        """A recovered variant: held-out quality before → after beside the fidelity card."""
        text = measured_change.recover_line(recover)
        self.recover_text = text
        recovered = recover is not None and not recover.get("skipped")
        self.recover_line.setText(f"Recovered: {text}" if recovered else text)
        details = measured_change.recover_details(recover)
        self.recover_line.setToolTip(plain_text.tip("\n".join(details)) if details else "")
        self.recover_line.setStyleSheet(f"color: {current().muted}; font-size: 8pt;")
        self.recover_line.setVisible(bool(text))
        card = self.cards["fidelity"]
        _, title, tip = next(c for c in CARDS if c[0] == "fidelity")
        card.title.setText(f"{title} · recovered" if recovered else title)
        card.setToolTip(plain_text.tip("\n".join([tip, *details])) if details else tip)
