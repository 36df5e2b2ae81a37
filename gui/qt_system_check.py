"""Before Qt opens a window: does this machine have what Qt's platform plugin needs?

Without a display, or on a minimal Linux install without the XCB libraries Qt's `xcb` plugin
links against, Qt aborts the process with "could not load the Qt platform plugin" and a core
dump. This check runs first and turns that into one line naming the packages to install
(Debian/Ubuntu and Fedora names). Qt-free: it reads the environment and asks `ldd` which
libraries PySide6's own xcb plugin cannot resolve (exact for the Qt installed; nothing of it is
loaded into this process); without `ldd`, the dynamic loader (ctypes.util.find_library) is asked
for each library of XCB_LIBS.
"""

from __future__ import annotations

import ctypes.util
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SystemLib:
    soname: str  # what find_library looks up
    debian: str
    fedora: str


#: what Qt 6's xcb platform plugin loads (Qt docs, "Qt for X11 Requirements"), with package names
XCB_LIBS = (
    SystemLib("xcb-cursor", "libxcb-cursor0", "xcb-util-cursor"),
    SystemLib("xcb-icccm", "libxcb-icccm4", "xcb-util-wm"),
    SystemLib("xcb-keysyms", "libxcb-keysyms1", "xcb-util-keysyms"),
    SystemLib("xcb-image", "libxcb-image0", "xcb-util-image"),
    SystemLib("xcb-render-util", "libxcb-render-util0", "xcb-util-renderutil"),
    SystemLib("xcb-xkb", "libxcb-xkb1", "libxcb"),
    SystemLib("xkbcommon-x11", "libxkbcommon-x11-0", "libxkbcommon-x11"),
    SystemLib("xcb-randr", "libxcb-randr0", "libxcb"),
    SystemLib("xcb-shape", "libxcb-shape0", "libxcb"),
    SystemLib("EGL", "libegl1", "libglvnd-egl"),
    SystemLib("GL", "libgl1", "libglvnd-glx"),
    SystemLib("fontconfig", "libfontconfig1", "fontconfig"),
    SystemLib("dbus-1", "libdbus-1-3", "dbus-libs"),
)


def platform_problem(
    env: dict[str, str] | None = None,
    find: Callable[[str], str | None] = ctypes.util.find_library,
    system: str = sys.platform,
) -> str | None:
    """One line saying why Qt cannot open a window here, or None when it should."""
    env = dict(os.environ) if env is None else env
    if not system.startswith("linux"):
        return None
    platform = env.get("QT_QPA_PLATFORM", "")
    if platform and not platform.startswith("xcb"):
        return None  # offscreen, wayland, vnc…: Qt's own choice, not ours to second-guess
    if not env.get("DISPLAY"):
        if env.get("WAYLAND_DISPLAY") and not platform:
            return None
        return (
            "no display to open a window on (DISPLAY is not set): run it in a desktop session, over ssh -X, "
            "or under Xvfb (xvfb-run tradeoff); the command-line tools need no display"
        )
    unresolved = unresolved_by_plugin() if find is ctypes.util.find_library else None
    if unresolved is not None:
        missing = [_lib_for(name) for name in unresolved]
    else:
        missing = [lib for lib in XCB_LIBS if find(lib.soname) is None]
    if not missing:
        return None
    debian = " ".join(dict.fromkeys(lib.debian for lib in missing))
    fedora = " ".join(dict.fromkeys(lib.fedora for lib in missing))
    return (
        f"Qt cannot open a window: missing system libraries {', '.join(dict.fromkeys(lib.debian for lib in missing))}. "
        f"Install them — Debian/Ubuntu: sudo apt-get install {debian}; Fedora: sudo dnf install {fedora}"
    )


_NOT_FOUND = re.compile(r"^\s*(\S+)\s+=>\s+not found", re.M)


def unresolved_by_plugin() -> list[str] | None:
    """The shared libraries PySide6's xcb plugin needs and the loader cannot find (`ldd`), or
    None when that cannot be asked (no ldd, no plugin)."""
    spec = importlib.util.find_spec("PySide6")
    ldd = shutil.which("ldd")
    if spec is None or not spec.submodule_search_locations or ldd is None:
        return None
    plugin = Path(list(spec.submodule_search_locations)[0]) / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    if not plugin.is_file():
        return None
    try:
        out = subprocess.run([ldd, str(plugin)], capture_output=True, text=True, timeout=20, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return list(dict.fromkeys(_NOT_FOUND.findall(out)))


def _lib_for(soname_file: str) -> SystemLib:
    """The package of `libxcb-cursor.so.0`, or the file name itself when it is not in the table."""
    stem = re.sub(r"^lib|\.so.*$", "", soname_file)
    return next((lib for lib in XCB_LIBS if lib.soname == stem), SystemLib(stem, soname_file, soname_file))
