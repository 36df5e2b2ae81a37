"""Project files (`gui/session.py`, issue 8 items 4 and 5): the loader under fuzzing, and saves that
a killed writer cannot damage.

The loader's contract: `load_project(path)` returns a workspace or raises `ProjectError` (one line,
naming the file); `project_from_dict(doc, where)` likewise for a parsed document. Nothing else may
escape, since the window catches only ProjectError (gui/main_window.py open_project).

Hypothesis budgets follow the profile (tests/reliability/conftest.py: "ci" by default, "long" for
tests/bench/fuzz_long.py).
"""

from __future__ import annotations

import copy
import json
import math
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from gui.session import PROJECT_SCHEMA, ProjectError, load_project, project_from_dict, project_to_dict, save_project
from gui.state.workspace import Workspace
from profiler.variant import Variant
from profiler.whatif import VariantResult

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "gui" / "data"


def _workspace() -> tuple[Workspace, dict[str, Any]]:
    mlp = VariantResult.from_dict(json.loads((DATA / "data_mlp_baseline.json").read_text()))
    ws = Workspace(source="demo:mlp", shapes=(("x", (1, 1, 28, 28)),), knobs=Variant(prune=0.25))
    ws.add(mlp)
    return ws, {"discount_percent": 20, "qps": 50.0}


WS, PLANNER = _workspace()
GOOD: dict[str, Any] = json.loads(json.dumps(project_to_dict(WS, PLANNER)))


def _check_loads_or_project_error(doc: Any) -> None:
    try:
        ws, planner = project_from_dict(doc, "fuzz.tradeoff")
    except ProjectError as exc:
        assert str(exc).startswith("fuzz.tradeoff: ") and "\n" not in str(exc), str(exc)
        return
    assert isinstance(ws, Workspace) and isinstance(planner, dict)
    assert ws.current_key is None or ws.current_key in ws.results


# --- random values -------------------------------------------------------------------------------

# JSON scalars as json.loads gives them: finite floats here (Infinity/NaN have their own tests).
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=12)
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=20,
)
KEYS = st.sampled_from(["schema", "model", "knobs", "current", "variants", "planner", "saved_at"])


@given(JSON)
def test_any_json_value_loads_or_is_a_project_error(doc: Any) -> None:
    _check_loads_or_project_error(doc)


@given(st.dictionaries(KEYS, JSON, max_size=7), st.booleans())
def test_any_document_with_the_project_keys_loads_or_is_a_project_error(doc: dict[str, Any], schema: bool) -> None:
    if schema:
        doc["schema"] = PROJECT_SCHEMA
    _check_loads_or_project_error(doc)


