"""Rendering pages, and turning the server's gRPC errors into pages a person can read."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import grpc
import grpc.aio
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from maestro_grpc.web import format as fmt
from maestro_grpc.web.client import Backend
from maestro_grpc.web.security import clear_session_cookie, csrf_token, session_token
from maestro_grpc.web.settings import WebSettings

TEMPLATES = Path(__file__).parent / "templates"

environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(("html",)),
    trim_blocks=True,
    lstrip_blocks=True,
    enable_async=False,
)
fmt.install(environment)


def backend(request: Request) -> Backend:
    found: Backend = request.app.state.backend
    return found


def settings(request: Request) -> WebSettings:
    found: WebSettings = request.app.state.settings
    return found


def is_partial(request: Request) -> bool:
    """An htmx request for a fragment (a history restore wants the whole page)."""
    return (
        request.headers.get("hx-request") == "true"
        and request.headers.get("hx-history-restore-request") != "true"
    )


def render(
    request: Request, template: str, context: dict[str, Any], *, status: int = 200
) -> HTMLResponse:
    page = environment.get_template(template).render(
        request=request,
        csrf=csrf_token(request),
        signed_in=session_token(request) is not None,
        path=request.url.path,
        **context,
    )
    response = HTMLResponse(page, status_code=status)
    # Pages show what one person may see: no shared caches, and the
    # fragment and the whole page of one URL are different answers.
    response.headers["cache-control"] = "no-store"
    response.headers["vary"] = "HX-Request, Cookie"
    return response


def sign_in_redirect(request: Request, *, expired: bool) -> Response:
    """Send the browser to the sign-in page, back here afterwards."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    location = f"/signin?next={quote(target, safe='')}" + ("&expired=1" if expired else "")
    response: Response
    if request.headers.get("hx-request") == "true":
        response = Response(status_code=204, headers={"hx-redirect": location})
    else:
        response = RedirectResponse(location, status_code=303)
    if expired:
        response.headers.append(
            "set-cookie", clear_session_cookie(secure=settings(request).cookies_secure)
        )
    return response


_STATUS = {
    grpc.StatusCode.INVALID_ARGUMENT: (400, "That request is not valid"),
    grpc.StatusCode.OUT_OF_RANGE: (400, "That request is not valid"),
    grpc.StatusCode.NOT_FOUND: (404, "Not found"),
    grpc.StatusCode.PERMISSION_DENIED: (403, "Your token may not see this"),
    grpc.StatusCode.RESOURCE_EXHAUSTED: (429, "Too many requests: try again shortly"),
    grpc.StatusCode.UNAVAILABLE: (503, "The Maestro server cannot be reached"),
    grpc.StatusCode.DEADLINE_EXCEEDED: (504, "The Maestro server did not answer in time"),
}


async def rpc_error(request: Request, exc: Exception) -> Response:
    """A gRPC error from any page's call, as a page (or a sign-in redirect)."""
    assert isinstance(exc, grpc.aio.AioRpcError)
    if exc.code() == grpc.StatusCode.UNAUTHENTICATED:
        if request.headers.get("sec-fetch-site") == "cross-site" and not session_token(request):
            # Followed from another site: SameSite=Strict held the cookie
            # back. Reload from here, where the browser sends it.
            return render(request, "reload.html", {}, status=200)
        return sign_in_redirect(request, expired=session_token(request) is not None)
    status, title = _STATUS.get(exc.code(), (502, "The Maestro server failed"))
    return render(
        request,
        "error.html",
        {"title": title, "detail": exc.details() or "", "code": exc.code().name},
        status=status,
    )


def not_found_page(request: Request) -> Response:
    return render(
        request, "error.html", {"title": "Not found", "detail": "", "code": ""}, status=404
    )


def forbidden(request: Request) -> Response:
    """A form whose CSRF token or origin is not this browser's."""
    context = {
        "title": "This form has expired",
        "detail": "Reload the page and send it again.",
        "code": "CSRF",
    }
    return render(request, "error.html", context, status=403)


async def not_found(request: Request, exc: Exception) -> Response:
    """Starlette's own refusals (no such route, a method it does not take), as pages."""
    status = getattr(exc, "status_code", 404)
    title = "Not found" if status == 404 else "That cannot be done here"
    context = {"title": title, "detail": "", "code": "" if status == 404 else str(status)}
    return render(request, "error.html", context, status=status)
