"""The code keeps one style: ruff's lint rules and ruff format (pyproject.toml [tool.ruff]),
checked here so that CI fails on drift (run `ruff format .` and `ruff check --fix .` to mend)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(importlib.util.find_spec("ruff") is None, reason="ruff is not installed (dev extra)")


@pytest.mark.parametrize("argv", [["format", "--check", "--quiet"], ["check", "--quiet"]], ids=["format", "lint"])
def test_ruff(argv: list[str]) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "ruff", *argv, "."], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