@given(st.binary(max_size=2048))
@example(b"")
@example(b"\xef\xbb\xbf{}")  # a UTF-8 byte order mark
@example(json.dumps(GOOD).encode("utf-16"))
@example(json.dumps(GOOD).encode()[:-1])
def test_any_bytes_load_or_are_a_project_error(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    path = tmp_path_factory.mktemp("proj") / "fuzz.tradeoff"
    path.write_bytes(data)
    try:
        load_project(path)
    except ProjectError as exc:
        assert str(exc).startswith(str(path)) and "\n" not in str(exc), str(exc)


# --- a valid project, one part replaced -----------------------------------------------------------


def _paths(obj: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [at] if at else []
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += _paths(v, at + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out += _paths(v, at + (i,))
    return out


PATHS = _paths(GOOD)
# Parts read by Variant.from_dict (the knobs, each variant's "variant"): any bad value there raises
# InputError today, a known escape (test_known_escapes_… below); the rest must hold.
VARIANT_PATHS = [p for p in PATHS if p[0] == "knobs" or (p[0] == "variants" and len(p) > 2 and p[2] == "variant")]
OTHER_PATHS = [p for p in PATHS if p not in VARIANT_PATHS]
# Values that stress the parsers: wrong types, empty containers, out-of-range numbers, enums that
# do not exist. No Infinity/NaN and no unknown enum values here: those are the known escapes below.
REPLACEMENTS = st.one_of(
    SCALARS, st.just([]), st.just({}), st.just([[1, 2]]), st.just(2**70), st.just(-1), st.just("1x2"), JSON
)


@given(st.sampled_from(OTHER_PATHS), REPLACEMENTS, st.booleans())
def test_a_valid_project_with_one_part_replaced_or_removed(path: tuple[Any, ...], value: Any, remove: bool) -> None:
    doc = copy.deepcopy(GOOD)
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    if remove and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    _check_loads_or_project_error(doc)


def _set(doc: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    return doc


_ESCAPES = (
    "gui/session.py project_from_dict catches KeyError/TypeError/ValueError/AttributeError only: int(inf) raises "
    "OverflowError (an ArithmeticError) and Variant.from_dict raises profiler.errors.InputError (a StudioError, not "
    "a ValueError) for an unknown precision, runtime or prune method; both escape the loader, and the window's "
    "open_project (which catches ProjectError) lets them out of the slot. Catch them (or Exception) there and "
    "wrap them in ProjectError (see the report)"
)
ESCAPES = {
    "Infinity in a model shape": (("model", "shapes", 0, 1, 0), math.inf),
    "-Infinity in a model shape": (("model", "shapes", 0, 1, 0), -math.inf),
    "Infinity in a layer's output shape": (("variants", 0, "profile", "layers", 0, "output_shapes", 0, 0), math.inf),
    "unknown precision in the knobs": (("knobs", "precision"), "fp7"),
    "unknown runtime in a variant": (("variants", 0, "variant", "runtime"), "tensorrt"),
    "no precision in a variant": (("variants", 0, "variant", "precision"), None),
    "batch false in a variant": (("variants", 0, "variant", "batch"), False),
    "runtime false in the knobs": (("knobs", "runtime"), False),
}


@pytest.mark.parametrize("name", list(ESCAPES))
def test_known_escapes_from_the_project_loader(name: str) -> None:
    path, value = ESCAPES[name]
    _check_loads_or_project_error(_set(GOOD, path, value))


@given(
    st.sampled_from(PATHS),
    st.one_of(
        st.just(math.inf),
        st.just(-math.inf),
        st.just(math.nan),
        st.sampled_from(["fp8", "fp7", "tensorrt", "magnitude", "cuda:99", "tpu", ""]),
        REPLACEMENTS,
    ),
)
@example(("model", "shapes", 0, 1, 0), math.inf)
@example(("knobs", "precision"), "fp7")
def test_a_valid_project_with_one_part_replaced_by_anything(path: tuple[Any, ...], value: Any) -> None:
    """The full value set, Infinity/NaN and unknown enum values included: xfail until the escapes are caught."""
    _check_loads_or_project_error(_set(GOOD, path, value))


@pytest.mark.parametrize("text", ["[" * 100_000, '{"a":' * 100_000])
def test_deeply_nested_json_is_a_project_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "deep.tradeoff"
    path.write_text(text)
    with pytest.raises(ProjectError):
        load_project(path)


def test_round_trip_of_the_fuzzed_base(tmp_path: Path) -> None:
    save_project(tmp_path / "p.tradeoff", WS, PLANNER)
    ws, planner = load_project(tmp_path / "p.tradeoff")
    assert ws.source == WS.source and ws.shapes == WS.shapes and ws.knobs == WS.knobs
    assert ws.results == WS.results and ws.current_key == WS.current_key and planner == PLANNER


# --- atomic save: a writer killed mid-save ------------------------------------------------------

KILLED_WRITER = textwrap.dedent(
    """
    import dataclasses, json, os, sys, time
    sys.path.insert(0, {root!r})
    import profiler.safe_io as s
    from gui.session import save_project
    from gui.state.workspace import Workspace
    from profiler.whatif import VariantResult
    from profiler.variant import Variant

    real_fdopen = os.fdopen
    class Stalling:
        def __init__(self, f): self.f = f
        def __enter__(self): return self
        def __exit__(self, *a): return self.f.__exit__(*a)
        def write(self, data):
            self.f.write(data[: len(data) // 2]); self.f.flush(); os.fsync(self.f.fileno())
            print("half", flush=True); time.sleep(60)
        def flush(self): self.f.flush()
        def fileno(self): return self.f.fileno()
    s.os.fdopen = lambda fd, mode: Stalling(real_fdopen(fd, mode))

    result = VariantResult.from_dict(json.load(open({data!r})))
    ws = Workspace(source="demo:resnet18", knobs=Variant(batch=8))
    for batch in range(1, 40):  # a large project: many variants
        v = Variant(batch=batch)
        ws.results[v.key()] = dataclasses.replace(result, variant=v)
    ws.current_key = Variant(batch=8).key()
    save_project({dest!r}, ws, {{"discount_percent": 5}})
    """
)


@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM"])
def test_a_save_killed_midway_leaves_the_previous_project_intact(tmp_path: Path, how: str) -> None:
    dest = tmp_path / "project.tradeoff"
    save_project(dest, WS, PLANNER)
    before = dest.read_bytes()
    script = KILLED_WRITER.format(root=str(ROOT), data=str(DATA / "data_mlp_baseline.json"), dest=str(dest))
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line == "half", (line, proc.stderr.read() if proc.stderr else "")
        temps = [p for p in tmp_path.iterdir() if p.name != dest.name]
        assert temps and temps[0].stat().st_size > 0  # the new project is half on disk, beside the old
        os.kill(proc.pid, getattr(signal, how))
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert dest.read_bytes() == before
    ws, planner = load_project(dest)
    assert ws.results == WS.results and planner == PLANNER
    # The next save (the app's next autosave) replaces it whole.
    save_project(dest, ws, {**planner, "qps": 75.0})
    assert load_project(dest)[1]["qps"] == 75.0
