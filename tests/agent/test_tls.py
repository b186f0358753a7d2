"""TLS end to end: a server with a certificate, the agent trusting its CA.

The certificate is made in the test with the openssl command (a throwaway
CA-less self-signed certificate for localhost, which the agent is told to
trust with --ca-file).
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from pathlib import Path

import grpc
import grpc.aio
import pytest

from maestro.metrics.v1 import metrics_service_pb2 as ms
from maestro.metrics.v1 import metrics_service_pb2_grpc as msg
from maestro.registry.v1 import project_pb2 as pp
from maestro.registry.v1 import registry_service_pb2 as rs
from maestro.registry.v1 import registry_service_pb2_grpc as rsg
from maestro_grpc.config import ConfigError, Settings
from maestro_grpc.server import start_server
from tests.agent.live import agent
from tests.conftest import skip_or_fail, with_settings


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        skip_or_fail("the openssl command is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "server.pem", folder / "server.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


async def test_agent_streams_over_tls(
    settings: Settings, certificate: tuple[Path, Path], tmp_path: Path
) -> None:
    cert, key = certificate
    running = await start_server(with_settings(settings, tls_cert_file=cert, tls_key_file=key))
    address = f"localhost:{running.port}"
    try:
        credentials = grpc.ssl_channel_credentials(root_certificates=cert.read_bytes())
        async with grpc.aio.secure_channel(address, credentials) as channel:
            project = (
                await rsg.RegistryServiceStub(channel).CreateProject(
                    rs.CreateProjectRequest(project=pp.Project(name="tls"))
                )
            ).project
            line = json.dumps({"name": "tls.check", "value": 1.5, "time": "2026-01-01T00:00:00Z"})
            process = agent(
                address, tmp_path / "agent", "stream", "--project", project.id,
                "--tls", "--ca-file", str(cert), "--json", stdin=line + "\n",
            )  # fmt: skip
            out, err = await asyncio.to_thread(process.communicate, line + "\n", 120)
            assert process.returncode == 0, err
            assert json.loads(out.strip().splitlines()[-1])["acked"] >= 1
            names = await msg.MetricsServiceStub(channel).ListMetricNames(
                ms.ListMetricNamesRequest(project_id=project.id)
            )
            assert [(n.name, n.count) for n in names.metric_names] == [("tls.check", 1)]

        # Plaintext is refused on a TLS port.
        async with grpc.aio.insecure_channel(address) as plain:
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await rsg.RegistryServiceStub(plain).ListProjects(
                    rs.ListProjectsRequest(), timeout=5
                )
            assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        await running.stop(grace=0)


async def test_half_a_tls_setting_is_refused(
    settings: Settings, certificate: tuple[Path, Path]
) -> None:
    with pytest.raises(ConfigError, match="MAESTRO_TLS_KEY_FILE"):
        await start_server(with_settings(settings, tls_cert_file=certificate[0]))
