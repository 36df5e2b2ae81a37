"""Sweeps and Optimize… on a Ray cluster, from the app: the command line does the work.

When Run → Measure on… names a cluster (gui/widgets/measure_on.py), the batch sweep and
Optimize… run the equivalent `tradeoff sweep|optimize MODEL … --cluster ADDRESS --progress
--json FILE` in a QProcess (`CliProcess`). The app never imports Ray — a desktop bundle never
freezes it (freezing Ray hangs: ray-project/ray#16338) and a client/cluster version mismatch is
the command line's to report. The command prints one stderr line per finished row,
`progress: 37.5% [3/8] LABEL: done on HOST (8.89 ms)` or `… LABEL: failed on HOST: why`
(`parse_progress_line`); `ClusterRowsWidget` shows them as a progress bar and a list of rows
with their host or error. Cancel sends SIGINT (the command cancels the remote tasks and exits
130), then kills the process if it has not ended within `CANCEL_GRACE_MS`. On success the JSON
document is read back and turned into the result objects the local runs give
(`results_from_sweep`), so the same views fill.

Text from the cluster (host names, errors, labels naming layers) is shown as plain text.
Trust is passed (`--trust`) only when the user confirmed it for this model in this session.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QProgressBar,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gui import plain_text
from gui.widgets.measure_on import read_only_table

#: after Cancel's SIGINT, how long the command gets to cancel the remote tasks and exit
CANCEL_GRACE_MS = 20_000
#: the connection test's limit (Ray's own connect timeout is shorter)
CONNECT_TIMEOUT_MS = 150_000

_ROW = re.compile(
    r"^progress:\s*(?P<pct>[\d.]+)%\s*\[(?P<k>\d+)/(?P<n>\d+)\]\s(?P<label>.*?):\s"
    r"(?:done on (?P<host>.+?)(?: \((?P<ms>[^()]*)\))?|failed on (?P<fhost>.+?): (?P<why>.*)|failed: (?P<why2>.*))$"
)


@dataclass(frozen=True)
class RowProgress:
    """One finished row as the command line reported it."""

    done: int  # rows finished so far
    total: int
    label: str  # the variant's label
    ok: bool
    host: str  # "" when the row failed before reaching a node
    detail: str  # the latency ("8.89 ms") or the error


def parse_progress_line(line: str) -> RowProgress | None:
    """`progress: 37.5% [3/8] LABEL: done on HOST (8.89 ms)` / `…: failed on HOST: why` /
    `…: failed: why` → RowProgress; any other line → None."""
    m = _ROW.match(line.strip())
    if m is None:
        return None
    done, total = int(m["k"]), int(m["n"])
    if m["host"] is not None:
        return RowProgress(done, total, m["label"], True, m["host"], m["ms"] or "")
    if m["fhost"] is not None:
        return RowProgress(done, total, m["label"], False, m["fhost"], m["why"])
    return RowProgress(done, total, m["label"], False, "", m["why2"] or "")


def tradeoff_command() -> list[str]:
    """How to run the command line: this Python with `-m tradeoff`; a frozen app (which has no
    `-m`) uses the `tradeoff` console script on PATH."""
    if getattr(sys, "frozen", False):
        found = shutil.which("tradeoff")
        return [found] if found else ["tradeoff"]
    return [sys.executable, "-m", "tradeoff"]


def _environment() -> QProcessEnvironment:
    """The app's environment, with the source tree importable (a checkout run as `python -m gui`)."""
    env = QProcessEnvironment.systemEnvironment()
    root = str(Path(__file__).resolve().parent.parent.parent)
    path = env.value("PYTHONPATH", "")
    env.insert("PYTHONPATH", root + (os.pathsep + path if path else ""))
    env.insert("PYTHONUNBUFFERED", "1")
    return env


