"""The Prometheus endpoint every Maestro process serves: the server and both workers.

Each process keeps its figures on a private `CollectorRegistry` (so tests
can run many in one interpreter), and a private registry has none of the
collectors the client library puts on its global one: `process_registry()`
registers them explicitly, so every process exports its CPU, memory, open
file descriptors, start time, garbage collections and Python version beside
its own figures. `MetricsEndpoint` serves a registry over HTTP.

No label of ours is named `job` or `instance`: Prometheus sets those itself
on every scraped series and renames a clashing label `exported_job`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    GCCollector,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
    start_http_server,
)

from maestro_grpc.config import ConfigError

# Labels Prometheus attaches to every scraped series itself.
RESERVED_LABELS = frozenset({"job", "instance"})


def process_registry() -> CollectorRegistry:
    """A registry of this process's own, with the process, platform and GC collectors.

    Counters and histograms export no `*_created` series (a second series
    per child that Prometheus stores as a gauge nobody charts).
    """
    disable_created_metrics()  # type: ignore[no-untyped-call]
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    return registry


@dataclass
class MetricsEndpoint:
    """`registry` served over HTTP on a port of this process (0 picks a free one)."""

    port: int
    _httpd: Any

    @classmethod
    def start(
        cls, registry: CollectorRegistry, host: str, port: int, *, setting: str
    ) -> MetricsEndpoint:
        """Serve now; a port that cannot be had is a ConfigError naming `setting`."""
        try:
            httpd, _thread = start_http_server(port, addr=host, registry=registry)
        except OSError as error:
            raise ConfigError(
                f"cannot serve metrics on {host}:{port}: {error.strerror or error}; "
                f"set {setting} (or off)"
            ) from None
        return cls(int(httpd.server_port), httpd)

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@contextmanager
def metrics_endpoint(
    name: str, registry: CollectorRegistry, host: str, port: int | None, *, setting: str
) -> Iterator[MetricsEndpoint | None]:
    """A worker's endpoint (none when its port is off) for as long as the block runs;
    its address is printed, as the server prints its own."""
    if port is None:
        yield None
        return
    endpoint = MetricsEndpoint.start(registry, host, port, setting=setting)
    print(f"{name}: metrics on http://{host}:{endpoint.port}/metrics", flush=True)
    try:
        yield endpoint
    finally:
        endpoint.close()
