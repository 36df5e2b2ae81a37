"""The dependency rules of docs/ARCHITECTURE.md, as import-linter contracts (.importlinter).

Each contract is checked by `lint-imports --contract ID`, in a subprocess from the repository
root (import-linter puts the current directory on sys.path and finds the root packages there)
and without its cache, so the test writes nothing into the checkout. One test per contract, so a
failure names the rule that broke. Skipped when import-linter is not installed (dev extra).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / ".importlinter"

# The contracts docs/ARCHITECTURE.md promises; removing one from .importlinter fails here.
CONTRACTS = ("layers", "core-no-qt", "gui-no-cli", "resources-data-only", "backends-independent")

_RUN = (
    "import sys\n"
    "from importlinter.cli import lint_imports\n"
    "sys.exit(lint_imports(config_filename=sys.argv[1], limit_to_contracts=(sys.argv[2],), no_cache=True))\n"
)


def _importlinter() -> None:
    pytest.importorskip("importlinter", reason="import-linter is not installed (pip install import-linter)")


def test_config_declares_the_architecture_contracts() -> None:
    _importlinter()
    from importlinter.api import read_configuration

    config = read_configuration(str(CONFIG))
    assert config["session_options"]["root_packages"] == ["tradeoff", "gui", "planner", "profiler", "resources"]
    ids = {c["id"] for c in config["contracts_options"]}
    assert set(CONTRACTS) <= ids, f"contracts missing from .importlinter: {sorted(set(CONTRACTS) - ids)}"
    layers = next(c for c in config["contracts_options"] if c["id"] == "layers")
    assert layers["layers"] == ["tradeoff", "gui", "planner", "profiler"]


@pytest.mark.parametrize("contract", CONTRACTS)
def test_import_contract_is_kept(contract: str) -> None:
    _importlinter()
    proc = subprocess.run(
        [sys.executable, "-c", _RUN, str(CONFIG), contract],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    report = proc.stdout + proc.stderr
    assert proc.returncode == 0, (
        f"import contract {contract!r} broken (run `lint-imports` at the repo root):\n" + report[-6000:]
    )
    assert "1 kept, 0 broken" in report, report[-2000:]
