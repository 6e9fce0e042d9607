"""The one error tree of ircli, and the exit codes it maps to.

::

    IrcliError                      base; never raised itself           exit 1
    ├── OperationFailed             the work could not be done          exit 1
    ├── InvalidInput                bad arguments, files or config      exit 2
    ├── GuardRefused                a cap, approval, confirmation, …    exit 3
    └── AuditIntegrityError         the audit chain does not verify     exit 4

Every message is one complete sentence; where the problem is in a file it starts with
``path:line:col:``. ``hint`` is an optional second sentence the CLI shows below it.
Ctrl-C is not an error of ours: the CLI maps ``KeyboardInterrupt`` to exit 130.
"""

from __future__ import annotations

from enum import IntEnum

__all__ = [
    "AuditIntegrityError",
    "ExitCode",
    "GuardRefused",
    "InvalidInput",
    "IrcliError",
    "OperationFailed",
]


class ExitCode(IntEnum):
    """Process exit codes, documented in docs/cli.md."""

    OK = 0
    FAILED = 1
    INVALID_INPUT = 2
    REFUSED = 3
    AUDIT_INTEGRITY = 4
    INTERRUPTED = 130


class IrcliError(Exception):
    """Root of every error ircli raises on purpose."""

    exit_code: ExitCode = ExitCode.FAILED

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class OperationFailed(IrcliError):
    """The requested work was attempted and did not succeed."""

    exit_code = ExitCode.FAILED


class InvalidInput(IrcliError):
    """An argument, file or configuration value is not acceptable; nothing was done."""

    exit_code = ExitCode.INVALID_INPUT


class GuardRefused(IrcliError):
    """A safety guard (cap, approval, confirmation; a copy target holding another chain)
    refused the operation; nothing was sent or written."""

    exit_code = ExitCode.REFUSED


class AuditIntegrityError(IrcliError):
    """The audit chain failed verification."""

    exit_code = ExitCode.AUDIT_INTEGRITY
