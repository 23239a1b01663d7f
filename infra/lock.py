"""One writer per folder: a lock file that a second training or evaluation of the same folder meets.

`FolderLock(folder)` creates `folder/.lock` atomically (O_EXCL) with the holder's PID and host, and
removes it when the holder is done. A second writer gets one line naming the holder's PID. A lock left
by a process that no longer runs (killed with -9, a crash) is taken over: its PID is checked on this
host, the stale file replaced. Under `accelerate launch` only the process of rank 0 holds it; the
others write only what rank 0 coordinates.
"""

from __future__ import annotations

import json
import os
import socket
import time
from contextlib import nullcontext
from pathlib import Path

from .errors import UserError

LOCK = ".lock"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: it exists
        return True
    return True


class FolderLock:
    def __init__(self, folder: str | Path, what: str = "run folder"):
        self.folder, self.what = Path(folder), what
        self.path = self.folder / LOCK
        self.held = False

    def _create(self) -> bool:
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(fd, "w") as f:
            json.dump({"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()}, f)
        return True

    def _holder(self) -> dict:
        try:
            return json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}

    def acquire(self) -> FolderLock:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise UserError(f"cannot create the {self.what} {self.folder}: {err.strerror or err}") from err
        for _ in range(3):
            try:
                if self._create():
                    self.held = True
                    return self
            except OSError as err:
                raise UserError(f"cannot write into the {self.what} {self.folder}: {err.strerror or err}") from err
            holder = self._holder()
            pid, host = holder.get("pid"), holder.get("host")
            if isinstance(pid, int) and host == socket.gethostname() and not _alive(pid):
                self.path.unlink(missing_ok=True)  # a stale lock of a process that is gone: take it over
                continue
            if not holder:  # being written this very moment, or damaged: look again shortly
                time.sleep(0.2)
                if not self._holder():
                    self.path.unlink(missing_ok=True)
                continue
            since = time.strftime("%H:%M:%S", time.localtime(holder.get("since", 0)))
            raise UserError(
                f"the {self.what} {self.folder} is being written by process {pid} on {host} (since {since}); wait "
                f"for it to finish or stop it (a lock of a process that has died is taken over by itself)"
            )
        raise UserError(f"could not lock the {self.what} {self.folder}; remove {self.path} if no process writes it")

    def release(self) -> None:
        if self.held:
            self.path.unlink(missing_ok=True)
            self.held = False

    def __enter__(self) -> FolderLock:
        return self.acquire()

    def __exit__(self, *exc) -> bool:
        self.release()
        return False


def rank_zero_lock(folder: str | Path, what: str = "run folder"):
    """The folder's lock in the process of rank 0 (the only one under plain `python`), nothing in the others."""
    return FolderLock(folder, what) if int(os.environ.get("RANK", "0")) == 0 else nullcontext()
