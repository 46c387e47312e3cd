"""One lock per school file, so a stamp check and the write that follows it happen as one step.

The lock is `fcntl.flock` on a hidden sidecar file `<schools>/.<school-id>.lock` (hidden files are never read as
schools). flock locks belong to an open file, so they separate threads of one process as well as processes; the
kernel drops them when a process dies, so a killed writer never leaves a stale lock. POSIX only (Linux, macOS):
elsewhere saving refuses with a clear error rather than writing unprotected.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import RiskkitError

LOCK_TIMEOUT = 15.0  # seconds to wait for another save of the same school (a save takes milliseconds)


class FileConflict(RiskkitError):
    """A file changed (or appeared) on disk since it was read; nothing was written."""

    def __init__(self, path: Path, message: str = "changed on disk since it was read; nothing was written"):
        self.path = Path(path)
        super().__init__(f"{self.path}: {message}")


def lock_path(folder: Path, school_id: str) -> Path:
    return Path(folder) / f".{school_id}.lock"


@contextmanager
def school_lock(folder: Path, school_id: str, timeout: float = LOCK_TIMEOUT) -> Iterator[Path]:
    """Hold the school's lock for the `with` block; waits up to `timeout` seconds for another holder."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        raise RiskkitError("saving a school file needs POSIX file locks (fcntl: Linux or macOS); "
                           "this platform has none, so nothing was written") from None
    path = lock_path(folder, school_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDONLY | os.O_CREAT, 0o666)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise RiskkitError(f"{path.parent / school_id}: another save of this school has held its lock "
                                       f"for {timeout:.0f} s; nothing was written, try again") from None
                time.sleep(0.02)
        yield path
    finally:
        os.close(fd)  # closing the file releases the lock
