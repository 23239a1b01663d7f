"""The one exception type for mistakes a user can fix, and how entry points report it.

Entry points run their work through `report_user_errors`, which prints a `UserError`'s message
alone (no traceback) and returns exit code 2, so the message must say what went wrong and what to
do about it. So is a fault of the machine rather than of the code (a full disk, a read-only folder,
a file-size limit, a file where a folder belongs: the `OSError`s of `ENVIRONMENT`). Any other
exception is a bug and keeps its traceback.
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Callable

ENVIRONMENT = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EFBIG: "a file would exceed the size this process may write (ulimit -f)",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "the operation is not permitted",
    errno.ENAMETOOLONG: "a name is too long for the file system",
    errno.EEXIST: "a file stands where a folder is needed",
    errno.ENOTDIR: "a file stands where a folder is needed",
    errno.EISDIR: "a folder stands where a file is needed",
}


def environment_message(err: OSError) -> str:
    """One line for an `OSError` of `ENVIRONMENT`: what, where, and that nothing complete was lost."""
    where = f" ({err.filename})" if err.filename else ""
    return (
        f"{ENVIRONMENT[err.errno]}{where}: {err.strerror}. Fix it and run the command again: complete checkpoints, "
        f"snapshots and outputs are never replaced by half-written ones, and a training run continues with --resume"
    )


class UserError(Exception):
    """A problem with the user's input, files or environment, with a message saying what to do."""


def report_user_errors(work: Callable[[], int | None]) -> int:
    """Run `work`; its return value (None means 0) is the exit code, or 2 after printing a UserError."""
    try:
        return work() or 0
    except UserError as err:
        # Under `accelerate launch` every process meets the same mistake (a setting, a file): only the
        # first one says it, so the line appears once.
        if int(os.environ.get("RANK", "0")) == 0:
            print(f"error: {err}", file=sys.stderr)
        return 2
    except OSError as err:
        if err.errno not in ENVIRONMENT:
            raise
        print(f"error: {environment_message(err)}", file=sys.stderr)
        return 2
