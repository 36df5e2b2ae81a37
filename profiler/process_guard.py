"""Keep what a model starts inside the run that started it (Linux; best effort elsewhere).

A model's code may print, start processes, detach them (double fork + setsid), or kill its own
process. The worker process is therefore:

* the leader of its own process group (``killpg`` reaches every descendant that did not detach),
* a *child subreaper* (``PR_SET_CHILD_SUBREAPER``): a descendant that detaches is re-parented to
  the worker instead of init, so it stays visible as a descendant and can be killed,
* tied to its parent (``PR_SET_PDEATHSIG``): if the app or the CLI dies, the worker dies too,
* given a private scratch folder as its temporary folder, which the parent removes after the
  worker has exited, however it exited,
* cut off from the terminal's stdout (fd 1 points at stderr), so nothing a model prints can mix
  into ``--json -``, and from stdin (``/dev/null``), so nothing can wait on a prompt.

Standard library only at module level: the worker module imports this before anything else.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

__all__ = [
    "SCRATCH_PREFIX",
    "isolate_worker",
    "kill_process_tree",
    "descendant_pids",
    "make_scratch",
    "remove_scratch",
    "remove_stale_scratch",
    "become_subreaper",
    "remember_births",
    "memory_pressure",
]

SCRATCH_PREFIX = "tradeoff-run-"
_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36


def _prctl(option: int, value: int) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(option, value, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def become_subreaper() -> bool:
    """Orphaned descendants of this process are re-parented to it (Linux)."""
    return _prctl(_PR_SET_CHILD_SUBREAPER, 1)


def isolate_worker(parent_pid: int, scratch: str | None) -> None:
    """Called first thing in the worker process (see the module docstring)."""
    with contextlib.suppress(OSError):
        os.setpgid(0, 0)
    _prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL))
    if os.getppid() != parent_pid:  # the parent died before the death signal was armed
        os._exit(1)
    become_subreaper()
    with contextlib.suppress(OSError):
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
    with contextlib.suppress(OSError, ValueError):
        sys.stdout.flush()
        os.dup2(2, 1)
    # no downloads at run time, whatever a config names (a backbone, a kernel on the Hub)
    os.environ["HF_HUB_OFFLINE"] = os.environ["TRANSFORMERS_OFFLINE"] = "1"
    if scratch:
        os.environ["TMPDIR"] = scratch
        os.environ["TEMP"] = os.environ["TMP"] = scratch
        tempfile.tempdir = scratch
        # trusted custom code of a Hugging Face folder is copied here, not into ~/.cache
        os.environ["HF_MODULES_CACHE"] = os.path.join(scratch, "hf_modules")


def descendant_pids(pid: int) -> list[int]:
    """Every live descendant of ``pid`` (children first), or [] when it is gone."""
    try:
        import psutil

        return [p.pid for p in psutil.Process(pid).children(recursive=True)]
    except Exception:  # psutil.NoSuchProcess, AccessDenied, or psutil missing: nothing to find
        return []


def kill_process_tree(
    pid: int, *, include_self: bool = True, group: bool = True, known: list[int] | None = None
) -> None:
    """SIGKILL ``pid`` (with ``include_self``; only while it is a live, unreaped child), its
    process group (with ``group``: the pid leads it, see ``isolate_worker``), its descendants,
    and the ``known`` pids seen earlier.

    Descendants are collected before anything is killed (a killed parent's children move to
    the subreaper). A ``known`` pid (seen earlier as a descendant, see ``remember_births``) is
    killed only while its start time still matches, so a recycled pid is spared.
    """
    victims = descendant_pids(pid)
    extra = [p for p in (known or []) if p not in victims and p != pid]
    if group:
        # Linux never hands out a pid that is still some group's id, so this cannot hit strangers
        with contextlib.suppress(OSError):
            os.killpg(pid, signal.SIGKILL)
    for child in [*victims, *_still_ours(extra)]:
        with contextlib.suppress(OSError):
            os.kill(child, signal.SIGKILL)
    if include_self:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


_PID_BIRTH: dict[int, float] = {}


def remember_births(pids: list[int]) -> None:
    """Note when each pid started, so a later kill of a remembered pid spares a recycled one."""
    try:
        import psutil
    except ImportError:
        return
    for p in pids:
        if p not in _PID_BIRTH:
            with contextlib.suppress(Exception):
                _PID_BIRTH[p] = psutil.Process(p).create_time()
    if len(_PID_BIRTH) > 4096:
        _PID_BIRTH.clear()


def _still_ours(pids: list[int]) -> list[int]:
    try:
        import psutil
    except ImportError:
        return []
    out = []
    for p in pids:
        birth = _PID_BIRTH.get(p)
        with contextlib.suppress(Exception):
            if birth is not None and abs(psutil.Process(p).create_time() - birth) < 0.01:
                out.append(p)
    return out


def memory_pressure(
    pids: list[int], *, reserve_bytes: int | None = None, min_rss_bytes: int | None = None
) -> str | None:
    """A one-line reason to stop the processes `pids` when the machine is about to run out of
    memory and they hold a good part of it; None otherwise (or when psutil cannot tell)."""
    try:
        import psutil

        vm = psutil.virtual_memory()
        reserve = reserve_bytes if reserve_bytes is not None else max(int(0.05 * vm.total), 512 * 2**20)
        if vm.available >= reserve:
            return None
        rss = 0
        for pid in pids:
            with contextlib.suppress(psutil.Error):
                rss += psutil.Process(pid).memory_info().rss
    except Exception:  # psutil missing or /proc unreadable: no watchdog rather than a false alarm
        return None
    if rss < (min_rss_bytes if min_rss_bytes is not None else vm.total // 4):
        return None  # something else is eating the memory; the run is not to blame
    return (
        f"ran out of memory: the model's processes held {rss / 2**30:.1f} GiB with "
        f"{vm.available / 2**30:.1f} GiB left on the machine, so the run was stopped; "
        "lower the batch or sequence length"
    )


def make_scratch() -> str:
    """A private folder for one worker's temporary files, named after this (owning) process."""
    return tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-")


def remove_scratch(path: str | None) -> None:
    if path:
        shutil.rmtree(path, ignore_errors=True)


def remove_stale_scratch(max_age_s: float = 60.0) -> int:
    """Remove scratch folders whose owning process is gone (a killed app or CLI); returns how many."""
    removed = 0
    root = Path(tempfile.gettempdir())
    try:
        entries = list(root.glob(f"{SCRATCH_PREFIX}*"))
    except OSError:
        return 0
    for entry in entries:
        owner = entry.name[len(SCRATCH_PREFIX) :].split("-", 1)[0]
        if not owner.isdigit() or _alive(int(owner)):
            continue
        try:
            if time.time() - entry.lstat().st_mtime < max_age_s or entry.is_symlink() or not entry.is_dir():
                continue
            if entry.lstat().st_uid != os.getuid():
                continue
        except OSError:
            continue
        shutil.rmtree(entry, ignore_errors=True)
        removed += 1
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
