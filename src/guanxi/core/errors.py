"""Domain errors with stable codes that the CLI, pages and API can match on."""

from enum import StrEnum


class ErrorCode(StrEnum):
    INVALID = "invalid"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    INVALID_TRANSITION = "invalid_transition"
    NOT_ALLOWED = "not_allowed"


class GuanxiError(Exception):
    """Base for errors a user can act on: ``code`` is stable, the message says how to fix it."""

    code: ErrorCode = ErrorCode.INVALID

    def __init__(self, message: str, *, code: ErrorCode | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code is not None:
            self.code = code
