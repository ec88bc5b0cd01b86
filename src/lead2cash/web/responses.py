"""Finished responses cached per workspace version and URL.

A page or a JSON answer is a pure function of the served workspace's version (read-only) and
the URL's path and parameters, so once rendered it is kept (bounded, least recently used
first) and sent again as bytes: a view asked again costs no template rendering and no JSON
encoding. Each answer is computed on one version throughout (`Dashboard.pinned`): after a
refresh the next request moves to the new version, one running meanwhile ends on the old.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..app.cache import ResultCache

__all__ = ["cached_json", "cached_page"]

_CACHE = "response_cache"


def _cache(request: Request) -> ResultCache:
    state = request.app.state
    if not hasattr(state, _CACHE):
        setattr(state, _CACHE, ResultCache(1024))
    return getattr(state, _CACHE)  # type: ignore[no-any-return]


def _key(request: Request, kind: str) -> tuple[str, ...]:
    params = sorted((k, v) for k, v in request.query_params.multi_items() if k != "token")
    return (request.app.state.dashboard.version, kind, request.url.path, json.dumps(params))


def cached_json(request: Request, compute: Callable[[], Any]) -> Response:
    """The JSON of `compute()` (ISO text for times), from the cache when asked before."""
    with request.app.state.dashboard.pinned():
        body = _cache(request).get(_key(request, "json"), lambda: json.dumps(
            compute(), default=str, separators=(",", ":"), allow_nan=False).encode())
    return Response(body, media_type="application/json")


def cached_page(request: Request, render: Callable[[], Response]) -> Response:
    """A rendered page, from the cache when asked before (only successful pages are kept)."""
    def make() -> tuple[bytes, int, str]:
        response = render()
        return bytes(response.body), response.status_code, response.media_type or "text/html"

    with request.app.state.dashboard.pinned():
        body, status, media = _cache(request).get(_key(request, "page"), make)
    return Response(body, status_code=status, media_type=media)
