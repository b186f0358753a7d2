"""A plain HTTP client for the UI's security tests: no redirects followed, cookies by hand."""

from __future__ import annotations

import http.client
import ssl
from dataclasses import dataclass
from email.message import Message
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlparse


@dataclass
class Answer:
    status: int
    headers: Message
    body: str

    def cookies(self) -> dict[str, str]:
        """Set-Cookie headers by cookie name, whole (attributes included)."""
        found: dict[str, str] = {}
        for raw in self.headers.get_all("set-cookie") or []:
            found[raw.split("=", 1)[0]] = raw
        return found

    def cookie_value(self, name: str) -> str:
        jar: SimpleCookie = SimpleCookie()
        jar.load(self.cookies()[name])
        return jar[name].value


def request(
    base: str,
    path: str,
    *,
    method: str = "GET",
    form: dict[str, str] | None = None,
    cookies: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    context: ssl.SSLContext | None = None,
) -> Answer:
    url = urlparse(base)
    connection: http.client.HTTPConnection
    if url.scheme == "https":
        connection = http.client.HTTPSConnection(url.netloc, timeout=10, context=context)
    else:
        connection = http.client.HTTPConnection(url.netloc, timeout=10)
    sent = dict(headers or {})
    body = None
    if form is not None:
        body = urlencode(form)
        sent["content-type"] = "application/x-www-form-urlencoded"
    if cookies:
        sent["cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    try:
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        return Answer(response.status, response.msg, response.read().decode())
    finally:
        connection.close()
