"""The access log's lines written straight to the configured handler (`logs.DirectLog`).

Each line must be the one `logging` would have written through the JSON
formatter, field for field and in the same order; and whenever anything else
listens (pytest's caplog, an operator's handler, a level turned down) the
line goes through `logging` instead, once.
"""

from __future__ import annotations

import io
import json
import logging
import re
import sys
from collections.abc import Iterator
from typing import Any

import grpc
import pytest

from maestro.registry.v1 import registry_service_pb2 as rs
from maestro.registry.v1 import registry_service_pb2_grpc
from maestro_grpc import logs
from maestro_grpc.interceptors.request_id import access_log, new_request_id, request_id_var
from maestro_grpc.server import RunningServer

FIELDS = {
    "request_id": "rid-1",
    "grpc_method": "/maestro.registry.v1.RegistryService/GetProject",
    "grpc_type": "unary",
    "grpc_code": "OK",
    "duration_ms": 0.412,
    "peer": "ipv4:127.0.0.1:5555",
    "principal": 'ci "bot" é',
}


@pytest.fixture
def stderr(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """`logs.configure` writing to a buffer, as the server's process configures it (only
    its handler on the root logger); the root logger as it was afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    buffer = io.StringIO()
    monkeypatch.setattr(sys, "stderr", buffer)
    logs.configure("INFO")
    try:
        yield buffer
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        monkeypatch.setattr(logs, "_configured", None)


def alone() -> None:
    """Only the configured handler on the root logger (pytest adds its own for each test's
    call, after the fixtures ran)."""
    assert logs._configured is not None
    logging.getLogger().handlers[:] = [logs._configured]


def lines(buffer: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def test_a_direct_line_is_the_line_logging_writes(stderr: io.StringIO) -> None:
    alone()
    token = request_id_var.set("rid-1")
    try:
        access_log.info("%s %s", FIELDS["grpc_method"], "OK", extra=FIELDS)
        assert logs.DirectLog(access_log).info(f"{FIELDS['grpc_method']} OK", dict(FIELDS))
    finally:
        request_id_var.reset(token)
    through_logging, direct = lines(stderr)
    stamps = through_logging.pop("ts"), direct.pop("ts")
    assert list(direct.items()) == list(through_logging.items())  # the order too
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", s) for s in stamps)
    assert direct["principal"] == 'ci "bot" é'


def test_anything_else_listening_gets_the_line_through_logging(stderr: io.StringIO) -> None:
    alone()
    direct = logs.DirectLog(access_log)
    other = logging.Handler()
    logging.getLogger().addHandler(other)
    assert not direct.info("m", dict(FIELDS))
    logging.getLogger().removeHandler(other)
    access_log.setLevel(logging.WARNING)
    try:
        assert not direct.info("m", dict(FIELDS))
    finally:
        access_log.setLevel(logging.NOTSET)
    access_log.addHandler(other)
    try:
        assert not direct.info("m", dict(FIELDS))
    finally:
        access_log.removeHandler(other)
    assert stderr.getvalue() == ""
    assert direct.info("m", dict(FIELDS))
    assert [line["msg"] for line in lines(stderr)] == ["m"]


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
async def test_a_served_call_writes_one_line(
    server: RunningServer, stderr: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    alone()
    through_logging: list[Any] = []
    monkeypatch.setattr(access_log, "info", lambda *a, **k: through_logging.append(a))
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        stub = registry_service_pb2_grpc.RegistryServiceStub(channel)
        call = stub.ListProjects(rs.ListProjectsRequest(), metadata=(("x-request-id", "look-1"),))
        await call
    logged = [line for line in lines(stderr) if line["logger"] == "maestro.access"]
    assert len(logged) == 1
    (line,) = logged
    assert line["request_id"] == "look-1"
    assert line["grpc_method"] == "/maestro.registry.v1.RegistryService/ListProjects"
    assert line["grpc_code"] == "OK"
    assert line["msg"] == "/maestro.registry.v1.RegistryService/ListProjects OK"
    assert line["peer"].startswith("ipv4:127.0.0.1:")
    assert through_logging == []  # written directly


def test_made_request_ids_are_32_hex_digits_and_differ() -> None:
    made = {new_request_id() for _ in range(10_000)}
    assert len(made) == 10_000
    assert all(re.fullmatch(r"[0-9a-f]{32}", rid) for rid in made)
