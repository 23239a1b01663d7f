"""The one exception type for mistakes a user can fix, and how entry points report it.

Entry points run their work through `report_user_errors`, which prints a `UserError`'s message
alone (no traceback) and returns exit code 2, so the message must say what went wrong and what to
do about it. Any other exception is a bug and keeps its traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Callable


class UserError(Exception):
    """A problem with the user's input, files or environment, with a message saying what to do."""


def report_user_errors(work: Callable[[], int | None]) -> int:
    """Run `work`; its return value (None means 0) is the exit code, or 2 after printing a UserError."""
    try:
        return work() or 0
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
