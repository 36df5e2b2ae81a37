"""Golden files for the public JSON documents of docs/CONTRACT.md (tests/golden/*.json).

(a) reading a golden document and writing it back gives the same text (key order, nulls, ints
vs floats); (b) a document generated now has exactly the golden's keys and value types (values
that are measured or come from the catalog may differ); (c) malformed documents raise the one
`SchemaError`, naming the JSON path at fault.

The extension documents follow the same pattern with their own readers: `tradeoff.report/1` has
no reader of its own, so each part goes through its schema's reader (a damaged part is that
reader's `SchemaError`); `tradeoff.trace/1` is read by `TraceResult.from_dict`;
`tradeoff.project/1` by `gui.session.load_project`, which refuses with `ProjectError`.

Regenerate after a deliberate change to a document: `TRADEOFF_REGEN_GOLDEN=1 pytest
tests/test_golden_documents.py` (then review the diff: it is a change to the public contract).
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gui.session import PROJECT_SCHEMA, ProjectError, load_project, project_from_dict, project_to_dict
from gui.state.workspace import Workspace
from planner.catalog import Catalog, load_catalog
from planner.plan import Plan
from profiler.codec import SchemaError
from profiler.result import Profile
from profiler.sweep import Sweep, SweepDocument
from profiler.trace import TraceResult
from profiler.variant import Variant
from profiler.whatif import VariantResult

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"
REGEN = os.environ.get("TRADEOFF_REGEN_GOLDEN") == "1"
DOCUMENTS = ("profile", "sweep", "plan", "hardware")
EXTENSIONS = ("report", "trace", "project")
GUI_DATA = Path(__file__).resolve().parent / "gui" / "data"
CHOSEN = "prune 0.5 structured · fp32"  # the report's variant, by its sweep label
SAVED_AT = "2026-12-01T10:00:00+0000"  # a fixed project time, so regenerating does not churn

READERS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "profile": Profile.from_dict,
    "sweep": Sweep.from_dict,
    "plan": Plan.from_dict,
    "hardware": Catalog.from_dict,
}


def _text(doc: Any) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def _cli(*args: str, cwd: Path) -> None:
    # no developer's catalog overrides; the report renders its PDF with Qt, headless
    env = {"QT_QPA_PLATFORM": "offscreen", **os.environ, "XDG_CONFIG_HOME": str(cwd / "xdg")}
    proc = subprocess.run(
        [sys.executable, "-m", "tradeoff", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr


def _sanitise(doc: Any) -> Any:
    """Paths of this checkout written relative, so the golden files do not name a machine."""
    if isinstance(doc, dict):
        return {k: _sanitise(v) for k, v in doc.items()}
    if isinstance(doc, list):
        return [_sanitise(v) for v in doc]
    if isinstance(doc, str) and doc.startswith(str(ROOT) + os.sep):
        return os.path.relpath(doc, ROOT)
    return doc


def _generate(tmp: Path) -> dict[str, Any]:
    """Fresh documents: demo:mlp without timing (so nothing depends on this machine's speed),
    the plan of the golden profile, and a fixed slice of the shipped catalog."""
    _cli("profile", "demo:mlp", "--no-latency", "--json", "profile.json", cwd=tmp)
    _cli("sweep", "demo:mlp", "--no-latency", "--prune", "0,0.5", "--json", "sweep.json", cwd=tmp)
    profile = GOLDEN / "profile.json" if (GOLDEN / "profile.json").exists() and not REGEN else tmp / "profile.json"
    _cli(
        "plan",
        str(profile),
        "--gpu",
        "H100",
        "--provider",
        "aws",
        "--train-samples",
        "1e6",
        "--json",
        "plan.json",
        cwd=tmp,
    )
    catalog = load_catalog(include_user=False)
    accelerators = tuple(a for a in catalog.accelerators if a.name.startswith(("H100", "L4")))[:2]
    names = {a.name for a in accelerators}
    instances = tuple(i for i in catalog.instances if i.accelerator in names)[:3]
    carbon = catalog.carbon[:2]
    hardware = Catalog(accelerators=accelerators, instances=instances, carbon=carbon).to_dict()
    _cli(
        "report",
        "demo:mlp",
        "--no-latency",
        "--prune",
        "0,0.5",
        "--choose",
        CHOSEN,
        "--gpu",
        "H100",
        "--provider",
        "aws",
        "--train-samples",
        "1e6",
        "-o",
        "report.pdf",
        "--json",
        "report.json",
        cwd=tmp,
    )
    _cli("trace", "demo:mlp", "--logdir", "runs", "--json", "trace.json", cwd=tmp)
    docs = {
        name: json.loads((tmp / f"{name}.json").read_text(encoding="utf-8"))
        for name in ("profile", "sweep", "plan", "report", "trace")
    }
    docs["hardware"] = hardware
    docs["trace"] = _relative_trace(docs["trace"], tmp)
    docs["project"] = _project()
    return {name: _sanitise(doc) for name, doc in docs.items()}


def _relative_trace(doc: dict[str, Any], tmp: Path) -> dict[str, Any]:
    """The trace's absolute paths made relative to the folder it ran in, and the profiler's
    `HOST_PID.TIMESTAMP` file name made a placeholder, so the golden file names no machine."""
    prefixes = tuple(str(p) + os.sep for p in {tmp, tmp.resolve()})

    def rel(path: str) -> str:
        for prefix in prefixes:
            if path.startswith(prefix):
                path = path[len(prefix) :]
                break
        folder, _, name = path.rpartition("/")
        if name.endswith(".pt.trace.json"):
            path = f"{folder}/host_1234.1764583200000.pt.trace.json"
        return path

    out = dict(doc)
    for key in ("logdir", "run_dir", "chrome_trace"):
        out[key] = rel(doc[key])
    out["trace_files"] = [rel(p) for p in doc["trace_files"]]
    return out


def _project() -> dict[str, Any]:
    """A project of demo:mlp with the one result the GUI tests use (tests/gui/data), and the
    planner inputs as the app's Planner tab writes them."""
    from gui.planner_panel import PlannerPanel  # a widget: the caller holds pytest-qt's `qapp`

    panel = PlannerPanel(load_catalog(include_user=False))
    planner = panel.state()
    panel.deleteLater()
    result = VariantResult.from_dict(json.loads((GUI_DATA / "data_mlp_baseline.json").read_text(encoding="utf-8")))
    ws = Workspace(source="demo:mlp", shapes=(("x", (1, 1, 28, 28)),), knobs=Variant(prune=0.25))
    ws.add(result)
    doc = json.loads(json.dumps(project_to_dict(ws, planner)))
    doc["saved_at"] = SAVED_AT
    return doc


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory, qapp: Any) -> dict[str, Any]:
    docs = _generate(tmp_path_factory.mktemp("golden"))
    if REGEN:
        GOLDEN.mkdir(exist_ok=True)
        for name, doc in docs.items():
            (GOLDEN / f"{name}.json").write_text(_text(doc), encoding="utf-8")
    return docs


