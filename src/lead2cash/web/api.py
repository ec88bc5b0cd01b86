"""The JSON API: one route per view, each the `to_dict()` of the mining results behind it.

`/api/kpis`, `/api/map`, `/api/variants` and `/api/performance` return exactly what
`lead2cash mine kpis|dfg|variants|performance --json` prints for the same filters (the
scope's `--filter` texts are in every page's footer and in `/api/scope`).
"""

from __future__ import annotations

import csv
import io
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from ..app.views import COMPARE_PATHS, Dashboard
from ..errors import Lead2CashError
from .params import scope_of
from .responses import cached_json

__all__ = ["router"]

router = APIRouter(prefix="/api")


def _dash(request: Request) -> Dashboard:
    return request.app.state.dashboard  # type: ignore[no-any-return]


@router.get("/health")
def health(request: Request) -> dict[str, Any]:
    """Whether the server is up, the workspace version it serves, and whether the unfiltered
    views are computed already (`warm`)."""
    dash = _dash(request)
    return {"ok": True, "version": dash.version, "warm": dash.warm.is_set()}


@router.get("/scope")
def scope(request: Request) -> dict[str, Any]:
    """The scope as parameters and as `--filter` texts for `lead2cash mine`."""
    s = scope_of(request)
    return {"params": s.params(), "filters": s.filter_texts()}


@router.get("/kpis")
def kpis(request: Request) -> Response:
    """Every KPI (as `mine kpis --json`)."""
    return cached_json(request, lambda: _dash(request).kpis(scope_of(request)))


@router.get("/overview")
def overview(request: Request) -> Response:
    """KPI cards, cases per week, freshness."""
    return cached_json(request, lambda: _dash(request).overview(scope_of(request)))


@router.get("/map")
def process_map(request: Request, activities: float = Query(1.0), paths: float = Query(1.0),
                time: str = Query("calendar")) -> dict[str, Any]:
    """The process map (as `mine dfg --json --activities A --paths P`)."""
    return cached_json(request, lambda: _dash(request).process_map(
        scope_of(request), activities, paths, _working(time)))


@router.get("/variants")
def variants(request: Request, top: int = Query(50)) -> dict[str, Any]:
    """The most frequent variants (as `mine variants --json --top K`)."""
    return cached_json(request, lambda: _dash(request).variants(scope_of(request), top))


@router.get("/performance")
def performance(request: Request) -> Response:
    """Durations, throughput, time in stage, rework (as `mine performance --json`)."""
    return cached_json(request, lambda: _dash(request).performance(scope_of(request)))


@router.get("/funnel")
def funnel(request: Request) -> Response:
    """Funnel, time in stage, stalls, regressions, reopened deals."""
    return cached_json(request, lambda: _dash(request).funnel(scope_of(request)))


@router.get("/discounts")
def discounts(request: Request) -> Response:
    """Discount effectiveness."""
    return cached_json(request, lambda: _dash(request).discounts(scope_of(request)))


@router.get("/o2c")
def order_to_cash(request: Request) -> Response:
    """Order-to-cash times and late payments."""
    return cached_json(request, lambda: _dash(request).order_to_cash(scope_of(request)))


@router.get("/compare")
def compare(request: Request, a: str = Query("outcome = 'Won'"), b: str = Query("outcome = 'Lost'"),
            paths: float = Query(COMPARE_PATHS)) -> dict[str, Any]:
    """Two segments side by side."""
    return cached_json(request, lambda: _dash(request).compare(scope_of(request), a, b, paths))


@router.get("/cases")
def cases(request: Request, set: str = Query("all"), offset: int = Query(0),
          limit: int = Query(100)) -> dict[str, Any]:
    """The cases of the scope and case set (paged)."""
    return cached_json(request, lambda: _dash(request).cases(scope_of(request), set, offset, limit))


@router.get("/cases.csv")
def cases_csv(request: Request, set: str = Query("all")) -> Response:
    """Every case of the scope and case set, as CSV."""
    data = _dash(request).cases(scope_of(request), set, 0, None)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(data["columns"])
    writer.writerows(data["rows"])
    name = "cases-" + "".join(c if c.isalnum() else "-" for c in set) + ".csv"
    return Response(out.getvalue(), media_type="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/search")
def search(request: Request, text: str = Query("")) -> list[dict[str, Any]]:
    """Cases whose id or customer contains the text."""
    return cached_json(request, lambda: _dash(request).search(text))


@router.get("/case")
def case(request: Request, id: str = Query(...)) -> dict[str, Any]:
    """One case's timeline."""
    return cached_json(request, lambda: _dash(request).case(id))


@router.get("/animation")
def animation(request: Request, limit: int = Query(400)) -> dict[str, Any]:
    """Cases' event times for the map's token animation."""
    return cached_json(request, lambda: _dash(request).animation(scope_of(request), limit))


@router.get("/quality")
def quality(request: Request) -> Response:
    """The check results and coverage (as `lead2cash check --json`)."""
    return cached_json(request, lambda: _dash(request).quality())


@router.get("/choices")
def choices(request: Request) -> Response:
    """The values of the filter bar's menus."""
    return cached_json(request, lambda: _dash(request).choices())


def _working(time: str) -> bool:
    """'calendar' or 'working'."""
    if time not in ("calendar", "working"):
        raise Lead2CashError(f"time {time!r} is not known", "use time=calendar or time=working")
    return time == "working"
