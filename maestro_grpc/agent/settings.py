"""The agent's settings: where the server is, how to reach it, where its state lives.

| variable | default | meaning |
| --- | --- | --- |
| `MAESTRO_ADDRESS` | `localhost:50051` | the server (`host:port`) |
| `MAESTRO_TOKEN` | none | sent as `authorization: Bearer <token>` |
| `MAESTRO_TLS` | `0` | `1` to connect over TLS (system roots, or `MAESTRO_CA_FILE`) |
| `MAESTRO_CA_FILE` | none | PEM file of the CA that signed the server's certificate (implies TLS) |
| `MAESTRO_TLS_CERT_FILE`, `MAESTRO_TLS_KEY_FILE` | none | this client's certificate and key (mTLS)|
| `MAESTRO_AGENT_STATE_DIR` | `~/.maestro-agent` (else `./.maestro-agent`) | spool, cursors, ids |
| `MAESTRO_AGENT_PRODUCER_ID` | generated once per state dir | the stream's producer id |
| `MAESTRO_AGENT_DEADLINE_SECONDS` | `300` | give up after this long without an ack |
| `MAESTRO_AGENT_PROJECT` | none | the project, when `--project` is not given |
| `MAESTRO_AGENT_BATCH_ROWS` | `5000` | rows per spooled batch (the server may ask for fewer) |

The state dir holds the spool, so it should outlive a crash: on CI runners,
put it on a cache volume to keep git cursors between jobs.
"""

from __future__ import annotations

import os
import re
import socket
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from maestro_client import ClientSettings, ConfigError

PRODUCER_ID = re.compile(r"^[A-Za-z0-9._:/@-]{1,200}$")


class AgentConfigError(ValueError):
    """A setting or option the agent cannot run with."""


def default_state_dir(env: Mapping[str, str]) -> Path:
    explicit = env.get("MAESTRO_AGENT_STATE_DIR", "").strip()
    if explicit:
        return Path(explicit).expanduser()
    home = env.get("HOME", "").strip()
    if home and Path(home).is_dir() and os.access(home, os.W_OK):
        return Path(home) / ".maestro-agent"
    return Path(".maestro-agent")


@dataclass(frozen=True)
class AgentSettings:
    """Everything the agent needs to reach the server and keep its state."""

    address: str = "localhost:50051"
    token: str = ""
    tls: bool = False
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    state_dir: Path = Path(".maestro-agent")
    producer_id: str = ""
    deadline_seconds: float = 300.0
    project_id: str = ""
    batch_rows: int = 5000

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AgentSettings:
        env = os.environ if env is None else env
        raw_deadline = env.get("MAESTRO_AGENT_DEADLINE_SECONDS", "").strip()
        deadline = 300.0
        if raw_deadline:
            try:
                deadline = float(raw_deadline)
            except ValueError:
                raise AgentConfigError(
                    f"MAESTRO_AGENT_DEADLINE_SECONDS={raw_deadline!r} is not a number"
                ) from None
        raw_rows = env.get("MAESTRO_AGENT_BATCH_ROWS", "").strip()
        try:
            batch_rows = int(raw_rows) if raw_rows else 5000
        except ValueError:
            raise AgentConfigError(
                f"MAESTRO_AGENT_BATCH_ROWS={raw_rows!r} is not an integer"
            ) from None
        try:
            connection = ClientSettings.from_env(env)
        except ConfigError as error:
            raise AgentConfigError(str(error)) from None
        return cls(
            address=connection.address,
            token=connection.token,
            tls=connection.tls,
            ca_file=connection.ca_file,
            cert_file=connection.cert_file,
            key_file=connection.key_file,
            state_dir=default_state_dir(env),
            producer_id=env.get("MAESTRO_AGENT_PRODUCER_ID", "").strip(),
            deadline_seconds=deadline,
            project_id=env.get("MAESTRO_AGENT_PROJECT", "").strip(),
            batch_rows=batch_rows,
        ).checked()

    def checked(self) -> AgentSettings:
        if self.project_id:
            try:
                uuid.UUID(self.project_id)
            except ValueError:
                raise AgentConfigError(
                    f"the project must be a UUID (--project or MAESTRO_AGENT_PROJECT), "
                    f"not {self.project_id!r}"
                ) from None
        if not self.deadline_seconds > 0:
            raise AgentConfigError(
                f"the deadline must be a positive number of seconds, not {self.deadline_seconds}"
            )
        if not 1 <= self.batch_rows <= 100_000:
            raise AgentConfigError(f"batch rows must be 1-100000, not {self.batch_rows}")
        if self.producer_id and not PRODUCER_ID.match(self.producer_id):
            raise AgentConfigError(
                f"producer id {self.producer_id!r} must be 1-200 characters of [A-Za-z0-9._:/@-]"
            )
        try:
            self.connection().checked()
        except ConfigError as error:
            raise AgentConfigError(str(error)) from None
        return self

    def connection(self) -> ClientSettings:
        """How to reach the server, as the client package takes it."""
        return ClientSettings(
            address=self.address,
            token=self.token,
            tls=self.tls,
            ca_file=self.ca_file,
            cert_file=self.cert_file,
            key_file=self.key_file,
        )


def load_producer_id(state_dir: Path, explicit: str = "") -> str:
    """The producer id: explicit, or the one stored in the state dir (made once).

    Sequence numbers count per producer, so the id must stay with the spool
    that numbered the batches: one id per state dir. A new state dir may take
    over an explicit id (its first stream renumbers after the server's
    committed sequence), but two state dirs must never use one id side by
    side: a batch one numbered would look already stored to the other.
    """
    if explicit:
        return explicit
    path = state_dir / "producer_id"
    try:
        stored = path.read_text().strip()
    except FileNotFoundError:
        stored = ""
    if stored:
        if not PRODUCER_ID.match(stored):
            raise AgentConfigError(f"{path} holds an invalid producer id {stored!r}")
        return stored
    host = re.sub(r"[^A-Za-z0-9.-]", "-", socket.gethostname())[:60] or "host"
    produced = f"agent:{host}:{uuid.uuid4().hex[:16]}"
    state_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name("producer_id.tmp")
    tmp.write_text(produced + "\n")
    os.replace(tmp, path)
    return produced
