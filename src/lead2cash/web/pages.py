"""Server-rendered pages (Jinja2) and the HTMX fragments they load.

Each page reads the scope from the URL, asks the application layer for its view and renders
it; the filter bar, the navigation and every link keep the scope in the URL.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from ..app.figures import HEADLINES
from ..app.scope import AMOUNT_LABELS, OUTCOMES, WINDOW_MODES, Scope
from ..app.views import Dashboard
from ..errors import Lead2CashError
from .params import extra_condition, quote, scope_of, variant_condition
from .responses import cached_page

__all__ = ["NAV", "error_page", "router"]

router = APIRouter()

NAV: tuple[tuple[str, str, str], ...] = (
    ("/", "overview", "Overview"),
    ("/map", "map", "Process map"),
    ("/variants", "variants", "Variants"),
    ("/funnel", "funnel", "Funnel & stages"),
    ("/discounts", "discounts", "Discount effectiveness"),
    ("/o2c", "o2c", "Order to cash"),
    ("/compare", "compare", "Compare"),
    ("/explorer", "explorer", "Case explorer"),
    ("/objects", "objects", "Objects"),
    ("/quality", "quality", "Data quality"),
)


def _dash(request: Request) -> Dashboard:
    return request.app.state.dashboard  # type: ignore[no-any-return]


def _context(request: Request, page: str, scope: Scope, **extra: Any) -> dict[str, Any]:
    """What every page template gets: the scope, its links, the menus and the time basis."""
    dash = _dash(request)
    filters = scope.filter_texts()
    command = " ".join(f"-f {json.dumps(t)}" for t in filters)
    return {
        "request": request, "page": page, "nav": NAV, "scope": scope, "dash": dash,
        "basis": dash.basis, "choices": dash.choices(), "outcomes": OUTCOMES,
        "amount_labels": AMOUNT_LABELS, "window_modes": WINDOW_MODES,
        "url": lambda path, **kw: f"{path}?{scope.query(**kw)}" if scope.query(**kw) else path,
        "cases_url": lambda case_set="all", **kw: f"/cases?{scope.query(set=case_set, **kw)}",
        "cli_filters": command, "quote": quote, "headlines": HEADLINES,
        "variant_condition": variant_condition, **extra,
    }


def _render(request: Request, template: str, page: str, scope: Scope, status: int = 200,
            **extra: Any) -> Response:
    t = request.app.state.templates
    return t.TemplateResponse(request, template, _context(request, page, scope, **extra),
                              status_code=status)


def error_page(request: Request, message: str, hint: str | None, status: int) -> Response:
    """The page of the requested view with the problem instead of its content."""
    try:
        scope = Scope.from_params(request.query_params)
    except Lead2CashError:
        scope = Scope()
    page = next((key for path, key, _ in NAV if path == request.url.path), "")
    if request.url.path.startswith("/fragments/"):
        return HTMLResponse(f'<div class="error" role="alert">{_escape(message)}</div>', status_code=status)
    return _render(request, "error.html", page, scope, status, message=message, hint=hint)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@router.get("/", response_class=HTMLResponse)
def overview(request: Request) -> Response:
    def render() -> Response:
        scope = scope_of(request, with_extra=False)
        return _render(request, "overview.html", "overview", scope, view=_dash(request).overview(scope))
    return cached_page(request, render)


@router.get("/map", response_class=HTMLResponse)
def process_map(request: Request, activities: float = Query(1.0), paths: float = Query(0.4),
                time: str = Query("calendar")) -> Response:
    def render() -> Response:
        scope = scope_of(request, with_extra=False)
        if time not in ("calendar", "working"):
            raise Lead2CashError(f"time {time!r} is not known", "use time=calendar or time=working")
        view = _dash(request).process_map(scope, activities, paths, time == "working")
        return _render(request, "map.html", "map", scope, view=view, activities=activities,
                       paths=paths, time=time)
    return cached_page(request, render)


@router.get("/variants", response_class=HTMLResponse)
def variants(request: Request, top: int = Query(30)) -> Response:
    def render() -> Response:
        scope = scope_of(request, with_extra=False)
        return _render(request, "variants.html", "variants", scope, view=_dash(request).variants(scope, top),
                       top=top)
    return cached_page(request, render)


@router.get("/funnel", response_class=HTMLResponse)
def funnel(request: Request) -> Response:
    def render() -> Response:
        scope = scope_of(request, with_extra=False)
        return _render(request, "funnel.html", "funnel", scope, view=_dash(request).funnel(scope))
    return cached_page(request, render)


@router.get("/discounts", response_class=HTMLResponse)
def discounts(request: Request) -> Response:
    def render() -> Response:
        scope = scope_of(request, with_extra=False)
        return _render(request, "discounts.html", "discounts", scope, view=_dash(request).discounts(scope))
    return cached_page(request, render)


@router.get("/o2c", response_class=HTMLResponse)
def order_to_cash(request: Request) -> Response:
    def render() -> Response:
        scope = scope_of(request, with_extra=False)
        return _render(request, "o2c.html", "o2c", scope, view=_dash(request).order_to_cash(scope))
    return cached_page(request, render)


@router.get("/compare", response_class=HTMLResponse)
def compare(request: Request, a: str = Query("outcome = 'Won'"), b: str = Query("outcome = 'Lost'")) -> Response:
    def render() -> Response:
        scope = scope_of(request, with_extra=False)
        view = _dash(request).compare(scope, a, b)
        return _render(request, "compare.html", "compare", scope, view=view, a=a, b=b)
    return cached_page(request, render)


@router.get("/cases", response_class=HTMLResponse)
def cases(request: Request, set: str = Query("all"), offset: int = Query(0)) -> Response:
    def render() -> Response:
        scope = scope_of(request)
        base = scope_of(request, with_extra=False)
        view = _dash(request).cases(scope, set, offset, 100)
        return _render(request, "cases.html", "", base, view=view, extra=extra_condition(request),
                       case_scope=scope)
    return cached_page(request, render)


@router.get("/explorer", response_class=HTMLResponse)
def explorer(request: Request, id: str = Query(""), text: str = Query("")) -> Response:
    def render() -> Response:
        scope = scope_of(request, with_extra=False)
        dash = _dash(request)
        found = dash.search(text) if text else []
        case = dash.case(id) if id else None
        return _render(request, "explorer.html", "explorer", scope, case=case, found=found, text=text)
    return cached_page(request, render)


@router.get("/quality", response_class=HTMLResponse)
def quality(request: Request) -> Response:
    def render() -> Response:
        scope = scope_of(request, with_extra=False)
        return _render(request, "quality.html", "quality", scope, view=_dash(request).quality())
    return cached_page(request, render)


@router.get("/objects", response_class=HTMLResponse)
def objects(request: Request) -> Response:
    def render() -> Response:
        scope = scope_of(request, with_extra=False)
        return _render(request, "objects.html", "objects", scope, view=_dash(request).objects())
    return cached_page(request, render)


@router.get("/fragments/cases", response_class=HTMLResponse)
def cases_fragment(request: Request, set: str = Query("all"), limit: int = Query(25)) -> Response:
    """The case list of a clicked activity, edge or variant (HTMX)."""
    def render() -> Response:
        scope = scope_of(request)
        view = _dash(request).cases(scope, set, 0, limit)
        t = request.app.state.templates
        ctx = _context(request, "", scope_of(request, with_extra=False), view=view,
                       extra=extra_condition(request), case_scope=scope)
        return t.TemplateResponse(request, "_cases_table.html", ctx)
    return cached_page(request, render)


@router.get("/fragments/search", response_class=HTMLResponse)
def search_fragment(request: Request, text: str = Query("")) -> Response:
    """Search results of the case explorer (HTMX, as you type)."""
    def render() -> Response:
        scope = scope_of(request, with_extra=False)
        t = request.app.state.templates
        ctx = _context(request, "explorer", scope, found=_dash(request).search(text), text=text)
        return t.TemplateResponse(request, "_search.html", ctx)
    return cached_page(request, render)
