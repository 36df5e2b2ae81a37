"""One module per `tradeoff` command, each with `add_parser(subparsers)` and `run(args) -> int`.

Only `gui` and `report` import gui (inside `run`); the others never load Qt.
"""

from __future__ import annotations

import argparse
from typing import TypeAlias

Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
