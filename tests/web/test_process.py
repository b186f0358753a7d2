"""The web process itself: secure by default, TLS, `maestro web` on its own, its settings."""

from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trustme

from maestro_grpc.server import RunningServer, start_server
from maestro_grpc.web.runner import start_web
from maestro_grpc.web.settings import WebConfigError, WebSettings
from tests.agent.live import ROOT
from tests.conftest import server_settings, with_settings
from tests.web.conftest import Maestro, web_process
from tests.web.http import request

TOKEN = "mae_" + "t" * 40


async def _server(tmp_path: Path, template: Path, **changes: object) -> RunningServer:
    shutil.copyfile(template, tmp_path / "maestro.db")
    settings = server_settings(f"sqlite+aiosqlite:///{tmp_path / 'maestro.db'}", tmp_path)
    return await start_server(with_settings(settings, **changes))


@pytest.fixture
async def open_server(tmp_path: Path, sqlite_template: Path) -> AsyncIterator[RunningServer]:
    """A server that asks no token (loopback, no tokens anywhere)."""
    running = await _server(tmp_path, sqlite_template)
    yield running
    await running.stop(grace=0)


@pytest.fixture
async def locked_server(tmp_path: Path, sqlite_template: Path) -> AsyncIterator[RunningServer]:
    running = await _server(tmp_path, sqlite_template, auth_tokens={TOKEN: "admin"})
    yield running
    await running.stop(grace=0)


async def test_beyond_loopback_it_refuses_a_server_that_asks_no_token(
    open_server: RunningServer,
) -> None:
    target = f"127.0.0.1:{open_server.port}"
    with pytest.raises(WebConfigError, match="requires no token"):
        await start_web(WebSettings(host="0.0.0.0", port=0), target=target)
    # On loopback it serves, and nobody needs to sign in.
    web = await start_web(WebSettings(host="127.0.0.1", port=0), target=target)
    try:
        library = await asyncio.to_thread(request, web.url, "/library")
        assert library.status == 200
        assert "Sign out" not in library.body
        signin = await asyncio.to_thread(request, web.url, "/signin")
        assert "needs no token" in signin.body
    finally:
        await web.stop()


async def test_a_taken_port_is_a_plain_error(open_server: RunningServer) -> None:
    target = f"127.0.0.1:{open_server.port}"
    web = await start_web(WebSettings(host="127.0.0.1", port=0), target=target)
    try:
        with pytest.raises(WebConfigError, match="cannot serve the web UI"):
            await start_web(WebSettings(host="127.0.0.1", port=web.port), target=target)
    finally:
        await web.stop()


async def test_under_tls_cookies_are_secure_and_hsts_is_sent(
    locked_server: RunningServer, tmp_path: Path
) -> None:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    chain, key = tmp_path / "web.pem", tmp_path / "web.key"
    cert.private_key_and_cert_chain_pem.write_to_path(chain)
    cert.private_key_pem.write_to_path(key)
    settings = WebSettings(host="0.0.0.0", port=0, tls_cert_file=chain, tls_key_file=key)
    # Beyond loopback is fine: this server requires tokens.
    web = await start_web(settings, target=f"127.0.0.1:{locked_server.port}")
    client = ssl.create_default_context()
    ca.configure_trust(client)
    base = f"https://127.0.0.1:{web.port}"
    try:
        first = await asyncio.to_thread(request, base, "/signin", context=client)
        assert first.headers["strict-transport-security"].startswith("max-age=")
        assert "Secure" in first.cookies()["maestro_csrf"]
        csrf = first.cookie_value("maestro_csrf")
        signed = await asyncio.to_thread(
            request,
            base,
            "/signin",
            method="POST",
            form={"csrf": csrf, "token": TOKEN},
            cookies={"maestro_csrf": csrf},
            context=client,
        )
        assert signed.status == 303
        cookie = signed.cookies()["maestro_session"]
        assert "Secure" in cookie
        assert "HttpOnly" in cookie
        assert "SameSite=Strict" in cookie
    finally:
        await web.stop()


def test_maestro_web_runs_on_its_own_against_a_server(maestro: Maestro, tmp_path: Path) -> None:
    log = tmp_path / "web.log"
    with web_process(maestro.server.address, log) as base:
        first = request(base, "/signin")
        csrf = first.cookie_value("maestro_csrf")
        signed = request(
            base,
            "/signin",
            method="POST",
            form={"csrf": csrf, "token": maestro.token},
            cookies={"maestro_csrf": csrf},
        )
        assert signed.status == 303
        session = signed.cookie_value("maestro_session")
        library = request(base, "/library", cookies={"maestro_session": session})
        assert library.status == 200
        assert "Library" in library.body
    assert f"web UI on {base}" in log.read_text()


def test_maestro_web_says_what_is_wrong_with_its_address() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "maestro_grpc", "web", "--address", "localhost"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "is not HOST:PORT" in done.stderr


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, WebSettings()),
        (
            {"MAESTRO_WEB_HOST": "0.0.0.0", "MAESTRO_WEB_PORT": "9090"},
            WebSettings(host="0.0.0.0", port=9090),
        ),
        ({"MAESTRO_WEB_PORT": "off"}, WebSettings(port=None)),
        (
            {"MAESTRO_ADDRESS": "maestro:443", "MAESTRO_TLS": "1"},
            WebSettings(server_address="maestro:443", server_tls=True),
        ),
        ({"MAESTRO_WEB_SECURE_COOKIES": "1"}, WebSettings(secure_cookies=True)),
        (
            {"MAESTRO_WEB_CALL_TIMEOUT_SECONDS": "2.5"},
            WebSettings(call_timeout_seconds=2.5),
        ),
    ],
)
def test_settings_from_the_environment(env: dict[str, str], expected: WebSettings) -> None:
    assert WebSettings.from_env(env) == expected


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"MAESTRO_WEB_PORT": "eighty"}, "is not a port number"),
        ({"MAESTRO_WEB_PORT": "70000"}, "is not a port number"),
        ({"MAESTRO_WEB_SECURE_COOKIES": "maybe"}, "is not a boolean"),
        ({"MAESTRO_WEB_CALL_TIMEOUT_SECONDS": "soon"}, "is not a number of seconds"),
        ({"MAESTRO_WEB_CALL_TIMEOUT_SECONDS": "0"}, "must be a positive number"),
        ({"MAESTRO_WEB_CALL_TIMEOUT_SECONDS": "nan"}, "must be a positive number"),
        ({"MAESTRO_WEB_TLS_CERT_FILE": "/nowhere.pem"}, "or neither"),
        (
            {"MAESTRO_WEB_TLS_CERT_FILE": "/nowhere.pem", "MAESTRO_WEB_TLS_KEY_FILE": "/k"},
            "no such file",
        ),
    ],
)
def test_bad_settings_say_what_is_wrong(env: dict[str, str], message: str) -> None:
    with pytest.raises(WebConfigError, match=message):
        WebSettings.from_env(env)


def test_secure_cookies_follow_tls_unless_told() -> None:
    assert WebSettings().cookies_secure is False
    tls = WebSettings(tls_cert_file=Path("c"), tls_key_file=Path("k"))
    assert tls.cookies_secure is True
    assert WebSettings(secure_cookies=True).cookies_secure is True
