"""Exceptions raised by linstor_rs, one class per ``linstor_result`` code.

Every exception carries the result ``code``, the ``message`` and, when the cluster refused a
command, LINSTOR's ``cause``, ``correction``, ``details`` and 64-bit ``ret_code``. For an
invalid name the ``cause`` states the broken rule.
"""

from __future__ import annotations

import enum
from typing import Optional


class Result(enum.IntEnum):
    """The C library's ``linstor_result`` codes."""

    OK = 0
    NULL_PARAMETER = 1
    INVALID_UTF8 = 2
    INVALID_ARGUMENT = 3
    INVALID_NAME = 4
    INVALID_JSON = 5
    INVALID_STATE = 6
    NOT_FOUND = 7
    ALREADY_EXISTS = 8
    REFUSED = 9
    PLACEMENT_REFUSED = 10
    OUT_OF_RANGE = 11
    PANIC = 12


class LinstorError(Exception):
    """Base class of every error from the library.

    Attributes:
        code: the :class:`Result` code.
        message: what happened.
        cause: why (LINSTOR's cause; for invalid names the broken rule), or ``None``.
        correction: what to do about it, or ``None``.
        details: more detail (for refused placements: the nearest misses), or ``None``.
        ret_code: LINSTOR's 64-bit return code of the refusing entry, 0 if not from the cluster.
    """

    def __init__(
        self,
        code: "Result | int",
        message: str,
        *,
        cause: Optional[str] = None,
        correction: Optional[str] = None,
        details: Optional[str] = None,
        ret_code: int = 0,
    ) -> None:
        try:
            self.code: "Result | int" = Result(code)
        except ValueError:
            self.code = code
        self.message = message
        self.cause = cause
        self.correction = correction
        self.details = details
        self.ret_code = ret_code
        super().__init__(str(self))

    def __str__(self) -> str:
        parts = [self.message]
        if self.cause:
            parts.append(f"Cause: {self.cause}")
        if self.correction:
            parts.append(f"Correction: {self.correction}")
        if self.details:
            parts.append(f"Details: {self.details}")
        return "\n".join(parts)


class NullParameterError(LinstorError, ValueError):
    """A required argument was missing (NULL at the C level)."""


class InvalidUtf8Error(LinstorError, ValueError):
    """A text argument was not valid UTF-8."""


class InvalidArgumentError(LinstorError, ValueError):
    """An argument was out of range or malformed."""


class InvalidNameError(InvalidArgumentError):
    """A name broke LINSTOR's naming rules; ``cause`` names the rule."""


class InvalidJsonError(LinstorError, ValueError):
    """Text was not JSON, or not JSON of the expected shape (e.g. not a cluster state)."""


class InvalidStateError(LinstorError, ValueError):
    """A cluster state read from JSON is inconsistent."""


class NotFoundError(LinstorError, LookupError):
    """The object named does not exist."""


class AlreadyExistsError(LinstorError):
    """The object to create already exists."""


class RefusedError(LinstorError):
    """The cluster refused the command."""


class PlacementRefusedError(RefusedError):
    """Autoplacement found no valid placement; ``cause`` says why, ``correction`` what to do."""


class OutOfRangeError(LinstorError, IndexError):
    """An index was past the end of a list."""


class LibraryPanicError(LinstorError):
    """The library hit an internal error (a bug); the cluster involved is unusable."""


_BY_CODE: dict[int, type[LinstorError]] = {
    Result.NULL_PARAMETER: NullParameterError,
    Result.INVALID_UTF8: InvalidUtf8Error,
    Result.INVALID_ARGUMENT: InvalidArgumentError,
    Result.INVALID_NAME: InvalidNameError,
    Result.INVALID_JSON: InvalidJsonError,
    Result.INVALID_STATE: InvalidStateError,
    Result.NOT_FOUND: NotFoundError,
    Result.ALREADY_EXISTS: AlreadyExistsError,
    Result.REFUSED: RefusedError,
    Result.PLACEMENT_REFUSED: PlacementRefusedError,
    Result.OUT_OF_RANGE: OutOfRangeError,
    Result.PANIC: LibraryPanicError,
}


def from_parts(
    code: int,
    message: str,
    *,
    cause: Optional[str] = None,
    correction: Optional[str] = None,
    details: Optional[str] = None,
    ret_code: int = 0,
) -> LinstorError:
    """Builds the exception class that matches ``code``."""
    cls = _BY_CODE.get(int(code), LinstorError)
    return cls(
        code,
        message,
        cause=cause,
        correction=correction,
        details=details,
        ret_code=ret_code,
    )
