"""The web UI's ASGI application: its routes, static files, security and error pages.

Every page is rendered on the server from the answers of public RPCs (the
UI holds no data of its own); htmx swaps fragments of the same templates
for the live parts (search as you type), so nothing is built on the user's
side and every page works without script too.
"""

from __future__ import annotations

from pathlib import Path

import grpc.aio
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from maestro_grpc.web import (
    artifact,
    collab,
    experiments,
    library,
    live,
    models,
    projects,
    signin,
    staffing,
)
from maestro_grpc.web.client import Backend
from maestro_grpc.web.security import SecurityHeaders
from maestro_grpc.web.settings import WebSettings
from maestro_grpc.web.views import not_found, rpc_error

STATIC = Path(__file__).parent / "static"


async def home(request: Request) -> Response:
    return RedirectResponse("/library", status_code=303)


async def healthz(request: Request) -> Response:
    """The UI process is up (whether the server answers is each page's business)."""
    return PlainTextResponse("ok")


def build_app(settings: WebSettings, backend: Backend) -> Starlette:
    routes = [
        Route("/", home),
        Route("/healthz", healthz),
        Route("/signin", signin.signin_page, methods=["GET"]),
        Route("/signin", signin.signin, methods=["POST"]),
        Route("/signout", signin.signout, methods=["POST"]),
        Route("/library", library.page),
        Route("/library/facets", library.facets_fragment),
        Route("/artifacts/{artifact_id}", artifact.page),
        Route("/artifacts/{artifact_id}/content", artifact.download),
        Route("/projects", projects.list_page),
        Route("/projects/{project_id}", projects.page),
        Route("/projects/{project_id}/live", live.feed),
        Route("/projects/{project_id}/team", staffing.page),
        Route("/projects/{project_id}/predict", projects.predict, methods=["POST"]),
        Route("/experiments", experiments.list_page),
        Route("/experiments/{experiment_id}", experiments.page),
        Route("/models", models.list_page),
        Route("/models/{version}", models.page),
        Route("/people/{person_id}", collab.person_page),
        Route("/feed", collab.feed_page),
        Route("/feed/live", collab.feed_live),
        Route("/feed/read", collab.mark_read, methods=["POST"]),
        Route("/comments", collab.post_comment, methods=["POST"]),
        Route("/reviews", collab.post_review, methods=["POST"]),
        Route("/follows", collab.post_follow, methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(
                SecurityHeaders,
                tls=settings.tls,
                secure_cookies=settings.cookies_secure,
            )
        ],
        exception_handlers={grpc.aio.AioRpcError: rpc_error, HTTPException: not_found},
    )
    app.state.settings = settings
    app.state.backend = backend
    return app
