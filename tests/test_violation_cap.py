"""A request with many mistakes hears of the first fifty and a count (#18, item 6).

Uncapped, a 200 KB request drew a 10 MB grpc-status-details-bin trailer,
which default clients refuse as RESOURCE_EXHAUSTED instead of showing the
INVALID_ARGUMENT.
"""

from __future__ import annotations

from typing import Any

import grpc

from maestro.registry.v1 import project_pb2 as pp
from maestro.registry.v1 import registry_service_pb2 as rs
from maestro.registry.v1 import registry_service_pb2_grpc
from tests.helpers import expect_error, violations


async def test_more_than_fifty_violations_are_capped_under_8_kib(
    registry: registry_service_pb2_grpc.RegistryServiceStub,
) -> None:
    # 64 labels is the most a project may carry, each key bad: 64 violations.
    labels = {f"Bad Key {i} " + "x" * 200: "v" * 300 for i in range(64)}
    call = registry.CreateProject(
        rs.CreateProjectRequest(project=pp.Project(name="many", labels=labels))
    )
    error = await expect_error(call, grpc.StatusCode.INVALID_ARGUMENT)
    found = violations(error)
    assert len(found) <= 51
    assert found[""].startswith("and ")
    assert found[""].endswith("more violations, not listed")
    trailers: Any = error.trailing_metadata() or ()
    size = sum(len(k) + len(v) for k, v in trailers)
    assert size < 8 * 1024, size
    assert len(error.details() or "") <= 500


async def test_thousands_of_labels_are_one_violation(
    registry: registry_service_pb2_grpc.RegistryServiceStub,
) -> None:
    labels = {f"Bad Key {i}": "v" for i in range(5000)}
    call = registry.CreateProject(
        rs.CreateProjectRequest(project=pp.Project(name="many", labels=labels))
    )
    error = await expect_error(call, grpc.StatusCode.INVALID_ARGUMENT)
    assert list(violations(error)) == ["project.labels"]
