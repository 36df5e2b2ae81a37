"""The start-up check for what Qt's window needs: one actionable line instead of Qt's abort."""

from __future__ import annotations

import os
import subprocess
import sys

from gui import qt_system_check as check


def test_no_display_is_one_line_naming_the_ways_out() -> None:
    text = check.platform_problem({}, system="linux")
    assert text is not None and "DISPLAY is not set" in text and "xvfb-run" in text


def test_offscreen_and_other_platforms_are_left_to_qt() -> None:
    assert check.platform_problem({"QT_QPA_PLATFORM": "offscreen"}, system="linux") is None
    assert check.platform_problem({"WAYLAND_DISPLAY": "wayland-0"}, system="linux") is None
    assert check.platform_problem({}, system="darwin") is None


def test_missing_libraries_name_debian_and_fedora_packages() -> None:
    present = {"xcb-icccm", "xcb-keysyms", "xcb-image", "xcb-render-util", "xcb-xkb", "xkbcommon-x11",
               "xcb-randr", "xcb-shape", "GL", "fontconfig", "dbus-1"}  # fmt: skip
    text = check.platform_problem(
        {"DISPLAY": ":0"}, find=lambda name: name if name in present else None, system="linux"
    )
    assert text is not None
    assert "libxcb-cursor0, libegl1" in text
    assert "sudo apt-get install libxcb-cursor0 libegl1" in text
    assert "sudo dnf install xcb-util-cursor libglvnd-egl" in text
    everything = check.platform_problem({"DISPLAY": ":0"}, find=lambda name: name, system="linux")
    assert everything is None


def test_ldd_output_is_read_for_unresolved_libraries() -> None:
    out = (
        "\tlibxcb-cursor.so.0 => not found\n\tlibGL.so.1 => /lib/libGL.so.1 (0x1)\n"
        "\tlibxcb-cursor.so.0 => not found\n\tlibfoo-bar.so.2 => not found\n"
    )
    names = list(dict.fromkeys(check._NOT_FOUND.findall(out)))
    assert names == ["libxcb-cursor.so.0", "libfoo-bar.so.2"]
    assert check._lib_for(names[0]).debian == "libxcb-cursor0"
    assert check._lib_for(names[1]).debian == "libfoo-bar.so.2", "unknown: named as the loader named it"


def test_the_app_without_a_display_exits_with_one_line() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    proc = subprocess.run(
        [sys.executable, "-m", "tradeoff", "gui"], capture_output=True, text=True, timeout=120, env=env
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: no display to open a window on") and proc.stderr.count("\n") == 1
