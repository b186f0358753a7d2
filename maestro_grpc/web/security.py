"""What keeps a browser session safe: headers, the session cookie, CSRF.

- Every answer carries a Content-Security-Policy that allows only this
  origin's scripts, styles and images (no inline script, no eval, no CDN),
  forbids framing (`frame-ancestors 'none'`), and the usual hardening headers.
- The token a person signs in with lives in an HttpOnly, SameSite=Strict
  cookie (Secure under TLS): page scripts cannot read it, other sites cannot
  send it.
- Every form posts a CSRF token that must equal the `maestro_csrf` cookie
  (a random value per browser, double-submit), and a cross-origin `Origin`
  is refused outright: SameSite=Strict already keeps the session cookie off
  cross-site posts, this keeps the sign-in form itself from being forged.
"""

from __future__ import annotations

import hmac
import secrets
import time
from http.cookies import SimpleCookie
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SESSION_COOKIE = "maestro_session"
CSRF_COOKIE = "maestro_csrf"
CSRF_FIELD = "csrf"

CSP = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    )
)

HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}


def _cookie_header(name: str, value: str, *, secure: bool, max_age: int | None = None) -> str:
    parts = [f"{name}={value}", "Path=/", "HttpOnly", "SameSite=Strict"]
    if secure:
        parts.append("Secure")
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    return "; ".join(parts)


def session_cookie(token: str, *, secure: bool) -> str:
    """The Set-Cookie value that signs a browser in (a session cookie: gone when it closes)."""
    return _cookie_header(SESSION_COOKIE, token, secure=secure)


def clear_session_cookie(*, secure: bool) -> str:
    return _cookie_header(SESSION_COOKIE, "", secure=secure, max_age=0)


def session_token(request: Request) -> str | None:
    token = request.cookies.get(SESSION_COOKIE, "")
    return token or None


def csrf_token(request: Request) -> str:
    """This browser's CSRF token, for the forms of the page being rendered."""
    token: str = request.scope["maestro.csrf"]
    return token


def csrf_ok(request: Request, submitted: object) -> bool:
    """A form post is ours: same-origin, and carrying the browser's CSRF token."""
    origin = request.headers.get("origin")
    # The host must be ours; the scheme may differ behind a TLS-terminating proxy.
    if origin is not None and urlsplit(origin).netloc != request.headers.get("host", ""):
        return False
    expected = request.cookies.get(CSRF_COOKIE, "")
    return (
        bool(expected) and isinstance(submitted, str) and hmac.compare_digest(expected, submitted)
    )


class SecurityHeaders:
    """ASGI middleware: the hardening headers on every answer, and the CSRF cookie."""

    def __init__(self, app: ASGIApp, *, tls: bool, secure_cookies: bool) -> None:
        self.app = app
        self.tls = tls
        self.secure_cookies = secure_cookies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        existing = _cookie_from_scope(scope, CSRF_COOKIE)
        scope["maestro.csrf"] = existing or secrets.token_urlsafe(32)
        started = time.perf_counter()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                # What the page cost the UI process, RPCs included (bench/web.py reads it).
                elapsed_ms = (time.perf_counter() - started) * 1000
                headers.append("server-timing", f"app;dur={elapsed_ms:.2f}")
                for name, value in HEADERS.items():
                    headers.setdefault(name, value)
                if self.tls:
                    headers.setdefault("strict-transport-security", "max-age=31536000")
                if not existing:
                    headers.append(
                        "set-cookie",
                        _cookie_header(
                            CSRF_COOKIE, scope["maestro.csrf"], secure=self.secure_cookies
                        ),
                    )
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _cookie_from_scope(scope: Scope, name: str) -> str:
    for key, value in scope.get("headers", ()):
        if key == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # a malformed Cookie header is no cookie at all
                return ""
            if name in jar:
                return jar[name].value
    return ""
