"""Where the data files live, in a source checkout and in a PyInstaller bundle."""

from __future__ import annotations

import sys
from pathlib import Path


def resource_path(*parts: str) -> Path:
    """Path of `resources/<parts…>`.

    In a PyInstaller bundle the data sit under `sys._MEIPASS` (the spec collects `resources/`
    there); otherwise next to the package: `<repo>/resources`.
    """
    bundle = getattr(sys, "_MEIPASS", None)
    base = Path(bundle) if bundle else Path(__file__).resolve().parent.parent
    return base.joinpath("resources", *parts)