@dataclass(frozen=True)
class CliOutcome:
    exit_code: int
    document: dict[str, Any] | None  # the --json document, when the command wrote one
    error: str  # the command's `error: …` line (or why the process could not run); "" when none
    cancelled: bool


class CliProcess(QObject):
    """One `tradeoff …` command in a QProcess: per-row progress as signals, the JSON document at
    the end, Cancel as SIGINT. `json_file`: where the command writes (a fresh temporary file)."""

    row_finished = Signal(object)  # RowProgress
    line_received = Signal(str)  # every stderr line (plain text)
    finished = Signal(object)  # CliOutcome

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.process = QProcess(self)
        self.process.setProcessEnvironment(_environment())
        self.process.readyReadStandardError.connect(self._on_process_stderr)
        self.process.finished.connect(self._on_process_finished)
        self.process.errorOccurred.connect(self._on_process_error)
        self._dir = tempfile.mkdtemp(prefix="tradeoff-cluster-")
        self.json_file = str(Path(self._dir) / "result.json")
        self._buffer = b""
        self._lines: list[str] = []
        self._stdout = b""
        self._cancelled = False
        self._ended = False
        self._kill_timer = QTimer(self, singleShot=True, interval=CANCEL_GRACE_MS)
        self._kill_timer.timeout.connect(self.process.kill)
        self.arguments: list[str] = []

    def start(self, arguments: list[str]) -> None:
        """Run `tradeoff ARGUMENTS…` (the caller adds `--json` where it wants the document)."""
        command = tradeoff_command()
        self.arguments = arguments
        self.process.start(command[0], command[1:] + arguments)

    def running(self) -> bool:
        return self.process.state() != QProcess.ProcessState.NotRunning

    def cancel(self) -> None:
        """SIGINT (the command cancels its remote tasks and exits 130); killed after the grace."""
        if not self.running() or self._cancelled:
            return
        self._cancelled = True
        pid = int(self.process.processId() or 0)
        if pid > 0 and hasattr(signal, "SIGINT") and sys.platform != "win32":
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGINT)
        else:
            self.process.terminate()
        self._kill_timer.start()

    def kill(self) -> None:
        if self.running():
            self._cancelled = True
            self.process.kill()
            self.process.waitForFinished(5000)

    def stdout_text(self) -> str:
        return self._stdout.decode("utf-8", errors="replace")

    @property
    def stderr_lines(self) -> list[str]:
        return list(self._lines)

    def _on_process_stderr(self) -> None:
        self._buffer += bytes(self.process.readAllStandardError().data())
        *lines, self._buffer = self._buffer.split(b"\n")
        for raw in lines:
            self._take_line(raw)

    def _take_line(self, raw: bytes) -> None:
        line = raw.decode("utf-8", errors="replace").rstrip("\r")
        if not line.strip():
            return
        self._lines.append(line)
        self.line_received.emit(line)
        row = parse_progress_line(line)
        if row is not None:
            self.row_finished.emit(row)

    def _on_process_finished(self, code: int, status: QProcess.ExitStatus) -> None:
        self._on_process_stderr()
        if self._buffer:
            self._take_line(self._buffer)
            self._buffer = b""
        self._stdout += bytes(self.process.readAllStandardOutput().data())
        crashed = status == QProcess.ExitStatus.CrashExit
        self._finish(130 if crashed and self._cancelled else (code if not crashed else -1))

    def _on_process_error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self._lines.append(f"error: the command line could not start ({self.process.errorString()})")
            self._finish(-1)

    def _finish(self, code: int) -> None:
        if self._ended:
            return
        self._ended = True
        self._kill_timer.stop()
        document = None
        with contextlib.suppress(OSError, ValueError):
            loaded = json.loads(Path(self.json_file).read_text(encoding="utf-8"))
            document = loaded if isinstance(loaded, dict) else None
        shutil.rmtree(self._dir, ignore_errors=True)
        errors = [x for x in self._lines if x.startswith("error:")]
        error = errors[-1] if errors else ""
        if not error and code not in (0, 130) and self._lines:
            error = self._lines[-1]
        self.finished.emit(CliOutcome(code, document, error[:400], self._cancelled or code == 130))


