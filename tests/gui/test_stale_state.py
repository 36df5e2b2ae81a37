"""No stale state: every path through open / reopen / cancel / failure / switch model leaves the
header, the inputs line, the knobs and their rules consistent with the model shown (issue 16,
item 2). On the real widgets (offscreen), with the in-process runner."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from window_factory import scripted_runner

from gui.fmt import fmt_ratio
from gui.models.roles import LAYER_ROLE
from gui.state.workspace import counted_memory_bytes
from gui.widgets.knobs import applicability
from profiler.events import Failed, FailureKind
from profiler.variant import Variant

TIMEOUT_MS = 60_000

#: a 2-layer Llama small enough to build and measure for real in a second
TINY_LLAMA = {
    "model_type": "llama",
    "architectures": ["LlamaForCausalLM"],
    "vocab_size": 256,
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 4,
    "max_position_embeddings": 128,
}


def tiny_llama(tmp_path: Path) -> str:
    folder = tmp_path / "tiny-llama"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(TINY_LLAMA))
    return str(folder / "config.json")


def _open(qtbot: Any, w: Any, source: str) -> Any:
    with qtbot.waitSignal(w.result_shown, timeout=TIMEOUT_MS) as blocker:
        w.open_model(source)
    return blocker.args[0]


def _enabled(w: Any) -> dict[str, bool]:
    k = w.knobs
    return {
        "prune": k.prune_row.isEnabled(),
        "precision": k.precision.isEnabled(),
        "batch": k.batch_row.isEnabled(),
        "seq_len": k.seq_len.isEnabled(),
        "image_size": k.image_size.isEnabled(),
        "device": k.device.isEnabled(),
        "runtime": k.runtime.isEnabled(),
        "recover": k.recover.isEnabled(),
    }


def _header_is_the_model(w: Any, result: Any) -> None:
    profile = w.workspace.reference
    assert profile is not None
    assert w.model_label.text() == profile.model.name
    env = w.env_label.text()
    assert "opening" not in env
    assert env.startswith(profile.model.source) and "inputs " in env
    for spec in profile.inputs:
        assert spec.name in env
    assert w.knobs.reasons == applicability(profile, w.telemetry.has_gpu)


# -- Hugging Face configs: the knob rules follow the model, not the first, untimed profile ----------


def test_a_small_hf_config_is_measured_and_its_knobs_apply(qtbot: Any, make_window: Any, tmp_path: Path) -> None:
    w = make_window()
    w.show()
    counted: list[Any] = []
    w.static_shown.connect(counted.append)
    result = _open(qtbot, w, tiny_llama(tmp_path))
    assert result.profile.totals.latency_ms is not None, "a small config is built for real and timed"
    # already the first (counted, untimed) profile must not disable the knobs
    assert counted and counted[0].totals.latency_ms is None
    assert not any("meta" in (r or "") for r in applicability(counted[0], False).values())
    state = _enabled(w)
    assert state["prune"] and state["precision"] and state["batch"] and state["seq_len"], state
    assert not state["image_size"]  # token input: the reason says so, not "meta device"
    for widget in (w.knobs.prune_row, w.knobs.precision, w.knobs.batch_row):
        assert "meta device" not in widget.toolTip()
    assert "meta device" not in w.knobs.image_size.toolTip()
    _header_is_the_model(w, result)
    assert w.statusBar().currentMessage().startswith("Measured")


def test_a_meta_device_config_disables_its_knobs_and_is_not_called_measured(
    qtbot: Any, make_window: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import profiler.hf_config as hf_config

    monkeypatch.setattr(hf_config, "META_MEMORY_SHARE", 0.0)  # as if the machine had no room: meta device
    w = make_window()
    w.show()
    result = _open(qtbot, w, tiny_llama(tmp_path))
    assert result.profile.totals.latency_ms is None
    assert not any(_enabled(w).values())
    assert "meta device" in w.knobs.precision.toolTip()
    assert not w.knobs.reset_button.isEnabled()
    message = w.statusBar().currentMessage()
    assert "Measured" not in message and message.startswith("Counted"), message
    assert "projected" in message


def test_switching_from_a_meta_config_to_a_small_one_enables_the_knobs(
    qtbot: Any, make_window: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import profiler.hf_config as hf_config

    w = make_window()
    monkeypatch.setattr(hf_config, "META_MEMORY_SHARE", 0.0)
    _open(qtbot, w, tiny_llama(tmp_path))
    assert not _enabled(w)["precision"]
    monkeypatch.setattr(hf_config, "META_MEMORY_SHARE", 0.5)
    result = _open(qtbot, w, "demo:mlp")
    assert _enabled(w)["precision"] and _enabled(w)["prune"]
    _header_is_the_model(w, result)


# -- reopening a model served from the runner's cache ------------------------------------------------


def test_reopening_a_cached_model_restores_its_header_inputs_and_rules(qtbot: Any, make_window: Any) -> None:
    w = make_window()
    w.show()
    first = _open(qtbot, w, "demo:mlp")
    mlp_rules = w.knobs.reasons
    mlp_env = w.env_label.text()
    _open(qtbot, w, "demo:digits-cnn")
    assert w.knobs.reasons != mlp_rules  # the two demos' rules differ (image size, recovery)
    static: list[Any] = []
    w.static_shown.connect(static.append)
    again = _open(qtbot, w, "demo:mlp")
    assert not static, "the reopen must come from the runner's cache (no counted profile first)"
    assert again.profile.totals.macs == first.profile.totals.macs
    assert w.env_label.text() == mlp_env
    assert w.knobs.reasons == mlp_rules
    _header_is_the_model(w, again)
    assert w.knobs.variant == Variant()


# -- a failed or cancelled open brings the previous model back whole ----------------------------------


def test_a_failed_open_brings_the_previous_model_back_whole(qtbot: Any, make_window: Any) -> None:
    failures: list[Any] = []
    w = make_window(runner_factory=scripted_runner(failures))
    w.show()
    first = _open(qtbot, w, "demo:mlp")
    env, rules, title = w.env_label.text(), w.knobs.reasons, w.model_label.text()
    planner = {k: v for k, v in w.planner_state().items() if k != "per_model"}  # the inputs shown
    failures.append(Failed(FailureKind.MODEL_FAILED, "demo:digits-cnn: the model raised ValueError"))
    with qtbot.waitSignal(w.model_failed, timeout=TIMEOUT_MS):
        w.open_model("demo:digits-cnn")
    assert w.workspace.source == "demo:mlp"
    assert w.env_label.text() == env and "opening" not in env
    assert w.model_label.text() == title
    assert w.knobs.reasons == rules and _enabled(w)["precision"]
    assert {k: v for k, v in w.planner_state().items() if k != "per_model"} == planner
    _header_is_the_model(w, first)


def test_a_failed_first_open_does_not_stay_on_opening(qtbot: Any, make_window: Any) -> None:
    failures = [Failed(FailureKind.MODEL_FAILED, "demo:mlp: the model raised ValueError")]
    w = make_window(runner_factory=scripted_runner(failures))
    with qtbot.waitSignal(w.model_failed, timeout=TIMEOUT_MS):
        w.open_model("demo:mlp")
    assert "opening" not in w.env_label.text()
    assert w.model_label.text() == "No model"
    assert w.workspace.source is None
    assert not _enabled(w)["precision"] and "open a model first" in w.knobs.precision.toolTip()
    assert not w.knobs.reset_button.isEnabled()


def test_a_first_open_that_fails_after_counting_leaves_no_rows(qtbot: Any, make_window: Any) -> None:
    from gui.controller import InProcessRunner
    from profiler.events import Finished

    class FailsTiming(InProcessRunner):
        def poll(self, timeout_s: float = 0.0) -> list[Any]:
            return [
                Failed(FailureKind.MODEL_FAILED, "demo:mlp: timing failed", run_id=e.run_id)
                if isinstance(e, Finished)
                else e
                for e in super().poll(timeout_s)
            ]

    w = make_window(runner_factory=FailsTiming)
    counted: list[Any] = []
    w.static_shown.connect(counted.append)
    with qtbot.waitSignal(w.model_failed, timeout=TIMEOUT_MS):
        w.open_model("demo:mlp")
    assert counted, "the counted rows were on screen before the failure"
    assert w.model_label.text() == "No model" and "opening" not in w.env_label.text()
    assert w.table.model.rowCount() == 0 and w.heatmap.model.rowCount() == 0


def test_cancelling_an_open_brings_the_previous_model_back(qtbot: Any, make_window: Any) -> None:
    from gui.controller import InProcessRunner

    # one event of the task per poll: the open is still on screen when run_started returns (with
    # the default 8 per poll a warm, fast machine could show the new model in the same poll)
    w = make_window(runner_factory=lambda: InProcessRunner(events_per_poll=1))
    _open(qtbot, w, "demo:mlp")
    env, rules = w.env_label.text(), w.knobs.reasons
    with qtbot.waitSignal(w.controller.run_started, timeout=TIMEOUT_MS):
        w.open_model("demo:digits-cnn")
    assert w.env_label.text() == "opening…"
    assert "is opening" in w.knobs.precision.toolTip()  # no rules of the previous model meanwhile
    with qtbot.waitSignal(w.controller.run_cancelled, timeout=TIMEOUT_MS):
        w.controller.cancel()
    assert w.workspace.source == "demo:mlp"
    assert w.env_label.text() == env and w.knobs.reasons == rules


# -- after Cancel the knobs show the variant on screen --------------------------------------------------


def test_after_cancel_the_precision_box_shows_the_variant_on_screen(qtbot: Any, make_window: Any) -> None:
    w = make_window()
    w.show()
    _open(qtbot, w, "demo:mlp")
    k = w.knobs
    with qtbot.waitSignal(w.controller.run_started, timeout=TIMEOUT_MS):
        k.precision.setCurrentIndex(k.precision.findData("fp16"))
    assert k.precision.currentData() == "fp16"
    with qtbot.waitSignal(w.controller.run_cancelled, timeout=TIMEOUT_MS):
        w.cancel_button.click()
    assert w.workspace.current.variant == Variant()
    assert k.precision.currentData() == "fp32" and k.variant == Variant()
    assert w.workspace.knobs == Variant()


def test_cancel_while_a_change_waits_for_the_debounce(qtbot: Any, make_window: Any) -> None:
    w = make_window(debounce_ms=400)
    _open(qtbot, w, "demo:mlp")
    k = w.knobs
    with qtbot.waitSignal(w.result_shown, timeout=TIMEOUT_MS):
        k.batch_slider.setValue(1)
    k.precision.setCurrentIndex(k.precision.findData("bf16"))  # waits out the debounce
    k.batch_slider.setValue(2)
    with qtbot.waitSignal(w.controller.run_cancelled, timeout=2000):
        w.controller.cancel()
    assert not w.controller.busy
    assert k.variant == w.workspace.current.variant
    assert k.precision.currentData() == "fp32" and k.batch_label.text() == "2"


# -- the details pane follows the keyboard ---------------------------------------------------------------


def _first_leaf(model: Any) -> Any:
    stack = [model.index(r, 0) for r in range(model.rowCount())]
    while stack:
        index = stack.pop(0)
        if not model.hasChildren(index):
            return index
        stack[:0] = [model.index(r, 0, index) for r in range(model.rowCount(index))]
    raise AssertionError("no leaf row")


def test_details_follow_keyboard_moves_in_the_heatmap(qtbot: Any, make_window: Any) -> None:
    w = make_window()
    w.show()
    _open(qtbot, w, "demo:mlp")
    view = w.heatmap.view
    view.setFocus()
    leaf = _first_leaf(w.heatmap.model)
    view.setCurrentIndex(leaf)  # as a keyboard move would set it
    first = w.details.layer
    assert first == leaf.data(LAYER_ROLE)
    QTest.keyClick(view, Qt.Key.Key_Down)
    qtbot.waitUntil(lambda: w.details.layer is not None and w.details.layer != first, timeout=2000)
    assert w.details.layer in w.layer_data.index
    assert w.details.layer in w.details.text.toPlainText()


def test_details_follow_keyboard_moves_in_the_layers_tab(qtbot: Any, make_window: Any) -> None:
    w = make_window()
    w.show()
    _open(qtbot, w, "demo:mlp")
    w.tabs.setCurrentWidget(w.table)
    view = w.table.view
    view.setFocus()
    view.setCurrentIndex(view.model().index(0, 0))
    first = w.details.layer
    assert first is not None
    QTest.keyClick(view, Qt.Key.Key_Down)
    qtbot.waitUntil(lambda: w.details.layer not in (None, first), timeout=2000)
    QTest.keyClick(view, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)  # the last row
    last = view.model().index(view.model().rowCount() - 1, 0).data(LAYER_ROLE)
    qtbot.waitUntil(lambda: w.details.layer == last, timeout=2000)


# -- the Memory card: value and change of one quantity ------------------------------------------------------


def test_memory_card_change_is_the_ratio_of_the_figure_shown(qtbot: Any, make_window: Any) -> None:
    w = make_window()
    base = _open(qtbot, w, "demo:mlp")
    with qtbot.waitSignal(w.result_shown, timeout=TIMEOUT_MS) as blocker:
        w.knobs.batch_slider.setValue(6)  # batch 64: the same weights, far more activations
    result = blocker.args[0]
    shown = counted_memory_bytes(result.profile.totals)
    ref = counted_memory_bytes(base.profile.totals)
    assert shown != ref and result.profile.totals.weight_bytes == base.profile.totals.weight_bytes
    card = w.deltas.cards["memory"]
    assert w.deltas.values["memory_bytes"] == shown
    assert card.change.text() == fmt_ratio(shown / ref)
    assert card.change.text() not in ("±0%", "±0 %", "")
