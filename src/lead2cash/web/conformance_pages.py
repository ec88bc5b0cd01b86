"""The Conformance and Drivers views: their pages and JSON routes.

Their entries in the navigation are in pages.NAV. The routes ask `app.conformance_views` (the functions `mine conformance` and `mine drivers`
call), so `/api/conformance` holds the JSON of `mine conformance --json` (`rules`) and of
`mine conformance --method replay --json` (`replay`), and `/api/drivers?target=T` that of
`mine drivers --target T --json`, for the scope's `--filter` texts.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from ..app.conformance_views import conformance_view, drivers_view
from ..app.views import Dashboard
from .params import scope_of
from .responses import cached_json, cached_page

__all__ = ["router"]

router = APIRouter()

def _dash(request: Request) -> Dashboard:
    return request.app.state.dashboard  # type: ignore[no-any-return]


@router.get("/conformance", response_class=HTMLResponse)
def conformance_page(request: Request, paths: float = Query(0.4)) -> Response:
    from .pages import _commands, _render

    def render() -> Response:
        scope = scope_of(request, with_extra=False)
        view = conformance_view(_dash(request), scope, paths)
        return _render(request, "conformance.html", "conformance", scope, view=view,
                       commands=_commands(request, "conformance", scope))
    return cached_page(request, render)


@router.get("/drivers", response_class=HTMLResponse)
def drivers_page(request: Request, target: str = Query("lost")) -> Response:
    from .pages import _commands, _render

    def render() -> Response:
        scope = scope_of(request, with_extra=False)
        view = drivers_view(_dash(request), scope, target)
        return _render(request, "drivers.html", "drivers", scope, view=view, target=target,
                       commands=_commands(request, "drivers", scope, target=target))
    return cached_page(request, render)


@router.get("/api/conformance")
def conformance_api(request: Request, paths: float = Query(0.4)) -> Any:
    """Rules (as `mine conformance --json`), token replay on the reference model (as
    `mine conformance --method replay --json`), the map with each activity's deviations."""
    return cached_json(request, lambda: conformance_view(_dash(request), scope_of(request), paths))


@router.get("/api/drivers")
def drivers_api(request: Request, target: str = Query("lost")) -> Any:
    """The drivers of a target (as `mine drivers --target T --json`: `report`) and the
    targets there are."""
    return cached_json(request, lambda: drivers_view(_dash(request), scope_of(request), target))