# --- the command lines ------------------------------------------------------------------------


def shape_arguments(shapes: tuple[tuple[str | None, tuple[int, ...]], ...]) -> list[str]:
    out: list[str] = []
    for name, dims in shapes:
        text = "x".join(str(int(d)) for d in dims)
        out += ["--input-shape", f"{name}={text}" if name else text]
    return out


def unexpressible(variant: Any) -> str:
    """Why `variant` cannot be asked of the command line's sweep ("" when it can)."""
    if variant.layer_prune:
        return "per-layer pruning ratios"
    if variant.image_size is not None:
        return "an image size"
    if variant.round_to is not None:
        return "rounded channel counts"
    return ""


def sweep_arguments(
    source: str,
    variants: list[Any],
    *,
    address: str,
    trust: bool,
    shapes: tuple[tuple[str | None, tuple[int, ...]], ...],
    time_limit_s: float,
    json_file: str,
) -> list[str]:
    """`sweep MODEL …` for `variants` that differ only in batch (the batch sweep's)."""
    v = variants[0]
    args = ["sweep", source, *shape_arguments(shapes), "--device", str(v.device)]
    args += ["--batch", ",".join(str(x.batch) for x in variants), "--precision", str(v.precision)]
    if v.prune:
        args += ["--prune", repr(float(v.prune)), "--prune-method", str(v.prune_method)]
    if v.runtime is not None:
        args += ["--runtime", str(v.runtime)]
    if v.seq_len is not None:
        args += ["--seq-len", str(v.seq_len)]
    if v.recover_steps:
        args += ["--recover-steps", str(v.recover_steps)]
        if v.recover_budget_s is not None:
            args += ["--recover-budget", repr(float(v.recover_budget_s))]
    if trust:
        args.append("--trust")
    args += ["--time-limit", repr(float(time_limit_s)), "--cluster", address, "--progress", "--json", json_file]
    return args


def plan_arguments(options: Any) -> list[str]:
    """The Planner tab's inputs (`PlanOptions`, as the app sets them) as `plan` options."""
    args: list[str] = []

    def opt(flag: str, value: Any) -> None:
        if value is not None:
            args.extend([flag, repr(float(value)) if isinstance(value, float) else str(value)])

    opt("--train-tokens", options.train_tokens)
    opt("--train-samples", options.train_samples)
    if options.epochs != 1.0:
        opt("--epochs", options.epochs)
    opt("--mfu", options.mfu)
    opt("--train-days", options.train_days)
    if options.gpus:
        args += ["--gpu", ",".join(options.gpus)]
    opt("--serve-qps", options.serve_qps)
    opt("--slo-ms", options.slo_ms)
    opt("--utilization", options.utilization)
    if options.serve_as_measured:
        args += ["--serve-precision", "measured"]
    elif options.precision is not None:
        args += ["--serve-precision", str(options.precision)]
    if options.price_discount:
        opt("--discount", options.price_discount)
    return args


