"""The one exception type for mistakes a user can fix.

Entry points catch it and print its message alone (no traceback), so the message must say what
went wrong and what to do about it.
"""


class UserError(Exception):
    """A problem with the user's input, files or environment, with a message saying what to do."""
