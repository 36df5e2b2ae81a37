"""Injection: names from a model (or a catalog file) carrying terminal escape sequences or
spreadsheet formulas reach neither the terminal raw nor a spreadsheet live. JSON stays exact."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from profiler.textsafe import csv_safe, csv_text_safe, terminal_safe

TERMINAL_PAYLOADS = ["\x1b]0;pwned\x07", "\x1b[2J", "\x1b]52;c;ZWNobyBoaQ==\x07", "\u202eevil\u2066", "\x9b31mred"]
FORMULA_PAYLOADS = ['=HYPERLINK("http://evil/","x")', "+1", "@SUM(A1)", "-2+3", "\uff1dcmd", "\tx"]
#: a terminal-safe text has no C0/C1 control character (other than the line breaks the
#: renderer itself puts between lines), no DEL and no bidi control.
RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")

MODEL = """
import torch
from torch import nn
NAMES = {names!r}
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        for n in NAMES:
            self.add_module(n, nn.Linear(4, 4))
    def forward(self, x):
        for m in self.children():
            x = m(x)
        return x
def build_model():
    return Net(), (torch.randn(1, 4),)
"""


@pytest.fixture(scope="module")
def profile(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from profiler.analyze import ProfileRequest, profile_model
    from profiler.loading import load_model

    folder = tmp_path_factory.mktemp("model")
    path = folder / "net.py"
    path.write_text(MODEL.format(names=TERMINAL_PAYLOADS + FORMULA_PAYLOADS), encoding="utf-8")
    loaded = load_model(str(path))
    p = profile_model(loaded, ProfileRequest(latency=False))
    # The model's name and a warning from the file too (ModelInfo.name comes from the file).
    import dataclasses

    return dataclasses.replace(
        p,
        model=dataclasses.replace(p.model, name="\x1b]0;pwned\x07net"),
        warnings=(*p.warnings, "note \x1b[2J cleared", "=cmd|' /C calc'!A0"),
        unsupported_ops={"\x1b]52;c;ZWNobyBoaQ==\x07op": 1},
    )


@pytest.fixture(scope="module")
def sweep(profile: Any) -> Any:
    from profiler.sweep import build_sweep
    from profiler.variant import Variant
    from profiler.whatif import VariantResult

    results = [
        VariantResult(
            Variant(),
            profile,
            profile,
            None,
            {"latency": 1.0, "params": 1.0, "macs": 1.0},
            notes=("\x1b[2J\x1b]0;pwned\x07 note",),
        ),
        VariantResult(
            Variant(prune=0.5, prune_method="structured"),
            None,
            None,
            None,
            {},
            error='=HYPERLINK("http://evil/","x") \x1b]52;c;ZWNobyBoaQ==\x07 failed',
        ),
        VariantResult(Variant(prune=0.3, prune_method="structured"), None, None, None, {}, error="-2+3"),
    ]
    return build_sweep(profile.model, profile, results)


def _assert_terminal_safe(text: str) -> None:
    assert RAW_CONTROL.search(text) is None, repr(RAW_CONTROL.search(text))
    assert "\\x1b]0;pwned\\x07" in text or "\\x1b[2J" in text  # shown, visibly escaped


def _assert_no_live_formula(csv_text: str, *, numeric_columns: set[str]) -> None:
    rows = list(csv.DictReader(io.StringIO(csv_text)))
    assert rows
    for row in rows:
        for column, cell in row.items():
            if cell and cell[0] in "=+-@\t\r\uff1d\uff0b\uff0d\uff20":
                assert column in numeric_columns, (column, cell)


# --------------------------------------------------------------------------- unit behaviour


def test_terminal_safe_escapes_controls_and_keeps_unicode() -> None:
    assert terminal_safe("\x1b]0;pwned\x07") == "\\x1b]0;pwned\\x07"
    assert terminal_safe("\x1b[2J") == "\\x1b[2J"
    assert terminal_safe("a\x9b2Jb\x7f\x08\r\n\t") == "a\\x9b2Jb\\x7f\\x08\\r\\n\\t"
    assert terminal_safe("\u202egnp.exe\u2066\u2069") == "\\u202egnp.exe\\u2066\\u2069"
    assert terminal_safe("bad\udcffbyte") == "bad\\udcffbyte"  # a lone surrogate would crash print()
    plain = "layer.0 Ünïcödé 注意力 😀 \u200d x"
    assert terminal_safe(plain) is plain or terminal_safe(plain) == plain
    assert terminal_safe(3) == "3"


@pytest.mark.parametrize("cell", FORMULA_PAYLOADS + ["\rx", "\uff0b1", "\uff0d1", "\uff201"])
def test_csv_safe_quotes_formula_text(cell: str) -> None:
    assert csv_safe(cell) == "'" + cell


@pytest.mark.parametrize("cell", [-2, -0.5, 3, 1.5e-9, None, True, "", "layer1", "a=b", "'=quoted"])
def test_csv_safe_leaves_data_alone(cell: Any) -> None:
    assert csv_safe(cell) == cell


def test_csv_text_safe_keeps_numbers_quotes_formulas() -> None:
    text = 'a,b,c\n-0.5,=1+1,"-2+3"\n+1e3,@SUM(A1),x\n'
    rows = list(csv.reader(io.StringIO(csv_text_safe(text))))
    assert rows == [["a", "b", "c"], ["-0.5", "'=1+1", "'-2+3"], ["+1e3", "'@SUM(A1)", "x"]]


# --------------------------------------------------------------------------- through the renderers


def test_profile_table_is_terminal_safe(profile: Any) -> None:
    from profiler.table import render_profile

    text = render_profile(profile, top=50)
    _assert_terminal_safe(text)
    for payload in TERMINAL_PAYLOADS:
        assert terminal_safe(payload) in text
    assert "\\x1b]0;pwned\\x07net" in text and "note: note \\x1b[2J cleared" in text


def test_profile_csv_has_no_live_formula(profile: Any, tmp_path: Path) -> None:
    from profiler.exports import export_layers
    from profiler.table import layers_csv

    text = layers_csv(profile)
    _assert_no_live_formula(text, numeric_columns=set())
    names = [r["name"] for r in csv.DictReader(io.StringIO(text))]
    for payload in FORMULA_PAYLOADS:
        assert "'" + payload in names
    export_layers(profile, tmp_path / "layers.csv")
    assert (tmp_path / "layers.csv").read_text(encoding="utf-8") == text


def test_json_stays_exact(profile: Any, sweep: Any, tmp_path: Path) -> None:
    from profiler.exports import export_layers, export_variants

    export_layers(profile, tmp_path / "profile.json")
    export_variants(sweep, tmp_path / "sweep.json")
    names = [layer["name"] for layer in json.loads((tmp_path / "profile.json").read_text(encoding="utf-8"))["layers"]]
    assert names == TERMINAL_PAYLOADS + FORMULA_PAYLOADS
    errors = [v["error"] for v in json.loads((tmp_path / "sweep.json").read_text(encoding="utf-8"))["variants"]]
    assert errors[1].startswith('=HYPERLINK("http://evil/","x") \x1b]52;') and errors[2] == "-2+3"


def test_sweep_table_is_terminal_safe(sweep: Any) -> None:
    from profiler.sweep import render_sweep

    text = render_sweep(sweep)
    _assert_terminal_safe(text)
    assert "\\x1b[2J\\x1b]0;pwned\\x07 note" in text and "\\x1b]52;c;" in text


def test_sweep_csv_has_no_live_formula(sweep: Any) -> None:
    from profiler.sweep import sweep_csv

    text = sweep_csv(sweep)
    _assert_no_live_formula(text, numeric_columns=set())
    errors = [r["error"] for r in csv.DictReader(io.StringIO(text))]
    assert errors[1].startswith("'=HYPERLINK(") and errors[2] == "'-2+3"


@pytest.fixture(scope="module")
def hostile_plan(profile: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    from planner.catalog import load_catalog
    from planner.options import PlanOptions
    from planner.plan import plan

    shipped = Path(__file__).resolve().parents[2] / "resources" / "catalog" / "instances.csv"
    with open(shipped, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        columns = list(reader.fieldnames or [])
        row = next(reader)
    row.update(provider='=HYPERLINK("http://evil/","x")', instance="\x1b]0;pwned\x07box", region="-2+3")
    extra = tmp_path_factory.mktemp("catalog") / "instances.csv"
    with open(extra, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=columns)
        w.writeheader()
        w.writerow(row)
    catalog = load_catalog(extra=extra, include_user=False)
    return plan(profile, PlanOptions(train_samples=1e5), catalog), catalog


def test_plan_tables_are_terminal_safe(hostile_plan: Any) -> None:
    from planner.render import render_hardware_table, render_plan_table

    p, catalog = hostile_plan
    text = render_plan_table(p, limit=10_000)
    _assert_terminal_safe(text)
    assert "\\x1b]0;pwned\\x07box" in text
    hardware = render_hardware_table(catalog)
    _assert_terminal_safe(hardware)


def test_cost_csv_export_has_no_live_formula(hostile_plan: Any, tmp_path: Path) -> None:
    from planner.plan import plan_csv_text
    from profiler.exports import export_costs

    p, _ = hostile_plan
    export_costs(p, tmp_path / "costs.csv", csv_text=plan_csv_text)
    text = (tmp_path / "costs.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert any(r["provider"] == "'" + '=HYPERLINK("http://evil/","x")' for r in rows)
    assert any(r["region"] == "'-2+3" for r in rows)
    for r in rows:
        for cell in r.values():
            if cell and cell[0] in "=+-@\t\r":
                float(cell)  # only plain numbers may start so (a negative price, a delta)


def test_trace_printout_is_terminal_safe(tmp_path: Path) -> None:
    from profiler.trace import TraceResult, render_trace_result

    result = TraceResult(
        logdir=tmp_path,
        run_name="net\x1b]0;pwned\x07",
        run_dir=tmp_path / "run\x1b[2J",
        trace_files=(tmp_path / "a.pt.trace.json",),
        chrome_trace=tmp_path / "run.perfetto.json",
        steps=3,
        notes=("\x1b]52;c;ZWNobyBoaQ==\x07 pruned", "\u202eevil"),
    )
    text = render_trace_result(result)
    _assert_terminal_safe(text)
    assert "note: \\x1b]52;c;ZWNobyBoaQ==\\x07 pruned" in text and "\\u202eevil" in text
