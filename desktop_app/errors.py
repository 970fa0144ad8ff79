"""Errors a user can act on (shown as plain Chinese messages), as opposed to bugs.

Services raise these; the CLI prints ``message`` and exits non-zero; the GUI shows it in a dialog.
Anything else that escapes is a bug and is logged with its traceback.
"""

from __future__ import annotations


class UserError(Exception):
    """Something the user can fix: bad input, a missing permission, a full disk."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationFailed(UserError):
    """Form input that does not pass the rules; ``errors`` maps a field name to its message."""

    def __init__(self, errors: dict[str, str], message: str | None = None) -> None:
        self.errors = dict(errors)
        summary = message or "；".join(self.errors.values())
        super().__init__(summary)


class PermissionDenied(UserError):
    pass


class NotFound(UserError):
    pass


class InvalidTransition(UserError):
    """A step that the case's current state does not allow (e.g. visiting an open case)."""


class AlreadyRunning(UserError):
    pass


class DatabaseTooNew(UserError):
    pass


class EnvironmentProblem(UserError):
    """Disk full, read-only medium, locked or damaged database: not a bug, but the user must act."""