def optimize_arguments(
    source: str,
    *,
    own_runtime: str,
    floor: Any,
    space: Any,
    budget: Any,
    options: Any,
    address: str,
    trust: bool,
    shapes: tuple[tuple[str | None, tuple[int, ...]], ...],
    time_limit_s: float,
    json_file: str,
) -> list[str]:
    """`optimize MODEL …` for the Optimize dialog's floor, space and budget and the Planner tab's inputs."""
    args = ["optimize", source, *shape_arguments(shapes), "--device", str(space.device)]
    args += ["--precision", ",".join(str(p) for p in space.precisions)]
    args += ["--runtimes", ",".join(dict.fromkeys(own_runtime if r is None else str(r) for r in space.runtimes))]
    args += ["--max-prune", repr(float(space.max_prune)), "--resolution", repr(float(space.resolution))]
    if len(space.prune_methods) == 1:
        args += ["--prune-method", str(space.prune_methods[0])]
    if not space.layer_overrides:
        args.append("--no-layer-overrides")
    if space.recover_steps:
        args += ["--recover-steps", str(space.recover_steps)]
    parts = []
    if budget.seconds is not None:
        parts.append(f"{budget.seconds:g}s")
    if budget.variants is not None:
        parts.append(f"{budget.variants}v")
    if parts:
        args += ["--budget", ",".join(parts)]
    if floor.max_accuracy_drop_pp is not None:
        args += ["--max-accuracy-drop", repr(float(floor.max_accuracy_drop_pp))]
    if floor.min_cosine is not None:
        args += ["--min-cosine", repr(float(floor.min_cosine))]
    if floor.min_top1_agreement is not None:
        args += ["--min-top1-agreement", repr(float(floor.min_top1_agreement))]
    args += plan_arguments(options)
    if trust:
        args.append("--trust")
    args += ["--time-limit", repr(float(time_limit_s)), "--cluster", address, "--progress", "--json", json_file]
    return args


# --- the documents back into the app's result objects ------------------------------------------------


def results_from_sweep(doc: dict[str, Any], variants: list[Any], reference: Any) -> list[Any]:
    """The `tradeoff.sweep/1` rows of `variants` (matched by label) as VariantResults for the
    workspace. The document carries each row's totals, not its per-layer rows: the profile is
    the reference's model and inputs with the row's totals, no layers, and a warning saying so;
    the node that measured it is its environment. Failed rows come back with their error."""
    from profiler.comparison import Comparison, RatioEstimate
    from profiler.fidelity import Fidelity
    from profiler.result import Profile, Totals
    from profiler.sweep import SweepDocument
    from profiler.whatif import VariantResult

    SweepDocument.from_dict(doc)  # the contract's reader: SchemaError names what does not fit
    by_label = {v.label(): v for v in variants}
    out = []
    for row in doc.get("variants", ()):
        variant = by_label.get(str(row.get("label")))
        if variant is None:
            continue
        env = row.get("environment") if isinstance(row.get("environment"), dict) else {}
        host = str(env.get("host") or "a cluster node")
        if row.get("error") is not None or row.get("totals") is None:
            out.append(VariantResult(variant, None, None, None, {}, error=str(row.get("error") or "failed")))
            continue
        config = row.get("config") or {}
        run_config = replace(
            reference.config,
            batch=int(config.get("batch") or variant.batch or reference.config.batch),
            precision=variant.precision,
            device=variant.device,
            prune=float(variant.prune),
            prune_method=variant.prune_method,
            seq_len=variant.seq_len,
            threads=None,
        )
        if config.get("runtime"):
            run_config = replace(run_config, runtime=str(config["runtime"]))
        profile = Profile(
            model=reference.model,
            inputs=reference.inputs,
            config=run_config,
            environment=_environment_of(env),
            totals=Totals.from_dict(row["totals"]),
            layers=(),
            warnings=(f"measured on the cluster node {host}: totals only (the sweep document has no per-layer rows)",),
            latency_source="measured",
        )
        out.append(
            VariantResult(
                variant=variant,
                profile=profile,
                baseline=reference,
                fidelity=Fidelity.from_dict(row["fidelity"]) if row.get("fidelity") else None,
                delta=dict(row.get("delta") or {}),
                notes=(*[str(n) for n in row.get("notes") or ()], f"measured on {host} (cluster)"),
                prune_report=row.get("prune_report"),
                effective_macs=row.get("effective_macs"),
                latency_ratio=RatioEstimate.from_dict(row["latency_ratio"]) if row.get("latency_ratio") else None,
                throughput_ratio=(
                    RatioEstimate.from_dict(row["throughput_ratio"]) if row.get("throughput_ratio") else None
                ),
                comparison=Comparison.from_dict(row["comparison"]) if row.get("comparison") else None,
                recover=row.get("recover"),
            )
        )
    return out


