"""torch.profiler traces for TensorBoard's PyTorch profiler plugin and Perfetto, and a real
TensorBoard process that lists the run."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

import pytest

#: torch-tb-profiler's own pattern for trace files (torch_tb_profiler/consts.py WORKER_PATTERN)
WORKER_PATTERN = re.compile(r"^(.*?)(\.\d+)?\.pt\.trace\.json(?:\.gz)?$")


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from profiler.trace import record_trace

    logdir = tmp_path_factory.mktemp("tb")
    return record_trace("demo:mlp", logdir)


def test_layout_is_tensorboard_trace_handler(recorded: Any) -> None:
    r = recorded
    assert r.run_dir.parent == r.logdir and r.run_name == "mlp"
    files = list(r.run_dir.iterdir())
    assert files and all(WORKER_PATTERN.match(f.name) for f in files)
    trace = json.loads(r.trace_files[0].read_text())
    names = {e.get("name", "") for e in trace["traceEvents"]}
    assert any(n.startswith("forward#") for n in names)  # our record_function labels
    assert any(n.startswith("aten::") for n in names)  # the ops
    assert any(n.startswith("ProfilerStep#") for n in names)  # steps, as the plugin expects
    # nothing half-written or temporary left in the log folder
    assert not [p for p in r.logdir.iterdir() if p.name.startswith(".")]


def test_chrome_trace_for_perfetto(recorded: Any) -> None:
    doc = json.loads(recorded.chrome_trace.read_text())
    assert recorded.chrome_trace.parent == recorded.logdir and recorded.chrome_trace.name.endswith(".json")
    events = doc["traceEvents"]
    assert events and all("ph" in e for e in events if isinstance(e, dict))
    assert any(e.get("ph") == "X" and "dur" in e for e in events)


def test_variant_trace_and_errors(tmp_path: Path) -> None:
    from profiler.errors import InputError
    from profiler.trace import record_trace
    from profiler.variant import Variant

    r = record_trace("demo:mlp", tmp_path, variant=Variant(prune=0.5, prune_method="structured"))
    assert r.run_name == "mlp_prune-0.5-structured_fp32" and any("structured" in n for n in r.notes)
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    with pytest.raises(InputError):
        record_trace("demo:mlp", blocker)
    with pytest.raises(InputError):
        record_trace("demo:mlp", blocker / "sub")


def _trace_parser() -> argparse.ArgumentParser:
    from tradeoff.commands.trace import add_parser as configure
    from tradeoff.main import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    if "trace" not in sub.choices:
        configure(sub)
    return parser


def test_cli_trace_runs_in_the_worker(tmp_path: Path, capsys: Any) -> None:
    from tradeoff.commands.trace import run as run_trace

    args = _trace_parser().parse_args(
        [
            "trace",
            "demo:mlp",
            "--logdir",
            str(tmp_path / "logs"),
            "--run-name",
            "cli-run",
            "--json",
            str(tmp_path / "trace.json"),
        ]
    )
    assert run_trace(args) == 0
    out = capsys.readouterr().out
    assert "wrote run 'cli-run'" in out and "Perfetto" in out
    doc = json.loads((tmp_path / "trace.json").read_text())
    assert doc["schema"] == "tradeoff.trace/1" and Path(doc["run_dir"]).name == "cli-run"
    assert all(WORKER_PATTERN.match(Path(f).name) for f in doc["trace_files"])


def test_cli_trace_bad_logdir_is_exit_2(tmp_path: Path) -> None:
    from profiler.errors import InputError
    from tradeoff.commands.trace import run as run_trace

    blocker = tmp_path / "f"
    blocker.write_text("x")
    args = _trace_parser().parse_args(["trace", "demo:mlp", "--logdir", str(blocker)])
    with pytest.raises(InputError) as info:
        run_trace(args)
    assert info.value.exit_code == 2


def test_tensorboard_lists_the_run(recorded: Any) -> None:
    from profiler.tensorboard import start_tensorboard, tensorboard_available

    missing = tensorboard_available()
    if missing:
        pytest.skip(f"TensorBoard cannot start here: {missing}")
    opened: list[str] = []
    tb = start_tensorboard(recorded.logdir, host="127.0.0.1", open_browser=True, opener=opened.append, timeout_s=60)
    try:
        assert tb.url.startswith("http://127.0.0.1:") and tb.port > 0
        runs = tb.wait_for_run(recorded.run_name, timeout_s=60)
        assert recorded.run_name in runs
        assert opened == [tb.profiler_url]
    finally:
        tb.stop()
    # the server we started is gone (wait: on a loaded machine it may still be exiting)
    assert tb.process.wait(timeout=30) is not None


# --------------------------------------------------------------------------- TensorBoard lifecycle

ROOT = Path(__file__).resolve().parents[2]
#: a stand-in for TensorBoard: writes its pid (and its own child's) to argv[1], then sleeps.
STAND_IN = (
    "import os, subprocess, sys, time; "
    "kid = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)']); "
    "open(sys.argv[1] + '.tmp', 'w').write(f'{os.getpid()} {kid.pid}'); os.replace(sys.argv[1] + '.tmp', sys.argv[1]); "
    "time.sleep(120)"
)


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[-1].split()[0] in (b"Z", b"X")
    except FileNotFoundError:
        return True


def _wait_gone(pids: list[int], timeout_s: float = 5.0) -> bool:
    import time

    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if all(_gone(p) for p in pids):
            return True
        time.sleep(0.05)
    return all(_gone(p) for p in pids)


def _wait_file(path: Path, timeout_s: float = 30.0) -> str:
    import time

    end = time.monotonic() + timeout_s
    while not path.exists():
        assert time.monotonic() < end, f"{path} never appeared"
        time.sleep(0.05)
    return path.read_text()


def _parent(body: str) -> Any:
    import subprocess
    import sys
    import textwrap

    script = f"import sys, time\nsys.path.insert(0, {str(ROOT)!r})\n" + textwrap.dedent(body)
    return subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _kill_all(pids: list[int]) -> None:
    import os
    import signal

    for p in pids:
        try:
            os.kill(p, signal.SIGKILL)
        except OSError:
            pass


@pytest.mark.parametrize("from_thread", [False, True])
def test_tied_child_dies_with_a_sigkilled_parent(tmp_path: Path, from_thread: bool) -> None:
    import os
    import signal
    import time

    pid_file = tmp_path / "pids"
    parent = _parent(f"""
        import threading
        from profiler.tensorboard import spawn_tied
        STAND_IN = {STAND_IN!r}
        def start():
            spawn_tied([sys.executable, "-c", STAND_IN, {str(pid_file)!r}])
        if {from_thread!r}:
            t = threading.Thread(target=start); t.start(); t.join()  # the starting thread is gone
        else:
            start()
        print("started", flush=True)
        time.sleep(120)
    """)
    pids: list[int] = []
    try:
        assert parent.stdout is not None and parent.stdout.readline().strip() == "started", parent.stderr
        pids = [int(x) for x in _wait_file(pid_file).split()]
        time.sleep(0.5)
        assert not any(_gone(p) for p in pids)  # alive while the parent lives (thread or not)
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(10)
        assert _wait_gone(pids), "the tied child (or its child) outlived the parent"
    finally:
        parent.kill()
        _kill_all(pids)


def test_stop_ends_the_whole_group(tmp_path: Path) -> None:
    import sys

    from profiler.tensorboard import spawn_tied

    pid_file = tmp_path / "pids"
    tied = spawn_tied([sys.executable, "-c", STAND_IN, str(pid_file)])
    pids = [int(x) for x in _wait_file(pid_file).split()]
    try:
        tied.stop(timeout_s=5)
        assert _wait_gone(pids) and tied.process.poll() is not None
        assert tied.tie_fd is None
    finally:
        _kill_all(pids)


@pytest.mark.parametrize("signame", ["SIGTERM", "SIGHUP"])
def test_stop_handlers_stop_tensorboard_then_exit(tmp_path: Path, signame: str) -> None:
    import os
    import signal

    pid_file = tmp_path / "pids"
    log = tmp_path / "tb.log"
    parent = _parent(f"""
        from pathlib import Path
        import signal
        import profiler.tensorboard as t
        # as an app started from a terminal has it: under nohup (a CI runner's shell) SIGHUP is
        # inherited as ignored, and install_stop_handlers rightly keeps an ignored signal ignored
        signal.signal(signal.SIGHUP, signal.SIG_DFL)
        tied = t.spawn_tied([sys.executable, "-c", {STAND_IN!r}, {str(pid_file)!r}])
        tb = t.TensorBoardProcess(process=tied.process, host="127.0.0.1", port=1, logdir=Path("."),
                                  log_path=Path({str(log)!r}), tied=tied)
        Path({str(log)!r}).write_text("log")
        t._live.append(tb)
        assert t.install_stop_handlers() and t.install_stop_handlers()  # idempotent
        print("started", flush=True)
        time.sleep(120)
    """)
    pids: list[int] = []
    try:
        assert parent.stdout is not None and parent.stdout.readline().strip() == "started", parent.stderr
        pids = [int(x) for x in _wait_file(pid_file).split()]
        sig = getattr(signal, signame)
        os.kill(parent.pid, sig)
        assert parent.wait(60) == -sig  # the default action still ends the process
        assert _wait_gone(pids, 1.0)  # already gone: stopped by the handler, not by the tie
        assert not log.exists()  # stop() ran (it removes the log)
    finally:
        parent.kill()
        _kill_all(pids)


def test_real_tensorboard_dies_with_a_sigkilled_parent(tmp_path: Path) -> None:
    import os
    import signal

    from profiler.tensorboard import tensorboard_available

    if tensorboard_available():
        pytest.skip(f"TensorBoard cannot start here: {tensorboard_available()}")
    parent = _parent(f"""
        from profiler.tensorboard import start_tensorboard
        tb = start_tensorboard({str(tmp_path)!r}, timeout_s=90)
        print("started", flush=True)
        time.sleep(300)
    """)
    group: list[int] = []
    try:
        assert parent.stdout is not None
        line = parent.stdout.readline().strip()
        assert line == "started", parent.stderr.read() if parent.stderr else line
        group = _descendants(parent.pid)
        assert len(group) >= 2  # the supervisor and TensorBoard (and its data server)
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(10)
        assert _wait_gone(group, 10.0), [p for p in group if not _gone(p)]
    finally:
        parent.kill()
        _kill_all(group)


def _descendants(pid: int) -> list[int]:
    import os

    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as f:
                    parents[int(entry)] = int(f.read().rsplit(b")", 1)[-1].split()[1])
            except (OSError, ValueError, IndexError):
                pass
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        kids = [c for c, pp in parents.items() if pp == p]
        found += kids
        todo += kids
    return found
