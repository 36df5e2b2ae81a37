"""The what-if knobs: pruning (and recovery by distillation after it), precision, batch,
sequence length / image size, device, runtime.

A thin binding over a `Variant`: every change emits `variant_changed(Variant)`; `set_variant`
writes back without echo. Knobs that do not apply to the open model are disabled with a
tooltip saying why (`applicability`).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from gui import plain_text
from gui.plain_text import tip
from profiler.result import Profile
from profiler.variant import Variant

BATCHES = tuple(2**i for i in range(11))  # 1 … 1024
SEQ_LENS = (16, 32, 64, 128, 256, 512, 1024, 2048, 4096)
IMAGE_SIZES = (64, 96, 128, 160, 192, 224, 256, 288, 320, 384, 448, 512)
PRECISIONS = (("fp32", "FP32"), ("fp16", "FP16"), ("bf16", "BF16"), ("int8", "INT8"), ("tf32", "TF32 (CUDA)"))
RUNTIMES = ((None, "Model's own"), ("torch", "PyTorch"), ("onnxruntime", "ONNX Runtime"))
DEVICES = (("cpu", "CPU"), ("cuda", "CUDA"))
PRUNE_STEP = 0.05
#: recovery by distillation after structured pruning: steps offered (None: off)
RECOVER_STEPS = ((None, "Off"), (50, "50 steps"), (200, "200 steps"), (500, "500 steps"))
RECOVER_TIP = (
    "Recover by distillation: after structured pruning, train the pruned model a few steps towards the "
    "unpruned model's outputs on the model's labelled sample inputs (2/3 train, 1/3 held out); accuracy "
    "and fidelity are then measured on the held-out third only.\n"
    "Limits: a few hundred steps on a few hundred samples is not a full training run — it shows how much "
    "comes back cheaply on data like the samples, not what a fine-tune on the real training set reaches; "
    "with a small held-out set the figures are noisy. Progress shows below; Cancel stops it."
)
DEFAULT = "model default"


def applicability(profile: Profile | None, cuda: bool) -> dict[str, str | None]:
    """For each knob (and some of their choices), why it does not apply to this model, or None."""
    why: dict[str, str | None] = {
        k: None
        for k in (
            "prune",
            "structured",
            "precision",
            "fp16",
            "batch",
            "seq_len",
            "image_size",
            "device",
            "cuda",
            "runtime",
            "torch",
            "tf32",
            "layer_prune",
            "recover",
        )
    }
    if profile is None:
        return {k: "open a model first" for k in why}
    fmt = profile.model.format
    if built_on_meta(profile):
        # only a model that really has no weights: a small config is built for real and measured
        reason = (
            "the model was built on the meta device (too large to run here): its latency is projected, not measured"
        )
        return {k: reason for k in why}
    if fmt == "onnx":
        why["structured"] = (
            "structured pruning needs the model's Python code (removing channels rewrites the graph); ONNX offers unstructured"
        )
        why["fp16"] = "fp16/bf16 for an ONNX model is not offered: use fp32 or int8, or open the torch model"
        why["torch"] = "an ONNX model runs with ONNX Runtime"
        why["layer_prune"] = "per-layer pruning ratios need an nn.Module; ONNX takes a global ratio"
        why["recover"] = "an ONNX model has no trainable module: recovery is for torch models"
    if fmt in ("torchscript", "torch.export"):
        why["structured"] = (
            f"a {fmt} file has a fixed graph: structured pruning needs the Python code — use unstructured"
        )
        why["layer_prune"] = why["structured"]
        why["recover"] = f"recovery follows structured pruning, which a {fmt} file does not offer"
    if not cuda:
        why["cuda"] = "no NVIDIA GPU here"
        why["tf32"] = "TF32 is a CUDA precision; no NVIDIA GPU here"
    if why["recover"] is None and not _has_samples(profile):
        why["recover"] = (
            "recovery trains on the model's own sample inputs, never on random ones: the app has them for "
            "demo:digits-cnn (the command line takes --inputs FILE.npz with --recover-steps)"
        )
    tokens = [i for i in profile.inputs if i.dtype.startswith("int") and len(i.shape) >= 2]
    images = [i for i in profile.inputs if i.dtype.startswith("float") and len(i.shape) == 4]
    if not tokens:
        why["seq_len"] = "the model takes no token sequence"
    if not images:
        why["image_size"] = "the model takes no image input (N×C×H×W)"
    elif fmt == "demo":
        from profiler.demos import demo_spec

        try:
            spec = demo_spec(profile.model.source.split(":", 1)[1])
            if spec.image_dims is None:
                why["image_size"] = f"{spec.name} has a fixed input size ({'×'.join(map(str, spec.inputs[0][1][1:]))})"
        except KeyError:
            pass
    return why


def built_on_meta(profile: Profile | None) -> bool:
    """Whether the model was built on the meta device (a Hugging Face config too large for this
    machine's memory): counted, never run. The core says so in the profile's warnings (set when the
    model is loaded, so the first, counted profile already carries it); a counted profile that
    simply has no latency yet is not one."""
    if profile is None or profile.model.format != "hf-config":
        return False
    return any("meta device" in w for w in profile.warnings)


def _has_samples(profile: Profile) -> bool:
    """The app measures with a demo's bundled samples only (it takes no --inputs file)."""
    if profile.model.format != "demo":
        return False
    from profiler.demos import TRAINED_DEMOS

    return profile.model.source.split(":", 1)[-1] in TRAINED_DEMOS


def recover_reason(why: dict[str, str | None], variant: Variant) -> str | None:
    """Why the recovery knob does not apply to this model and these knobs, or None."""
    if why.get("recover"):
        return why["recover"]
    if not variant.pruned:
        return "nothing is pruned: recovery trains a structurally pruned model"
    if variant.method != "structured":
        return "recovery follows structured pruning only (training would refill the zeros of unstructured pruning)"
    if variant.runtime == "onnxruntime":
        return "an ONNX Runtime variant has no trainable module: recovery runs in torch"
    return None


def max_seq_len(profile: Profile | None) -> int | None:
    if profile is None or profile.model.format != "demo":
        return None
    from profiler.demos import demo_spec

    try:
        return demo_spec(profile.model.source.split(":", 1)[1]).max_seq_len
    except KeyError:
        return None


class KnobsWidget(QWidget):
    """The knobs panel; see the module docstring."""

    variant_changed = Signal(object)  # Variant
    reset_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._variant = Variant()
        self._base_batch = 1  # the profiled batch: choosing it again means "as the baseline"
        # the slider's stops: powers of two, plus the baseline's own batch (e.g. 360 samples)
        self._batches: tuple[int, ...] = BATCHES
        self._why: dict[str, str | None] = applicability(None, False)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        outer.addLayout(form)

        self.prune_slider = QSlider(Qt.Orientation.Horizontal)
        self.prune_slider.setRange(0, 18)
        self.prune_slider.setPageStep(2)
        self.prune_label = QLabel("0%")
        self.prune_label.setMinimumWidth(40)
        self.prune_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        row = QHBoxLayout()
        row.addWidget(self.prune_slider, 1)
        row.addWidget(self.prune_label)
        self.prune_row = QWidget()
        self.prune_row.setLayout(row)
        row.setContentsMargins(0, 0, 0, 0)
        form.addRow("Pruning", self.prune_row)

        self.method = QComboBox()
        self.method.addItem("Structured (channels)", "structured")
        self.method.addItem("Unstructured (weights)", "unstructured")
        form.addRow("Method", self.method)

        self.recover = QComboBox()
        for steps, text in RECOVER_STEPS:
            self.recover.addItem(text, steps)
        form.addRow("Recover", self.recover)
        self.recover_label = form.labelForField(self.recover)

        self.overrides_label = plain_text.label("none", objectName="Muted")  # layer names: plain text
        # long layer names are cut at the panel's edge (the tooltip has them all), never widen it
        self.overrides_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.clear_overrides = QPushButton("Clear")
        self.clear_overrides.setEnabled(False)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.overrides_label, 1)
        row.addWidget(self.clear_overrides)
        ov = QWidget()
        ov.setLayout(row)
        ov.setToolTip("Per-layer pruning ratios: right-click a layer in the heatmap")
        form.addRow("Layer overrides", ov)

        self.precision = QComboBox()
        for value, text in PRECISIONS:
            self.precision.addItem(text, value)
        form.addRow("Precision", self.precision)

        self.batch_slider = QSlider(Qt.Orientation.Horizontal)
        self.batch_slider.setRange(0, len(BATCHES) - 1)
        self.batch_slider.setPageStep(1)
        self.batch_slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.batch_label = QLabel("1")
        self.batch_label.setMinimumWidth(40)
        self.batch_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.batch_slider, 1)
        row.addWidget(self.batch_label)
        self.batch_row = QWidget()
        self.batch_row.setLayout(row)
        form.addRow("Batch", self.batch_row)

        self.seq_len = QComboBox()
        self.seq_len.addItem(DEFAULT, None)
        for n in SEQ_LENS:
            self.seq_len.addItem(str(n), n)
        form.addRow("Sequence length", self.seq_len)

        self.image_size = QComboBox()
        self.image_size.addItem(DEFAULT, None)
        for n in IMAGE_SIZES:
            self.image_size.addItem(f"{n} × {n}", n)
        form.addRow("Image size", self.image_size)

        self.device = QComboBox()
        for value, text in DEVICES:
            self.device.addItem(text, value)
        form.addRow("Device", self.device)

        self.runtime = QComboBox()
        for runtime, text in RUNTIMES:
            self.runtime.addItem(text, runtime)
        form.addRow("Runtime", self.runtime)

        self.reset_button = QPushButton("Back to baseline")
        self.reset_button.setToolTip("Set every knob back to the model as it is")
        outer.addWidget(self.reset_button)
        outer.addStretch(1)

        self.prune_slider.valueChanged.connect(self._on_prune_slider_changed)
        self.batch_slider.valueChanged.connect(self._on_batch_slider_changed)
        for combo in self._combos():
            combo.currentIndexChanged.connect(self._on_control_changed)
        self.clear_overrides.clicked.connect(self._on_clear_overrides_clicked)
        self.reset_button.clicked.connect(self._on_reset_clicked)
        self._apply_applicability()

    def _combos(self) -> tuple[QComboBox, ...]:
        """Every knob that is a combo box (each change re-reads the variant)."""
        return (self.method, self.recover, self.precision, self.seq_len, self.image_size, self.device, self.runtime)

    # -- reading and writing the variant -----------------------------------------------------------

    @property
    def variant(self) -> Variant:
        return self._variant

    def set_variant(self, v: Variant) -> None:
        """Show `v` without emitting `variant_changed`."""
        self._variant = v
        blockers = [QSignalBlocker(w) for w in (self.prune_slider, self.batch_slider, *self._combos())]
        self.prune_slider.setValue(round(v.prune / PRUNE_STEP))
        self.prune_label.setText(f"{100 * v.prune:.0f}%")
        _select(self.method, v.method)
        if v.recover_steps and self.recover.findData(v.recover_steps) < 0:  # e.g. from a project
            self.recover.addItem(f"{v.recover_steps} steps", v.recover_steps)
        _select(self.recover, v.recover_steps)
        _select(self.precision, v.precision)
        batch = v.batch or self._base_batch
        index = self._batches.index(batch) if batch in self._batches else 0
        self.batch_slider.setValue(index)
        self.batch_label.setText(str(batch))
        _select(self.seq_len, v.seq_len)
        _select(self.image_size, v.image_size)
        _select(self.device, v.device)
        _select(self.runtime, v.runtime)
        del blockers
        n = len(v.layer_prune)
        self.overrides_label.setText(
            "none"
            if not n
            else ", ".join(f"{name} {100 * r:.0f}%" for name, r in v.layer_prune[:2]) + (f" +{n - 2}" if n > 2 else "")
        )
        self.overrides_label.setToolTip(tip("\n".join(f"{name}: {100 * r:.0f}%" for name, r in v.layer_prune)))
        self.clear_overrides.setEnabled(n > 0)
        self._apply_applicability()

    def _read(self) -> Variant:
        prune = round(self.prune_slider.value() * PRUNE_STEP, 4)
        batch = self._batches[self.batch_slider.value()]
        v = Variant(
            prune=prune,
            prune_method=self.method.currentData() if prune > 0 or self._variant.layer_prune else None,
            layer_prune=self._variant.layer_prune,
            precision=self.precision.currentData(),
            batch=None if batch == self._base_batch else batch,
            seq_len=self.seq_len.currentData(),
            image_size=self.image_size.currentData(),
            runtime=self.runtime.currentData(),
            device=self.device.currentData(),
        )
        steps = self.recover.currentData()
        # asked for only where it applies (a disabled knob keeps its choice for when it applies again)
        if steps and recover_reason(self._why, v) is None:
            v = v.with_(recover_steps=steps, recover_budget_s=self._variant.recover_budget_s)
        return v

    def _changed(self) -> None:
        try:
            v = self._read()
        except Exception:  # an impossible combination: keep the last valid variant
            return
        if v != self._variant:
            self._variant = v
            self._apply_applicability()
            self.variant_changed.emit(v)

    def _on_prune_slider_changed(self, value: int) -> None:
        self.prune_label.setText(f"{100 * value * PRUNE_STEP:.0f}%")
        self._changed()

    def _on_batch_slider_changed(self, value: int) -> None:
        self.batch_label.setText(str(self._batches[value]))
        self._changed()

    def _on_control_changed(self, _index: int) -> None:
        self._changed()

    def _on_clear_overrides_clicked(self) -> None:
        self.set_layer_override(None, None)

    def _on_reset_clicked(self) -> None:
        self.set_variant(Variant())
        self.variant_changed.emit(self._variant)

    def set_layer_override(self, name: str | None, ratio: float | None) -> None:
        """Set (ratio) or remove (None) one layer's pruning ratio; name None clears them all."""
        if name is None:
            overrides: dict[str, float] = {}
        else:
            overrides = dict(self._variant.layer_prune)
            if ratio is None or ratio <= 0:
                overrides.pop(name, None)
            else:
                overrides[name] = ratio
        layer_prune = tuple(sorted(overrides.items()))
        pruned = self._variant.prune > 0 or bool(layer_prune)
        v = self._variant.with_(layer_prune=layer_prune, prune_method=(self.method.currentData() if pruned else None))
        self.set_variant(v)
        self.variant_changed.emit(v)

    # -- applicability ------------------------------------------------------------------------------

    def set_model(self, profile: Profile | None, cuda: bool) -> None:
        self._why = applicability(profile, cuda)
        if profile is not None and profile.inputs and profile.inputs[0].shape:
            self._base_batch = int(profile.inputs[0].shape[0])
        # a baseline batch that is no power of two (a demo measured on its 360 samples) is a stop
        # of its own, so leaving the slider alone keeps the baseline's batch
        self._batches = tuple(sorted({*BATCHES, self._base_batch}))
        with QSignalBlocker(self.batch_slider):
            self.batch_slider.setRange(0, len(self._batches) - 1)
            batch = self._variant.batch or self._base_batch
            self.batch_slider.setValue(self._batches.index(batch) if batch in self._batches else 0)
        self.batch_label.setText(str(self._batches[self.batch_slider.value()]))
        limit = max_seq_len(profile)
        model: Any = self.seq_len.model()
        for i in range(1, self.seq_len.count()):
            n = self.seq_len.itemData(i)
            item = model.item(i)
            too_long = limit is not None and n > limit
            item.setEnabled(not too_long)
            item.setToolTip(tip(f"longer than the model's {limit} positions") if too_long else "")
        self._apply_applicability()

    def clear_model(self, reason: str) -> None:
        """No model's rules apply now (one is opening): every knob off, saying `reason`."""
        self._why = {k: reason for k in self._why}
        self._apply_applicability()

    @property
    def reasons(self) -> dict[str, str | None]:
        """Why each knob does not apply to the model shown (None: it applies); see `applicability`."""
        return dict(self._why)

    def _apply_applicability(self) -> None:
        why = self._why

        def gate(widget: QWidget, key: str, tip_text: str = "") -> None:
            reason = why.get(key)
            widget.setEnabled(reason is None)
            widget.setToolTip(tip(f"Not available: {reason}") if reason else tip_text)

        gate(self.prune_row, "prune", "Global pruning ratio (structured: share of channels removed)")
        gate(self.method, "prune", "Structured removes channels (faster); unstructured zeroes weights (same speed)")
        gate(self.precision, "precision", "Numeric precision the variant runs in")
        gate(self.batch_row, "batch", "Leading dimension of every input: 1 … 1024")
        gate(self.seq_len, "seq_len", "Tokens per sequence")
        gate(self.image_size, "image_size", "Height and width of the image input")
        gate(self.device, "device", "Where the variant runs")
        gate(self.runtime, "runtime", "PyTorch eager, or ONNX Runtime on an exported graph")
        reason = recover_reason(why, self._variant)
        self.recover.setEnabled(reason is None)
        self.recover.setToolTip(tip(f"Not available: {reason}\n\n{RECOVER_TIP}" if reason else RECOVER_TIP))
        if self.recover_label is not None:
            self.recover_label.setToolTip(self.recover.toolTip())
        # no knob applies (no model, one opening, one on the meta device): nothing to go back to
        self.reset_button.setEnabled(not all(why.values()))
        _gate_item(self.method, 0, why.get("structured"))
        for i in range(self.precision.count()):
            value = self.precision.itemData(i)
            _gate_item(
                self.precision,
                i,
                why.get("fp16") if value in ("fp16", "bf16") else why.get("tf32") if value == "tf32" else None,
            )
        _gate_item(self.device, 1, why.get("cuda"))
        _gate_item(self.runtime, 1, why.get("torch"))


def _select(combo: QComboBox, value: Any) -> None:
    i = combo.findData(value)
    if i >= 0:
        combo.setCurrentIndex(i)


def _gate_item(combo: QComboBox, row: int, reason: str | None) -> None:
    model = combo.model()
    if not isinstance(model, QStandardItemModel):
        return
    item = model.item(row)
    if item is not None:
        item.setEnabled(reason is None)
        item.setToolTip(tip(f"Not available: {reason}") if reason else "")
