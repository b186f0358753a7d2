"""Health: List answers every entry (it was INTERNAL), and entries change together."""

from __future__ import annotations

import asyncio

import grpc.aio
from grpc_health.v1 import health_pb2, health_pb2_grpc

from maestro_grpc.health import NOT_SERVING, SERVING
from maestro_grpc.server import SERVICE_NAMES, RunningServer


async def test_list_answers_every_entry(server: RunningServer, channel: grpc.aio.Channel) -> None:
    listed = await health_pb2_grpc.HealthStub(channel).List(health_pb2.HealthListRequest())
    statuses = {name: s.status for name, s in listed.statuses.items()}
    assert statuses == {name: SERVING for name in ("", "liveness", *SERVICE_NAMES)}


async def test_no_check_sees_the_overall_entry_serving_beside_a_service_that_is_not(
    server: RunningServer, channel: grpc.aio.Channel
) -> None:
    stub = health_pb2_grpc.HealthStub(channel)
    seen: list[tuple[int, int]] = []
    stop = asyncio.Event()

    async def watch() -> None:
        while not stop.is_set():
            listed = await stub.List(health_pb2.HealthListRequest())
            overall = listed.statuses[""].status
            services = {listed.statuses[n].status for n in SERVICE_NAMES}
            seen.append((overall, len(services)))

    # Watch streams (load balancers keep them) make each entry's change await.
    watches = [stub.Watch(health_pb2.HealthCheckRequest(service=n)) for n in ("", *SERVICE_NAMES)]
    watcher = asyncio.create_task(watch())
    for _ in range(20):
        await server.health._set(False)
        await server.health._set(True)
        await asyncio.sleep(0)
    stop.set()
    await watcher
    for call in watches:
        call.cancel()
    assert seen
    assert all(count == 1 for _, count in seen), "a List saw entries that disagree"
    assert {overall for overall, _ in seen} <= {SERVING, NOT_SERVING}
