#!/usr/bin/env python3
"""A protoc plugin that buf runs locally to make the Python code.

buf hands us a CodeGeneratorRequest holding every descriptor; we write them
into a descriptor set, run grpcio-tools' bundled protoc on it (python, pyi and
grpc_python outputs) and hand the files back. That keeps generation offline
and gives exactly the output of the protoc version pinned in uv.lock. It also
adds the empty __init__.py files that make `maestro.<service>.v1` a regular
package.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from google.protobuf import descriptor_pb2
from google.protobuf.compiler import plugin_pb2
from grpc_tools import protoc


def main() -> int:
    request = plugin_pb2.CodeGeneratorRequest.FromString(sys.stdin.buffer.read())
    response = plugin_pb2.CodeGeneratorResponse()
    response.supported_features = plugin_pb2.CodeGeneratorResponse.FEATURE_PROTO3_OPTIONAL

    with tempfile.TemporaryDirectory() as tmp:
        descriptors = Path(tmp, "descriptors.binpb")
        descriptors.write_bytes(
            descriptor_pb2.FileDescriptorSet(file=request.proto_file).SerializeToString()
        )
        out = Path(tmp, "out")
        out.mkdir()
        code = protoc.main(
            [
                "protoc",
                f"--descriptor_set_in={descriptors}",
                f"--python_out={out}",
                f"--pyi_out={out}",
                f"--grpc_python_out={out}",
                *request.file_to_generate,
            ]
        )
        if code != 0:
            response.error = f"grpc_tools.protoc failed with exit code {code}"
        else:
            packages: set[Path] = set()
            for path in sorted(p for p in out.rglob("*") if p.is_file()):
                relative = path.relative_to(out)
                response.file.add(name=relative.as_posix(), content=path.read_text())
                packages.update(relative.parents)
            for package in sorted(packages):
                if package != Path("."):
                    response.file.add(name=(package / "__init__.py").as_posix(), content="")

    sys.stdout.buffer.write(response.SerializeToString())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
