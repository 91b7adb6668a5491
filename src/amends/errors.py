"""The one hierarchy of domain errors. Edges map them: the API to HTTP codes, the CLI to exit 1."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A failure the user can understand and act on."""

    code = "error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(DomainError):
    code = "not_found"

    def __init__(self, what: str, key: object) -> None:
        super().__init__(f"{what} {key} not found")
        self.what = what
        self.key = key


class InvalidInput(DomainError):
    code = "invalid_input"


class Conflict(DomainError):
    code = "conflict"


class InvalidTransition(DomainError):
    code = "invalid_transition"


class Forbidden(DomainError):
    """The one acting may not do this (an agent approving an offer only a lead may)."""

    code = "forbidden"


class Gone(DomainError):
    """It existed but can no longer be used (an expired or withdrawn voucher)."""

    code = "gone"


class ReplyBlocked(DomainError):
    """The reply checker found something that stops sending; a person may override it."""

    code = "reply_blocked"

    def __init__(self, detail: str, findings: list[dict[str, Any]]) -> None:
        super().__init__(detail)
        self.findings = findings


class MalformedRequest(InvalidInput):
    """The request itself cannot be read (not JSON, empty)."""

    code = "malformed_request"


class PayloadTooLarge(InvalidInput):
    code = "payload_too_large"

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"body of {size} bytes is over the limit of {limit} bytes")


class UnsupportedMediaType(InvalidInput):
    code = "unsupported_media_type"


class UsageError(InvalidInput):
    """The command was asked for something that cannot apply (a column the file lacks)."""

    code = "usage_error"
