"""GUI responsiveness benchmark: cold start, time to the demo's static profile, event-loop stalls.

    python tests/bench/bench_gui.py [--model demo:resnet18] [--runs 1]

Starts the app in a fresh process (offscreen unless a display is set) with the real
measurement worker, and prints:
- time from process launch to the window shown (target < 2 s);
- time from launch to the model's static profile (counted rows) on screen (target < 5 s);
- time to the first measured result;
- a QTimer heartbeat (every 5 ms) during the measurement and two knob changes: the longest
  gap between ticks beyond the interval is the longest the event loop stalled (target < 50 ms).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEARTBEAT_MS = 5


def child(model: str, launched_at: float) -> None:
    """Runs in the benchmark's subprocess: the app, instrumented."""
    sys.path.insert(0, str(ROOT))
    tmp = Path(tempfile.mkdtemp(prefix="tradeoff-bench-"))
    os.environ["XDG_CONFIG_HOME"] = str(tmp / "config")
    from PySide6.QtCore import QSettings, QTimer

    from gui.app import make_application

    app = make_application()
    from gui.main_window import MainWindow
    from gui.session import AppSettings

    figures: dict[str, float] = {}
    w = MainWindow(
        settings=AppSettings(QSettings(str(tmp / "s.ini"), QSettings.Format.IniFormat)), autosave_dir=tmp / "data"
    )
    w.show()
    figures["window_shown_s"] = time.time() - launched_at  # show() returned; first paint follows at once
    gaps: list[float] = []
    last = [time.perf_counter()]
    measuring = [False]

    def beat() -> None:
        now = time.perf_counter()
        if measuring[0]:
            gaps.append((now - last[0]) * 1000.0 - HEARTBEAT_MS)
            if gaps[-1] > 40 and os.environ.get("BENCH_VERBOSE"):
                print(
                    f"stall {gaps[-1]:.0f} ms at {time.time() - launched_at:.2f} s: {w.statusBar().currentMessage()!r}",
                    file=sys.stderr,
                )
        last[0] = now

    heartbeat = QTimer(interval=HEARTBEAT_MS)
    heartbeat.timeout.connect(beat)
    heartbeat.start()
    results: list[object] = []

    def on_static(_profile: object) -> None:
        figures.setdefault("static_profile_shown_s", time.time() - launched_at)

    def on_result(result: object) -> None:
        results.append(result)
        figures.setdefault("first_result_s", time.time() - launched_at)
        if len(results) == 1:
            QTimer.singleShot(100, lambda: w.knobs.batch_slider.setValue(1))  # batch 2
        elif len(results) == 2:
            QTimer.singleShot(100, lambda: w.knobs.prune_slider.setValue(6))  # 30 % structured
        else:
            measuring[0] = False
            app.quit()  # type: ignore[attr-defined]

    w.static_shown.connect(on_static)
    w.result_shown.connect(on_result)
    w.controller.run_failed.connect(lambda m, *_: (print(f"failed: {m}", file=sys.stderr), app.quit()))  # type: ignore[attr-defined]

    def begin() -> None:
        measuring[0] = True
        last[0] = time.perf_counter()
        w.start(model)

    QTimer.singleShot(0, begin)
    QTimer.singleShot(600_000, app.quit)  # type: ignore[attr-defined]
    app.exec()  # type: ignore[attr-defined]
    gaps.sort()
    figures["heartbeats"] = len(gaps)
    figures["max_stall_ms"] = max(gaps, default=0.0)
    figures["p99_stall_ms"] = gaps[int(0.99 * (len(gaps) - 1))] if gaps else 0.0
    figures["variants_measured"] = len(results)
    w.controller.close()
    print("BENCH " + json.dumps(figures), flush=True)
    os._exit(0)  # skip interpreter teardown of Qt objects (not what is measured)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="demo:resnet18")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--child", type=float, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.model, args.child)
        return 0
    env = dict(os.environ)
    if not env.get("DISPLAY"):
        env["QT_QPA_PLATFORM"] = "offscreen"
    env["PYTHONPATH"] = str(ROOT)
    for run in range(args.runs):
        launched = time.time()
        out = subprocess.run(
            [sys.executable, __file__, "--model", args.model, "--child", repr(launched)],
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        line = next((x for x in out.stdout.splitlines() if x.startswith("BENCH ")), None)
        if line is None or env.get("BENCH_VERBOSE"):
            print(out.stdout[-2000:], out.stderr[-2000:], file=sys.stderr)
        if line is None:
            return 1
        f = json.loads(line[6:])
        print(f"run {run + 1} ({args.model}, platform {env.get('QT_QPA_PLATFORM', 'display')}):")
        print(f"  window shown after launch        {f['window_shown_s']:6.2f} s   (target < 2 s)")
        print(f"  static profile shown after launch {f['static_profile_shown_s']:5.2f} s   (target < 5 s)")
        print(f"  first measured result            {f['first_result_s']:6.2f} s")
        print(
            f"  heartbeat ({HEARTBEAT_MS} ms) during {f['variants_measured']} measurements: "
            f"max stall {f['max_stall_ms']:.1f} ms, p99 {f['p99_stall_ms']:.1f} ms over {f['heartbeats']} beats "
            "(target max < 50 ms)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
