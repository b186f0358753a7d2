"""A real `maestro serve` in a subprocess (killable, restartable) and store probes."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import grpc
from sqlalchemy import func, select

from maestro.registry.v1 import project_pb2, registry_service_pb2, registry_service_pb2_grpc
from maestro_grpc.metrics.store.tables import metric_producers, process_events
from maestro_grpc.store.db import Database
from tests.helpers import free_port, wait_until_serving

ROOT = Path(__file__).resolve().parents[2]


class LiveServer:
    """`python -m maestro_grpc serve` on a store, on a fixed free port."""

    def __init__(self, store_url: str, data_dir: Path, **env: str) -> None:
        self.store_url = store_url
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "MAESTRO_HOST": "127.0.0.1",
            "MAESTRO_PORT": str(self.port),
            "MAESTRO_DATABASE_URL": store_url,
            "MAESTRO_DATA_DIR": str(data_dir),
            "MAESTRO_MIGRATE_ON_START": "0",
            "MAESTRO_METRICS_PORT": "off",
            "MAESTRO_WEB_PORT": "off",
            "MAESTRO_ACCESS_LOG": "0",
            "MAESTRO_LOG_LEVEL": "WARNING",
            "MAESTRO_GRACE_SECONDS": "1",
            **env,
        }
        self.log = data_dir / "server.log"
        data_dir.mkdir(parents=True, exist_ok=True)
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> LiveServer:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "maestro_grpc", "serve"],
                env=self.env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_until_serving(self.address, self.process, within=timeout)
        except AssertionError as error:
            raise RuntimeError(f"{error}: {self.log.read_text()[-2000:]}") from None
        return self

    def kill(self) -> None:
        """SIGKILL: no grace, no cleanup, as a crash."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def create_project(self, name: str | None = None, token: str = "") -> str:
        metadata = [("authorization", f"Bearer {token}")] if token else []
        request = registry_service_pb2.CreateProjectRequest(
            project=project_pb2.Project(name=name or f"agent-{uuid.uuid4().hex[:8]}")
        )

        async def create() -> str:
            async with grpc.aio.insecure_channel(self.address) as channel:
                stub = registry_service_pb2_grpc.RegistryServiceStub(channel)
                reply = await stub.CreateProject(request, metadata=metadata, timeout=10)
            return reply.project.id

        project_id: str = _run(create())
        return project_id


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


def event_counts(store_url: str, project_id: str) -> dict[str, int]:
    """Stored events of a project by type, read from the store itself."""

    async def count() -> dict[str, int]:
        db = Database(store_url, pool_size=1)
        try:
            async with db.read() as conn:
                rows = await conn.execute(
                    select(process_events.c.type, func.count())
                    .where(process_events.c.project_id == uuid.UUID(project_id))
                    .group_by(process_events.c.type)
                )
                return {str(t): int(n) for t, n in rows}
        finally:
            await db.dispose()

    result: dict[str, int] = _run(count())
    return result


def event_payloads(store_url: str, project_id: str, kind: str) -> list[dict[str, Any]]:
    async def load() -> list[dict[str, Any]]:
        db = Database(store_url, pool_size=1)
        try:
            async with db.read() as conn:
                rows = await conn.execute(
                    select(process_events.c.payload)
                    .where(process_events.c.project_id == uuid.UUID(project_id))
                    .where(process_events.c.type == kind)
                    .order_by(process_events.c.id)
                )
                return [dict(r[0]) for r in rows]
        finally:
            await db.dispose()

    result: list[dict[str, Any]] = _run(load())
    return result


def committed_sequence(store_url: str, producer_id: str) -> int:
    async def load() -> int:
        db = Database(store_url, pool_size=1)
        try:
            async with db.read() as conn:
                value = await conn.scalar(
                    select(metric_producers.c.committed_sequence).where(
                        metric_producers.c.producer_id == producer_id
                    )
                )
                return int(value or 0)
        finally:
            await db.dispose()

    result: int = _run(load())
    return result


def agent(
    address: str, state_dir: Path, *args: str, stdin: str | None = None, **env: str
) -> subprocess.Popen[str]:
    """Start `maestro agent ...` in a subprocess."""
    return subprocess.Popen(
        [sys.executable, "-m", "maestro_grpc", "agent", *args],
        env={
            **os.environ,
            "MAESTRO_ADDRESS": address,
            "MAESTRO_AGENT_STATE_DIR": str(state_dir),
            "MAESTRO_AGENT_DEADLINE_SECONDS": "60",
            **env,
        },
        cwd=ROOT,
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def point_counts(store_url: str, project_id: str) -> dict[str, int]:
    """Stored metric points of a project by name."""
    from maestro_grpc.metrics.store.tables import metric_points, metric_series

    async def count() -> dict[str, int]:
        db = Database(store_url, pool_size=1)
        try:
            async with db.read() as conn:
                rows = await conn.execute(
                    select(metric_series.c.name, func.count())
                    .select_from(
                        metric_series.join(
                            metric_points, metric_points.c.series_id == metric_series.c.id
                        )
                    )
                    .where(metric_series.c.project_id == uuid.UUID(project_id))
                    .group_by(metric_series.c.name)
                )
                return {str(n): int(c) for n, c in rows}
        finally:
            await db.dispose()

    result: dict[str, int] = _run(count())
    return result
