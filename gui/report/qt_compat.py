"""Work around a PySide6 6.12.0 bug on CPython 3.11: every call of a Qt method that returns
nothing (`QPainter.setPen`, `QFont.setBold`, `QPointF.setX`, …) releases one reference to
`None` that it never took. `None` is not immortal before Python 3.12, so after some tens of
thousands of such calls its count reaches zero and the interpreter aborts with
"Fatal Python error: none_dealloc" (seen here while painting a 13-page report).

`protect_none_refcount()` detects the leak by measuring it, and when present gives `None` a
very large reference count once, so the process cannot run it down. It changes nothing on a
fixed PySide6 or on Python ≥ 3.12 (immortal None). The app should call it at start-up too
(gui/app.py) until PySide6 is pinned to a release without the bug.
"""

from __future__ import annotations

import ctypes
import sys

#: references handed to None when the leak is present (2^40: 10^12 void calls of headroom).
_PAD = 1 << 40
_done = False


def none_leak_per_call() -> int:
    """How many references to None one void Qt call drops (0 when PySide6 is sound)."""
    from PySide6.QtCore import QPointF

    point = QPointF()
    before = sys.getrefcount(None)
    for _ in range(64):
        point.setX(1.0)
    after = sys.getrefcount(None)
    return max(0, (before - after) // 64)


def protect_none_refcount() -> bool:
    """Pad None's reference count when the leak is present; True when it padded (once)."""
    global _done
    if _done or sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False
    if none_leak_per_call() == 0:
        _done = True
        return False
    refcnt = ctypes.c_ssize_t.from_address(id(None))  # ob_refcnt is PyObject's first field
    refcnt.value += _PAD
    _done = True
    return True
