"""Text that came from a model file, made safe for a terminal and for a spreadsheet.

Layer names, types, op names, paths, error messages and notes come from files anyone can write.
Two places interpret such text:

- a terminal: ESC, CSI (0x9b), BEL, CR, backspace and friends retitle the window, clear the
  screen, move the cursor, or set the clipboard (OSC 52); bidi overrides reorder what is shown.
  `terminal_safe` turns every such character into a visible escape (`\\x1b`, `\\u202e`) and
  keeps ordinary Unicode (accents, CJK, emoji) as it is.
- a spreadsheet opening a CSV: a cell starting with `=`, `+`, `-`, `@`, TAB or CR (or the
  fullwidth ＝ ＋ － ＠) is a live formula (OWASP "CSV injection"). `csv_safe` prefixes such a
  text cell with a single quote; numbers stay numbers.

JSON documents are never escaped: they carry the exact text.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from typing import Any

#: bidirectional embedding/override/isolate controls (the "Trojan Source" characters).
BIDI_CONTROLS = frozenset(chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(ch: str) -> str:
    if ch in _NAMED:
        return _NAMED[ch]
    o = ord(ch)
    return f"\\x{o:02x}" if o <= 0xFF else f"\\u{o:04x}"


_UNSAFE_RE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def terminal_safe(text: object) -> str:
    """`text` (str() of it) with every control character escaped visibly: C0 (ESC, BEL, BS,
    CR, LF, TAB …), DEL, C1 (CSI 0x9b …), bidi overrides U+202A–U+202E and U+2066–U+2069, the
    line/paragraph separators and lone surrogates. Everything else is kept as it is."""
    s = text if isinstance(text, str) else str(text)
    if _UNSAFE_RE.search(s) is None:
        return s
    return _UNSAFE_RE.sub(lambda m: _escape(m.group(0)), s)


#: first characters that make a spreadsheet read a cell as a formula (OWASP), with the
#: fullwidth forms some spreadsheets normalise.
FORMULA_TRIGGERS = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")

_NUMBER_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]?(?:inf|nan)", re.IGNORECASE)


def csv_safe(cell: Any) -> Any:
    """One CSV cell, safe to open in a spreadsheet: a text cell starting with = + - @ TAB CR
    (or ＝ ＋ － ＠) gets a leading `'`; numbers, booleans and None are returned unchanged
    (a negative number written as a number is data, not a formula)."""
    if isinstance(cell, str) and cell and cell[0] in FORMULA_TRIGGERS:
        return "'" + cell
    return cell


def csv_safe_row(cells: Iterable[Any]) -> list[Any]:
    """`csv_safe` on every cell of a row."""
    return [csv_safe(c) for c in cells]


def csv_text_safe(text: str) -> str:
    """CSV text written by someone else's writer (the planner's cost table, a catalog), with
    each text cell that would be a formula quoted by `csv_safe`. The types are gone in text, so
    a cell that is exactly a number (`-0.5`, `+1e3`) is left as it is: a spreadsheet reads it as
    the number, never as a formula."""
    rows = list(csv.reader(io.StringIO(text, newline="")))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in rows:
        writer.writerow([c if _NUMBER_RE.fullmatch(c) else csv_safe(c) for c in row])
    return out.getvalue()
