"""Domain errors: plain exceptions, each with its gRPC status code attached here.

Domain code raises these and knows nothing of gRPC; the error interceptor
(`interceptors/errors.py`) is the one place that turns them into statuses
with `google.rpc.ErrorInfo` and `google.rpc.BadRequest` details.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import grpc

ERROR_DOMAIN = "maestro.dev"


@dataclass(frozen=True)
class FieldViolation:
    """One bad field of a request: its path ("project.name") and what is wrong."""

    field: str
    description: str


@dataclass
class MaestroError(Exception):
    """Base of every domain error; `reason` is a stable UPPER_SNAKE identifier."""

    message: str
    reason: str = "ERROR"
    metadata: Mapping[str, str] = field(default_factory=dict)
    code = grpc.StatusCode.UNKNOWN

    def __str__(self) -> str:
        return self.message


@dataclass
class InvalidArgument(MaestroError):
    """The request is malformed; `violations` names each bad field."""

    reason: str = "INVALID_ARGUMENT"
    violations: tuple[FieldViolation, ...] = ()
    code = grpc.StatusCode.INVALID_ARGUMENT

    @classmethod
    def for_field(cls, field_path: str, description: str) -> InvalidArgument:
        return cls(
            f"{field_path}: {description}",
            violations=(FieldViolation(field_path, description),),
        )

    @classmethod
    def from_violations(cls, violations: Iterable[FieldViolation]) -> InvalidArgument:
        found = tuple(violations)
        summary = "; ".join(f"{v.field}: {v.description}" for v in found[:5])
        more = f" (and {len(found) - 5} more)" if len(found) > 5 else ""
        return cls(f"invalid request: {summary}{more}", violations=found)


@dataclass
class NotFound(MaestroError):
    reason: str = "NOT_FOUND"
    code = grpc.StatusCode.NOT_FOUND


@dataclass
class AlreadyExists(MaestroError):
    reason: str = "ALREADY_EXISTS"
    code = grpc.StatusCode.ALREADY_EXISTS


@dataclass
class FailedPrecondition(MaestroError):
    reason: str = "FAILED_PRECONDITION"
    code = grpc.StatusCode.FAILED_PRECONDITION


@dataclass
class Aborted(MaestroError):
    reason: str = "ABORTED"
    code = grpc.StatusCode.ABORTED


@dataclass
class OutOfRange(MaestroError):
    reason: str = "OUT_OF_RANGE"
    code = grpc.StatusCode.OUT_OF_RANGE


@dataclass
class ResourceExhausted(MaestroError):
    reason: str = "RESOURCE_EXHAUSTED"
    retry_delay_seconds: float = 0.0
    code = grpc.StatusCode.RESOURCE_EXHAUSTED


@dataclass
class Unavailable(MaestroError):
    reason: str = "UNAVAILABLE"
    retry_delay_seconds: float = 0.0
    code = grpc.StatusCode.UNAVAILABLE


@dataclass
class DataLoss(MaestroError):
    """Stored data that should be there is gone or corrupt (an operator must look)."""

    reason: str = "DATA_LOSS"
    code = grpc.StatusCode.DATA_LOSS


@dataclass
class PermissionDenied(MaestroError):
    reason: str = "PERMISSION_DENIED"
    code = grpc.StatusCode.PERMISSION_DENIED


@dataclass
class Unauthenticated(MaestroError):
    reason: str = "UNAUTHENTICATED"
    code = grpc.StatusCode.UNAUTHENTICATED


class Violations:
    """Collects field violations so a request reports all its mistakes at once."""

    def __init__(self) -> None:
        self.items: list[FieldViolation] = []

    def add(self, field_path: str, description: str) -> None:
        self.items.append(FieldViolation(field_path, description))

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self) -> None:
        if self.items:
            raise InvalidArgument.from_violations(self.items)
