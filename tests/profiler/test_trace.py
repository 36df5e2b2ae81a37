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
    from gui.cli import build_parser
    from gui.report.commands import configure

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    if "trace" not in sub.choices:
        configure(sub)
    return parser


def test_cli_trace_runs_in_the_worker(tmp_path: Path, capsys: Any) -> None:
    from gui.report.commands import run_trace

    args = _trace_parser().parse_args(["trace", "demo:mlp", "--logdir", str(tmp_path / "logs"), "--run-name", "cli-run",
                                       "--json", str(tmp_path / "trace.json")])
    assert run_trace(args) == 0
    out = capsys.readouterr().out
    assert "wrote run 'cli-run'" in out and "Perfetto" in out
    doc = json.loads((tmp_path / "trace.json").read_text())
    assert doc["schema"] == "tradeoff.trace/1" and Path(doc["run_dir"]).name == "cli-run"
    assert all(WORKER_PATTERN.match(Path(f).name) for f in doc["trace_files"])


def test_cli_trace_bad_logdir_is_exit_2(tmp_path: Path) -> None:
    from gui.report.commands import run_trace
    from profiler.errors import InputError

    blocker = tmp_path / "f"
    blocker.write_text("x")
    args = _trace_parser().parse_args(["trace", "demo:mlp", "--logdir", str(blocker)])
    with pytest.raises(InputError) as info:
        run_trace(args)
    assert info.value.exit_code == 2


def test_tensorboard_lists_the_run(recorded: Any) -> None:
    from profiler.trace import start_tensorboard, tensorboard_available

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
    assert tb.process.poll() is not None  # the server we started is gone
