"""Output safety: JSON/CSV/project writes never replace what is not a regular file (FIFO,
device, /dev/stdout, a symlink to one), follow a symlink to a file without replacing the link,
honour the umask, and leave no temporary file behind, not even after a kill mid-write."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from profiler.errors import InputError
from profiler.safe_io import atomic_output, remove_stale_temporaries, write_bytes_atomic, write_text_atomic

ROOT = Path(__file__).resolve().parents[2]


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


@pytest.fixture
def umask() -> Iterator[None]:
    old = os.umask(0o022)
    os.umask(old)
    yield
    os.umask(old)


# --------------------------------------------------------------------------- not a regular file


def _read_fifo(fifo: Path, box: list[bytes]) -> threading.Thread:
    def reader() -> None:
        with open(fifo, "rb") as f:
            box.append(f.read())

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    return t


def test_fifo_is_written_in_place_not_replaced(tmp_path: Path) -> None:
    fifo = tmp_path / "out.json"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = _read_fifo(fifo, got)
    write_text_atomic(fifo, '{"a": 1}\n')
    reader.join(10)
    assert got == [b'{"a": 1}\n']
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)  # still the FIFO
    assert _leftovers(tmp_path) == []


def test_symlink_to_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    link = tmp_path / "out.csv"
    link.symlink_to(fifo)
    got: list[bytes] = []
    reader = _read_fifo(fifo, got)
    write_bytes_atomic(link, b"a,b\n")
    reader.join(10)
    assert got == [b"a,b\n"]
    assert link.is_symlink() and stat.S_ISFIFO(os.stat(link).st_mode)


# The tests only ever name paths inside tmp_path (links may point out of it): a regression
# must not be able to replace the machine's /dev/null or /dev/stdout (the tests may run as root).


def test_symlink_to_dev_null_stays(tmp_path: Path) -> None:
    link = tmp_path / "out.json"
    link.symlink_to("/dev/null")
    write_text_atomic(link, "discarded")
    assert link.is_symlink() and os.readlink(link) == "/dev/null"
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert _leftovers(tmp_path) == []


def test_private_char_device_is_written_in_place(tmp_path: Path) -> None:
    node = tmp_path / "null"
    try:
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # a /dev/null of our own
    except (PermissionError, OSError) as exc:
        pytest.skip(f"cannot make a device node here: {exc}")
    write_text_atomic(node, "x" * 1000)
    assert stat.S_ISCHR(os.lstat(node).st_mode)
    assert _leftovers(tmp_path) == []


def _run(code: str, *args: str, stdout: Any = subprocess.PIPE) -> subprocess.CompletedProcess[str]:
    script = f"import sys; sys.path.insert(0, {str(ROOT)!r})\n" + textwrap.dedent(code)
    return subprocess.run(
        [sys.executable, "-c", script, *args], stdout=stdout, stderr=subprocess.PIPE, text=True, timeout=60, check=False
    )


def test_symlink_to_proc_self_fd_1_writes_to_stdout(tmp_path: Path) -> None:
    link = tmp_path / "out.json"
    link.symlink_to("/proc/self/fd/1")
    done = _run(
        """
        from profiler.safe_io import write_text_atomic
        print("table", flush=True)
        write_text_atomic(sys.argv[1], '{"ok": true}\\n')
        print("after")
    """,
        str(link),
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == 'table\n{"ok": true}\nafter\n'  # in order, in the pipe
    assert link.is_symlink() and os.readlink(link) == "/proc/self/fd/1"
    assert _leftovers(tmp_path) == []


def test_dev_stdout_redirected_to_a_file_is_appended_in_order(tmp_path: Path) -> None:
    out = tmp_path / "captured.txt"
    link = tmp_path / "out.json"
    link.symlink_to("/dev/stdout")
    with open(out, "w") as f:
        done = _run(
            """
            from profiler.safe_io import write_text_atomic
            print("first")
            write_text_atomic(sys.argv[1], "json\\n")
            print("last")
        """,
            str(link),
            stdout=f,
        )
    assert done.returncode == 0, done.stderr
    assert out.read_text() == "first\njson\nlast\n"  # not truncated, not replaced by a new file
    assert link.is_symlink() and _leftovers(tmp_path) == []


def test_folder_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        write_text_atomic(tmp_path, "x")
    assert str(tmp_path) in str(info.value) and "folder" in str(info.value) and "\n" not in str(info.value)
    assert info.value.exit_code == 2


def test_cli_json_to_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "profile.json"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = _read_fifo(fifo, got)
    done = subprocess.run(
        [sys.executable, "-m", "tradeoff", "profile", "demo:mlp", "--no-latency", "--json", str(fifo)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    reader.join(10)
    assert done.returncode == 0, done.stderr
    assert json.loads(got[0])["schema"] == "tradeoff.profile/1"
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


# --------------------------------------------------------------------------- regular files


def test_symlink_to_a_file_updates_the_target_and_keeps_the_link(tmp_path: Path) -> None:
    real = tmp_path / "data" / "plan.json"
    real.parent.mkdir()
    real.write_text("old")
    real.chmod(0o640)
    link = tmp_path / "plan.json"
    link.symlink_to(real)
    write_text_atomic(link, "new")
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text() == "new"
    assert stat.S_IMODE(real.stat().st_mode) == 0o640
    assert _leftovers(tmp_path) == [] and _leftovers(real.parent) == []


@pytest.mark.parametrize(("mask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_new_files_honour_the_umask(tmp_path: Path, umask: None, mask: int, mode: int) -> None:
    os.umask(mask)
    write_text_atomic(tmp_path / "a.json", "{}")
    with atomic_output(tmp_path / "b.pdf") as tmp:
        tmp.write_bytes(b"%PDF")
    assert stat.S_IMODE((tmp_path / "a.json").stat().st_mode) == mode
    assert stat.S_IMODE((tmp_path / "b.pdf").stat().st_mode) == mode


def test_existing_file_keeps_its_mode(tmp_path: Path, umask: None) -> None:
    dest = tmp_path / "project.tradeoff.json"
    dest.write_text("old")
    dest.chmod(0o600)
    os.umask(0o000)
    write_text_atomic(dest, "new")
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600 and dest.read_text() == "new"


def test_exception_mid_write_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dest = tmp_path / "layers.csv"
    dest.write_text("previous")

    def broken_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("profiler.safe_io.os.fsync", broken_fsync)
    with pytest.raises(InputError, match="No space left"):
        write_text_atomic(dest, "new")

    def interrupted(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("profiler.safe_io.os.fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_text_atomic(dest, "new")
    with pytest.raises(RuntimeError), atomic_output(dest) as tmp:
        tmp.write_text("half")
        raise RuntimeError("the PDF writer failed")
    assert dest.read_text() == "previous"
    assert _leftovers(tmp_path) == []


def test_stale_temporaries_of_dead_writers_are_removed(tmp_path: Path) -> None:
    dest = tmp_path / "sweep.json"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".sweep.json.{dead.pid}.0123abcd.tmp"
    stale.write_text("half")
    live = tmp_path / f".sweep.json.{os.getppid()}.89abcdef.tmp"  # a writer still running: kept
    live.write_text("in progress")
    other = tmp_path / f".other.json.{dead.pid}.0123abcd.tmp"  # another file's: not ours to judge here
    other.write_text("half")
    legacy_old = tmp_path / ".sweep.json.ab12cd34.tmp"
    legacy_old.write_text("old version's")
    week_ago = time.time() - 7 * 24 * 3600
    os.utime(legacy_old, (week_ago, week_ago))
    legacy_new = tmp_path / ".sweep.json.zz12cd34.tmp"
    legacy_new.write_text("maybe in progress")
    write_text_atomic(dest, "{}")
    assert not stale.exists() and not legacy_old.exists()
    assert live.exists() and other.exists() and legacy_new.exists()
    assert remove_stale_temporaries(dest) == []


def test_kill_between_write_and_rename_is_cleaned_up_by_the_next_write(tmp_path: Path) -> None:
    dest = tmp_path / "project.json"
    dest.write_text("previous good content")
    script = textwrap.dedent(f"""
        import os, sys, time
        sys.path.insert(0, {str(ROOT)!r})
        import profiler.safe_io as s
        def stall(src, dst):
            print("written", flush=True)
            time.sleep(60)
        s.os.replace = stall
        s.write_text_atomic({str(dest)!r}, "new content")
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "written"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    left = _leftovers(tmp_path)
    assert left == [f".project.json.{proc.pid}.{left[0].split('.')[-2]}.tmp"]  # names its owner
    assert dest.read_text() == "previous good content"
    write_text_atomic(dest, "next")
    assert _leftovers(tmp_path) == [] and dest.read_text() == "next"
