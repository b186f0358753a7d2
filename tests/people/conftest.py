"""PeopleService's stub on the suite's server, and the access tests' secured server."""

from __future__ import annotations

import grpc.aio
import pytest

from maestro.people.v1 import people_service_pb2_grpc
from tests.access.conftest import Secured, secured

__all__ = ["Secured", "secured"]


@pytest.fixture
def people(channel: grpc.aio.Channel) -> people_service_pb2_grpc.PeopleServiceStub:
    return people_service_pb2_grpc.PeopleServiceStub(channel)
