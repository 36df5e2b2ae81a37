"""Start TensorBoard with the PyTorch profiler plugin on a log folder (see `profiler.trace`,
which records the traces), and keep it from outliving the process that started it.

TensorBoard never outlives the process that started it (`start_tensorboard` -> `spawn_tied`):
it runs under a tiny supervisor in its own process group, which ends the whole group when the
parent dies by any means (SIGKILL and crashes included): on Linux by a parent-death signal
(PR_SET_PDEATHSIG), everywhere by end-of-file on a pipe only the parent holds. `stop()` ends
the group (TensorBoard and anything it started); `install_stop_handlers()` makes SIGTERM and
SIGHUP stop every TensorBoard of this process before the process goes.

Qt-free and standard library only (plus this package's errors and text helpers).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import InputError
from .textsafe import terminal_safe

#: torch-tb-profiler's endpoint listing the runs it found under --logdir.
RUNS_ENDPOINT = "/data/plugin/pytorch_profiler/runs"


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


# A supervisor between this process and the command (python -I -c, standard library only):
# argv = WATCH_FD PARENT_PID PDEATHSIG(0|1) CMD…. It runs CMD in its own process group (the
# parent starts it with start_new_session) and ends the group when the parent goes: a Linux
# parent-death signal (set in itself and in CMD) and end-of-file on WATCH_FD, the read end of a
# pipe whose write end only the parent holds (any death of the parent closes it).
_SUPERVISOR = r"""# tradeoff-studio supervisor: ends its process group when its parent goes
import os, signal, subprocess, sys, threading
watch_fd, parent, want_pdeath, cmd = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "1", sys.argv[4:]
def pdeathsig():
    if sys.platform.startswith("linux"):
        try:
            import ctypes
            ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM), 0, 0, 0)  # PR_SET_PDEATHSIG
        except Exception:
            pass
stopping = threading.Event()
def kill_group(sig):
    try:
        os.killpg(0, sig)
    except OSError:
        pass
def shutdown(*_):
    if stopping.is_set():
        return
    stopping.set()
    t = threading.Timer(5.0, kill_group, (signal.SIGKILL,))
    t.daemon = True
    t.start()
    kill_group(signal.SIGTERM)
for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
    signal.signal(s, shutdown)
if want_pdeath:
    pdeathsig()
if os.getppid() != parent:
    sys.exit(143)
def watch():
    try:
        while os.read(watch_fd, 4096):
            pass
    except OSError:
        pass
    shutdown()
threading.Thread(target=watch, daemon=True).start()
try:
    child = subprocess.Popen(cmd, preexec_fn=pdeathsig if want_pdeath else None)
except OSError as exc:
    sys.stderr.write(f"cannot start {cmd[0]}: {exc}\n")
    sys.exit(127)
rc = child.wait()
if stopping.is_set():
    kill_group(signal.SIGKILL)
sys.exit(rc if rc >= 0 else 128 - rc)
"""


@dataclass
class TiedProcess:
    """A command started by `spawn_tied`: `process` is its supervisor (its exit is the
    command's), `pgid` the process group of both, `tie_fd` the pipe end that keeps it alive."""

    process: subprocess.Popen[bytes]
    tie_fd: int | None

    @property
    def pgid(self) -> int:
        return self.process.pid

    def stop(self, timeout_s: float = 10.0) -> None:
        """End the whole process group: SIGTERM, then SIGKILL after `timeout_s`."""
        fd, self.tie_fd = self.tie_fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)  # the supervisor sees end-of-file and ends the group itself, too
        if _exited(self.process):
            return
        with contextlib.suppress(OSError):
            os.killpg(self.pgid, signal.SIGTERM)
        if not _wait_exited(self.process, timeout_s):
            with contextlib.suppress(OSError):
                os.killpg(self.pgid, signal.SIGKILL)  # a hung supervisor, and whatever is left
            _wait_exited(self.process, timeout_s)


