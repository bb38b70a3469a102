"""Exceptions of the cim SDK.

Every one is a :class:`CimError` and also subclasses the Python built-in that fits, so
``except ConnectionError`` or ``except PermissionError`` work as expected. ``code`` is the
registry code of spec/v1 (0 when the failure has none, such as an unreachable route) and
``code_name`` its name (``"INVALID_CREDENTIALS"``).
"""

from __future__ import annotations


class CimError(Exception):
    """Base of every cim error."""

    code: int
    code_name: str

    def __init__(self, message: str, code: int = 0, code_name: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.code_name = code_name

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class AuthenticationError(CimError, PermissionError):
    """Wrong credentials, or a token the route or server no longer accepts."""


class UnavailableError(CimError, ConnectionError):
    """The route or server cannot be reached or is overloaded; trying later may help."""


class RejectedError(CimError):
    """The route or server refused the request (an unknown recipient, a body too large, …)."""


class InvalidInputError(CimError, ValueError):
    """An argument cannot be sent as given."""


class ClosedError(CimError, ConnectionError):
    """The client is closed."""


__all__ = [
    "CimError",
    "AuthenticationError",
    "UnavailableError",
    "RejectedError",
    "InvalidInputError",
    "ClosedError",
]
