"""Server-rendered pages (Jinja2) and the HTMX fragments they load.

Each page reads the scope from the URL, asks the application layer for its view and renders
it; the filter bar, the navigation and every link keep the scope in the URL.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from ..app.commands import view_commands
from ..app.figures import HEADLINES
from ..app.scope import AMOUNT_LABELS, OUTCOMES, WINDOW_MODES, Scope
from ..app.views import COMPARE_PATHS, Dashboard
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
    ("/conformance", "conformance", "Conformance"),  # conformance_pages.py
    ("/drivers", "drivers", "Drivers"),
    ("/explorer", "explorer", "Case explorer"),
    ("/objects", "objects", "Objects"),
    ("/quality", "quality", "Data quality"),
)


def _dash(request: Request) -> Dashboard:
    return request.app.state.dashboard  # type: ignore[no-any-return]


def _context(request: Request, page: str, scope: Scope, **extra: Any) -> dict[str, Any]:
    """What every page template gets: the scope, its links, the menus, the time basis and the
    terminal commands giving the page's numbers (`commands`, else those of a KPI view)."""
    dash = _dash(request)
    return {
        "request": request, "page": page, "nav": NAV, "scope": scope, "dash": dash,
        "basis": dash.basis, "choices": dash.choices(), "outcomes": OUTCOMES,
        "amount_labels": AMOUNT_LABELS, "window_modes": WINDOW_MODES,
        "url": lambda path, **kw: f"{path}?{scope.query(**kw)}" if scope.query(**kw) else path,
        "cases_url": lambda case_set="all", **kw: f"/cases?{scope.query(set=case_set, **kw)}",
        "quote": quote, "headlines": HEADLINES, "variant_condition": variant_condition,
        "commands": view_commands(page, dash.ws.path, scope, dash.working_time()), **extra,
    }


def _render(request: Request, template: str, page: str, scope: Scope, status: int = 200,
            **extra: Any) -> Response:
    t = request.app.state.templates
    return t.TemplateResponse(request, template, _context(request, page, scope, **extra),
                              status_code=status)


def _commands(request: Request, page: str, scope: Scope, working: bool = False,
              **options: Any) -> list[str]:
    """The terminal commands of a page with options of its own (see `app.commands`)."""
    dash = _dash(request)
    return view_commands(page, dash.ws.path, scope, dash.working_time(working), **options)


def _view_page(request: Request, page: str, view: Callable[[Dashboard, Scope], dict[str, Any]]) -> Response:
    """The page `page` (template `page.html`) showing one view of the request's scope."""
    def render() -> Response:
        scope = scope_of(request, with_extra=False)
        return _render(request, f"{page}.html", page, scope, view=view(_dash(request), scope))
    return cached_page(request, render)


def error_page(request: Request, message: str, hint: str | None, status: int) -> Response:
    """The page of the requested view with the problem instead of its content."""
    try:
        scope = Scope.from_params(request.query_params)
    except Lead2CashError:
        scope = Scope()
    page = next((key for path, key, _ in NAV if path == request.url.path), "")
    if request.url.path.startswith("/fragments/"):
        return HTMLResponse(f'<div class="error" role="alert">{_escape(message)}</div>', status_code=status)
    return _render(request, "error.html", page, scope, status, message=message, hint=hint,
                   commands=[])


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@router.get("/", response_class=HTMLResponse)
def overview(request: Request) -> Response:
    return _view_page(request, "overview", Dashboard.overview)


@router.get("/map", response_class=HTMLResponse)
def process_map(request: Request, activities: float = Query(1.0), paths: float = Query(0.4),
                time: str = Query("calendar")) -> Response:
    def render() -> Response:
        scope = scope_of(request, with_extra=False)
        if time not in ("calendar", "working"):
            raise Lead2CashError(f"time {time!r} is not known", "use time=calendar or time=working")
        working = time == "working"
        view = _dash(request).process_map(scope, activities, paths, working)
        return _render(request, "map.html", "map", scope, view=view, activities=activities,
                       paths=paths, time=time, working_time=_dash(request).working_time(True),
                       commands=_commands(request, "map", scope, working, activities=activities,
                                          paths=paths))
    return cached_page(request, render)


@router.get("/variants", response_class=HTMLResponse)
def variants(request: Request, top: int = Query(30)) -> Response:
    def render() -> Response:
        scope = scope_of(request, with_extra=False)
        return _render(request, "variants.html", "variants", scope, view=_dash(request).variants(scope, top),
                       top=top, commands=_commands(request, "variants", scope, top=top))
    return cached_page(request, render)


@router.get("/funnel", response_class=HTMLResponse)
def funnel(request: Request) -> Response:
    return _view_page(request, "funnel", Dashboard.funnel)


@router.get("/discounts", response_class=HTMLResponse)
def discounts(request: Request) -> Response:
    return _view_page(request, "discounts", Dashboard.discounts)


@router.get("/o2c", response_class=HTMLResponse)
def order_to_cash(request: Request) -> Response:
    return _view_page(request, "o2c", Dashboard.order_to_cash)


@router.get("/compare", response_class=HTMLResponse)
def compare(request: Request, a: str = Query("outcome = 'Won'"), b: str = Query("outcome = 'Lost'")) -> Response:
    def render() -> Response:
        scope = scope_of(request, with_extra=False)
        view = _dash(request).compare(scope, a, b)
        return _render(request, "compare.html", "compare", scope, view=view, a=a, b=b,
                       compare_paths=COMPARE_PATHS,
                       commands=_commands(request, "compare", scope, segments=(a, b), paths=COMPARE_PATHS))
    return cached_page(request, render)


@router.get("/cases", response_class=HTMLResponse)
def cases(request: Request, set: str = Query("all"), offset: int = Query(0)) -> Response:
    def render() -> Response:
        scope = scope_of(request)
        base = scope_of(request, with_extra=False)
        view = _dash(request).cases(scope, set, offset, 100)
        return _render(request, "cases.html", "", base, view=view, extra=extra_condition(request),
                       case_scope=scope, commands=_commands(request, "cases", scope))
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


@router.get("/fragments/terminal", response_class=HTMLResponse)
def terminal_fragment(request: Request, view: str = Query(...), activities: float = Query(1.0),
                      paths: float = Query(1.0), time: str = Query("calendar"),
                      top: int | None = Query(None)) -> Response:
    """The footer naming a view's terminal commands, for options a page changed in place (the
    map's sliders and time switch)."""
    def render() -> Response:
        scope = scope_of(request, with_extra=False)
        commands = _commands(request, view, scope, time == "working", activities=activities,
                             paths=paths, top=top)
        t = request.app.state.templates
        return t.TemplateResponse(request, "_terminal.html", {"request": request, "commands": commands})
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
