"""A variant's measured latency change, shown honestly: the deltas strip's latency card, its busy
warning and tooltip, the status bar, the Pareto tooltip and the PDF's variants table all read the
change from the interleaved experiment (`VariantResult.latency_ratio`) in `units.speed_change`'s
words, and colour it only when it is significant.

The results are built directly (given RatioEstimate and Comparison), so the figures are exact.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import pytest

from profiler import units
from profiler.comparison import Comparison, RatioEstimate
from profiler.result import LatencyStats, Profile
from profiler.variant import Variant
from profiler.whatif import VariantResult

DATA = Path(__file__).parent / "data"
TIMED_AS = "model(x) (the module as users call it)"


def _stats(median: float, p10: float, p90: float, *, noisy: bool = False) -> LatencyStats:
    return LatencyStats(median=median, p10=p10, p90=p90, samples=200, cv=0.05, noisy=noisy)


def _baseline() -> VariantResult:
    base = VariantResult.from_dict(json.loads((DATA / "data_mlp_baseline.json").read_text()))
    assert base.profile is not None
    profile = dataclasses.replace(
        base.profile,
        totals=dataclasses.replace(base.profile.totals, latency_ms=_stats(40.0, 38.0, 43.0)),
        timed_as=TIMED_AS,
    )
    return dataclasses.replace(
        base, profile=profile, baseline=profile, latency_ratio=RatioEstimate.identity(), comparison=None
    )


def _variant(ratio: RatioEstimate, *, noisy: bool = False, foreign: float = 3.0) -> VariantResult:
    """An int8 variant of the baseline with the given measured ratio (and a busy machine when `noisy`)."""
    base = _baseline()
    assert base.profile is not None
    variant_ms = _stats(40.0 * ratio.value, 40.0 * ratio.value * 0.9, 40.0 * ratio.value * 1.4, noisy=noisy)
    comparison = Comparison(
        baseline_ms=_stats(40.5, 38.5, 44.0, noisy=noisy),
        variant_ms=variant_ms,
        rounds=ratio.rounds,
        calls_per_round=5,
        foreign_cpu_percent=foreign,
        cpu_mhz=2400.0,
        noisy=noisy,
    )
    profile = dataclasses.replace(
        base.profile, totals=dataclasses.replace(base.profile.totals, latency_ms=variant_ms), timed_as=TIMED_AS
    )
    return dataclasses.replace(
        base,
        variant=Variant(precision="int8"),
        profile=profile,
        delta={**base.delta, "latency": ratio.value},
        latency_ratio=ratio,
        throughput_ratio=ratio.inverse(),
        comparison=comparison,
    )


FASTER = RatioEstimate(value=0.55, ci_low=0.5, ci_high=0.6, significant=True, confidence=0.95, rounds=40)
SLOWER = RatioEstimate(value=1.3, ci_low=1.2, ci_high=1.4, significant=True, confidence=0.95, rounds=40)
SPANS_ONE = RatioEstimate(value=0.99, ci_low=0.95, ci_high=1.03, significant=False, confidence=0.95, rounds=30)


def _strip(result: VariantResult, reference: Profile | None = None) -> Any:
    from gui.widgets.deltas_strip import DeltasStrip

    strip = DeltasStrip()
    assert result.profile is not None
    strip.show_result(result.profile, {"params": 1.0, "macs": 1.0, "weight_bytes": 0.26})
    strip.show_latency(result, reference)
    return strip


def _color(label: Any) -> str:
    found = re.search(r"color:\s*(#[0-9a-fA-F]{6})", label.styleSheet())
    assert found, label.styleSheet()
    return found.group(1).lower()


def test_interval_spanning_one_reads_no_change_and_is_neutral(qapp: Any) -> None:
    from gui.theme import current

    strip = _strip(_variant(SPANS_ONE))
    card = strip.cards["latency"]
    assert card.change.text() == "≈ no measurable change"
    t = current()
    assert _color(card.change) == t.muted.lower()
    assert _color(card.change) not in (t.good.lower(), t.bad.lower())
    assert card.value.text() == units.duration_ms(40.0 * 0.99)


def test_significant_change_reads_faster_with_interval_and_is_green(qapp: Any) -> None:
    from gui.theme import current

    strip = _strip(_variant(FASTER))
    change = strip.cards["latency"].change.text()
    assert re.fullmatch(r"\d+(\.\d+)?× faster \(\d+(\.\d+)?–\d+(\.\d+)?×\)", change), change
    assert change == units.speed_change(FASTER) == "1.8× faster (1.7–2.0×)"
    assert _color(strip.cards["latency"].change) == current().good.lower()
    slower_strip = _strip(_variant(SLOWER))  # kept: the labels die with their strip
    slower = slower_strip.cards["latency"].change
    assert slower.text() == "1.3× slower (1.2–1.4×)"
    assert _color(slower) == current().bad.lower()


def test_counted_cards_keep_their_ratios(qapp: Any) -> None:
    """The Memory card's change is the ratio of the figure it shows (weights + peak
    activations, counted), never of another quantity (the strip once showed ±0 % between 84.4
    and 55.3 MiB)."""
    from gui.state.workspace import counted_memory_bytes

    v = _variant(SPANS_ONE)
    base = _baseline().profile
    assert v.profile is not None and base is not None
    t = v.profile.totals
    smaller = dataclasses.replace(t, weight_bytes=t.weight_bytes // 4)  # int8 weights
    v = dataclasses.replace(v, profile=dataclasses.replace(v.profile, totals=smaller))
    expected = counted_memory_bytes(smaller) / counted_memory_bytes(base.totals)
    from gui.widgets.deltas_strip import DeltasStrip

    strip = DeltasStrip()
    strip.show_result(v.profile, {"params": 1.0, "macs": 1.0, "weight_bytes": 0.25, "memory": round(expected, 6)})
    assert expected < 1
    assert strip.cards["memory"].change.text() == units.change(round(expected, 6))
    assert strip.cards["params"].change.text() == units.change(1.0)


def test_busy_warning_shows_when_noisy_and_hides_when_quiet(qapp: Any) -> None:
    noisy = _strip(_variant(FASTER, noisy=True, foreign=48.0))
    assert not noisy.warning.isHidden()
    text = noisy.warning.text()
    assert text.startswith("⚠ machine busy (other programs used 48 % of the CPU): figures ±")
    # the warning's colour is amber, not the colour of a gain or a loss
    from gui.theme import current

    assert _color(noisy.warning) == current().warn.lower()
    # and it goes away when the next result was timed on a quiet machine
    noisy.show_latency(_variant(FASTER))
    assert noisy.warning.isHidden() and noisy.warning.text() == ""
    quiet = _strip(_variant(FASTER))
    assert quiet.warning.isHidden()


def test_comparison_noisy_alone_also_warns(qapp: Any) -> None:
    r = _variant(SPANS_ONE)
    assert r.comparison is not None
    r = dataclasses.replace(r, comparison=dataclasses.replace(r.comparison, noisy=True, foreign_cpu_percent=60.0))
    strip = _strip(r)
    assert not strip.warning.isHidden()
    assert "other programs used 60 % of the CPU" in strip.warning.text()


def test_tooltip_has_spread_interval_rounds_timed_as_and_throughput(qapp: Any) -> None:
    r = _variant(FASTER)
    assert r.comparison is not None and r.profile is not None and r.profile.totals.latency_ms is not None
    strip = _strip(r)
    card = strip.cards["latency"]
    tip = card.toolTip()
    assert f"p10–p90 {units.spread_ms(r.profile.totals.latency_ms)}" in tip
    assert f"p10–p90 {units.spread_ms(r.comparison.baseline_ms)}" in tip  # the baseline's, from the same run
    assert "95 % interval" in tip and "over 40 rounds" in tip
    assert TIMED_AS in tip
    assert "1.8× more throughput (1.7–2.0×)" in tip
    # the caption shows the spread too
    assert units.spread_ms(r.profile.totals.latency_ms) in card.title.text()


def test_baseline_card_has_its_spread_on_hover(qapp: Any) -> None:
    base = _baseline()
    strip = _strip(base)
    card = strip.cards["latency"]
    assert card.change.text() == "baseline"
    assert "p10–p90 38.0–43.0 ms" in card.toolTip()


def test_model_text_in_the_tooltip_stays_plain(qapp: Any) -> None:
    r = _variant(FASTER)
    assert r.profile is not None
    r = dataclasses.replace(r, profile=dataclasses.replace(r.profile, timed_as="<img src='/dev/zero'>"))
    strip = _strip(r)
    tip = strip.cards["latency"].toolTip()
    assert "<img" not in tip and "&lt;img" in tip


def test_window_shows_the_measured_change_and_status(qtbot: Any, make_window: Any) -> None:
    w = make_window()
    base = _baseline()
    for result in (base, _variant(FASTER, noisy=True, foreign=48.0)):
        with qtbot.waitSignal(w.result_shown, timeout=10_000):
            w.controller.run_finished.emit(result)
    assert w.deltas.cards["latency"].change.text() == "1.8× faster (1.7–2.0×)"
    assert not w.deltas.warning.isHidden() and "machine busy" in w.deltas.warning.text()
    message = w.statusBar().currentMessage()
    assert "int8 against the baseline: 1.8× faster (1.7–2.0×)" in message and "machine busy" in message
    # the Pareto chart's tooltip uses the same words
    entry = next(e for e in w.pareto_chart.entries if e["label"] == "int8")
    assert entry["change"] == "1.8× faster (1.7–2.0×)"
    # a change within the noise: neutral card, no gain in the status bar, warning gone when quiet
    with qtbot.waitSignal(w.result_shown, timeout=10_000):
        w.controller.run_finished.emit(dataclasses.replace(_variant(SPANS_ONE), variant=Variant(prune=0.5)))
    assert w.deltas.cards["latency"].change.text() == "≈ no measurable change"
    assert "≈ no measurable change" in w.statusBar().currentMessage()
    assert w.deltas.warning.isHidden()


pypdf = pytest.importorskip("pypdf")


def test_report_variants_table_reads_the_measured_change(qapp: Any, tmp_path: Path) -> None:
    from gui.report import build_report_inputs, render_report_pdf

    base = _baseline()
    results = [
        base,
        _variant(FASTER, noisy=True, foreign=48.0),
        dataclasses.replace(_variant(SPANS_ONE), variant=Variant(prune=0.5)),
    ]
    assert base.profile is not None
    inputs = build_report_inputs(base.profile, results, chosen_label="int8")
    out = tmp_path / "measured.pdf"
    render_report_pdf(inputs, str(out))
    text = re.sub(r"\s+", " ", " ".join(p.extract_text() for p in pypdf.PdfReader(str(out)).pages))
    assert "vs baseline (measured)" in text
    assert "1.8× faster (1.7–2.0×)" in text
    assert "≈ no measurable change" in text
    assert units.spread_ms(results[1].profile.totals.latency_ms) in text  # type: ignore[union-attr]
    assert "alternately in one run" in text and "95 % interval" in text
    assert "The machine was busy" in text
    assert "int8: machine busy (other programs used 48 % of the CPU)" in text


def test_identity_at_another_batch_and_results_without_an_experiment() -> None:
    from gui import measured_change

    base = _baseline()
    assert base.profile is not None
    batch8 = dataclasses.replace(
        base,
        variant=Variant(batch=8),
        profile=dataclasses.replace(base.profile, config=dataclasses.replace(base.profile.config, batch=8)),
    )
    assert measured_change.latency_change(batch8, reference_batch=1) == "baseline at batch 8"
    assert measured_change.latency_change(base, reference_batch=1) == "baseline"
    assert measured_change.verdict(batch8) is None
    # an older project's result: a ratio of two separate runs, never coloured as a gain
    old = dataclasses.replace(_variant(FASTER), latency_ratio=None, throughput_ratio=None, comparison=None)
    assert measured_change.latency_change(old) == f"{units.change(FASTER.value)} (separate runs)"
    assert measured_change.verdict(old) is None
