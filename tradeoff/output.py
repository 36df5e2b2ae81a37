"""Where a command's results go: the JSON document, the CSV table, the text table."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def emit(args: argparse.Namespace, document: dict[str, Any], table: str, csv_text: str | None) -> None:
    """Write JSON/CSV where asked, and the table to stdout unless JSON goes there."""
    from profiler.safe_io import write_text_atomic

    json_text = json.dumps(document, indent=2) + "\n"
    if getattr(args, "csv", None) and csv_text is not None:
        write_text_atomic(args.csv, csv_text)
    if args.json == "-":
        sys.stdout.write(json_text)
        return
    if args.json:
        write_text_atomic(args.json, json_text)
    print(table)
