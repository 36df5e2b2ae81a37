"""Screenshots of every main view, light and dark, at 1366×768, for review.

    python tests/gui/screenshots.py OUT_DIR [--model demo:resnet18]

Runs the real app (real measurement worker) under Xvfb: when no display is set it re-runs
itself through `xvfb-run` (Debian package `xvfb`). It opens the model, explores a few variants
(batch 2 and 4, 50 % structured pruning) so the charts have points, selects a layer, and saves
`<theme>-<view>.png` for each view. Settings and the autosave go to a temporary folder, so the
user's own are untouched.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WIDTH, HEIGHT = 1366, 768
VIEWS = ("heatmap", "layers", "batch", "roofline", "variants", "planner")


def _reexec_under_xvfb() -> int:
    xvfb = shutil.which("xvfb-run")
    if xvfb is None:
        print("error: no display and no xvfb-run (apt-get install -y xvfb)", file=sys.stderr)
        return 2
    cmd = [xvfb, "-a", "-s", f"-screen 0 {WIDTH}x{HEIGHT}x24", sys.executable, *sys.argv]
    return subprocess.call(cmd, env={**os.environ, "TRADEOFF_UNDER_XVFB": "1"})


def _shoot_dialogs(app: object, w: object, out: Path, theme_name: str) -> None:
    """Each dialog the window shows (the prompts and About): grabbed while it is open, then closed."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    def grab_and_close(name: str) -> None:
        box = QApplication.activeModalWidget()
        if box is None:
            print(f"warning: no dialog for {name}", file=sys.stderr)
            return
        path = out / f"{theme_name}-dialog-{name}.png"
        box.grab().save(str(path))
        print(path)
        box.close()

    prompts = w.prompts  # type: ignore[attr-defined]
    about = next(a for a in w.menuBar().actions()[-1].menu().actions() if "About" in a.text())  # type: ignore[attr-defined]
    shots = (
        ("trust", lambda: prompts.confirm_trust("/data/models/net.pt")),
        ("shape", lambda: prompts.ask_shape("input_ids", "the input has a dynamic dimension")),
        ("restore", lambda: prompts.ask_restore("2026-01-01 12:00")),
        ("error", lambda: prompts.error("Cannot open model", "/data/models/missing.onnx: no such file")),
        ("about", about.trigger),
    )
    for name, show in shots:
        QTimer.singleShot(300, lambda n=name: grab_and_close(n))
        show()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--model", default="demo:resnet18")
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

    from PySide6.QtCore import QSettings

    from gui.app import make_application

    app = make_application()
    from gui.main_window import MainWindow
    from gui.session import AppSettings
    from gui.theme import apply_theme
    from profiler.variant import Variant

    settings = AppSettings(QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat))
    w = MainWindow(settings=settings, autosave_dir=tmp / "data")
    apply_theme(app, "light")  # type: ignore[arg-type]
    w.setGeometry(0, 0, WIDTH, HEIGHT)
    w.show()
    w.resize(WIDTH, HEIGHT)

    results: list[object] = []
    w.result_shown.connect(results.append)

    def wait_for(n: int, limit_s: float = 300.0) -> None:
        end = time.monotonic() + limit_s
        while len(results) < n and time.monotonic() < end:
            app.processEvents()  # type: ignore[attr-defined]
            time.sleep(0.01)
        if len(results) < n:
            raise SystemExit(f"error: timed out waiting for result {n} ({w.statusBar().currentMessage()})")

    t0 = time.monotonic()
    w.open_model(args.model)
    wait_for(1)
    for i, variant in enumerate(
        (
            Variant(batch=2),
            Variant(batch=4),
            Variant(prune=0.5, prune_method="structured"),
            Variant(batch=2, prune=0.5, prune_method="structured"),
        )
    ):
        w.knobs.set_variant(variant)
        w.controller.request(variant, immediate=True)
        wait_for(i + 2)
    w.restore_variant(Variant(prune=0.5, prune_method="structured"))
    print(f"measured {len(results)} variants in {time.monotonic() - t0:.1f} s")
    w.heatmap.view.expandAll()
    w._on_layer_selected("layer1.0.conv1" if "resnet" in args.model else w.layer_data.rows[0].name)
    w.planner.train_size.setText("1.28M")
    w.planner.epochs.setValue(90)
    w.planner.replan()

    for theme_name in ("light", "dark"):
        w.set_theme(theme_name)
        for i, view in enumerate(VIEWS):
            w.tabs.setCurrentIndex(i)
            for _ in range(20):
                app.processEvents()  # type: ignore[attr-defined]
                time.sleep(0.01)
            path = args.out / f"{theme_name}-{view}.png"
            w.grab().save(str(path))
            print(path)
        _shoot_dialogs(app, w, args.out, theme_name)
    w.close()
    shutil.rmtree(tmp, ignore_errors=True)
    sys.stdout.flush()
    os._exit(0)  # PySide6 6.12 can abort while garbage-collecting Qt objects at interpreter exit


if __name__ == "__main__":
    sys.exit(main())
