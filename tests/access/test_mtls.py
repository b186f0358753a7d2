"""Mutual TLS: with MAESTRO_TLS_CLIENT_CA_FILE, only clients with a certificate of that CA connect.

Certificates are made in the test (trustme): one CA for the server's and the
good client's certificates, another CA for a client that must be refused.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import grpc
import grpc.aio
import pytest
import trustme

from maestro.access.v1 import access_service_pb2 as ac
from maestro.access.v1 import access_service_pb2_grpc
from maestro.metrics.v1 import metrics_service_pb2 as ms
from maestro.metrics.v1 import metrics_service_pb2_grpc
from maestro.registry.v1 import project_pb2 as pp
from maestro.registry.v1 import registry_service_pb2 as rs
from maestro.registry.v1 import registry_service_pb2_grpc
from maestro_grpc.app import bootstrap_admin
from maestro_grpc.config import ConfigError, Settings
from maestro_grpc.server import start_server
from tests.access.conftest import bearer
from tests.agent.live import ROOT, agent
from tests.conftest import with_settings


class Pki:
    def __init__(self, folder: Path) -> None:
        self.ca = trustme.CA()
        self.other_ca = trustme.CA()
        self.folder = folder
        self.ca_file = self._write("ca.pem", self.ca.cert_pem.bytes())
        server = self.ca.issue_cert("localhost", "127.0.0.1")
        self.server_cert = self._write("server.pem", server.private_key_and_cert_chain_pem.bytes())
        self.server_key = self._write("server.key", server.private_key_pem.bytes())
        self.client_cert, self.client_key = self._client("client", self.ca)
        self.stranger_cert, self.stranger_key = self._client("stranger", self.other_ca)

    def _write(self, name: str, data: bytes) -> Path:
        path = self.folder / name
        path.write_bytes(data)
        return path

    def _client(self, name: str, ca: trustme.CA) -> tuple[Path, Path]:
        issued = ca.issue_cert(f"{name}@maestro.test")
        return (
            self._write(f"{name}.pem", b"".join(b.bytes() for b in issued.cert_chain_pems)),
            self._write(f"{name}.key", issued.private_key_pem.bytes()),
        )

    def channel(self, address: str, cert: Path | None, key: Path | None) -> grpc.aio.Channel:
        credentials = grpc.ssl_channel_credentials(
            root_certificates=self.ca_file.read_bytes(),
            private_key=key.read_bytes() if key else None,
            certificate_chain=cert.read_bytes() if cert else None,
        )
        return grpc.aio.secure_channel(address, credentials)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return Pki(tmp_path_factory.mktemp("pki"))


async def _refused(channel: grpc.aio.Channel) -> grpc.StatusCode:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await access_service_pb2_grpc.AccessServiceStub(channel).WhoAmI(
            ac.WhoAmIRequest(), timeout=10
        )
    return caught.value.code()


async def test_only_clients_with_a_certificate_of_the_ca_connect(
    settings: Settings, pki: Pki, tmp_path: Path
) -> None:
    admin = (await bootstrap_admin(settings, "root")).secret
    running = await start_server(
        with_settings(
            settings,
            tls_cert_file=pki.server_cert,
            tls_key_file=pki.server_key,
            tls_client_ca_file=pki.ca_file,
        )
    )
    address = f"localhost:{running.port}"
    try:
        async with pki.channel(address, pki.client_cert, pki.client_key) as channel:
            me = await access_service_pb2_grpc.AccessServiceStub(channel).WhoAmI(
                ac.WhoAmIRequest(), metadata=bearer(admin)
            )
            assert me.token.name == "root"
            project = (
                await registry_service_pb2_grpc.RegistryServiceStub(channel).CreateProject(
                    rs.CreateProjectRequest(project=pp.Project(name="mtls")),
                    metadata=bearer(admin),
                )
            ).project

            # The agent presents its certificate from MAESTRO_TLS_CERT_FILE/_KEY_FILE.
            line = json.dumps({"name": "mtls.check", "value": 2.0, "time": "2026-01-01T00:00:00Z"})
            process = agent(
                address, tmp_path / "agent", "stream", "--project", project.id, "--json",
                stdin=line + "\n",
                MAESTRO_CA_FILE=str(pki.ca_file),
                MAESTRO_TLS_CERT_FILE=str(pki.client_cert),
                MAESTRO_TLS_KEY_FILE=str(pki.client_key),
                MAESTRO_TOKEN=admin,
            )  # fmt: skip
            _, err = await asyncio.to_thread(process.communicate, line + "\n", 120)
            assert process.returncode == 0, err
            names = await metrics_service_pb2_grpc.MetricsServiceStub(channel).ListMetricNames(
                ms.ListMetricNamesRequest(project_id=project.id), metadata=bearer(admin)
            )
            assert [n.name for n in names.metric_names] == ["mtls.check"]

        async with pki.channel(address, None, None) as anonymous:
            assert await _refused(anonymous) == grpc.StatusCode.UNAVAILABLE
        async with pki.channel(address, pki.stranger_cert, pki.stranger_key) as stranger:
            assert await _refused(stranger) == grpc.StatusCode.UNAVAILABLE

        # The CLI presents the same certificate.
        whoami = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "maestro_grpc", "whoami"],
            env={
                **{k: v for k, v in os.environ.items() if not k.startswith("MAESTRO_")},
                "MAESTRO_ADDRESS": address,
                "MAESTRO_TOKEN": admin,
                "MAESTRO_CA_FILE": str(pki.ca_file),
                "MAESTRO_TLS_CERT_FILE": str(pki.client_cert),
                "MAESTRO_TLS_KEY_FILE": str(pki.client_key),
            },
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert whoami.returncode == 0, whoami.stderr
        assert whoami.stdout.startswith("root (")
    finally:
        await running.stop(grace=0)


async def test_a_client_ca_without_a_server_certificate_is_refused(
    settings: Settings, pki: Pki
) -> None:
    with pytest.raises(ConfigError, match="MAESTRO_TLS_CLIENT_CA_FILE needs TLS"):
        await start_server(with_settings(settings, tls_client_ca_file=pki.ca_file))


def test_an_agent_with_half_a_client_certificate_is_refused(pki: Pki) -> None:
    from maestro_grpc.agent.settings import AgentConfigError, AgentSettings

    with pytest.raises(AgentConfigError, match="MAESTRO_TLS_KEY_FILE"):
        AgentSettings.from_env({"MAESTRO_TLS_CERT_FILE": str(pki.client_cert)})
