"""Writing files without losing what is at the path: the one atomic writer (reports, plots,
converted weights).

- A regular file is written to a temporary file beside it and renamed over it, so an
  interrupted write never leaves half a file and never destroys the previous one; its
  permissions are kept.
- A symlink is followed: its target is replaced, the link stays a link.
- A FIFO or a character device (/dev/null, /dev/stdout) is written in place, never
  replaced; a FIFO with no reader, a block device, a socket or a directory is refused.
- Several files (the CSV and the HTML of one report) are published together: every one
  is written first, then all are renamed, with SIGINT held off during the renames.
- Every failure is one ``HarnessError`` line naming the user's path (never a temporary name).
"""

import contextlib
import errno
import os
import signal
import stat
import tempfile
import threading

from .errors import HarnessError

_KINDS = {stat.S_ISBLK: "block device", stat.S_ISSOCK: "socket", stat.S_ISDIR: "directory"}


class _Target:
    """One file to publish: the user's path, where the bytes go, and the temporary file."""

    def __init__(self, path, suffix, name):
        self.path, self.name = os.fspath(path), name
        if not self.path:
            raise HarnessError(f"{name}: expected a file path, got ''")
        self.real = os.path.realpath(self.path)                  # a symlink's target is replaced
        self.special, self.mode = False, None
        try:
            st = os.stat(self.real)
        except (FileNotFoundError, NotADirectoryError):            # created below (or refused there)
            st = None
        except OSError as exc:
            raise self.error(exc) from None
        if st is not None:
            self._classify(st.st_mode)
        self.tmp = self._make_tmp(suffix)

    def _classify(self, mode):
        for test, kind in _KINDS.items():
            if test(mode):
                fix = (f"name a file inside it, such as {os.path.join(self.path, 'report.html')!r}"
                       if kind == "directory" else "gradharness never replaces it; name a regular file")
                raise HarnessError(f"{self.name}: expected a file path, got {self.path!r}, which is a {kind}; {fix}")
        self.special = stat.S_ISFIFO(mode) or stat.S_ISCHR(mode)
        self.mode = None if self.special else stat.S_IMODE(mode)

    def _make_tmp(self, suffix):
        folder = tempfile.gettempdir() if self.special else os.path.dirname(self.real)
        try:
            os.makedirs(folder, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".gradharness-", suffix=suffix, dir=folder)
        except OSError as exc:
            raise self.error(exc, folder) from None
        os.close(fd)
        return tmp

    def error(self, exc, folder=None):
        why = exc.strerror or type(exc).__name__
        where = f" (in the folder {folder!r})" if folder and exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS) \
            else ""
        if exc.errno in (errno.ENOTDIR, errno.EEXIST) and folder:
            why, where = "a part of the path is a file, not a folder", ""
        return HarnessError(f"{self.name}: cannot write {self.path!r}: {why}{where}; expected a writable file path")

    def open_special(self):
        """Open a FIFO (refused without a reader: writing would hang) or a character device."""
        try:
            fd = os.open(self.real, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as exc:
            if exc.errno == errno.ENXIO:
                raise HarnessError(f"{self.name}: cannot write {self.path!r}: it is a FIFO with no reader; "
                                   "start the reader first or name a regular file") from None
            raise self.error(exc) from None
        os.set_blocking(fd, True)
        return fd

    def publish_regular(self):
        try:
            os.chmod(self.tmp, self.mode if self.mode is not None else 0o666 & ~_umask())
            os.replace(self.tmp, self.real)
        except OSError as exc:
            raise self.error(exc, os.path.dirname(self.real)) from None

    def write_special(self, fd):
        try:
            with open(self.tmp, "rb") as src, os.fdopen(fd, "wb", closefd=True) as dst:
                while chunk := src.read(1 << 20):
                    dst.write(chunk)
        except OSError as exc:
            raise self.error(exc) from None

    def cleanup(self):
        with contextlib.suppress(OSError):
            os.unlink(self.tmp)


@contextlib.contextmanager
def atomic_paths(targets):
    """Yield one temporary path per ``(path, suffix, name)``; when the block succeeds, publish
    them all together (see the module docstring). ``name`` is the argument named in errors."""
    made = []
    try:
        for path, suffix, name in targets:
            made.append(_Target(path, suffix, name))
        yield [t.tmp for t in made]
        _publish(made)
    finally:
        for t in made:
            t.cleanup()


def _publish(targets):
    fds = {}
    try:
        for t in targets:
            if t.special:
                fds[id(t)] = t.open_special()
        with _sigint_held():
            for t in targets:
                if not t.special:
                    t.publish_regular()
        for t in targets:
            if t.special:
                t.write_special(fds.pop(id(t)))
    finally:
        for fd in fds.values():
            os.close(fd)


@contextlib.contextmanager
def _sigint_held():
    """Hold SIGINT off (handled right after) so an interrupt never publishes half a set. A Python
    handler, not a signal mask: a process-directed signal can land on any thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(frame))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        if callable(previous):
            previous(signal.SIGINT, caught[0])
        elif previous == signal.SIG_DFL:
            os.kill(os.getpid(), signal.SIGINT)


@contextlib.contextmanager
def atomic_path(path, suffix=".tmp", name="path"):
    """One file: yield a temporary path; on success publish it at ``path``."""
    with atomic_paths([(path, suffix, name)]) as (tmp,):
        yield tmp


def write_texts(items):
    """Write ``[(path, text, name), ...]`` together. Returns the paths."""
    with atomic_paths([(p, os.path.splitext(os.fspath(p))[1] or ".tmp", n) for p, _, n in items]) as tmps:
        for tmp, (_, text, _) in zip(tmps, items):
            with open(tmp, "w", encoding="utf-8", newline="") as f:
                f.write(text)
    return [os.fspath(p) for p, _, _ in items]


def write_atomic(path, text, name="path"):
    """Write ``text`` to ``path`` (see the module docstring). Returns the path."""
    return write_texts([(path, text, name)])[0]


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask
