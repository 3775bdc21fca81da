"""Coded, Chinese errors raised by services and shown to users as they are."""

from __future__ import annotations


class ServiceError(Exception):
    """A refused action. ``code`` is stable for programs; ``message`` is for people; ``field`` names the input."""

    def __init__(self, code: str, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return self.message


class OutOfScope(ServiceError):
    def __init__(self, message: str = "该记录不在您的管辖范围内。", *, field: str | None = None) -> None:
        super().__init__("out_of_scope", message, field=field)


class NotAllowed(ServiceError):
    def __init__(self, message: str = "您的角色无权进行此操作。") -> None:
        super().__init__("not_allowed", message)
