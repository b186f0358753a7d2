"""An UploadArtifactContent stream on the wire: its header, its chunks and finish, checked.

The handler reads the header itself (`spec`), hands the domain the rest as
plain chunks and a `Finish` (`parts`). A refused upload's remaining chunks
are drained by the error interceptor.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from maestro.registry.v1 import registry_service_pb2 as pb
from maestro_grpc.errors import InvalidArgument, Violations
from maestro_grpc.registry.model import Finish, UploadSpec
from maestro_grpc.registry.wire import validation as check
from maestro_grpc.wire.protoconv import uuid_field

# The largest chunk an upload message may carry (the proto says 4 MiB).
MAX_UPLOAD_CHUNK = 4 << 20


async def spec(requests: AsyncIterator[pb.UploadArtifactContentRequest]) -> UploadSpec:
    """The upload's header, from the stream's first message."""
    first = await anext(requests, None)
    if first is None or first.WhichOneof("part") != "header":
        raise InvalidArgument.for_field("header", "the first message must carry the header")
    header = first.header
    v = Violations()
    artifact_id = uuid_field(v, header.artifact_id, "header.artifact_id")
    declared = check.sha256(v, header.declared_sha256, "header.declared_sha256")
    if header.declared_size_bytes < 0:
        v.add("header.declared_size_bytes", "must not be negative")
    v.raise_if_any()
    return UploadSpec(
        artifact_id=artifact_id,
        sha256=declared,
        size_bytes=header.declared_size_bytes or None,
        by_url=header.uploaded_by_url,
    )


async def parts(
    requests: AsyncIterator[pb.UploadArtifactContentRequest],
) -> AsyncIterator[bytes | Finish]:
    """The messages after an upload's header, as chunks and the finish (checked)."""
    async for message in requests:
        kind = message.WhichOneof("part")
        if kind == "chunk":
            if len(message.chunk) > MAX_UPLOAD_CHUNK:
                raise InvalidArgument.for_field(
                    "chunk",
                    f"is {len(message.chunk)} bytes; at most {MAX_UPLOAD_CHUNK} per message",
                )
            yield message.chunk
        elif kind == "finish":
            v = Violations()
            declared = check.sha256(v, message.finish.declared_sha256, "finish.declared_sha256")
            v.raise_if_any()
            yield Finish(sha256=declared)
        elif kind == "header":
            raise InvalidArgument.for_field("header", "only the first message carries the header")
        else:
            raise InvalidArgument.for_field("part", "carries none of header, chunk, finish")
