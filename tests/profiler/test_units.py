"""profiler/units.py: the one number format of the terminal, the app and the PDF."""

from __future__ import annotations

import math

import pytest

from profiler import units


@pytest.mark.parametrize(
    ("ms", "text"),
    [
        (0.0474, "47.4 µs"),
        (1.93, "1.93 ms"),
        (2600.0, "2.60 s"),
        (0.00052, "520 ns"),
        (41.7, "41.7 ms"),
        (0.99996, "1.00 ms"),  # rounded first, then the unit: never "1,000 µs"
        (999.96, "1.00 s"),
        (12_345_678.0, "12,300 s"),  # no scientific notation
        (0.0, "0 ms"),
        (None, "—"),
    ],
)
def test_duration_ms(ms: float | None, text: str) -> None:
    assert units.duration_ms(ms) == text


@pytest.mark.parametrize(
    ("n", "unit", "text"),
    [
        (11_689_512, "", "11.7 M"),
        (1.814e9, "", "1.81 G"),
        (1.814e9, "MAC", "1.81 GMAC"),
        (512, "", "512"),
        (999.7, "", "1.00 k"),
        (999.4, "", "999"),
        (3e18, "FLOP", "3.00 EFLOP"),
        (0, "", "0"),
        (None, "", "—"),
    ],
)
def test_count(n: float | None, unit: str, text: str) -> None:
    assert units.count(n, unit) == text


@pytest.mark.parametrize(
    ("n", "text"),
    [(46_758_048, "44.6 MiB"), (512, "512 B"), (1023.9, "1.00 KiB"), (3 * 2**30, "3.00 GiB"), (0, "0 B"), (None, "—")],
)
def test_size_bytes(n: float | None, text: str) -> None:
    assert units.size_bytes(n) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.119, "$0.119"),
        (1028.0, "$1,028"),
        (3.81e-05, "$0.0000381"),
        (12.3, "$12.30"),
        (4e-08, "< $0.000001"),  # non-zero never reads $0
        (0.0, "$0"),
        (-5.0, "−$5.00"),
        (0.9996, "$1.00"),
        (None, "—"),
    ],
)
def test_usd(value: float | None, text: str) -> None:
    assert units.usd(value) == text


def test_usd_per() -> None:
    assert units.usd(1028.0, per="/month") == "$1,028/month"


def test_changes_ratios_percent() -> None:
    assert units.change(0.27) == "−73.0%"
    assert units.change(2.0) == "+100%"
    assert units.change(1.0001) == "±0%"
    assert units.times(0.44) == "0.440×"
    assert units.percent(0.123) == "12.3%"
    assert units.percent(0.5, 0) == "50%"
    assert units.percent(-0.0001) == "0.0%"


def test_number_and_sig() -> None:
    assert units.number(1_000_000) == "1,000,000"
    assert units.number(1e6) == "1,000,000"
    assert units.number(0.125) == "0.125"
    assert units.number(2.6) == "2.60"
    assert units.number(1.23e-7) == "0.000000123"
    assert units.sig(-0.0474) == "−0.0474"
    assert units.sig(math.inf) == "∞"


def test_hours_throughput_fidelity() -> None:
    assert units.hours(100) == "4.17 days"
    assert units.hours(31) == "31.0 h"
    assert units.hours(0.001) == "3.60 s"
    assert units.throughput(1234.5) == "1.23 k/s"
    assert units.throughput(12.5, " tok/s") == "12.5 tok/s"
    assert units.fidelity(0.99874) == "0.9987"
    assert units.fidelity(0.99999) == "> 0.9999"  # a loss never reads as exactly 1
    assert units.fidelity(1.0) == "1.0000"


@pytest.mark.parametrize("v", [1e-9, 3.3e-5, 0.5, 7.0, 123.0, 4.5e4, 6.7e8, 8.9e12, 2.2e20])
def test_no_scientific_notation(v: float) -> None:
    for text in (units.duration_ms(v), units.count(v), units.size_bytes(v), units.usd(v), units.number(v)):
        assert "e+" not in text and "e-" not in text, text


def test_import_light() -> None:
    import subprocess
    import sys

    code = "import sys, profiler.units; bad = {'torch', 'PySide6', 'numpy'} & set(sys.modules); print(sorted(bad))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"


def test_axis_tick() -> None:
    assert units.axis_tick(0.00015, 0.00005) == "0.00015"
    assert units.axis_tick(1500, 500) == "1,500"
    assert units.axis_tick(0.25, 0.05) == "0.25"
    assert units.axis_tick(1.0, 0.05) == "1"
    assert units.axis_tick(-0.5, 0.5) == "−0.5"
