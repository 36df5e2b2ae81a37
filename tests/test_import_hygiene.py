"""The core stays Qt-free and import-light (docs/ARCHITECTURE.md: dependencies point one way)."""

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
        str(p.relative_to(ROOT)) for p in sorted((ROOT / "profiler").rglob("*.py")) if "planner" in _imported_roots(p)
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
    mods = _modules_after_import("import tradeoff.main; tradeoff.main.build_parser()")
    heavy = {"torch", "onnxruntime", "PySide6", "transformers", "gui"} & mods
    assert not heavy, f"the CLI entry imports {sorted(heavy)} before any command runs"


def _modules_after_cli(argv: list[str]) -> set[str]:
    code = (
        "import contextlib, io, sys; from tradeoff.main import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        "    try:\n"
        f"        main({argv!r})\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print('\\n'.join(sorted(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_cli_version_loads_no_heavy_library() -> None:
    heavy = {"torch", "onnxruntime", "PySide6", "shiboken6", "pyqtgraph", "transformers", "gui"}
    assert not heavy & _modules_after_cli(["--version"]), "`tradeoff --version` loads a heavy library"


def test_cli_profile_loads_no_qt_in_the_cli_process() -> None:
    mods = _modules_after_cli(["profile", "demo:mlp", "--no-latency"])
    assert "tradeoff.commands.profile" in mods
    qt = {"PySide6", "shiboken6", "pyqtgraph", "gui"} & mods
    assert not qt, f"`tradeoff profile` loads {sorted(qt)} in the CLI process"


# --- dependencies point one way: tradeoff → gui → planner → profiler ------------------------------

LAYERS = ("tradeoff", "gui", "planner", "profiler")


def test_layers_point_one_way() -> None:
    offenders = []
    for i, package in enumerate(LAYERS):
        above = set(LAYERS[:i])
        for path in sorted((ROOT / package).rglob("*.py")):
            bad = _imported_roots(path) & above
            if bad:
                offenders.append(f"{path.relative_to(ROOT)}: {sorted(bad)}")
    assert not offenders, "imports against the layering tradeoff → gui → planner → profiler: " + "; ".join(offenders)


def test_no_argparse_in_the_core() -> None:
    offenders = [
        str(p.relative_to(ROOT))
        for package in ("profiler", "planner")
        for p in sorted((ROOT / package).rglob("*.py"))
        if "argparse" in _imported_roots(p)
    ]
    assert not offenders, f"option parsing belongs to the tradeoff package: {offenders}"


def test_cli_imports_gui_only_lazily_in_gui_and_report() -> None:
    allowed = {
        "tradeoff/commands/gui.py",
        "tradeoff/commands/report.py",
        "tradeoff/commands/compare.py",  # --pdf
        "tradeoff/commands/optimize.py",  # --pdf
    }
    offenders = []
    for path in sorted((ROOT / "tradeoff").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        top_level = {id(n) for n in tree.body}
        for node in ast.walk(tree):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else ([node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module else [])
            )
            if any(n.split(".")[0] == "gui" for n in names) and (rel not in allowed or id(node) in top_level):
                offenders.append(f"{rel}:{node.lineno}")
    assert not offenders, f"gui imported outside `gui`/`report`, or at module level: {offenders}"


def _module_graph(packages: tuple[str, ...]) -> dict[str, set[str]]:
    """Every import (module level or inside a function) between the modules of `packages`."""
    modules: dict[str, Path] = {}
    for package in packages:
        for path in (ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path

    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        deps: set[str | None] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Import):
                deps.update(resolve(a.name) for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
                    base = base[: len(base) - (node.level - 1)]
                    source = ".".join(base + ([node.module] if node.module else []))
                else:
                    source = node.module or ""
                deps.update(
                    resolve(f"{source}.{a.name}") if f"{source}.{a.name}" in modules else resolve(source)
                    for a in node.names
                )
        graph[module] = {d for d in deps if d and d != module}
    return graph


def test_the_cli_package_has_no_import_cycle() -> None:
    graph = _module_graph(LAYERS)
    cycles = []
    for start in (m for m in graph if m.split(".")[0] == "tradeoff"):
        stack, seen = [start], set()
        while stack:
            for dep in graph[stack.pop()]:
                if dep == start:
                    cycles.append(start)
                elif dep not in seen:
                    seen.add(dep)
                    stack.append(dep)
    assert not cycles, f"import cycles through {sorted(set(cycles))}"
