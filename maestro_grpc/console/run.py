"""What every human command shares: the server's settings, one call, the output, exit codes.

Exit codes (also in each command's --help):
  0  done
  1  the server refused the request (not found, invalid, not allowed, no or bad token)
  2  a bad option or setting (nothing was sent)
  3  the server could not be reached, or did not answer in time (retry)
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import UTC
from typing import Any

import grpc
import grpc.aio
from google.protobuf import json_format
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from rich.console import Console
from rich.table import Table

from maestro_client import ClientSettings, ConfigError, MaestroClient, RetryPolicy

EXIT_CODES = """\
exit codes: 0 done; 1 the server refused the request (not found, invalid, not
allowed, no or bad token); 2 a bad option or setting; 3 the server could not be
reached or did not answer in time (retry).
Settings: MAESTRO_ADDRESS, MAESTRO_TOKEN, MAESTRO_TLS, MAESTRO_CA_FILE (as for the agent)."""
TIMEOUT_SECONDS = 60.0
UNREACHABLE = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)


class UsageError(ValueError):
    """An option that cannot be used: exit code 2, nothing sent."""


# Reads (and writes carrying a request_id) are retried on UNAVAILABLE a few
# times, backing off, before the command exits 3.
RETRY = RetryPolicy(max_attempts=4, initial_backoff=0.2, max_backoff=2.0)


class Stubs:
    """The public services, on the client package's channel: the caller's token on
    every call, retries of what is safe to repeat, the page iterator."""

    def __init__(self, client: MaestroClient) -> None:
        self.client = client
        self.registry = client.registry
        self.metrics = client.metrics
        self.prediction = client.prediction
        self.kw: dict[str, Any] = {"timeout": TIMEOUT_SECONDS}


Work = Callable[[Stubs], Awaitable[None]]


def run(work: Work) -> int:
    """Run one command's calls against the server; its exit code."""
    try:
        settings = ClientSettings.from_env()
    except ConfigError as error:
        print(f"maestro: {error}", file=sys.stderr)
        return 2

    async def call() -> None:
        async with MaestroClient(settings, retry=RETRY, timeout=TIMEOUT_SECONDS) as client:
            await work(Stubs(client))

    try:
        asyncio.run(call())
    except UsageError as error:
        print(f"maestro: {error}", file=sys.stderr)
        return 2
    except grpc.aio.AioRpcError as error:
        print(f"maestro: {error.code().name}: {error.details()}", file=sys.stderr)
        return 3 if error.code() in UNREACHABLE else 1
    return 0


# ---- output ------------------------------------------------------------------------------


def as_dict(message: Message) -> dict[str, Any]:
    """A message as protobuf's JSON mapping, with the proto field names (as grpcurl takes)."""
    found: dict[str, Any] = json_format.MessageToDict(message, preserving_proto_field_name=True)
    return found


def print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, sort_keys=True))


def when(stamp: Timestamp) -> str:
    if stamp.seconds == 0 and stamp.nanos == 0:
        return ""
    return stamp.ToDatetime(tzinfo=UTC).strftime("%Y-%m-%d %H:%M")


def table(title: str, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """A readable table on stdout (plain text when stdout is not a terminal)."""
    shown = Table(title=title, title_justify="left")
    for column in columns:
        shown.add_column(column)
    for row in rows:
        shown.add_row(*(str(cell) for cell in row))
    Console(soft_wrap=False).print(shown)


def pairs(title: str, items: Iterable[tuple[str, object]]) -> None:
    """A two-column table of names and values."""
    table(title, ("", ""), ((name, value) for name, value in items))


def label_options(raw: Sequence[str]) -> dict[str, str]:
    """`--label team=growth --label tier` into {"team": "growth", "tier": ""}."""
    labels: dict[str, str] = {}
    for item in raw:
        key, _, value = item.partition("=")
        if not key.strip():
            raise UsageError(f"--label {item!r}: give key=value, or a key alone")
        labels[key.strip()] = value.strip()
    return labels