@pytest.fixture(scope="module", autouse=True)
def _regenerated(request: pytest.FixtureRequest) -> None:
    """With TRADEOFF_REGEN_GOLDEN=1 the golden files are rewritten before any test reads them."""
    if REGEN:
        request.getfixturevalue("fresh")
        request.getfixturevalue("fresh_compare")


def _golden(name: str) -> dict[str, Any]:
    path = GOLDEN / f"{name}.json"
    if not path.exists():
        pytest.fail(f"{path} is missing: run TRADEOFF_REGEN_GOLDEN=1 pytest {Path(__file__).name}")
    doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return doc


@pytest.mark.parametrize("name", DOCUMENTS)
def test_golden_round_trips_byte_for_byte(name: str) -> None:
    golden = _golden(name)
    again = READERS[name](copy.deepcopy(golden)).to_dict()
    assert _text(again) == (GOLDEN / f"{name}.json").read_text(encoding="utf-8")


def _shape(value: Any) -> Any:
    """Keys and JSON types, not values; a list is described by the union of its items' shapes."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        shapes: list[Any] = []
        for item in value:
            s = _shape(item)
            if s not in shapes:
                shapes.append(s)
        return ["list", *shapes]
    return type(value).__name__


def _compare(fresh: Any, golden: Any, path: str, out: list[str]) -> None:
    if fresh is None or golden is None:
        return  # measured or machine-dependent (no GPU here, a GPU there): either may be null
    if isinstance(golden, dict) and isinstance(fresh, dict):
        if set(fresh) != set(golden):
            out.append(f"{path}: keys {sorted(set(fresh) ^ set(golden))} differ")
        for k in set(fresh) & set(golden):
            _compare(fresh[k], golden[k], f"{path}.{k}", out)
    elif isinstance(golden, list) and isinstance(fresh, list):
        if golden and fresh:
            for i, item in enumerate(fresh):
                _compare(item, golden[min(i, len(golden) - 1)], f"{path}[{i}]", out)
    elif type(fresh) is not type(golden):
        out.append(f"{path}: {type(fresh).__name__} where the golden file has {type(golden).__name__}")


@pytest.mark.parametrize("name", DOCUMENTS)
def test_fresh_document_has_the_golden_keys_and_types(name: str, fresh: dict[str, Any]) -> None:
    problems: list[str] = []
    _compare(fresh[name], _golden(name), "$", problems)
    assert not problems, "\n".join(problems[:20])


def test_fresh_profile_reads_back_identically(fresh: dict[str, Any]) -> None:
    doc = fresh["profile"]
    assert _text(Profile.from_dict(doc).to_dict()) == _text(doc)


# --- malformed documents: one error type, with the path --------------------------------------


def _broken(name: str, edit: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    doc = copy.deepcopy(_golden(name))
    edit(doc)
    return doc


@pytest.mark.parametrize(
    ("name", "edit", "path"),
    [
        ("profile", lambda d: d.update(schema="tradeoff.profile/9"), "$.schema"),
        ("profile", lambda d: d.pop("totals"), "$.totals"),
        ("profile", lambda d: d["layers"][1].update(macs="many"), "$.layers[1].macs"),
        ("profile", lambda d: d["layers"][0].update(macs=1.5), "$.layers[0].macs"),
        ("profile", lambda d: d["layers"][0].update(counted="yes"), "$.layers[0].counted"),
        ("profile", lambda d: d["layers"][0].update(input_shapes=[["1", 2]]), "$.layers[0].input_shapes[0][0]"),
        ("profile", lambda d: d["config"].update(precision="fp7"), "$.config.precision"),
        ("profile", lambda d: d["config"].update(device=None), "$.config.device"),
        ("profile", lambda d: d["model"].update(format="zip"), "$.model.format"),
        ("profile", lambda d: d.update(inputs={}), "$.inputs"),
        ("profile", lambda d: d.update(unsupported_ops={"aten::foo": "x"}), "$.unsupported_ops.aten::foo"),
        ("sweep", lambda d: d["baseline"].pop("config"), "$.baseline.config"),
        ("sweep", lambda d: d["variants"][0].update(pareto="yes"), "$.variants[0].pareto"),
        ("sweep", lambda d: d["baseline"]["totals"].update(params=None), "$.baseline.totals.params"),
        ("sweep", lambda d: d.update(schema=None), "$.schema"),
        ("plan", lambda d: d.update(schema="tradeoff.profile/1"), "$.schema"),
        ("plan", lambda d: d["inference"]["options"][0].update(batch="8"), "$.inference.options[0].batch"),
        ("plan", lambda d: d["inference"]["options"][1].pop("instance"), "$.inference.options[1].instance"),
        ("plan", lambda d: d["training"].update(micro_batch=None), "$.training.micro_batch"),
        ("plan", lambda d: d["model"].update(format=7), "$.model.format"),
        ("plan", lambda d: d.update(warnings="none"), "$.warnings"),
        ("hardware", lambda d: d.pop("accelerators"), "$.accelerators"),
        ("hardware", lambda d: d["accelerators"][1].update(kind="tpu"), "$.accelerators[1]"),
        ("hardware", lambda d: d["instances"][0].pop("provider"), "$.instances[0].provider"),
    ],
)
def test_malformed_document_raises_schema_error_with_path(
    name: str, edit: Callable[[dict[str, Any]], None], path: str
) -> None:
    with pytest.raises(SchemaError) as info:
        READERS[name](_broken(name, edit))
    assert info.value.path == path, str(info.value)
    assert str(info.value).startswith(f"tradeoff.{name}/1: {path}: ")


@pytest.mark.parametrize("doc", [None, [], "profile", 3])
def test_not_an_object_is_a_schema_error(doc: Any) -> None:
    with pytest.raises(SchemaError) as info:
        Profile.from_dict(doc)
    assert info.value.path == "$"


def test_variant_knobs_parse_into_the_vocabularies() -> None:
    v = Variant.from_dict({"precision": "int8", "device": "cpu", "prune": 0, "layer_prune": [["fc1", 0.5]]})
    assert v.precision == "int8" and type(v.precision).__name__ == "Precision"
    assert v.prune == 0.0 and isinstance(v.prune, float)
    assert Variant.from_dict(v.to_dict()) == v
    with pytest.raises(SchemaError) as info:
        Variant.from_dict({"layer_prune": [["fc1"]]})
    assert info.value.path == "$.layer_prune[0]"


def test_schema_error_is_an_input_error_and_a_value_error() -> None:
    from profiler.errors import InputError

    err = SchemaError("tradeoff.profile/1", "$.x", "expected an integer, found a string")
    assert isinstance(err, InputError) and isinstance(err, ValueError)
    assert str(err) == "tradeoff.profile/1: $.x: expected an integer, found a string"


def test_sweep_document_view_round_trips() -> None:
    golden = _golden("sweep")
    view = SweepDocument.from_dict(golden)
    assert _text(view.to_dict()) == _text(golden)


# --- the extension documents: tradeoff.report/1, tradeoff.trace/1, tradeoff.project/1 ----------


@pytest.mark.parametrize("name", EXTENSIONS)
def test_fresh_extension_document_has_the_golden_keys_and_types(name: str, fresh: dict[str, Any]) -> None:
    problems: list[str] = []
    _compare(fresh[name], _golden(name), "$", problems)
    assert not problems, "\n".join(problems[:20])


REPORT_PARTS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "profile": Profile.from_dict,
    "sweep": Sweep.from_dict,
    "plan": Plan.from_dict,
    "plan_chosen": Plan.from_dict,
}


def _report_read_back(doc: dict[str, Any]) -> dict[str, Any]:
    """`tradeoff.report/1` has no reader of its own: each part is read by its schema's reader."""
    return {
        k: (REPORT_PARTS[k](copy.deepcopy(v)).to_dict() if k in REPORT_PARTS and v is not None else v)
        for k, v in doc.items()
    }


