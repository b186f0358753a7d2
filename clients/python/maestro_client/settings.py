"""Where the server is and how to reach it: the settings the CLI and the agent share.

| variable | default | meaning |
| --- | --- | --- |
| `MAESTRO_ADDRESS` | `localhost:50051` | the server (`host:port`) |
| `MAESTRO_TOKEN` | none | sent as `authorization: Bearer <token>` |
| `MAESTRO_TLS` | `0` | `1` to connect over TLS (system roots, or `MAESTRO_CA_FILE`) |
| `MAESTRO_CA_FILE` | none | PEM file of the CA that signed the server's certificate (implies TLS) |
| `MAESTRO_TLS_CERT_FILE`, `MAESTRO_TLS_KEY_FILE` | none | the client certificate and key (mTLS) |
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_ADDRESS = "localhost:50051"


class ConfigError(ValueError):
    """A setting the client cannot connect with; the message says which and why."""


def parse_bool(raw: str, name: str) -> bool:
    value = raw.strip().lower()
    if value in {"", "0", "false", "no", "off"}:
        return False
    if value in {"1", "true", "yes", "on"}:
        return True
    raise ConfigError(f"{name}={raw!r} is not a boolean (use 1/0, true/false)")


@dataclass(frozen=True)
class ClientSettings:
    """The server's address, the caller's token, and the TLS files, if any."""

    address: str = DEFAULT_ADDRESS
    token: str = ""
    tls: bool = False
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ClientSettings:
        env = os.environ if env is None else env
        ca = env.get("MAESTRO_CA_FILE", "").strip()
        cert = env.get("MAESTRO_TLS_CERT_FILE", "").strip()
        key = env.get("MAESTRO_TLS_KEY_FILE", "").strip()
        return cls(
            address=env.get("MAESTRO_ADDRESS", "").strip() or DEFAULT_ADDRESS,
            token=env.get("MAESTRO_TOKEN", "").strip(),
            tls=parse_bool(env.get("MAESTRO_TLS", ""), "MAESTRO_TLS") or bool(ca or cert),
            ca_file=Path(ca) if ca else None,
            cert_file=Path(cert) if cert else None,
            key_file=Path(key) if key else None,
        ).checked()

    def checked(self) -> ClientSettings:
        """These settings, or ConfigError naming what cannot work."""
        if self.ca_file is not None and not self.ca_file.is_file():
            raise ConfigError(f"CA file {self.ca_file} does not exist")
        if (self.cert_file is None) != (self.key_file is None):
            raise ConfigError(
                "set both MAESTRO_TLS_CERT_FILE and MAESTRO_TLS_KEY_FILE (a client "
                "certificate and its key), or neither"
            )
        for path in (self.cert_file, self.key_file):
            if path is not None and not path.is_file():
                raise ConfigError(f"{path} does not exist")
        return self
