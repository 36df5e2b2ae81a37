"""Safe file writes for JSON, CSV and project files.

`write_bytes_atomic(path, data)` (and `write_text_atomic`) decide by what `path` is:

- a regular file, or nothing yet: the data goes to a temporary file in the same folder
  (`.NAME.<pid>.<random>.tmp`), is fsynced, then renamed over NAME, so a writer killed
  mid-write leaves the previous file intact. A new file gets the mode a plain `open()` would
  give it (0o666 less the umask); an existing file keeps its mode.
- a symlink to a regular file: the same, on the file it points to (the link stays a link).
- anything that is not a regular file (a FIFO, a character device such as /dev/null or a
  terminal, a socket …, or a symlink to one): it is opened and written in place, never
  replaced. `/dev/stdout`, `/dev/fd/N` and `/proc/self/fd/N` write to this process's own
  file descriptor N, so `--json /dev/stdout` behaves like `--json -`.
- a folder: refused.

Temporary files name the process that owns them. Before writing, temporaries of the same
destination left by a process that no longer exists (killed between write and rename) are
removed; so are unattributable ones from older versions (`.NAME.xxxxxxxx.tmp`) a day old.
On any exception the temporary is removed.

`atomic_output(path)` gives the same guarantees to writers that need a file name (a PDF
writer): it yields a temporary path, then commits it the same way.

Every failure is `InputError(path, one line)`.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import stat
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from .errors import InputError

#: a temporary file of an older version (mkstemp's 8 random characters) is stale after this long.
LEGACY_TMP_MAX_AGE_S = 24 * 3600
_NAME_KEEP = 160  # bytes of the destination name kept in a temporary's name (NAME_MAX is 255)
_OWN_FD_LINK = re.compile(r"^/(?:proc/(?:self|thread-self|(?P<pid>\d+))(?:/task/\d+)?/fd|dev/fd)/(?P<fd>\d+)$")
_STD_NAMES = {"/dev/stdin": 0, "/dev/stdout": 1, "/dev/stderr": 2}


def _cannot(path: str | os.PathLike[str], exc: OSError) -> InputError:
    return InputError(str(path), f"cannot write: {exc.strerror or exc}")


def _tmp_stem(name: str) -> str:
    raw = name.encode("utf-8", "surrogateescape")[:_NAME_KEEP]
    return "." + raw.decode("utf-8", "ignore")


def _tmp_pattern(name: str) -> re.Pattern[str]:
    return re.compile(re.escape(_tmp_stem(name)) + r"\.(?:(?P<pid>\d+)\.[0-9a-f]{8}|(?P<legacy>[a-z0-9_]{8}))\.tmp")


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    except OSError:
        return True
    try:  # a zombie has finished writing for good
        with open(f"/proc/{pid}/stat", "rb") as f:
            state = f.read().rsplit(b")", 1)[-1].split()[0]
        return state not in (b"Z", b"X")
    except (OSError, IndexError):
        return True


def remove_stale_temporaries(dest: str | os.PathLike[str]) -> list[Path]:
    """Remove temporaries of `dest` whose writing process is gone (or, for an older version's
    unattributable ones, that are over a day old). Returns what was removed. Never raises."""
    path = Path(dest)
    folder = path.parent if str(path.parent) else Path(".")
    pattern = _tmp_pattern(path.name)
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        m = pattern.fullmatch(entry.name)
        if m is None:
            continue
        try:
            st = entry.stat(follow_symlinks=False)
            if not stat.S_ISREG(st.st_mode):
                continue
            if m.group("pid") is not None:
                pid = int(m.group("pid"))
                if pid == os.getpid() or _pid_alive(pid):
                    continue
            elif now - st.st_mtime < LEGACY_TMP_MAX_AGE_S:
                continue
            os.unlink(entry.path)
            removed.append(Path(entry.path))
        except OSError:
            continue
    return removed


def _own_fd(path: str) -> int | None:
    """The descriptor number when `path` names one of this process's own descriptors
    (/dev/stdout, /dev/fd/N, /proc/self/fd/N, /proc/<our pid>/fd/N), following symlinks
    until one of those is met; else None."""
    p = os.path.abspath(path)
    for _ in range(40):
        if p in _STD_NAMES:
            return _STD_NAMES[p]
        parent = os.path.realpath(os.path.dirname(p))
        candidate = os.path.join(parent, os.path.basename(p))
        for form in (p, candidate):
            m = _OWN_FD_LINK.match(form)
            if m and (m.group("pid") is None or int(m.group("pid")) == os.getpid()):
                return int(m.group("fd"))
        if not os.path.islink(candidate):
            return None
        target = os.readlink(candidate)
        if not target.startswith("/"):
            target = os.path.join(parent, target)
        if target.startswith(("pipe:", "socket:", "anon_inode:")):
            return None
        p = os.path.normpath(target)
    return None


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _write_in_place(path: str | os.PathLike[str], data: bytes) -> None:
    """Write to something that is not a regular file (FIFO, device, terminal) without
    replacing it: open it for writing (no create, no truncate) or use our own descriptor."""
    fd_no = _own_fd(os.fspath(path))
    if fd_no is not None:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                if stream is not None and stream.fileno() == fd_no:
                    stream.flush()
        try:
            _write_all(fd_no, data)
        except OSError as exc:
            if exc.errno != errno.EBADF:
                raise _cannot(path, exc) from None
        else:
            return
    try:
        fd = os.open(os.fspath(path), os.O_WRONLY | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as exc:
        raise _cannot(path, exc) from None
    try:
        _write_all(fd, data)
    except OSError as exc:
        raise _cannot(path, exc) from None
    finally:
        os.close(fd)


def _destination(path: str | os.PathLike[str]) -> tuple[Path, os.stat_result | None] | None:
    """Where an atomic write of `path` goes: (the regular file, its stat or None when new), or
    None when `path` is a stream to write in place. Raises InputError for a folder."""
    try:
        st: os.stat_result | None = os.stat(path)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise _cannot(path, exc) from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise InputError(str(path), "is a folder: name a file to write")
    if st is not None and not stat.S_ISREG(st.st_mode):
        return None
    if _own_fd(os.fspath(path)) is not None:  # /dev/stdout redirected to a file: write to the stream, as `-` would
        return None
    # A symlink (to a file, or dangling): write where it points and leave the link alone.
    dest = Path(os.path.realpath(path)) if os.path.islink(path) else Path(path)
    return dest, st


def _create_temporary(dest: Path, st: os.stat_result | None) -> tuple[int, str]:
    """An exclusive new `.NAME.<pid>.<random>.tmp` beside `dest`, open for writing, with the
    mode the destination will have: an existing file's, else 0o666 less the umask."""
    folder = dest.parent if str(dest.parent) else Path(".")
    remove_stale_temporaries(dest)
    for _ in range(100):
        candidate = str(folder / f"{_tmp_stem(dest.name)}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        try:
            # 0o666: the kernel applies the umask, as a plain open() would.
            fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
        except FileExistsError:
            continue
        if st is not None:
            with contextlib.suppress(OSError):
                os.fchmod(fd, stat.S_IMODE(st.st_mode) & 0o777)  # an existing file keeps its mode
        return fd, candidate
    raise FileExistsError(errno.EEXIST, "no free temporary file name")


def _commit(tmp_name: str, dest: Path) -> None:
    os.replace(tmp_name, dest)
    _fsync_folder(dest.parent if str(dest.parent) else Path("."))


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Write `data` to `path` all at once or not at all (see the module docstring for what
    happens with FIFOs, devices, symlinks and folders)."""
    target = _destination(path)
    if target is None:
        _write_in_place(path, data)
        return
    dest, st = target
    tmp_name: str | None = None
    try:
        fd, tmp_name = _create_temporary(dest, st)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        _commit(tmp_name, dest)
        tmp_name = None
    except OSError as exc:
        raise _cannot(path, exc) from None
    finally:
        if tmp_name is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike[str]) -> Iterator[Path]:
    """For writers that need a file name (a PDF writer, a library's `save(path)`): yields a
    temporary path to write; when the block ends without an exception its content goes to
    `path` the way `write_bytes_atomic` would put it (renamed over a regular file, written in
    place to a FIFO or device). On an exception the temporary is removed and `path` untouched.
    An empty temporary is refused ("the writer wrote nothing")."""
    target = _destination(path)
    if target is None:  # a stream: collect in a private folder, then write in place
        import tempfile

        with tempfile.TemporaryDirectory(prefix="tradeoff-out-") as private:
            tmp = Path(private) / (Path(path).name or "out")
            yield tmp
            try:
                data = tmp.read_bytes()
            except OSError as exc:
                raise _cannot(path, exc) from None
            if not data:
                raise InputError(str(path), "cannot write: the writer wrote nothing")
            _write_in_place(path, data)
        return
    dest, st = target
    try:
        fd, tmp_name = _create_temporary(dest, st)
        os.close(fd)
    except OSError as exc:
        raise _cannot(path, exc) from None
    try:
        yield Path(tmp_name)
        if os.path.getsize(tmp_name) == 0:
            raise InputError(str(path), "cannot write: the writer wrote nothing")
        with open(tmp_name, "rb") as f:
            os.fsync(f.fileno())
        with contextlib.suppress(OSError):  # a writer that recreated the file: give it the right mode again
            os.chmod(tmp_name, stat.S_IMODE(st.st_mode) & 0o777 if st is not None else 0o666 & ~_umask())
        _commit(tmp_name, dest)
        tmp_name = ""
    except OSError as exc:
        raise _cannot(path, exc) from None
    finally:
        if tmp_name:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)


def _umask() -> int:
    """The process umask, read without changing it (Linux); else the classic set-and-restore."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync_folder(folder: Path) -> None:
    """Make the rename durable (best effort: some file systems refuse)."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    """UTF-8 text version of `write_bytes_atomic`."""
    write_bytes_atomic(path, text.encode("utf-8"))