def _exited(proc: subprocess.Popen[bytes]) -> bool:
    """Has `proc` ended? Works inside a signal handler that interrupted `proc.wait()` (which
    holds the Popen's wait lock, so `poll()` cannot reap it): a zombie counts as ended."""
    if proc.poll() is not None:
        return True
    if not sys.platform.startswith("linux"):
        return False
    try:
        with open(f"/proc/{proc.pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[-1].split()[0] in (b"Z", b"X")
    except FileNotFoundError:
        return True
    except (OSError, IndexError):
        return False


def _wait_exited(proc: subprocess.Popen[bytes], timeout_s: float) -> bool:
    end = time.monotonic() + timeout_s
    while not _exited(proc):
        if time.monotonic() > end:
            return False
        time.sleep(0.02)
    return True


def spawn_tied(
    cmd: Sequence[str],
    *,
    stdout: Any = None,
    stderr: Any = None,
    env: dict[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
) -> TiedProcess:
    """Start `cmd` so that it cannot outlive this process: in a new session and process group,
    under a supervisor that ends the group when this process dies (even by SIGKILL). The
    parent-death signal is only armed when called from the main thread: Linux sends it when the
    *thread* that forked exits; the pipe covers every other case."""
    read_fd, write_fd = os.pipe()  # both non-inheritable: no other child keeps the write end
    main = threading.current_thread() is threading.main_thread()
    argv = [
        sys.executable,
        "-I",
        "-c",
        _SUPERVISOR,
        str(read_fd),
        str(os.getpid()),
        "1" if main else "0",
        *map(str, cmd),
    ]
    try:
        proc = subprocess.Popen(
            argv,
            stdout=stdout,
            stderr=stderr,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=cwd,
            pass_fds=(read_fd,),
            start_new_session=True,
        )
    except BaseException:
        os.close(write_fd)
        raise
    finally:
        os.close(read_fd)
    return TiedProcess(proc, write_fd)


_live: list[TensorBoardProcess] = []
_live_lock = threading.RLock()
_previous_handlers: dict[int, Any] = {}
_atexit_registered = False


def stop_all_tensorboards() -> None:
    """Stop every TensorBoard this process started and has not stopped yet."""
    with _live_lock:
        running = list(_live)
    for tb in running:
        tb.stop()


def _on_signal(signum: int, frame: Any) -> None:
    stop_all_tensorboards()
    previous = _previous_handlers.get(signum, signal.SIG_DFL)
    if callable(previous):
        previous(signum, frame)
    elif previous == signal.SIG_IGN:
        return
    else:  # the default action (terminate), as if we had not been here
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)


def install_stop_handlers(signals: Sequence[int] = (signal.SIGTERM, signal.SIGHUP)) -> bool:
    """Make `signals` stop every TensorBoard of this process, then do what they did before
    (the previous Python handler, or the default action: the process ends). Call it from the
    main thread (Python's rule for signal handlers); returns False when called elsewhere.
    Idempotent. (A Qt app's Python handlers run only when Python code runs: the app keeps a
    timer or a wakeup fd for that; without them the tie still ends TensorBoard when the app
    dies.)"""
    if threading.current_thread() is not threading.main_thread():
        return False
    for signum in signals:
        current = signal.getsignal(signum)
        if current is _on_signal:
            continue
        _previous_handlers[signum] = current
        signal.signal(signum, _on_signal)
    return True


@dataclass
class TensorBoardProcess:
    """A TensorBoard server we started; `stop()` ends it and whatever it started (its process
    group), and nothing else. `process` is its supervisor: it exits when TensorBoard does."""

    process: subprocess.Popen[bytes]
    host: str
    port: int
    logdir: Path
    log_path: Path
    _closed: bool = field(default=False, repr=False)
    tied: TiedProcess | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    @property
    def profiler_url(self) -> str:
        """The page that opens the PyTorch profiler plugin directly."""
        return self.url + "#pytorch_profiler"

    def runs(self, timeout_s: float = 5.0) -> list[str]:
        """The runs the plugin lists now (GET RUNS_ENDPOINT)."""
        import json

        with urllib.request.urlopen(self.url.rstrip("/") + RUNS_ENDPOINT, timeout=timeout_s) as r:
            data = json.loads(r.read().decode("utf-8"))
        return [str(x) for x in (data.get("runs", []) if isinstance(data, dict) else data)]

    def wait_for_run(self, run_name: str, timeout_s: float = 60.0) -> list[str]:
        """Poll until the plugin lists `run_name`; returns the runs. Raises TimeoutError."""
        end = time.monotonic() + timeout_s
        runs: list[str] = []
        while time.monotonic() < end:
            if self.process.poll() is not None:
                raise RuntimeError(f"TensorBoard exited with code {self.process.returncode}: {self.log_tail()}")
            try:
                runs = self.runs()
                if run_name in runs:
                    return runs
            except (urllib.error.URLError, OSError, ValueError):
                pass
            time.sleep(0.5)
        raise TimeoutError(f"TensorBoard did not list run {run_name!r} within {timeout_s:.0f} s (runs: {runs})")

    def log_tail(self, chars: int = 2000) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self, timeout_s: float = 10.0) -> None:
        if self._closed:
            return
        self._closed = True
        with _live_lock:
            if self in _live:
                _live.remove(self)
        if self.tied is not None:
            self.tied.stop(timeout_s)
        elif self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=timeout_s)
        try:
            self.log_path.unlink()
        except OSError:
            pass

    def __enter__(self) -> TensorBoardProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def tensorboard_available() -> str | None:
    """None when TensorBoard and torch-tb-profiler can be imported here; else why not."""
    import importlib.util

    for mod, pkg in (("tensorboard", "tensorboard"), ("torch_tb_profiler", "torch-tb-profiler")):
        if importlib.util.find_spec(mod) is None:
            return f"{pkg} is not installed (pip install {pkg})"
    return None


