from __future__ import annotations

import sys
from pathlib import Path

import pytest

from planner.catalog import ACCELERATOR_COLUMNS, INSTANCE_COLUMNS, Catalog, load_catalog, user_catalog_dir
from planner.render import hardware_document, render_hardware_table
from planner.resources import resource_path
from planner.vocab import PeakPrecision
from profiler.errors import InputError

ACC_HEADER = ",".join(ACCELERATOR_COLUMNS)
INST_HEADER = ",".join(INSTANCE_COLUMNS)


def acc_row(name: str, memory: str = "40", bw: str = "1000", fp16: str = "100", **over: str) -> str:
    row = {c: "" for c in ACCELERATOR_COLUMNS}
    row.update(name=name, vendor="acme", kind="gpu", **{"class": "datacenter"}, memory_gb=memory,
               bandwidth_gb_s=bw, fp32_tflops="10", fp16_tflops=fp16, bf16_tflops=fp16, tdp_w="300",
               source="test", as_of="2026-01-01")  # fmt: skip
    row.update(over)
    return ",".join(row[c] for c in ACCELERATOR_COLUMNS)


def inst_row(provider: str, instance: str, region: str, acc: str, price: str, count: str = "1", **over: str) -> str:
    row = {c: "" for c in INSTANCE_COLUMNS}
    row.update(provider=provider, instance=instance, region=region, accelerator=acc, count=count,
               usd_per_hour=price, source="test", as_of="2026-01-01")  # fmt: skip
    row.update(over)
    return ",".join(row[c] for c in INSTANCE_COLUMNS)


def test_resource_path_finds_the_shipped_catalog() -> None:
    assert (resource_path("catalog") / "accelerators.csv").is_file()


