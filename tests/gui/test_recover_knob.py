"""Recovery by distillation in the app (issue 15, item 3): a "Recover" choice beside the pruning
knob, enabled only for structured pruning of a torch model the app has labelled samples for,
with a tooltip stating the limits; the recovered variant's held-out quality before → after in
the deltas strip."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gui.widgets.deltas_strip import DeltasStrip
from gui.widgets.knobs import KnobsWidget, applicability, recover_reason
from profiler.result import InputSpec, LayerRow, ModelInfo, Profile, RunConfig, Totals
from profiler.variant import Variant

TIMEOUT_MS = 120_000


def _profile(source: str, fmt: str = "demo") -> Profile:
    return Profile(
        model=ModelInfo(source.split(":")[-1], source, fmt),
        inputs=(InputSpec("x", (1, 1, 8, 8), "float32"),),
        config=RunConfig(),
        environment=None,
        totals=Totals(params=10, macs=10, flops=20, weight_bytes=40, activation_bytes=40),
        layers=(
            LayerRow(
                name="fc",
                type="Linear",
                params=10,
                macs=10,
                flops=20,
                weight_bytes=40,
                activation_bytes=40,
                latency_ms=None,
                counted=True,
            ),
        ),
    )


def test_the_knob_applies_only_where_recovery_can_run() -> None:
    digits = applicability(_profile("demo:digits-cnn"), cuda=False)
    assert digits["recover"] is None
    assert "sample inputs" in (applicability(_profile("demo:mlp"), False)["recover"] or "")
    assert "ONNX" in (applicability(_profile("model.onnx", "onnx"), False)["recover"] or "")
    assert "structured pruning" in (applicability(_profile("m.pt", "torchscript"), False)["recover"] or "")
    assert applicability(None, False)["recover"] == "open a model first"
    assert "nothing is pruned" in (recover_reason(digits, Variant()) or "")
    assert "unstructured" in (recover_reason(digits, Variant(prune=0.3, prune_method="unstructured")) or "")
    assert "ONNX Runtime" in (recover_reason(digits, Variant(prune=0.3, runtime="onnxruntime")) or "")
    assert recover_reason(digits, Variant(prune=0.3)) is None


def test_knob_reads_and_writes_the_variant(qtbot: Any) -> None:
    knobs = KnobsWidget()
    qtbot.addWidget(knobs)
    knobs.set_model(_profile("demo:digits-cnn"), cuda=False)
    assert not knobs.recover.isEnabled() and "Not available: nothing is pruned" in knobs.recover.toolTip()
    assert "not a full training run" in knobs.recover.toolTip()
    seen: list[Variant] = []
    knobs.variant_changed.connect(seen.append)
    knobs.prune_slider.setValue(6)  # 30 %
    assert knobs.recover.isEnabled() and "Not available" not in knobs.recover.toolTip()
    knobs.recover.setCurrentIndex(knobs.recover.findData(200))
    assert seen[-1] == Variant(prune=0.3, recover_steps=200)
    assert seen[-1].label().endswith("recover 200 steps")
    # unstructured: the knob greys out and the variant asks for no recovery
    knobs.method.setCurrentIndex(knobs.method.findData("unstructured"))
    assert seen[-1].recover_steps is None and not knobs.recover.isEnabled()
    assert "unstructured" in knobs.recover.toolTip()
    # a project's variant shows as it was saved, even with a step count the list lacks
    knobs.set_variant(Variant(prune=0.3, recover_steps=120))
    assert knobs.recover.currentData() == 120 and knobs.recover.isEnabled()
    knobs.set_variant(Variant())
    assert knobs.recover.currentData() is None and not knobs.recover.isEnabled()


def test_mlp_demo_has_no_samples_so_no_recovery(qtbot: Any) -> None:
    knobs = KnobsWidget()
    qtbot.addWidget(knobs)
    knobs.set_model(_profile("demo:mlp"), cuda=False)
    knobs.prune_slider.setValue(6)
    assert not knobs.recover.isEnabled() and "never on random ones" in knobs.recover.toolTip()
    knobs.recover.setCurrentIndex(knobs.recover.findData(200))
    assert knobs.variant.recover_steps is None


RECORD = {
    "steps": 200,
    "steps_done": 200,
    "seconds": 1.2,
    "loss_first": 3.1,
    "loss_last": 0.05,
    "samples": 240,
    "held_out": 120,
    "labelled": True,
    "quality_before": {"cosine": 0.81, "accuracy": 0.814},
    "quality_after": {"cosine": 0.98, "accuracy": 0.992},
    "skipped": None,
    "budget_s": None,
    "stopped_because": "steps",
}


def test_strip_shows_quality_before_and_after(qtbot: Any) -> None:
    strip = DeltasStrip()
    qtbot.addWidget(strip)
    strip.show_recover(RECORD)
    assert strip.recover_text == "accuracy 81.4 % → 99.2 % after 200 distillation steps (held-out 120 samples)"
    assert strip.recover_line.text() == "Recovered: " + strip.recover_text and not strip.recover_line.isHidden()
    assert strip.cards["fidelity"].title.text() == "Fidelity · recovered"
    assert "not a full training run" in strip.cards["fidelity"].toolTip()
    budget = {**RECORD, "steps": 500, "steps_done": 143, "budget_s": 30.0, "stopped_because": "budget"}
    strip.show_recover(budget)
    assert "after 143 of 500 distillation steps (the 30 s budget ran out)" in strip.recover_text
    unlabelled = {**RECORD, "labelled": False, "quality_before": {"cosine": 0.81, "accuracy": None}}
    strip.show_recover({**unlabelled, "quality_after": {"cosine": 0.98, "accuracy": None}})
    assert strip.recover_text.startswith("cosine 0.8100 → 0.9800 after 200")
    strip.show_recover({**RECORD, "skipped": "recovery needs sample inputs", "steps_done": 0})
    assert strip.recover_text == "not recovered: recovery needs sample inputs"
    assert strip.cards["fidelity"].title.text() == "Fidelity"
    strip.clear()
    assert strip.recover_line.isHidden() and strip.cards["fidelity"].title.text() == "Fidelity"
    json.dumps(RECORD)


def test_recovered_variant_in_the_window(qtbot: Any, make_window: Any) -> None:
    w = make_window()
    with qtbot.waitSignal(w.result_shown, timeout=TIMEOUT_MS):
        w.open_model("demo:digits-cnn")
    assert not w.knobs.recover.isEnabled()
    with qtbot.waitSignal(w.result_shown, timeout=TIMEOUT_MS) as blocker:
        w.knobs.prune_slider.setValue(6)
    pruned = blocker.args[0]
    # the demo is measured on its 360 samples: that batch is a stop of the slider, kept by the knobs
    assert pruned.variant == Variant(prune=0.3) and w.knobs.batch_label.text() == "360"
    assert pruned.recover is None and w.deltas.recover_line.isHidden()
    assert w.knobs.recover.isEnabled()
    with qtbot.waitSignal(w.result_shown, timeout=TIMEOUT_MS) as blocker:
        w.knobs.recover.setCurrentIndex(w.knobs.recover.findData(50))
    result = blocker.args[0]
    assert result.variant == pruned.variant.with_(recover_steps=50)
    rec = result.recover
    assert rec is not None and rec["steps_done"] == 50 and rec["held_out"] == 120
    after = rec["quality_after"]["accuracy"]
    assert after is not None and after > rec["quality_before"]["accuracy"]
    assert w.deltas.recover_text.startswith("accuracy ") and "after 50 distillation steps (held-out 120" in (
        w.deltas.recover_text
    )
    assert w.deltas.cards["fidelity"].title.text() == "Fidelity · recovered"
    # the card's accuracy is the recovered variant's, on the same held-out samples as the line's
    assert w.deltas.cards["fidelity"].change.text() == f"accuracy {100 * after:.1f}%"
    # the unrecovered variant, restored from the explored ones, shows no recovery line
    w.restore_variant(pruned.variant)
    qtbot.waitUntil(lambda: w.deltas.recover_line.isHidden(), timeout=5000)


@pytest.mark.slow
def test_recovery_shows_progress_and_cancels_in_the_real_worker(qtbot: Any, make_window: Any) -> None:
    w = make_window(runner_factory=None)  # the app's own: a spawned worker process
    with qtbot.waitSignal(w.result_shown, timeout=TIMEOUT_MS):
        w.open_model("demo:digits-cnn")
    with qtbot.waitSignal(w.result_shown, timeout=TIMEOUT_MS):
        w.knobs.prune_slider.setValue(6)
    stages: list[str] = []
    w.controller.progress_changed.connect(lambda _f, message: stages.append(message))
    w.knobs.recover.setCurrentIndex(w.knobs.recover.findData(500))
    qtbot.waitUntil(lambda: any(m.startswith("recovering") for m in stages), timeout=TIMEOUT_MS)
    assert not w.cancel_button.isHidden()
    with qtbot.waitSignal(w.controller.run_cancelled, timeout=30_000):
        w.cancel_button.click()
    # nothing recovered was kept: the workspace still shows the plain pruned variant
    current = w.workspace.current
    assert current is not None and current.variant == Variant(prune=0.3) and current.recover is None
