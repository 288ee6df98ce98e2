"""Domain errors. They carry data; the API and HTML layers turn them into responses."""

from __future__ import annotations

from typing import Any


class TraceabilityError(Exception):
    """Base of every domain error: ``code`` for machines, message for people."""

    code = "error"
    status = 400

    def __init__(self, message: str, *, field: str | None = None, **data: Any) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.data = data

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field:
            body["field"] = self.field
        return body


class ValidationFailed(TraceabilityError):
    code = "invalid"
    status = 422


class NotFound(TraceabilityError):
    code = "not_found"
    status = 404


class Conflict(TraceabilityError):
    code = "conflict"
    status = 409


class Forbidden(TraceabilityError):
    code = "forbidden"
    status = 403


class Unauthorised(TraceabilityError):
    code = "unauthorised"
    status = 401


class UnknownDevice(NotFound):
    code = "unknown_device"


class UnknownLot(NotFound):
    code = "unknown_lot"


class InvalidTransition(Conflict):
    """The event does not fit the current state of its device or lot."""

    code = "invalid_transition"

    def __init__(self, subject: str, from_state: str | None, event_type: str) -> None:
        super().__init__(
            f"cannot record '{event_type}' for {subject} in state '{from_state}'",
            field="type",
            subject=subject,
            from_state=from_state,
            event_type=event_type,
        )


class AlreadyReceived(Conflict):
    """A refusal of a device the refusing plant has already received: no longer a shipment."""

    code = "already_received"


class NotCustodian(Forbidden):
    code = "not_custodian"
