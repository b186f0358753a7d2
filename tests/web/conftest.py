"""The web UI's tests: a real `maestro serve` (gRPC and the UI) in a subprocess, on each
store, and one headless Chromium for the whole session, driven by Playwright.

The browser is Debian's chromium (/usr/bin/chromium; `.ci/run` installs it);
Playwright never downloads one. Without it the browser tests skip loudly, and
fail under MAESTRO_TEST_REQUIRE_ALL=1. Every page a test visits is checked
with axe-core (vendored in tests/web/vendor) and screenshotted into
MAESTRO_TEST_ARTIFACTS (default .test-artifacts/) under web/.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import grpc
import pytest

from maestro.registry.v1 import registry_service_pb2_grpc
from tests.agent.live import ROOT, LiveServer
from tests.conftest import skip_or_fail
from tests.helpers import free_port

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page

CHROMIUM = Path(os.environ.get("MAESTRO_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
SHOTS = Path(os.environ.get("MAESTRO_TEST_ARTIFACTS", ROOT / ".test-artifacts")) / "web"
os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")


def _patient_expect() -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=20_000)


_patient_expect()


# ---- the server and its UI ------------------------------------------------------------


@dataclass
class Maestro:
    """A running `maestro serve` with its UI, the admin token, and stubs to seed it."""

    server: LiveServer
    web_url: str
    token: str
    store: str
    _channel: grpc.Channel = field(init=False)

    def __post_init__(self) -> None:
        self._channel = grpc.insecure_channel(self.server.address)
        # The generated stubs are typed for grpc.aio; these calls are the sync ones.
        self.registry: Any = registry_service_pb2_grpc.RegistryServiceStub(
            self._channel  # type: ignore[arg-type]
        )

    @property
    def auth(self) -> list[tuple[str, str]]:
        return [("authorization", f"Bearer {self.token}")]

    def close(self) -> None:
        self._channel.close()


def _pg_database(admin_url: str) -> str:
    import psycopg

    name = f"maestro_web_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{admin_url.rsplit('/', 1)[0]}/{name}"


def _drop_pg_database(admin_url: str, url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def running_maestro(
    store: str, request: pytest.FixtureRequest, data_dir: Path, **env: str
) -> Iterator[Maestro]:
    """`maestro serve` with tokens required and the UI on a free port, on a store of its own.

    `env` adds settings (MAESTRO_*) for this server.
    """
    admin_url: str | None = None
    if store == "sqlite":
        url = f"sqlite+aiosqlite:///{data_dir / 'maestro.db'}"
    else:
        admin_url = request.getfixturevalue("pg_admin_url")
        if admin_url is None:
            skip_or_fail("no PostgreSQL for the web UI's tests")
        assert admin_url is not None
        url = _pg_database(admin_url)
    token = "mae_" + secrets.token_hex(20)
    web_port = free_port()
    server = LiveServer(
        url,
        data_dir,
        MAESTRO_AUTH_TOKENS=f"web-admin={token}",
        MAESTRO_WEB_HOST="127.0.0.1",
        MAESTRO_WEB_PORT=str(web_port),
        MAESTRO_LOG_LEVEL="WARNING",
        MAESTRO_MIGRATE_ON_START="1",
        **env,
    ).start()
    assert server.process is not None
    _wait_for_web(f"http://127.0.0.1:{web_port}/healthz", server.log, server.process)
    running = Maestro(server, f"http://127.0.0.1:{web_port}", token, store)
    try:
        yield running
    finally:
        running.close()
        server.stop()
        if admin_url is not None:
            _drop_pg_database(admin_url, url)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def maestro(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Maestro]:
    """One server per store for the session; tests keep apart by their own names and tags."""
    with running_maestro(
        request.param, request, tmp_path_factory.mktemp(f"web-{request.param}")
    ) as running:
        yield running


def _wait_for_web(
    url: str, log: Path, process: subprocess.Popen[bytes], within: float = 30.0
) -> None:
    """Until `url` answers 200; fails with the end of `log` if `process` dies or time runs out."""
    import urllib.request

    deadline = time.monotonic() + within
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"the web UI never answered: {log.read_text()[-2000:]}"
                ) from None
            time.sleep(0.1)


@contextlib.contextmanager
def web_process(
    server: str, log: Path, within: float = 60.0, env: dict[str, str] | None = None
) -> Iterator[str]:
    """`maestro web` in a process of its own against the gRPC `server` (with `env` added
    to its environment), once it answers: its base URL. On leaving, SIGTERM, and it must
    exit 0; `log` holds what it printed."""
    port = free_port()
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "maestro_grpc", "web"),
                *("--address", f"127.0.0.1:{port}", "--server", server),
            ],
            env={**os.environ, "MAESTRO_LOG_LEVEL": "WARNING", **(env or {})},
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for_web(f"{base}/healthz", log, process, within)
        yield base
    finally:
        process.terminate()
        code = process.wait(timeout=30)
    assert code == 0, log.read_text()


# ---- the browser ---------------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One headless Chromium for the whole session: its DevTools endpoint.

    The browser is its own process, and each test drives it through a
    Playwright of its own: Playwright's sync API holds the thread's event loop
    while it lives, and the asyncio tests that run after a browser test in the
    same worker need that loop free.
    """
    if not CHROMIUM.exists():
        skip_or_fail(f"no Chromium at {CHROMIUM} (apt-get install chromium) for the browser tests")
    profile = tmp_path_factory.mktemp("chromium")
    process = subprocess.Popen(
        [
            str(CHROMIUM),
            *CHROMIUM_ARGS,
            f"--user-data-dir={profile}",
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield f"http://127.0.0.1:{_devtools_port(profile, process)}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def _devtools_port(profile: Path, process: subprocess.Popen[bytes], within: float = 30.0) -> int:
    """The port Chromium chose, from the DevToolsActivePort file it writes in its profile."""
    deadline = time.monotonic() + within
    active = profile / "DevToolsActivePort"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"Chromium exited at start ({process.returncode})")
        if active.exists() and (first := active.read_text().split("\n")[0].strip()).isdigit():
            return int(first)
        time.sleep(0.05)
    raise RuntimeError("Chromium did not open its DevTools port")


@pytest.fixture
def browser(chromium: str) -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        connected = playwright.chromium.connect_over_cdp(chromium)
        try:
            yield connected
        finally:
            connected.close()


@pytest.fixture
def context(maestro: Maestro, browser: Browser) -> Iterator[BrowserContext]:
    made = browser.new_context(base_url=maestro.web_url, viewport={"width": 1280, "height": 900})
    # Waits, not time limits: a loaded machine (CI beside other jobs) is slow.
    made.set_default_timeout(30_000)
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    """A tab that fails its test on any console error (a CSP violation is one)."""
    opened = context.new_page()
    errors: list[str] = []

    def console(message: ConsoleMessage) -> None:
        # A page answered with an error status (a 404 page) is logged too: only
        # a failure of anything else (a script, a style, a CSP block) counts.
        if message.type == "error" and message.location.get("url") != opened.url:
            errors.append(f"{message.text} ({message.location.get('url')})")

    opened.on("console", console)
    opened.on("pageerror", lambda e: errors.append(str(e)))
    yield opened
    assert errors == [], errors


def sign_in(page: Page, maestro: Maestro, path: str = "/library") -> None:
    """Sign in as a person would: the form, the token, the button."""
    page.goto(path)
    page.wait_for_url("**/signin**")
    page.get_by_label("Access token").fill(maestro.token)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**{path}*")


def check_page(page: Page, name: str) -> None:
    """No serious or critical axe-core violation, and a screenshot kept."""
    page.evaluate(AXE.read_text() + "\n;0")
    found: list[dict[str, Any]] = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}))"
    )
    bad = [v for v in found if v["impact"] in ("serious", "critical")]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    assert bad == [], json.dumps(bad, indent=2)