def _environment_of(env: dict[str, Any]) -> Any:
    from profiler.result import Environment

    try:
        return Environment(
            cpu=str(env.get("cpu") or ""),
            cores=int(env.get("cores") or 0),
            threads=int(env.get("threads") or env.get("cores") or 0),
            gpu=env.get("gpu"),
            torch=env.get("torch"),
            onnxruntime=env.get("onnxruntime"),
            python=str(env.get("python") or ""),
            os=str(env.get("os") or ""),
            gpu_memory_bytes=env.get("gpu_memory_bytes"),
            gpu_driver=env.get("gpu_driver"),
        )
    except (TypeError, ValueError):
        return None


# --- the rows as they finish ---------------------------------------------------------------------

ROW_COLUMNS = ("variant", "state", "node / why")
WAITING = "queued on the cluster"


class ClusterRowsWidget(QWidget):
    """A progress bar, one line of status and the rows with their host or error."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.progress = QProgressBar(textVisible=True)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.status = plain_text.label("", objectName="Muted")
        self.status.setWordWrap(True)
        self.table = read_only_table(ROW_COLUMNS)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.progress)
        lay.addWidget(self.status)
        lay.addWidget(self.table, 1)
        self.total = 0

    def reset(self, labels: list[str], total: int | None = None) -> None:
        """Rows for `labels` (waiting), a bar to `total` (default: one step per label)."""
        self.table.setRowCount(0)
        for label in labels:
            self._set_row(self._append(label), WAITING, "")
        self.total = total if total is not None else len(labels)
        self.progress.setRange(0, self.total)  # 0: busy (a search decides how many it measures)
        self.progress.setValue(0)
        self.progress.setFormat(f"0 / {self.total} rows")

    def on_row(self, row: RowProgress, done: int | None = None) -> None:
        """A finished row: its line, the bar (`done` overrides the row's own count)."""
        index = self._row_of(row.label)
        if index is None:
            index = self._append(row.label)
        if row.ok:
            self._set_row(index, "done", f"{row.host} ({row.detail})" if row.detail else row.host)
        else:
            self._set_row(index, "failed", f"{row.host}: {row.detail}" if row.host else row.detail)
        if done is not None and not self.total:  # a search: as many as it asks for
            return
        finished = done if done is not None else row.done
        total = max(self.total, row.total if done is None else self.total)
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(min(finished, total))
        self.progress.setFormat(f"{finished} / {total} rows")

    def end_waiting(self, state: str) -> int:
        """Rows still waiting take `state` ("cancelled", "not run"); how many did."""
        n = 0
        for r in range(self.table.rowCount()):
            cell = self.table.item(r, 1)
            if cell is not None and cell.text() == WAITING:
                self._set_row(r, state, "")
                n += 1
        return n

    def states(self) -> dict[str, tuple[str, str]]:
        """label → (state, node or why), as shown."""
        out = {}
        for r in range(self.table.rowCount()):
            cells = [self.table.item(r, c) for c in range(3)]
            label, state, where = (c.text() if c is not None else "" for c in cells)
            out[label] = (state, where)
        return out

    def _row_of(self, label: str) -> int | None:
        for r in range(self.table.rowCount()):
            cell = self.table.item(r, 0)
            if cell is not None and cell.text() == label:
                return r
        return None

    def _append(self, label: str) -> int:
        r = self.table.rowCount()
        self.table.insertRow(r)
        item = QTableWidgetItem(label)  # a table item is never rich text
        item.setToolTip(plain_text.tip(label))
        self.table.setItem(r, 0, item)
        return r

    def _set_row(self, r: int, state: str, where: str) -> None:
        for col, text in ((1, state), (2, where)):
            item = QTableWidgetItem(text)
            item.setToolTip(plain_text.tip(text))
            self.table.setItem(r, col, item)


class ClusterRunDialog(QDialog):
    """A batch sweep on the cluster as it runs: the rows, Cancel, and Close once it ended."""

    cancel_requested = Signal()

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(plain_text.window_title(title))
        self.resize(720, 420)
        self.rows = ClusterRowsWidget(self)
        self.heading = plain_text.label("")
        self.heading.setWordWrap(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel_requested.emit)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.close_button)
        lay = QVBoxLayout(self)
        lay.addWidget(self.heading)
        lay.addWidget(self.rows, 1)
        lay.addLayout(buttons)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)

    def set_running(self, running: bool) -> None:
        self.cancel_button.setEnabled(running)


