"""One supervisor per data directory: an ``flock`` on ``data/.supervisor.lock``.

The kernel drops an ``flock`` when its holder dies, however it dies, so a lock file left by a
killed supervisor never blocks the next one; the pid and start time written into the file are
only there to name the holder in the refusal message. The file is never deleted (deleting a
locked file would let a third process lock a new inode while the first still runs).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from polymaker.errors import PolymakerError

LOCK_FILE_NAME = ".supervisor.lock"


@dataclass(frozen=True)
class LockHolder:
    """Who holds (or last held) the lock, as written in the file."""

    pid: int
    started_at: str


class SupervisorRunningError(PolymakerError):
    """Another supervisor holds the lock of this data directory."""

    def __init__(self, path: Path, holder: LockHolder | None):
        self.path = str(path)
        self.holder = holder
        who = f"pid {holder.pid}, started {holder.started_at}" if holder else "unknown pid"
        super().__init__(
            f"another supervisor is already running on this data directory ({who}; lock {path}); "
            "use `polymaker status` / `polymaker exit` to talk to it"
        )


def read_holder(path: Path | str) -> LockHolder | None:
    """The pid and start time recorded in a lock file (None if absent or unreadable)."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
        return LockHolder(pid=int(document["pid"]), started_at=str(document["started_at"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


class SupervisorLock:
    """An exclusive, non-blocking lock on a data directory; use as a context manager."""

    def __init__(self, data_dir: Path | str) -> None:
        self._path = Path(data_dir) / LOCK_FILE_NAME
        self._fd: int | None = None

    @property
    def path(self) -> Path:
        """The lock file."""
        return self._path

    @property
    def is_held(self) -> bool:
        """True while this object holds the lock."""
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock or raise ``SupervisorRunningError`` naming the holder's pid."""
        if self._fd is not None:
            return
        self._path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise SupervisorRunningError(self._path, read_holder(self._path)) from None
        except BaseException:
            os.close(fd)
            raise
        started = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        record = json.dumps({"pid": os.getpid(), "started_at": started}) + "\n"
        os.ftruncate(fd, 0)
        os.pwrite(fd, record.encode("utf-8"), 0)
        os.fsync(fd)
        self._fd = fd

    def release(self) -> None:
        """Give the lock up (closing the descriptor drops the flock)."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        os.close(fd)

    def __enter__(self) -> SupervisorLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()


__all__ = [
    "LOCK_FILE_NAME",
    "LockHolder",
    "SupervisorLock",
    "SupervisorRunningError",
    "read_holder",
]
