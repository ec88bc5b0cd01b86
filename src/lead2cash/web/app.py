"""The FastAPI application: routes, templates, static files, errors and the token guard.

Every route is a plain (synchronous) function, so FastAPI runs it in its thread pool: a
long computation never blocks other requests, and each request opens its own DuckDB cursor
(`Dashboard`). Nothing writes: there are only GET routes over a workspace opened read-only.
A refresh (`lead2cash import` / `extract`) while serving is picked up by the next request;
answers are cached per workspace version.
"""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from ..app.views import Dashboard
from ..errors import Lead2CashError
from . import api, conformance_pages, formatting, pages
from .security import token_guard

__all__ = ["STATIC", "TEMPLATES", "create_app"]

HERE = Path(__file__).parent
STATIC = HERE / "static"
TEMPLATES = HERE / "templates"
log = logging.getLogger("lead2cash.web")


def templates() -> Jinja2Templates:
    """The page templates with the number and duration formats of `formatting`."""
    t = Jinja2Templates(directory=str(TEMPLATES))
    formatting.install(t.env)
    return t


def create_app(dashboard: Dashboard, token: str | None = None) -> FastAPI:
    """The web app serving one dashboard; with a token, every request must carry it."""
    app = FastAPI(title="lead2cash", docs_url=None, redoc_url=None, openapi_url="/api/openapi.json")
    app.state.dashboard = dashboard
    app.state.templates = templates()
    if token:
        app.middleware("http")(token_guard(token))
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    app.include_router(api.router)
    app.include_router(conformance_pages.router)
    app.include_router(pages.router)

    @app.exception_handler(Lead2CashError)
    def user_error(request: Request, exc: Lead2CashError) -> Response:
        """A bad parameter or filter: a readable message, never a traceback."""
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": exc.message, "hint": exc.hint}, status_code=400)
        return pages.error_page(request, exc.message, exc.hint, 400)

    @app.exception_handler(RequestValidationError)
    def bad_parameter(request: Request, exc: RequestValidationError) -> Response:
        """A parameter of the wrong type (e.g. paths=abc)."""
        problems = "; ".join(f"{'.'.join(str(x) for x in e['loc'][1:])}: {e['msg']}" for e in exc.errors())
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": problems, "hint": "check the URL's parameters"}, status_code=400)
        return pages.error_page(request, f"bad parameter: {problems}", "check the URL's parameters", 400)

    @app.exception_handler(Exception)
    def unexpected(request: Request, exc: Exception) -> Response:
        """An unexpected failure: logged here, a short message there."""
        log.exception("error serving %s", request.url.path)
        message = f"internal error ({type(exc).__name__}); the server log has the details"
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": message}, status_code=500)
        return pages.error_page(request, message, None, 500)

    return app