def test_golden_report_round_trips_byte_for_byte() -> None:
    golden = _golden("report")
    assert golden["schema"] == "tradeoff.report/1"
    assert golden["chosen"] == CHOSEN and all(golden[k] is not None for k in REPORT_PARTS), "every part filled"
    assert [golden[k]["schema"] for k in REPORT_PARTS] == [
        "tradeoff.profile/1",
        "tradeoff.sweep/1",
        "tradeoff.plan/1",
        "tradeoff.plan/1",
    ]
    assert _text(_report_read_back(golden)) == (GOLDEN / "report.json").read_text(encoding="utf-8")


def test_fresh_report_reads_back_identically(fresh: dict[str, Any]) -> None:
    doc = fresh["report"]
    assert doc["chosen"] == CHOSEN and doc["pages"] >= 1 and doc["pdf"] == "report.pdf"
    assert _text(_report_read_back(doc)) == _text(doc)


@pytest.mark.parametrize(
    ("part", "edit", "path", "schema"),
    [
        ("profile", lambda d: d["totals"].update(params="many"), "$.totals.params", "profile"),
        ("sweep", lambda d: d["variants"][1].update(pareto="yes"), "$.variants[1].pareto", "sweep"),
        ("plan", lambda d: d.update(schema="tradeoff.report/1"), "$.schema", "plan"),
        (
            "plan_chosen",
            lambda d: d["inference"]["options"][0].pop("instance"),
            "$.inference.options[0].instance",
            "plan",
        ),
    ],
)
def test_malformed_report_part_raises_schema_error_with_path(
    part: str, edit: Callable[[dict[str, Any]], None], path: str, schema: str
) -> None:
    doc = copy.deepcopy(_golden("report"))
    edit(doc[part])
    with pytest.raises(SchemaError) as info:
        _report_read_back(doc)
    assert info.value.path == path, str(info.value)
    assert str(info.value).startswith(f"tradeoff.{schema}/1: {path}: ")


