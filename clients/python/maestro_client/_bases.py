"""The interceptor base classes, typed for mypy (grpc-stubs makes them generic;
at run time they are not subscriptable)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import grpc
import grpc.aio

if TYPE_CHECKING:
    AsyncUnaryUnary = grpc.aio.UnaryUnaryClientInterceptor[Any, Any]
    AsyncUnaryStream = grpc.aio.UnaryStreamClientInterceptor[Any, Any]
    AsyncStreamUnary = grpc.aio.StreamUnaryClientInterceptor[Any, Any]
    AsyncStreamStream = grpc.aio.StreamStreamClientInterceptor[Any, Any]
    SyncUnaryUnary = grpc.UnaryUnaryClientInterceptor[Any, Any]
    SyncUnaryStream = grpc.UnaryStreamClientInterceptor[Any, Any]
else:
    AsyncUnaryUnary = grpc.aio.UnaryUnaryClientInterceptor
    AsyncUnaryStream = grpc.aio.UnaryStreamClientInterceptor
    AsyncStreamUnary = grpc.aio.StreamUnaryClientInterceptor
    AsyncStreamStream = grpc.aio.StreamStreamClientInterceptor
    SyncUnaryUnary = grpc.UnaryUnaryClientInterceptor
    SyncUnaryStream = grpc.UnaryStreamClientInterceptor
