"""The client of Maestro's gRPC services (the stubs are package `maestro`)."""

from maestro_client.channel import credentials, open_channel, open_sync_channel, token_metadata
from maestro_client.client import MaestroClient
from maestro_client.pages import pages, responses, sync_pages
from maestro_client.retry import RetryPolicy, backoff_delay, retry_delay
from maestro_client.settings import ClientSettings, ConfigError

__all__ = [
    "ClientSettings",
    "ConfigError",
    "MaestroClient",
    "RetryPolicy",
    "backoff_delay",
    "credentials",
    "open_channel",
    "open_sync_channel",
    "pages",
    "responses",
    "retry_delay",
    "sync_pages",
    "token_metadata",
]
