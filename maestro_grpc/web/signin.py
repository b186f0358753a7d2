"""Signing in with a token, and out again."""

from __future__ import annotations

import grpc
import grpc.aio
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from maestro.access.v1 import access_service_pb2 as access_pb
from maestro_grpc.web.client import metadata
from maestro_grpc.web.security import (
    CSRF_FIELD,
    clear_session_cookie,
    csrf_ok,
    session_cookie,
    session_token,
)
from maestro_grpc.web.views import backend, forbidden, render, settings

MAX_TOKEN_CHARS = 1024


def safe_next(raw: object) -> str:
    """Where to go after signing in: a path on this site, never another site."""
    if isinstance(raw, str) and raw.startswith("/") and not raw.startswith(("//", "/\\")):
        return raw
    return "/library"


async def signin_page(request: Request) -> Response:
    needs_token = True
    try:
        answer = await backend(request).access.WhoAmI(
            access_pb.WhoAmIRequest(),
            metadata=metadata(session_token(request)),
            timeout=backend(request).timeout,
        )
        needs_token = answer.auth_required and not answer.HasField("token")
    except grpc.aio.AioRpcError as error:
        if error.code() != grpc.StatusCode.UNAUTHENTICATED:
            raise
    return render(
        request,
        "signin.html",
        {
            "next": safe_next(request.query_params.get("next")),
            "needs_token": needs_token,
            "expired": request.query_params.get("expired") == "1",
            "error": "",
        },
    )


async def signin(request: Request) -> Response:
    form = await request.form()
    next_path = safe_next(form.get("next"))
    if not csrf_ok(request, form.get(CSRF_FIELD)):
        return forbidden(request)
    token = str(form.get("token") or "").strip()
    error = ""
    if not token:
        error = "Enter your token."
    elif len(token) > MAX_TOKEN_CHARS or not token.isprintable() or " " in token:
        error = "That is not a Maestro token."
    else:
        try:
            await backend(request).access.WhoAmI(
                access_pb.WhoAmIRequest(),
                metadata=metadata(token),
                timeout=backend(request).timeout,
            )
        except grpc.aio.AioRpcError as failure:
            if failure.code() != grpc.StatusCode.UNAUTHENTICATED:
                raise
            error = "The server does not accept that token (unknown, expired or revoked)."
    if error:
        context = {"next": next_path, "needs_token": True, "expired": False, "error": error}
        return render(request, "signin.html", context, status=401)
    response = RedirectResponse(next_path, status_code=303)
    response.headers.append(
        "set-cookie", session_cookie(token, secure=settings(request).cookies_secure)
    )
    return response


async def signout(request: Request) -> Response:
    form = await request.form()
    if not csrf_ok(request, form.get(CSRF_FIELD)):
        return forbidden(request)
    response = RedirectResponse("/signin", status_code=303)
    response.headers.append(
        "set-cookie", clear_session_cookie(secure=settings(request).cookies_secure)
    )
    return response
