"""`--progress`: one stderr line per stage of a model run, also when stderr is a file or a pipe.

The printer's rules are tested with a fake clock; two runs go end to end through the console
script with stderr redirected to a file (a structured prune, so the pruning stages show).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from profiler.events import Finished, Progress
from tradeoff.main import main
from tradeoff.worker_runs import _Progress, stage_key

REPO_ROOT = Path(__file__).resolve().parents[2]
LINE = re.compile(r"^progress: (?:\[\d+/\d+\] [^:]+: )?(\d{1,3}\.\d)% (.+)$")


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def tradeoff_command() -> list[str]:
    script = Path(sys.executable).with_name("tradeoff")
    return [str(script)] if script.exists() else [sys.executable, "-m", "tradeoff"]


def test_stage_key_drops_the_detail_the_seconds_and_the_counts() -> None:
    assert stage_key("pruning: building the dependency graph (12 s)") == "pruning: building the dependency graph"
    assert stage_key("pruning: removing channels (group 3/12, 4 s)") == "pruning: removing channels"
    assert stage_key("comparing with the baseline: round 11") == stage_key("comparing with the baseline: round 3")
    assert stage_key("loading the model") == "loading the model"


def test_the_printer_writes_one_line_per_stage_change_a_few_per_second(capsys: pytest.CaptureFixture[str]) -> None:
    clock = FakeClock()
    printer = _Progress(enabled=True, lines=True, clock=clock)
    steps = [
        (0.00, 0.00, "loading the model"),
        (0.05, 0.01, "loading the model (1 s)"),  # same stage, soon after: nothing
        (0.10, 0.02, "model loaded"),  # a new stage, but only 0.1 s after the last line: nothing
        (0.50, 0.45, "pruning: building the dependency graph"),
        (1.00, 0.46, "pruning: building the dependency graph (1 s)"),  # same stage
        (6.00, 0.47, "pruning: building the dependency graph (6 s)"),  # same stage, 5 s on: again
        (6.40, 0.48, "pruning: ranking channels (group 1/12)"),
        (6.80, 0.49, "pruning: ranking channels (group 12/12)"),
        (7.20, 0.50, "timing\x1b[31m end to end"),  # a model's text: escaped
    ]
    for at, fraction, message in steps:
        clock.now = at
        printer.on_event(Progress(fraction, message))
    printer.on_event(Finished({}))
    printer.done()
    out, err = capsys.readouterr()
    assert out == ""  # stdout may carry --json -
    assert err.splitlines() == [
        "progress: 0.0% loading the model",
        "progress: 45.0% pruning: building the dependency graph",
        "progress: 47.0% pruning: building the dependency graph (6 s)",
        "progress: 48.0% pruning: ranking channels (group 1/12)",
        "progress: 50.0% timing\\x1b[31m end to end",
    ]


def test_without_the_option_a_redirected_stderr_gets_no_progress(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["profile", "demo:mlp", "--no-latency", "--json", "-"]) == 0
    out, err = capsys.readouterr()
    json.loads(out)
    assert "progress:" not in err and "\r" not in err


@pytest.mark.parametrize("command", ["profile", "sweep", "plan", "report", "trace"])
def test_every_command_that_runs_a_model_takes_the_option(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main([command, "--help"])
    assert "--progress" in capsys.readouterr().out


def test_profile_with_progress_prints_stage_lines_to_a_file(tmp_path: Path) -> None:
    err_file = tmp_path / "stderr.txt"
    with err_file.open("w") as err:
        done = subprocess.run(
            [*tradeoff_command(), "profile", "demo:mlp", "--progress", "--json", "-"],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            timeout=300,
        )
    assert done.returncode == 0, err_file.read_text()
    assert json.loads(done.stdout)["schema"] == "tradeoff.profile/1"  # stdout: the document only
    lines = err_file.read_text().splitlines()
    assert lines and all(LINE.match(line) for line in lines), lines
    assert "loading" in lines[0]
    percents = [float(m.group(1)) for m in map(LINE.match, lines) if m]
    assert percents == sorted(percents) and percents[-1] >= 20.0  # it got past the counting


SLOW_TRACE_MODEL = """
import time
import torch


class SlowWhenTraced(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.body = torch.nn.Sequential(torch.nn.Linear(32, 64), torch.nn.ReLU(), torch.nn.Linear(64, 64))
        self.head = torch.nn.Linear(64, 4)

    def forward(self, x):
        if torch.is_grad_enabled():  # only Torch-Pruning's tracer runs the model with autograd on
            time.sleep(2.5)
        return self.head(self.body(x))


def build_model():
    return SlowWhenTraced(), (torch.randn(1, 32),)
"""


def test_a_structured_prune_prints_its_long_pruning_stage(tmp_path: Path) -> None:
    model = tmp_path / "slow_trace.py"
    model.write_text(SLOW_TRACE_MODEL)
    err_file = tmp_path / "stderr.txt"
    with err_file.open("w") as err:
        done = subprocess.run(
            [*tradeoff_command(), "sweep", str(model), "--prune", "0.45", "--no-latency", "--progress", "--json", "-"],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            timeout=600,
        )
    text = err_file.read_text()
    assert done.returncode == 0, text
    assert json.loads(done.stdout)["schema"] == "tradeoff.sweep/1"  # stdout: the document only
    lines = text.splitlines()
    matches = [LINE.match(line) for line in lines]
    assert all(matches), lines
    percents = [float(m.group(1)) for m in matches if m]
    assert percents == sorted(percents)  # never backwards within the run
    messages = [m.group(2) for m in matches if m]
    assert any(m.startswith("loading") for m in messages), lines
    assert any(m.startswith("pruning: building the dependency graph") for m in messages), lines
    assert len(lines) < 100  # one line per stage, not one per event
