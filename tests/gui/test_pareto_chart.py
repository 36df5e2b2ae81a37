"""The app's Pareto scatter reads the core's flags (`profiler.sweep.pareto_flags`), the same ones
the PDF stars; it never recomputes a 2-D front of its own."""

from __future__ import annotations

from typing import Any


def _entry(key: str, lat: float, fid: float, weights: int, pareto: bool | None) -> dict[str, Any]:
    e: dict[str, Any] = {
        "key": key,
        "variant": key,
        "label": key,
        "latency_ms": lat,
        "fidelity": fid,
        "weight_bytes": weights,
        "weights": f"{weights} B",
    }
    if pareto is not None:
        e["pareto"] = pareto
    return e


def test_outlines_follow_the_cores_flags(qapp: Any) -> None:
    from gui.charts.pareto_chart import ParetoChart

    chart = ParetoChart()
    # b is slower and less faithful than a (dominated in 2-D) but much smaller: on the core's
    # 3-D front. c is flagged off the front. The chart must outline exactly a and b.
    entries = [
        _entry("a", 1.0, 0.999, 1000, True),
        _entry("b", 2.0, 0.99, 10, True),
        _entry("c", 3.0, 0.9, 2000, False),
    ]
    chart.set_results(entries, "a")
    widths = {p.data()["key"]: p.pen().widthF() for p in chart.scatter.points()}
    assert widths["a"] == widths["b"] == 1.5 and widths["c"] < 1.5
    assert "Pareto-optimal" in chart._tip(2.0, 0.99, entries[1]) and "Pareto-optimal" not in chart._tip(
        3.0, 0.9, entries[2]
    )


def test_tooltip_uses_the_shared_formats(qapp: Any) -> None:
    from gui.charts.pareto_chart import ParetoChart

    text = ParetoChart._tip(0.0474, 0.99874, {"label": "int8", "weights": "526 KiB"})
    assert "47.4 µs" in text and "0.9987" in text and "526 KiB" in text


def test_chart_entries_carry_the_cores_flags(qapp: Any) -> None:
    from gui.charts.pareto_chart import ParetoChart, chart_entries
    from profiler.fidelity import Fidelity
    from profiler.result import LatencyStats, ModelInfo, Profile, RunConfig, Totals
    from profiler.sweep import pareto_flags
    from profiler.variant import Variant
    from profiler.whatif import VariantResult

    def result(prune: float, lat: float, cosine: float, weights: int) -> VariantResult:
        profile = Profile(
            model=ModelInfo("m", "demo:m", "demo"),
            inputs=(),
            config=RunConfig(batch=1),
            environment=None,
            totals=Totals(
                params=weights // 4,
                macs=1000,
                flops=2000,
                weight_bytes=weights,
                activation_bytes=0,
                latency_ms=LatencyStats(lat, lat, lat, 10),
            ),
            layers=(),
        )
        return VariantResult(
            Variant(prune=prune), profile, profile, Fidelity(cosine, 0.0, 0.0, None, None), {"latency": 1.0}
        )

    # the small one is slower and less faithful (dominated in 2-D) yet on the core's 3-D front
    rs = [result(0.0, 1.0, 1.0, 4000), result(0.3, 2.0, 0.99, 40), result(0.5, 3.0, 0.9, 4000)]
    results = {r.variant.key(): r for r in rs}
    entries = chart_entries(results)
    assert [e["pareto"] for e in entries] == pareto_flags(rs) == [True, True, False]
    chart = ParetoChart()
    chart.show_results(results, rs[0].variant.key())
    assert len(chart.entries) == 3


def test_the_front_is_labelled_and_there_is_a_legend(qtbot: Any) -> None:
    from gui.charts.pareto_chart import ParetoChart
    from profiler.variant import Variant

    chart = ParetoChart()
    qtbot.addWidget(chart)
    entries = [
        {"key": "a", "variant": Variant(), "label": "fp32", "latency_ms": 2.0, "fidelity": 1.0,
         "weight_bytes": 100, "weights": "100 B", "pareto": True},
        {"key": "b", "variant": Variant(prune=0.5), "label": "prune 0.5 <b>structured</b>", "latency_ms": 1.0,
         "fidelity": 0.9, "weight_bytes": 50, "weights": "50 B", "pareto": True},
        {"key": "c", "variant": Variant(prune=0.3), "label": "prune 0.3", "latency_ms": 2.5, "fidelity": 0.8,
         "weight_bytes": 70, "weights": "70 B", "pareto": False},
    ]  # fmt: skip
    chart.set_results(entries, "a")
    texts = [item.textItem.toPlainText() for item in chart.labels]
    assert texts == ["prune 0.5 <b>structured</b>", "fp32"], "front only, fastest first, as plain text"
    names = [label.text for _, label in chart.legend.items]
    assert names == ["Pareto-optimal (outlined)", "other variant", "shown now"]
    chart.set_results([], None)
    assert chart.labels == []
