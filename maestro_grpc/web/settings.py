"""The web UI's settings: where it listens, which Maestro server it is a client of.

- `MAESTRO_WEB_HOST` (`localhost`): where to listen; beyond loopback the server
  behind must require tokens.
- `MAESTRO_WEB_PORT` (`8080`): the port (0 picks one; `off`: `maestro serve`
  serves no UI).
- `MAESTRO_WEB_TLS_CERT_FILE`, `MAESTRO_WEB_TLS_KEY_FILE`: serve HTTPS.
- `MAESTRO_WEB_SECURE_COOKIES` (on under TLS): mark cookies Secure (set it
  behind a TLS-terminating proxy).
- `MAESTRO_WEB_CALL_TIMEOUT_SECONDS` (`10`): how long a page waits for any one
  call before it says that section could not load.
- `MAESTRO_ADDRESS`, `MAESTRO_TLS`, `MAESTRO_CA_FILE` (as for the agent): the
  server `maestro web` talks to.

The web package imports only the generated stubs and its own modules (an
import contract), so it reads its own variables rather than the server's
settings.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path


class WebConfigError(ValueError):
    """A setting the web UI cannot run with."""


def is_loopback(host: str) -> bool:
    """Whether listening on `host` exposes the UI to this machine only."""
    if host in {"localhost", "localhost.localdomain"}:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _bool(env: Mapping[str, str], name: str) -> bool | None:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return None
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise WebConfigError(f"{name}={raw!r} is not a boolean (use 1/0, true/false)")


def _port(env: Mapping[str, str], name: str, default: int) -> int | None:
    raw = env.get(name, "").strip().lower()
    if raw in {"off", "none", "-1"}:
        return None
    if not raw:
        return default
    try:
        port = int(raw)
    except ValueError:
        raise WebConfigError(f"{name}={raw!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise WebConfigError(f"{name}={port} is not a port number (0-65535)")
    return port


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        seconds = float(raw)
    except ValueError:
        raise WebConfigError(f"{name}={raw!r} is not a number of seconds") from None
    if not 0 < seconds < float("inf"):
        raise WebConfigError(f"{name}={raw} must be a positive number of seconds")
    return seconds


def _path(env: Mapping[str, str], name: str) -> Path | None:
    raw = env.get(name, "").strip()
    return Path(raw) if raw else None


def split_address(address: str) -> tuple[str, int]:
    """`HOST:PORT` (or `[v6]:PORT`) into its parts."""
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise WebConfigError(f"{address!r} is not HOST:PORT")
    return host.strip("[]"), int(port)


@dataclass(frozen=True)
class WebSettings:
    """Where the UI listens, how it serves, and the gRPC server behind it."""

    host: str = "localhost"
    port: int | None = 8080
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    secure_cookies: bool | None = None
    # The gRPC server this UI is a client of (standalone `maestro web`).
    server_address: str = "localhost:50051"
    server_tls: bool = False
    server_ca_file: Path | None = None
    # Each page call's deadline.
    call_timeout_seconds: float = 10.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> WebSettings:
        env = os.environ if env is None else env
        ca_file = _path(env, "MAESTRO_CA_FILE")
        settings = cls(
            host=env.get("MAESTRO_WEB_HOST", "").strip() or "localhost",
            port=_port(env, "MAESTRO_WEB_PORT", 8080),
            tls_cert_file=_path(env, "MAESTRO_WEB_TLS_CERT_FILE"),
            tls_key_file=_path(env, "MAESTRO_WEB_TLS_KEY_FILE"),
            secure_cookies=_bool(env, "MAESTRO_WEB_SECURE_COOKIES"),
            server_address=env.get("MAESTRO_ADDRESS", "").strip() or "localhost:50051",
            server_tls=bool(_bool(env, "MAESTRO_TLS")) or ca_file is not None,
            server_ca_file=ca_file,
            call_timeout_seconds=_seconds(env, "MAESTRO_WEB_CALL_TIMEOUT_SECONDS", 10.0),
        )
        settings.check()
        return settings

    def with_address(self, address: str) -> WebSettings:
        """A copy listening on `HOST:PORT` (`maestro web --address`)."""
        host, port = split_address(address)
        return replace(self, host=host, port=port)

    def with_server(self, address: str) -> WebSettings:
        """A copy that talks to the server at `HOST:PORT` (`maestro web --server`)."""
        split_address(address)
        return replace(self, server_address=address)

    @property
    def tls(self) -> bool:
        return self.tls_cert_file is not None

    @property
    def cookies_secure(self) -> bool:
        """Cookies are Secure under TLS, or when told (a TLS proxy in front)."""
        return self.tls if self.secure_cookies is None else self.secure_cookies

    def check(self) -> None:
        if (self.tls_cert_file is None) != (self.tls_key_file is None):
            raise WebConfigError(
                "set both MAESTRO_WEB_TLS_CERT_FILE and MAESTRO_WEB_TLS_KEY_FILE, or neither"
            )
        for path in (self.tls_cert_file, self.tls_key_file, self.server_ca_file):
            if path is not None and not path.is_file():
                raise WebConfigError(f"{path}: no such file")
