"""Domain errors: plain exceptions, each with its gRPC status code attached here.

Domain code raises these and knows nothing of gRPC: each carries the *name*
of its status code (`code`, as `grpc.StatusCode` spells it), and the error
interceptor (`interceptors/errors.py`) is the one place that turns them into
statuses with `google.rpc.ErrorInfo` and `google.rpc.BadRequest` details.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import ClassVar, TypeVar

T = TypeVar("T")

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
    code: ClassVar[str] = "UNKNOWN"

    def __str__(self) -> str:
        return self.message


@dataclass
class InvalidArgument(MaestroError):
    """The request is malformed; `violations` names each bad field."""

    reason: str = "INVALID_ARGUMENT"
    violations: tuple[FieldViolation, ...] = ()
    code: ClassVar[str] = "INVALID_ARGUMENT"

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
    code: ClassVar[str] = "NOT_FOUND"


@dataclass
class AlreadyExists(MaestroError):
    reason: str = "ALREADY_EXISTS"
    code: ClassVar[str] = "ALREADY_EXISTS"


@dataclass
class FailedPrecondition(MaestroError):
    reason: str = "FAILED_PRECONDITION"
    code: ClassVar[str] = "FAILED_PRECONDITION"


@dataclass
class Aborted(MaestroError):
    reason: str = "ABORTED"
    code: ClassVar[str] = "ABORTED"


@dataclass
class OutOfRange(MaestroError):
    reason: str = "OUT_OF_RANGE"
    code: ClassVar[str] = "OUT_OF_RANGE"


@dataclass
class ResourceExhausted(MaestroError):
    reason: str = "RESOURCE_EXHAUSTED"
    retry_delay_seconds: float = 0.0
    code: ClassVar[str] = "RESOURCE_EXHAUSTED"


@dataclass
class Unavailable(MaestroError):
    reason: str = "UNAVAILABLE"
    retry_delay_seconds: float = 0.0
    code: ClassVar[str] = "UNAVAILABLE"


@dataclass
class DataLoss(MaestroError):
    """Stored data that should be there is gone or corrupt (an operator must look)."""

    reason: str = "DATA_LOSS"
    code: ClassVar[str] = "DATA_LOSS"


@dataclass
class PermissionDenied(MaestroError):
    reason: str = "PERMISSION_DENIED"
    code: ClassVar[str] = "PERMISSION_DENIED"


@dataclass
class Unauthenticated(MaestroError):
    reason: str = "UNAUTHENTICATED"
    code: ClassVar[str] = "UNAUTHENTICATED"


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

    def take(self, parse: Callable[[], T], fallback: T) -> T:
        """`parse()`, or `fallback` with its violations recorded when it raises InvalidArgument.

        For checks that raise rather than collect: the request still hears
        about every mistake at once, and `fallback` (never used, since
        `raise_if_any` follows) keeps the result's type exact.
        """
        try:
            return parse()
        except InvalidArgument as error:
            self.items.extend(error.violations)
            return fallback
