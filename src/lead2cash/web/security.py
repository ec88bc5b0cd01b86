"""Who may use the served dashboard: loopback by default, a token for anything else.

`check_bind` refuses to serve on a non-loopback address without a token. With a token,
every request must carry it: an `Authorization: Bearer <token>` header, an
`X-Lead2Cash-Token` header, the `lead2cash_token` cookie, or `?token=` in the URL (which
then sets the cookie, so the links of the pages work without repeating it). Anything else
gets 401. Tokens are compared in constant time.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from ..errors import Lead2CashError

__all__ = ["COOKIE", "LOOPBACK_HOSTS", "check_bind", "token_guard"]

COOKIE = "lead2cash_token"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def is_loopback(host: str) -> bool:
    """Whether binding to `host` keeps the server reachable from this machine only."""
    if host in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: str | None) -> None:
    """Refuse a non-loopback address without a token (the data would be open to the network)."""
    if not is_loopback(host) and not token:
        raise Lead2CashError(
            f"refusing to serve on {host} without a token: anyone on the network could read the log",
            "pass --token T (or set LEAD2CASH_TOKEN), or serve on 127.0.0.1",
        )
    if token is not None and len(token) < 8:
        raise Lead2CashError("the token is too short", "use a token of at least 8 characters")


def _presented(request: Request) -> str | None:
    """The token a request carries, wherever it carries it."""
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return (request.headers.get("x-lead2cash-token") or request.query_params.get("token")
            or request.cookies.get(COOKIE))


def token_guard(token: str) -> Callable[[Request, Callable[[Request], Awaitable[Response]]], Awaitable[Response]]:
    """An HTTP middleware letting through only requests that carry `token`."""
    expected = token.encode()

    async def guard(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        given = _presented(request)
        if given is None or not hmac.compare_digest(given.encode(), expected):
            return PlainTextResponse(
                "401: this dashboard needs its token (open the URL `lead2cash serve` printed, "
                "or send Authorization: Bearer <token>)", status_code=401)
        response = await call_next(request)
        if request.query_params.get("token") and request.cookies.get(COOKIE) != token:
            response.set_cookie(COOKIE, token, httponly=True, samesite="strict")
        return response

    return guard
