"""Fixtures of the artifact-content tests: both blob stores (local files and S3).

S3 is moto's server over real HTTP, started once per session on a free port
from the virtualenv's `moto_server`; each test gets a bucket of its own. The
`settings` fixture is overridden so that every server fixture of this folder
runs on each store (SQLite, PostgreSQL) x each blob store (file, s3).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from maestro_grpc.config import Settings
from maestro_grpc.server import RunningServer, start_server
from tests.conftest import skip_or_fail
from tests.content.support import MovableClock
from tests.helpers import eventually_sync, free_port

AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def moto_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a moto S3 server of this session (with fake AWS credentials set)."""
    binary = Path(sys.executable).parent / "moto_server"
    if not binary.exists():
        found = shutil.which("moto_server")
        if found is None:
            skip_or_fail("moto_server is not installed (moto[server])")
        binary = Path(str(found))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(binary), "-H", "127.0.0.1", "-p", str(port)], stdout=out, stderr=out
        )
    saved = {k: os.environ.get(k) for k in AWS_ENV}
    os.environ.update(AWS_ENV)
    try:

        def started() -> bool:
            if process.poll() is not None:
                skip_or_fail(f"moto_server exited: {log.read_text()[-500:]}")
            return _answers(url)

        try:
            eventually_sync(started, "moto_server answers", within=20, every=0.1)
        except AssertionError:
            skip_or_fail(f"moto_server did not start: {log.read_text()[-500:]}")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:  # pragma: no cover
            process.kill()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(params=["file", "s3"])
def blob_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(settings: Settings, blob_kind: str, request: pytest.FixtureRequest) -> Settings:
    """The server's settings on the blob store under test (a fresh bucket for S3)."""
    if blob_kind == "s3":
        endpoint: str = request.getfixturevalue("moto_endpoint")
        return replace(
            settings, s3_endpoint_url=endpoint, s3_bucket=f"maestro-test-{uuid.uuid4().hex[:12]}"
        )
    return settings


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
async def server(settings: Settings, clock: MovableClock) -> AsyncIterator[RunningServer]:
    running = await start_server(settings, clock=clock)
    try:
        yield running
    finally:
        await running.stop(grace=0.2)
