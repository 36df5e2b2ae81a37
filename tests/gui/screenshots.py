"""Screenshots of every view, light and dark, at 1600×1000 and 1280×720, for review.

    python tests/gui/screenshots.py OUT_DIR [--model demo:digits-cnn] [--sizes 1600x1000,1280x720]
        [--compare-with demo:digits-cnn] [--optimize-variants 4]

Runs the real app (real measurement worker) on the display set in DISPLAY; with none it re-runs
itself through `xvfb-run` (Debian package `xvfb`). It starts as a fresh user would (the Getting
started page opens beside the model), explores a few variants (batch 2 and 8, 50 % structured
pruning, int8), sweeps the batch, runs a short Optimize search and a Compare, then saves for each
size and theme `<size>-<theme>-<view>.png`:

- the window on each tab: heatmap, layers, batch, roofline, variants, planner, graph, operators;
- the Optimize dialog after its search, the Compare window, the Getting started page;
- Help → Keyboard shortcuts and Help → About, the catalog price editor, and the window's prompts
  (trust, shape, restore, error).

Settings and the autosave go to a temporary folder, so the user's own are untouched.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SIZES = "1600x1000,1280x720"
VIEWS = ("heatmap", "layers", "batch", "roofline", "variants", "planner", "graph", "operators")


def _reexec_under_xvfb() -> int:
    xvfb = shutil.which("xvfb-run")
    if xvfb is None:
        print("error: no display and no xvfb-run (apt-get install -y xvfb)", file=sys.stderr)
        return 2
    cmd = [xvfb, "-a", "-s", "-screen 0 1600x1000x24", sys.executable, *sys.argv]
    return subprocess.call(cmd, env={**os.environ, "TRADEOFF_UNDER_XVFB": "1"})


class Shooter:
    """The app, the window and helpers to wait, pump events and save pictures."""

    def __init__(self, app: Any, w: Any, out: Path) -> None:
        self.app, self.w, self.out = app, w, out
        self.prefix = ""

    def pump(self, seconds: float = 0.2) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.app.processEvents()
            time.sleep(0.01)

    def wait_until(self, what: str, done: Callable[[], bool], limit_s: float = 300.0) -> bool:
        end = time.monotonic() + limit_s
        while not done() and time.monotonic() < end:
            self.app.processEvents()
            time.sleep(0.02)
        if not done():
            print(f"warning: timed out waiting for {what} ({self.w.statusBar().currentMessage()})", file=sys.stderr)
            return False
        return True

    def save(self, widget: Any, name: str) -> None:
        self.pump(0.15)
        path = self.out / f"{self.prefix}-{name}.png"
        widget.grab().save(str(path))
        print(path)

    def modal(self, name: str, show: Callable[[], Any]) -> None:
        """Shoot a modal dialog: grabbed from a timer while `show()` runs its event loop, then closed."""
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication

        def grab_and_close() -> None:
            box = QApplication.activeModalWidget()
            if box is None:
                print(f"warning: no dialog for {name}", file=sys.stderr)
                return
            path = self.out / f"{self.prefix}-dialog-{name}.png"
            box.grab().save(str(path))
            print(path)
            box.close()

        QTimer.singleShot(400, grab_and_close)
        show()


def _explore(s: Shooter, model: str) -> None:
    from profiler.variant import Variant

    w = s.w
    results: list[object] = []
    w.result_shown.connect(results.append)
    t0 = time.monotonic()
    w.start(model)  # fresh settings: the Getting started page opens too
    if not s.wait_until("the first result", lambda: len(results) >= 1):
        raise SystemExit("error: the model did not open")
    variants = (
        Variant(batch=2),
        Variant(batch=8),
        Variant(prune=0.5, prune_method="structured"),
        Variant(precision="int8"),
    )
    for i, variant in enumerate(variants):
        w.knobs.set_variant(variant)
        w.controller.request(variant, immediate=True)
        s.wait_until(f"variant {variant.label()}", lambda n=i + 2: len(results) >= n)
    w.restore_variant(Variant(prune=0.5, prune_method="structured"))
    w.batch_sweep.start()  # the variant shown, at every batch: the Batch tab's curves
    s.wait_until("the batch sweep", lambda: w.batch_sweep.thread is None or w.batch_sweep.thread.isFinished(), 240)
    s.pump(0.5)
    print(f"measured {len(w.workspace.results)} variants in {time.monotonic() - t0:.1f} s")
    w.heatmap.view.expandAll()
    rows = w.layer_data.rows
    if rows:
        w._on_layer_selected(rows[min(1, len(rows) - 1)].name)
    w.planner.train_size.setText("1.28M")
    w.planner.epochs.setValue(90)
    w.planner.replan()


def _optimize(s: Shooter, variants: int) -> Any:
    w = s.w
    w.optimizing.on_optimize_action()
    dialog = w.optimizing.dialog
    if dialog is None:
        print("warning: no Optimize dialog", file=sys.stderr)
        return None
    dialog.budget_min.setValue(2)
    dialog.budget_variants.setValue(variants)
    dialog.start_button.click()
    s.wait_until(
        "the Optimize search",
        lambda: dialog.search_thread is not None and dialog.search_thread.isFinished(),
        240,
    )
    s.pump(0.5)
    return dialog


def _compare(s: Shooter, source_b: str) -> Any:
    window = s.w.comparing.compare_with(source_b)
    if window is None:
        print("warning: no Compare window", file=sys.stderr)
        return None
    comparing = s.w.comparing
    s.wait_until("the comparison", lambda: comparing.run is None or not comparing.run.busy, 240)
    s.pump(0.5)
    return window


def _fit(widget: Any, width: int, height: int, preferred: tuple[int, int]) -> None:
    """A dialog or second window as it would open on a screen of this size."""
    widget.resize(min(preferred[0], width - 60), min(preferred[1], height - 60))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--model", default="demo:digits-cnn")
    parser.add_argument("--sizes", default=SIZES, help="comma-separated WIDTHxHEIGHT")
    parser.add_argument("--themes", default="light,dark")
    parser.add_argument("--compare-with", default="demo:digits-cnn")
    parser.add_argument("--optimize-variants", type=int, default=4)
    args = parser.parse_args()
    if (
        not os.environ.get("DISPLAY")
        and not os.environ.get("TRADEOFF_UNDER_XVFB")
        and os.environ.get("QT_QPA_PLATFORM") != "offscreen"
    ):
        return _reexec_under_xvfb()
    sys.path.insert(0, str(ROOT))
    tmp = Path(tempfile.mkdtemp(prefix="tradeoff-shots-"))
    os.environ["XDG_CONFIG_HOME"] = str(tmp / "config")
    args.out.mkdir(parents=True, exist_ok=True)
    sizes = [tuple(int(v) for v in s.lower().split("x")) for s in args.sizes.split(",") if s]

    from PySide6.QtCore import QSettings

    from gui.app import make_application

    app = make_application()
    from gui.main_window import MainWindow
    from gui.session import AppSettings
    from gui.theme import apply_theme

    settings = AppSettings(QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat))
    w = MainWindow(settings=settings, autosave_dir=tmp / "data")
    apply_theme(app, "light")  # type: ignore[arg-type]
    w.setGeometry(0, 0, *sizes[0])
    w.show()
    s = Shooter(app, w, args.out)

    _explore(s, args.model)
    welcome = w.menus.welcome
    dialog = _optimize(s, args.optimize_variants)
    compare = _compare(s, args.compare_with)
    prompts = w.prompts
    about = next(a for a in w.menuBar().actions()[-1].menu().actions() if "About" in a.text())

    for width, height in sizes:
        w.setGeometry(0, 0, width, height)
        s.pump(0.3)
        for theme_name in args.themes.split(","):
            s.prefix = f"{width}x{height}-{theme_name}"
            w.set_theme(theme_name)
            for i, view in enumerate(VIEWS):
                w.tabs.setCurrentIndex(i)
                s.save(w, view)
                if view == "planner":  # one accelerator: the long runpod/azure names on the cost chart
                    w.planner.only_target.setChecked(True)
                    w.planner.replan()
                    s.save(w, "planner-h100-only")
                    w.planner.only_target.setChecked(False)
                    w.planner.replan()
            w.tabs.setCurrentIndex(0)
            if welcome is not None:
                w.menus.show_getting_started().fit_to(w)
                s.save(w.menus.welcome, "getting-started")
                w.menus.welcome.close()
            shortcuts = w.menus.show_shortcuts()
            _fit(shortcuts, width, height, (shortcuts.width(), shortcuts.height()))
            s.save(shortcuts, "help-shortcuts")
            shortcuts.close()
            if dialog is not None:
                dialog.show()
                _fit(dialog, width, height, (1100, 820))
                s.save(dialog, "optimize")
                dialog.hide()
            if compare is not None:
                compare.show()
                _fit(compare, width, height, (1200, 800))
                s.save(compare, "compare")
                compare.hide()
            s.modal("about", about.trigger)
            s.modal("catalog-prices", w.planner.edit_catalog.click)
            s.modal("trust", lambda: prompts.confirm_trust("/data/models/net.pt"))
            s.modal("shape", lambda: prompts.ask_shape("input_ids", "the input has a dynamic dimension"))
            s.modal("restore", lambda: prompts.ask_restore("2026-01-01 12:00"))
            s.modal("error", lambda: prompts.error("Cannot open model", "/data/models/missing.onnx: no such file"))
    w.close()
    shutil.rmtree(tmp, ignore_errors=True)
    sys.stdout.flush()
    os._exit(0)  # PySide6 6.12 can abort while garbage-collecting Qt objects at interpreter exit


if __name__ == "__main__":
    sys.exit(main())
