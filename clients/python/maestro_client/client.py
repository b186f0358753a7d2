"""`MaestroClient`: one channel to Maestro and the stubs of its public services.

    async with MaestroClient.from_env() as maestro:
        project = (await maestro.registry.GetProject(GetProjectRequest(project_id=...))).project
        async for artifact in maestro.pages(maestro.registry.SearchArtifacts, request, "artifacts"):
            ...

The token goes with every call, reads and calls carrying a `request_id` are
retried on UNAVAILABLE (retry.py), and every call has a default timeout
(`timeout`, seconds) unless it passes its own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any

from google.protobuf.message import Message

from maestro.access.v1 import access_service_pb2_grpc
from maestro.metrics.v1 import metrics_service_pb2_grpc
from maestro.prediction.v1 import prediction_service_pb2_grpc
from maestro.registry.v1 import registry_service_pb2_grpc
from maestro_client._bases import AsyncUnaryUnary
from maestro_client.channel import open_channel
from maestro_client.pages import pages
from maestro_client.retry import AsyncRetryInterceptor, RetryPolicy
from maestro_client.settings import ClientSettings

DEFAULT_TIMEOUT_SECONDS = 60.0


class _Timeouts(AsyncUnaryUnary):
    """A default deadline for unary calls that set none (streams, uploads among
    them, may run long: they keep the caller's own deadline, or none)."""

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds

    def _details(self, details: Any) -> Any:
        return details if details.timeout is not None else details._replace(timeout=self._seconds)

    async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(self._details(details), request)


class MaestroClient:
    """The public services of one Maestro server, on one asyncio channel.

    Create it inside the event loop that uses it (a grpc.aio channel belongs
    to its loop), and close it (`async with`, or `await close()`).
    """

    def __init__(
        self,
        settings: ClientSettings | None = None,
        *,
        retry: RetryPolicy | None = None,
        timeout: float | None = DEFAULT_TIMEOUT_SECONDS,
        interceptors: tuple[Any, ...] = (),
    ) -> None:
        self.settings = settings or ClientSettings()
        # The default deadline first, so that the retries share it.
        chain: list[Any] = []
        if timeout is not None:
            chain.append(_Timeouts(timeout))
        chain.append(AsyncRetryInterceptor(retry or RetryPolicy()))
        chain.extend(interceptors)
        self.channel = open_channel(self.settings, interceptors=chain)
        self.registry = registry_service_pb2_grpc.RegistryServiceStub(self.channel)
        self.metrics = metrics_service_pb2_grpc.MetricsServiceStub(self.channel)
        self.prediction = prediction_service_pb2_grpc.PredictionServiceStub(self.channel)
        self.access = access_service_pb2_grpc.AccessServiceStub(self.channel)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **options: Any) -> MaestroClient:
        """A client with the settings of MAESTRO_ADDRESS, MAESTRO_TOKEN and the TLS
        variables (settings.py); ConfigError when they cannot work."""
        return cls(ClientSettings.from_env(env), **options)

    def pages(
        self,
        method: Callable[..., Awaitable[Any]],
        request: Message,
        items: str,
        *,
        limit: int | None = None,
        **call_options: Any,
    ) -> AsyncIterator[Any]:
        """Every item of a List or Search RPC (pages.py)."""
        return pages(method, request, items, limit=limit, **call_options)

    async def close(self) -> None:
        await self.channel.close(None)

    async def __aenter__(self) -> MaestroClient:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()
