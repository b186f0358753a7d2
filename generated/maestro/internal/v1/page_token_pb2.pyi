from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class PageToken(_message.Message):
    __slots__ = ("method", "filter_hash", "last_text", "last_double", "last_int", "last_id")
    METHOD_FIELD_NUMBER: _ClassVar[int]
    FILTER_HASH_FIELD_NUMBER: _ClassVar[int]
    LAST_TEXT_FIELD_NUMBER: _ClassVar[int]
    LAST_DOUBLE_FIELD_NUMBER: _ClassVar[int]
    LAST_INT_FIELD_NUMBER: _ClassVar[int]
    LAST_ID_FIELD_NUMBER: _ClassVar[int]
    method: str
    filter_hash: bytes
    last_text: str
    last_double: float
    last_int: int
    last_id: str
    def __init__(self, method: _Optional[str] = ..., filter_hash: _Optional[bytes] = ..., last_text: _Optional[str] = ..., last_double: _Optional[float] = ..., last_int: _Optional[int] = ..., last_id: _Optional[str] = ...) -> None: ...