def _trace_read_back(doc: dict[str, Any]) -> dict[str, Any]:
    body = {k: v for k, v in doc.items() if k != "schema"}
    return {"schema": doc["schema"], **TraceResult.from_dict(body).to_dict()}


def test_golden_trace_round_trips_byte_for_byte() -> None:
    golden = _golden("trace")
    assert golden["schema"] == "tradeoff.trace/1"
    assert not any(str(golden[k]).startswith(("/", "~")) for k in ("logdir", "run_dir", "chrome_trace"))
    assert _text(_trace_read_back(golden)) == (GOLDEN / "trace.json").read_text(encoding="utf-8")


def test_fresh_trace_reads_back_identically(fresh: dict[str, Any]) -> None:
    doc = fresh["trace"]
    assert doc["logdir"] == "runs" and doc["run_dir"] == "runs/mlp" and doc["chrome_trace"] == "runs/mlp.perfetto.json"
    assert doc["trace_files"] and all(p.startswith("runs/mlp/") for p in doc["trace_files"])
    assert _text(_trace_read_back(doc)) == _text(doc)


@pytest.mark.parametrize("key", ["logdir", "run_dir", "trace_files", "chrome_trace", "steps"])
def test_trace_without_a_required_field_is_refused(key: str) -> None:
    doc = copy.deepcopy(_golden("trace"))
    del doc[key]
    with pytest.raises(SchemaError) as info:
        _trace_read_back(doc)
    assert info.value.path == f"$.{key}" and info.value.document == "tradeoff.trace/1"