def test_resource_path_in_a_pyinstaller_bundle(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert resource_path("catalog", "x.csv") == tmp_path / "resources" / "catalog" / "x.csv"


def test_shipped_catalog_is_clean_and_sourced(catalog: Catalog) -> None:
    assert catalog.warnings == ()
    assert len(catalog.instances) >= 60 and len(catalog.accelerators) >= 17
    for a in catalog.accelerators:
        assert a.source and a.as_of
    for i in catalog.instances:
        assert i.source and i.as_of and i.usd_per_hour > 0


def test_shipped_peaks_are_dense(catalog: Catalog) -> None:
    h100 = catalog.accelerator("H100-SXM")
    assert h100 is not None
    assert h100.peak_tflops(PeakPrecision.BF16) == 989.4  # not the 1979 sparsity figure
    assert h100.peak_tflops(PeakPrecision.FP8) == 1978.9
    a100 = catalog.accelerator("a100-sxm4-80gb")  # case-insensitive
    assert (
        a100 is not None and a100.peak_tflops(PeakPrecision.BF16) == 312 and a100.peak_tflops(PeakPrecision.FP8) is None
    )
    t4 = catalog.accelerator("T4")
    assert t4 is not None and t4.peak_tflops(PeakPrecision.BF16) is None and t4.peak_tflops(PeakPrecision.FP16) == 65
    l4 = catalog.accelerator("L4")
    assert l4 is not None and l4.peak_tflops(PeakPrecision.FP16) == 121  # sparse 242 ÷ 2


def test_bad_rows_are_reported_with_file_and_line_and_skipped(tmp_path: Path) -> None:
    f = tmp_path / "mine.csv"
    f.write_text("\n".join([
        ACC_HEADER,
        acc_row("GOOD-1"),
        acc_row("BAD-NUM", memory="lots"),
        acc_row("", memory="40"),
        "only,three,fields",
        acc_row("NO-PEAK", fp16="", fp32_tflops=""),
        acc_row("BAD-DATE", as_of="yesterday"),
        acc_row("NEG", bw="-5"),
        acc_row("GOOD-2"),
    ]) + "\n")  # fmt: skip
    cat = load_catalog(extra=f, include_user=False)
    names = {a.name for a in cat.accelerators}
    assert {"GOOD-1", "GOOD-2"} <= names
    assert not names & {"BAD-NUM", "NO-PEAK", "BAD-DATE", "NEG"}
    w = "\n".join(cat.warnings)
    assert f"{f}:3: column memory_gb: 'lots' is not a number" in w
    assert f"{f}:4: column name: empty" in w
    assert f"{f}:5: expected {len(ACCELERATOR_COLUMNS)} fields, found 3" in w
    assert f"{f}:6:" in w and f"{f}:7: column as_of" in w and f"{f}:8: column bandwidth_gb_s" in w
    assert len(cat.warnings) == 6


def test_instance_with_unknown_accelerator_is_skipped_with_its_line(tmp_path: Path) -> None:
    f = tmp_path / "extra.csv"
    f.write_text(f"{INST_HEADER}\n{inst_row('acme', 'box-1', 'moon-1', 'NOPE-9000', '1.0')}\n")
    cat = load_catalog(extra=f, include_user=False)
    assert not any(i.provider == "acme" for i in cat.instances)
    assert any(w.startswith(f"{f}:2: unknown accelerator 'NOPE-9000'") for w in cat.warnings)


def test_user_dir_and_extra_file_override_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    udir = user_catalog_dir()
    assert udir == tmp_path / "cfg" / "tradeoff-studio" / "catalog"
    udir.mkdir(parents=True)
    (udir / "prices.csv").write_text(
        f"{INST_HEADER}\n{inst_row('aws', 'g6.xlarge', 'us-east-1', 'L4', '0.5')}\n"
        f"{inst_row('homelab', 'rig', 'basement', 'MY-GPU', '0.1')}\n"
    )
    (udir / "gpus.csv").write_text(f"{ACC_HEADER}\n{acc_row('MY-GPU')}\n")
    cat = load_catalog()
    by_key = {i.key: i for i in cat.instances}
    assert by_key[("aws", "g6.xlarge", "us-east-1")].usd_per_hour == 0.5
    assert ("homelab", "rig", "basement") in by_key  # accelerator from another user file
    extra = tmp_path / "extra.csv"
    extra.write_text(f"{INST_HEADER}\n{inst_row('aws', 'g6.xlarge', 'us-east-1', 'L4', '0.25')}\n")
    cat2 = load_catalog(extra=extra)
    assert {i.key: i for i in cat2.instances}[("aws", "g6.xlarge", "us-east-1")].usd_per_hour == 0.25
    assert cat2.warnings == ()
    assert str(extra) in cat2.files


@pytest.mark.parametrize("make", ["missing", "directory", "header", "empty", "binary"])
def test_unusable_extra_file_raises_input_error(tmp_path: Path, make: str) -> None:
    f = tmp_path / "x.csv"
    if make == "directory":
        f.mkdir()
    elif make == "header":
        f.write_text("a,b,c\n1,2,3\n")
    elif make == "empty":
        f.write_text("")
    elif make == "binary":
        f.write_bytes(b"\xff\xfe\x00\x81garbage")
    with pytest.raises(InputError) as exc:
        load_catalog(extra=f, include_user=False)
    assert exc.value.file == str(f)
    assert exc.value.exit_code == 2


def test_unusable_user_file_is_a_warning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    user_catalog_dir().mkdir(parents=True)
    (user_catalog_dir() / "junk.csv").write_text("hello,world\n")
    cat = load_catalog()
    assert any("junk.csv: not a catalog table" in w for w in cat.warnings)
    assert len(cat.instances) > 0


def test_missing_required_column(tmp_path: Path) -> None:
    f = tmp_path / "x.csv"
    f.write_text("provider,instance,usd_per_hour\naws,x,1\n")
    with pytest.raises(InputError, match="missing column"):
        load_catalog(extra=f, include_user=False)


def test_hardware_document_round_trips(catalog: Catalog) -> None:
    doc = hardware_document(catalog)
    assert doc["schema"] == "tradeoff.hardware/1"
    a = next(x for x in doc["accelerators"] if x["name"] == "A100-SXM4-80GB")
    assert a["peak_tflops"]["bf16"] == 312 and a["memory_gb"] == 80 and a["source"] and a["as_of"]
    i = doc["instances"][0]
    for key in ("provider", "instance", "region", "accelerator", "count", "vcpus", "ram_gb", "usd_per_hour",
                "usd_per_hour_spot", "source", "as_of"):  # fmt: skip
        assert key in i
    assert Catalog.from_dict(doc) == catalog


def test_grid_intensity_region_country_world(catalog: Catalog) -> None:
    assert catalog.grid_intensity("gcp", "us-west1").gco2_per_kwh == 94
    us = catalog.grid_intensity("aws", "us-east-1")
    assert us.basis == "country:USA" and us.gco2_per_kwh == pytest.approx(369.473)
    assert catalog.grid_intensity("lambda", "all").gco2_per_kwh == 475


def test_render_hardware_table(catalog: Catalog) -> None:
    text = render_hardware_table(catalog)
    assert "H100-SXM" in text and "p5.48xlarge" in text and "989" in text
