"""RegistryService handlers for artifact content: upload, download, presigned URLs."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator

from maestro.registry.v1 import registry_service_pb2 as pb
from maestro.registry.v1 import registry_service_pb2_grpc
from maestro_grpc.access import caller
from maestro_grpc.errors import InvalidArgument, NotFound, Violations
from maestro_grpc.registry.domain.artifacts import ArtifactLibrary
from maestro_grpc.registry.domain.content.downloads import ContentDownloads
from maestro_grpc.registry.domain.content.uploads import ContentUploads
from maestro_grpc.registry.model import UrlMethod
from maestro_grpc.registry.wire import convert, upload
from maestro_grpc.registry.wire import validation as check
from maestro_grpc.wire.context import Context
from maestro_grpc.wire.protoconv import require_uuid, uuid_field

DEFAULT_URL_SECONDS = 900
MAX_URL_SECONDS = 604_800

_URL_METHODS = {
    pb.CONTENT_URL_METHOD_UNSPECIFIED: UrlMethod.GET,
    pb.CONTENT_URL_METHOD_GET: UrlMethod.GET,
    pb.CONTENT_URL_METHOD_PUT: UrlMethod.PUT,
}


class ContentHandlers(registry_service_pb2_grpc.RegistryServiceServicer):
    uploads: ContentUploads
    downloads: ContentDownloads
    library: ArtifactLibrary

    async def UploadArtifactContent(
        self, request_iterator: AsyncIterator[pb.UploadArtifactContentRequest], context: Context
    ) -> pb.UploadArtifactContentResponse:
        requests = aiter(request_iterator)
        # A refused upload's remaining chunks are drained by the error
        # interceptor (interceptors/base.py drain).
        spec = await upload.spec(requests)
        await self._may_write_artifact(spec.artifact_id)
        result = await self.uploads.upload(spec, upload.parts(requests))
        return pb.UploadArtifactContentResponse(
            artifact=convert.artifact_to_proto(result.artifact),
            deduplicated=result.deduplicated,
        )

    async def _may_write_artifact(self, artifact_id: uuid.UUID) -> None:
        """A stream's header names its artifact after the access interceptor ran: the
        caller needs write access to the artifact's origin project (see access/)."""
        if caller.visible_projects() is None:
            return
        try:
            artifact = await self.library.get_artifact(artifact_id)
        except NotFound:
            return  # the upload says NOT_FOUND itself (the library is open to every caller)
        caller.require(artifact.origin_project_id, "artifact's origin project")

    async def DownloadArtifactContent(
        self, request: pb.DownloadArtifactContentRequest, context: Context
    ) -> AsyncIterator[pb.DownloadArtifactContentResponse]:
        artifact_id = require_uuid(request.artifact_id, "artifact_id")
        if request.offset < 0:
            raise InvalidArgument.for_field("offset", "must not be negative")
        download = await self.downloads.download(artifact_id, request.offset)
        first = True
        async with contextlib.aclosing(download.chunks) as chunks:
            async for chunk in chunks:
                if first:
                    first = False
                    yield pb.DownloadArtifactContentResponse(
                        sha256=download.sha256, size_bytes=download.size_bytes, chunk=chunk
                    )
                else:
                    yield pb.DownloadArtifactContentResponse(chunk=chunk)
        if first:
            yield pb.DownloadArtifactContentResponse(
                sha256=download.sha256, size_bytes=download.size_bytes
            )

    async def GetArtifactContentUrl(
        self, request: pb.GetArtifactContentUrlRequest, context: Context
    ) -> pb.GetArtifactContentUrlResponse:
        v = Violations()
        artifact_id = uuid_field(v, request.artifact_id, "artifact_id")
        method = _URL_METHODS.get(request.method, UrlMethod.GET)
        if request.method not in _URL_METHODS:
            v.add("method", f"{request.method} is not a known value")
        sha256 = check.sha256(v, request.declared_sha256, "declared_sha256")
        if method is UrlMethod.PUT and not sha256:
            v.add("declared_sha256", "is required for an upload URL")
        if request.declared_size_bytes < 0:
            v.add("declared_size_bytes", "must not be negative")
        if not 0 <= request.expires_in_seconds <= MAX_URL_SECONDS:
            v.add("expires_in_seconds", f"must be between 0 and {MAX_URL_SECONDS}")
        v.raise_if_any()
        url = await self.downloads.content_url(
            artifact_id,
            method=method,
            sha256=sha256,
            expires_in=request.expires_in_seconds or DEFAULT_URL_SECONDS,
        )
        response = pb.GetArtifactContentUrlResponse(
            url=url.url, headers=url.headers, http_method=url.method
        )
        response.expire_time.FromDatetime(url.expire_time)
        return response
