"""Property-based fuzzing (hypothesis) of the parsers that meet user input first.

A fixed, small budget here keeps CI fast; `HYPOTHESIS_PROFILE=long` runs many more examples.
"""

import string
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from profiler.errors import InputError, StudioError
from profiler.inputs import parse_shape, parse_shape_options


@given(st.text(max_size=40))
def test_parse_shape_accepts_or_refuses_cleanly(text: str) -> None:
    try:
        dims = parse_shape(text)
    except InputError as exc:
        assert "\n" not in str(exc)
        return
    assert dims and all(isinstance(d, int) and d > 0 for d in dims)


@given(st.lists(st.integers(min_value=1, max_value=4096), min_size=1, max_size=6), st.sampled_from(["x", ",", "×"]))
def test_parse_shape_round_trips(dims: list[int], sep: str) -> None:
    assert parse_shape(sep.join(map(str, dims))) == tuple(dims)


@given(st.lists(st.text(alphabet=string.ascii_letters + "=x0123456789_", max_size=20), max_size=4))
def test_shape_options_never_crash(values: list[str]) -> None:
    try:
        parse_shape_options(values)
    except InputError:
        pass


EXTENSIONS = [".onnx", ".pt", ".pth", ".ts", ".pt2", ".py", ".json", ".bin", ".ckpt", ".xyz", ""]


@given(data=st.binary(max_size=512), ext=st.sampled_from(EXTENSIONS))
def test_format_sniffing_never_crashes(tmp_path_factory: pytest.TempPathFactory, data: bytes, ext: str) -> None:
    from profiler.loading import load_model

    path = tmp_path_factory.mktemp("fuzz") / f"model{ext}"
    path.write_bytes(data)
    marker = path.parent / "pwned"
    try:
        load_model(str(path))
    except StudioError as exc:
        assert "\n" not in str(exc)
    except SystemExit:
        pytest.fail("a model file made the loader exit")
    assert not marker.exists()


CSV_CELLS = st.one_of(st.text(max_size=12), st.floats(allow_nan=True).map(str), st.integers().map(str))


@settings(max_examples=40)
@given(rows=st.lists(st.lists(CSV_CELLS, min_size=1, max_size=8), max_size=6), header=st.booleans())
def test_catalog_loader_reports_bad_rows_without_crashing(
    tmp_path_factory: pytest.TempPathFactory, rows: list[list[str]], header: bool
) -> None:
    import csv

    from planner.catalog import load_catalog

    path: Path = tmp_path_factory.mktemp("cat") / "extra.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        if header:
            w.writerow(["provider", "instance", "region", "accelerator", "count", "usd_per_hour"])
        w.writerows(rows)
    try:
        catalog = load_catalog(extra=str(path), include_user=False)
    except InputError as exc:
        assert "\n" not in str(exc)
        return
    assert catalog.accelerators  # the shipped tables still load beside a bad extra file