@pytest.mark.parametrize(
    ("edit", "path"),
    [
        (lambda d: d.pop("run_dir"), "$.run_dir"),
        (lambda d: d.update(steps="x"), "$.steps"),
        (lambda d: d.update(steps=1.5), "$.steps"),
        (lambda d: d.update(trace_files="abc"), "$.trace_files"),
    ],
)
def test_malformed_trace_raises_schema_error_with_path(edit: Callable[[dict[str, Any]], None], path: str) -> None:
    doc = copy.deepcopy(_golden("trace"))
    edit(doc)
    with pytest.raises(SchemaError) as info:
        _trace_read_back(doc)
    assert info.value.path == path


def _project_read_back(doc: dict[str, Any], tmp: Path) -> dict[str, Any]:
    """Through the app's own reader: a `.tradeoff` file, `load_project`, then `project_to_dict`."""
    path = tmp / "golden.tradeoff"
    path.write_text(json.dumps(doc), encoding="utf-8")
    ws, planner = load_project(path)
    assert ws.trust is False
    again = json.loads(json.dumps(project_to_dict(ws, planner)))
    again["saved_at"] = doc["saved_at"]  # the time of the save, by design
    return again


def test_golden_project_round_trips_byte_for_byte(tmp_path: Path) -> None:
    golden = _golden("project")
    assert golden["schema"] == PROJECT_SCHEMA == "tradeoff.project/1" and "trust" not in golden
    assert golden["model"]["source"] == "demo:mlp" and len(golden["variants"]) == 1
    assert golden["current"] is not None
    assert _text(_project_read_back(golden, tmp_path)) == (GOLDEN / "project.json").read_text(encoding="utf-8")


def test_fresh_project_reads_back_identically(fresh: dict[str, Any], tmp_path: Path) -> None:
    doc = fresh["project"]
    assert _text(_project_read_back(doc, tmp_path)) == _text(doc)


