"""`maestro web`: the web UI on its own, as a client of any Maestro server."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from typing import Any

from maestro_grpc.web.settings import WebConfigError, WebSettings

DESCRIPTION = """\
Serve the web UI (library, artifacts) as a client of the Maestro server at
MAESTRO_ADDRESS (TLS with MAESTRO_TLS=1 or MAESTRO_CA_FILE). People sign in
with their own tokens; the UI holds none. Beyond loopback it refuses to front
a server that requires no token. MAESTRO_WEB_TLS_CERT_FILE and
MAESTRO_WEB_TLS_KEY_FILE serve it over HTTPS (cookies are then Secure).
Exit codes: 0 stopped by SIGTERM/SIGINT, 2 a setting or address it cannot use.
"""


def add_commands(commands: Any) -> None:
    web = commands.add_parser(
        "web",
        help="serve the web UI on its own, against any Maestro server",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    web.add_argument(
        "--address",
        metavar="HOST:PORT",
        help="where the UI listens (MAESTRO_WEB_HOST and MAESTRO_WEB_PORT, default localhost:8080)",
    )
    web.add_argument(
        "--server",
        metavar="HOST:PORT",
        help="the Maestro server (MAESTRO_ADDRESS, default localhost:50051)",
    )
    web.set_defaults(handler=run)


def run(args: argparse.Namespace, _settings: object) -> int:
    try:
        settings = WebSettings.from_env()
        if args.address:
            settings = settings.with_address(args.address)
        if args.server:
            settings = settings.with_server(args.server)
        if settings.port is None:
            raise WebConfigError("MAESTRO_WEB_PORT=off: there is nothing to serve; give --address")
        asyncio.run(_serve(settings))
    except WebConfigError as error:
        print(f"maestro: {error}", file=sys.stderr)
        return 2
    return 0


async def _serve(settings: WebSettings) -> None:
    # Imported here: every other `maestro` command builds this parser too.
    from maestro_grpc.web.runner import start_web

    web = await start_web(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"maestro: web UI on {web.url}, for the server at {settings.server_address}", flush=True)
    await stop.wait()
    await web.stop()