def start_tensorboard(
    logdir: str | os.PathLike[str],
    *,
    host: str = "127.0.0.1",
    port: int | None = None,
    open_browser: bool = False,
    timeout_s: float = 60.0,
    opener: Callable[[str], Any] | None = None,
) -> TensorBoardProcess:
    """Start `python -m tensorboard.main --logdir LOGDIR` on HOST:PORT (a free port by default)
    and wait until it answers HTTP; open the browser on the profiler plugin when asked.
    The server reads the log folder; the caller stops it with `.stop()` (or a `with` block).
    It is tied to this process (`spawn_tied`): it ends when this process ends, however that
    happens; `install_stop_handlers()` also stops it cleanly on SIGTERM/SIGHUP.

    Raises InputError when TensorBoard is missing or does not come up within `timeout_s`."""
    missing = tensorboard_available()
    if missing:
        raise InputError("tensorboard", missing)
    root = Path(logdir).expanduser().resolve()
    if not root.is_dir():
        raise InputError(str(logdir), "no such folder (record a trace into it first)")
    port = port or free_port(host)
    fd, log_name = tempfile.mkstemp(prefix="tradeoff-tensorboard-", suffix=".log")
    cmd = [
        sys.executable,
        "-m",
        "tensorboard.main",
        "--logdir",
        str(root),
        "--host",
        host,
        "--port",
        str(port),
        "--reload_interval",
        "2",
    ]
    env = dict(os.environ)
    env.setdefault("PYTHONWARNINGS", "ignore")
    with os.fdopen(fd, "wb") as log:
        tied = spawn_tied(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    proc = tied.process
    tb = TensorBoardProcess(process=proc, host=host, port=port, logdir=root, log_path=Path(log_name), tied=tied)
    global _atexit_registered
    with _live_lock:
        _live.append(tb)
        if not _atexit_registered:
            atexit.register(stop_all_tensorboards)
            _atexit_registered = True
    end = time.monotonic() + timeout_s
    while True:
        if proc.poll() is not None:
            tail = terminal_safe(" ".join(tb.log_tail(400).split())[-300:])
            tb.stop()
            raise InputError("tensorboard", f"exited with code {proc.returncode}: {tail}")
        try:
            with urllib.request.urlopen(tb.url + "data/logdir", timeout=2.0):
                break
        except (urllib.error.URLError, OSError):
            if time.monotonic() > end:
                tb.stop()
                raise InputError("tensorboard", f"did not answer on {tb.url} within {timeout_s:.0f} s") from None
            time.sleep(0.3)
    if open_browser:
        import webbrowser

        (opener or webbrowser.open)(tb.profiler_url)
    return tb