# --- Run → Measure on… ---------------------------------------------------------------------------


class MeasureOn(QObject):
    """Run → Measure on…: the dialog, its connection test (`tradeoff cluster ADDRESS --json -`
    in a QProcess) and the setting (`AppSettings.measure_on`)."""

    changed = Signal(str)  # the address now in use ("" for this machine)

    def __init__(self, w: Any) -> None:
        super().__init__(w)
        self._w = w
        self.dialog: Any = None
        self.test: CliProcess | None = None
        self._timer = QTimer(self, singleShot=True, interval=CONNECT_TIMEOUT_MS)
        self._timer.timeout.connect(self._on_timer_timeout)

    @property
    def address(self) -> str:
        """The cluster sweeps and Optimize… measure on; "" for this machine."""
        return str(self._w.settings.measure_on)

    def show(self) -> Any:
        from gui.widgets.measure_on import MeasureOnDialog

        if self.dialog is not None and self.dialog.isVisible():
            self.dialog.raise_()
            return self.dialog
        settings = self._w.settings
        dialog = MeasureOnDialog(bool(settings.measure_on), settings.cluster_address, self._w)
        dialog.test_requested.connect(self._on_dialog_test_requested)
        dialog.accepted.connect(self._on_dialog_accepted)
        dialog.finished.connect(lambda _=0: self._stop_test())
        self.dialog = dialog
        dialog.show()
        return dialog

    def _on_dialog_test_requested(self, address: str) -> None:
        self._stop_test()
        test = CliProcess(self)
        test.finished.connect(self._on_test_finished)
        self.test = test
        self._timer.start()
        test.start(["cluster", address, "--json", "-"])

    def _on_test_finished(self, outcome: CliOutcome) -> None:
        self._timer.stop()
        test, self.test = self.test, None
        dialog = self.dialog
        if dialog is None or test is None:
            return
        doc = None
        if outcome.exit_code == 0:
            with contextlib.suppress(ValueError):
                loaded = json.loads(test.stdout_text())
                doc = loaded if isinstance(loaded, dict) and loaded.get("schema") == "tradeoff.cluster/1" else None
        if doc is not None:
            dialog.show_cluster(doc)
        elif outcome.cancelled:
            dialog.show_error(f"no answer within {CONNECT_TIMEOUT_MS // 1000} s")
        else:
            dialog.show_error(outcome.error or f"the connection test ended with exit code {outcome.exit_code}")

    def _on_timer_timeout(self) -> None:
        if self.test is not None:
            self.test.kill()

    def _stop_test(self) -> None:
        self._timer.stop()
        if self.test is not None:
            test, self.test = self.test, None
            test.finished.disconnect(self._on_test_finished)
            test.kill()

    def _on_dialog_accepted(self) -> None:
        dialog = self.dialog
        if dialog is None:
            return
        self._w.settings.set_measure_on(dialog.use_cluster(), dialog.chosen_address())
        where = self.address
        self._w.statusBar().showMessage(
            f"Sweeps and Optimize… measure on the cluster at {where}" if where else "Measuring on this machine", 8000
        )
        self.changed.emit(where)

    def close(self) -> None:
        self._stop_test()
