"""Server reflection that carries the protos' comments.

The generated `_pb2` modules embed their descriptors without source info, so
plain reflection gives grpcurl `describe` the shapes but not the comments
that document them. `make generate` also writes generated/maestro/
descriptor_set.binpb (buf build, with source info); this servicer answers
with those descriptors where it has them, so an operator sees every RPC's
and field's documentation with no proto files at hand.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

from google.protobuf import descriptor_pb2
from grpc_reflection.v1alpha import _async as reflection_aio
from grpc_reflection.v1alpha import reflection_pb2

DESCRIPTOR_SET = "descriptor_set.binpb"


def load_documented_files() -> dict[str, bytes]:
    """File name -> serialized FileDescriptorProto with source info, for our protos."""
    raw = resources.files("maestro").joinpath(DESCRIPTOR_SET).read_bytes()
    files = descriptor_pb2.FileDescriptorSet.FromString(raw).file
    return {f.name: f.SerializeToString() for f in files if f.name.startswith("maestro/")}


class DocumentedReflectionServicer(reflection_aio.ReflectionServicer):  # type: ignore[misc]
    def __init__(self, service_names: Any) -> None:
        super().__init__(service_names)
        self._documented = load_documented_files()

    def _respond(self, request: Any, descriptor: Any) -> reflection_pb2.ServerReflectionResponse:
        seen: dict[str, Any] = {}
        stack = [descriptor]
        while stack:
            current = stack.pop()
            if current.name in seen:
                continue
            seen[current.name] = current
            stack.extend(current.dependencies)
        serialized = []
        for name, file_descriptor in seen.items():
            documented = self._documented.get(name)
            if documented is None:
                proto = descriptor_pb2.FileDescriptorProto()
                file_descriptor.CopyToProto(proto)
                documented = proto.SerializeToString()
            serialized.append(documented)
        return reflection_pb2.ServerReflectionResponse(
            file_descriptor_response=reflection_pb2.FileDescriptorResponse(
                file_descriptor_proto=serialized
            ),
            original_request=request,
        )

    def _file_by_filename(self, request: Any, filename: str) -> Any:
        try:
            descriptor = self._pool.FindFileByName(filename)
        except KeyError:
            return super()._file_by_filename(request, filename)
        return self._respond(request, descriptor)

    def _file_containing_symbol(self, request: Any, fully_qualified_name: str) -> Any:
        try:
            descriptor = self._pool.FindFileContainingSymbol(fully_qualified_name)
        except KeyError:
            return super()._file_containing_symbol(request, fully_qualified_name)
        return self._respond(request, descriptor)
