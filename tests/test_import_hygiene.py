"""The core stays Qt-free and import-light (ARCHITECTURE.md: dependencies point one way)."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN_IN_CORE = ("PySide6", "pyqtgraph", "gui", "shiboken6")


def _imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_core_never_imports_qt_or_gui() -> None:
    offenders = []
    for package in ("profiler", "planner"):
        for path in sorted((ROOT / package).rglob("*.py")):
            bad = _imported_roots(path) & set(FORBIDDEN_IN_CORE)
            if bad:
                offenders.append(f"{path.relative_to(ROOT)}: {sorted(bad)}")
    assert not offenders, "core modules import Qt or gui: " + "; ".join(offenders)


def test_planner_does_not_import_gui_and_profiler_does_not_import_planner() -> None:
    offenders = [
        str(p.relative_to(ROOT))
        for p in sorted((ROOT / "profiler").rglob("*.py"))
        if "planner" in _imported_roots(p)
    ]
    assert not offenders, f"profiler must not depend on planner: {offenders}"


def _modules_after_import(statement: str) -> set[str]:
    code = f"import sys; {statement}; print('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_importing_the_core_loads_no_heavy_library() -> None:
    mods = _modules_after_import(
        "import profiler, profiler.result, profiler.loading, profiler.analyze, profiler.table, "
        "profiler.measure, profiler.inputs, profiler.environment; import planner"
    )
    heavy = {"torch", "onnxruntime", "onnx", "transformers", "torch_pruning", "PySide6", "pyqtgraph"} & mods
    assert not heavy, f"heavy modules imported at start-up: {sorted(heavy)}"


def test_cli_entry_loads_no_heavy_library() -> None:
    mods = _modules_after_import("import gui.cli; gui.cli.build_parser()")
    heavy = {"torch", "onnxruntime", "PySide6", "transformers"} & mods
    assert not heavy, f"the CLI entry imports {sorted(heavy)} before any command runs"
