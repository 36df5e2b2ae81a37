"""Atomic writes: all or nothing, even when the writer is killed mid-write."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from profiler.errors import InputError
from profiler.safe_io import write_bytes_atomic, write_text_atomic

ROOT = Path(__file__).resolve().parents[2]


def test_replaces_whole_file(tmp_path: Path) -> None:
    dest = tmp_path / "report.json"
    write_text_atomic(dest, "first")
    write_text_atomic(dest, "second, longer")
    assert dest.read_text() == "second, longer"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]  # no temporary left behind


def test_unwritable_destination_is_a_one_line_input_error(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder" / "out.csv"
    with pytest.raises(InputError) as info:
        write_bytes_atomic(missing, b"x")
    assert str(missing) in str(info.value) and "cannot write" in str(info.value)
    assert "\n" not in str(info.value)
    assert not missing.parent.exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_folder(tmp_path: Path) -> None:
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(InputError):
            write_bytes_atomic(tmp_path / "x.pdf", b"%PDF")
    finally:
        tmp_path.chmod(0o700)


def test_writer_killed_mid_write_leaves_previous_file_intact(tmp_path: Path) -> None:
    dest = tmp_path / "project.json"
    dest.write_text("previous good content")
    # The child writes 200 MB through a file object that stalls halfway, then is killed with SIGKILL.
    script = textwrap.dedent(
        f"""
        import os, sys, time
        sys.path.insert(0, {str(ROOT)!r})
        import profiler.safe_io as s
        real_fdopen = os.fdopen
        class Slow:
            def __init__(self, f): self.f = f
            def __enter__(self): return self
            def __exit__(self, *a): return self.f.__exit__(*a)
            def write(self, data):
                self.f.write(data[: len(data) // 2]); self.f.flush()
                print("half", flush=True); time.sleep(60)
            def flush(self): self.f.flush()
            def fileno(self): return self.f.fileno()
        s.os.fdopen = lambda fd, mode: Slow(real_fdopen(fd, mode))
        s.write_bytes_atomic({str(dest)!r}, b"n" * 200_000_000)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "half"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert dest.read_text() == "previous good content"
    time.sleep(0.01)