def test_project_trust_key_is_ignored(tmp_path: Path) -> None:
    doc = {**_golden("project"), "trust": True}
    assert "trust" not in _project_read_back(doc, tmp_path)


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (lambda d: d.update(schema="tradeoff.project/2"), "not a Tradeoff Studio project"),
        (lambda d: d.update(schema="tradeoff.profile/1"), "not a Tradeoff Studio project"),
        (lambda d: d.pop("model"), "the project file is damaged"),
        (lambda d: d["model"].update(shapes=[["x", ["one"]]]), "the project file is damaged"),
        (lambda d: d["knobs"].update(precision="fp7"), "the project file is damaged"),
        (lambda d: d["variants"][0]["profile"]["totals"].update(params="many"), "$.totals.params"),
        (lambda d: d["variants"][0].pop("variant"), "the project file is damaged"),
        (lambda d: d.update(variants=[3]), "the project file is damaged"),
    ],
)
def test_malformed_project_raises_project_error(
    edit: Callable[[dict[str, Any]], None], problem: str, tmp_path: Path
) -> None:
    doc = copy.deepcopy(_golden("project"))
    edit(doc)
    path = tmp_path / "bad.tradeoff"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(ProjectError) as info:
        load_project(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ") and problem in message and "\n" not in message, message
    with pytest.raises(ProjectError):
        project_from_dict(doc, "bad.tradeoff")


def test_project_reader_refuses_a_file_not_named_tradeoff(tmp_path: Path) -> None:
    path = tmp_path / "project.json"
    path.write_text(_text(_golden("project")), encoding="utf-8")
    with pytest.raises(ProjectError, match="not a project file"):
        load_project(path)


# --- tradeoff.compare/1 ---------------------------------------------------------------------------


def _compare_document(tmp: Path) -> dict[str, Any]:
    """demo:mlp against itself without timing (nothing depends on this machine's speed), planned
    on a fixed slice of the catalog at a load: fidelity and both costs filled."""
    _cli(
        "compare", "demo:mlp", "demo:mlp", "--no-latency", "--gpu", "H100", "--provider", "aws",
        "--serve-qps", "10", "--json", "compare.json", cwd=tmp,
    )  # fmt: skip
    doc: dict[str, Any] = _sanitise(json.loads((tmp / "compare.json").read_text(encoding="utf-8")))
    return doc


@pytest.fixture(scope="module")
def fresh_compare(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    doc = _compare_document(tmp_path_factory.mktemp("golden-compare"))
    if REGEN:
        (GOLDEN / "compare.json").write_text(_text(doc), encoding="utf-8")
    return doc


def _compare_read_back(doc: dict[str, Any]) -> dict[str, Any]:
    from profiler.compare import Comparison

    out: dict[str, Any] = Comparison.from_dict(copy.deepcopy(doc)).to_dict()
    return out


def test_golden_compare_round_trips_byte_for_byte() -> None:
    golden = _golden("compare")
    assert golden["schema"] == "tradeoff.compare/1"
    assert golden["fidelity"] is not None and golden["costs"]["difference"]["basis"] == "usd_per_month"
    assert {row["match"] for row in golden["layers"]} == {"name"}
    assert _text(_compare_read_back(golden)) == (GOLDEN / "compare.json").read_text(encoding="utf-8")


def test_fresh_compare_has_the_golden_keys_and_types(fresh_compare: dict[str, Any]) -> None:
    problems: list[str] = []
    _compare(fresh_compare, _golden("compare"), "$", problems)
    assert not problems, "\n".join(problems[:20])
    assert _text(_compare_read_back(fresh_compare)) == _text(fresh_compare)


@pytest.mark.parametrize(
    ("edit", "path"),
    [
        (lambda d: d["a"]["profile"]["totals"].update(params="many"), "$.totals.params"),
        (lambda d: d["b"]["profile"].pop("layers"), "$.layers"),
    ],
)
def test_malformed_compare_part_raises_schema_error_with_path(
    edit: Callable[[dict[str, Any]], None], path: str
) -> None:
    doc = copy.deepcopy(_golden("compare"))
    edit(doc)
    with pytest.raises(SchemaError) as info:
        _compare_read_back(doc)
    assert info.value.path == path, str(info.value)


def test_compare_of_another_schema_is_refused() -> None:
    with pytest.raises(ValueError, match="not a tradeoff.compare/1 document"):
        _compare_read_back({**_golden("compare"), "schema": "tradeoff.profile/1"})
