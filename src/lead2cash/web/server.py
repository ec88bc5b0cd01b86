"""Running the dashboard: check the address and token, open the workspace, serve with uvicorn."""

from __future__ import annotations

import socket
import webbrowser
from collections.abc import Callable
from pathlib import Path

from ..app.views import Dashboard, Settings
from ..errors import Lead2CashError
from .security import check_bind

__all__ = ["dashboard_url", "serve"]


def dashboard_url(host: str, port: int, token: str | None) -> str:
    """The URL to open (with the token, which the first page turns into a cookie)."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/" + (f"?token={token}" if token else "")


def _check_port(host: str, port: int) -> None:
    """Fail clearly when the port is taken (uvicorn would only log and exit)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            raise Lead2CashError(f"cannot serve on {host}:{port} ({exc.strerror})",
                                 "choose another --port, or stop the program using it") from exc


def serve(
    db: Path,
    host: str = "127.0.0.1",
    port: int = 8000,
    token: str | None = None,
    settings: Settings = Settings(),
    open_browser: bool = False,
    announce: Callable[[str], None] = lambda url: None,
) -> None:
    """Serve the dashboard of the workspace at `db` until interrupted (Ctrl+C)."""
    import uvicorn

    from .app import create_app

    check_bind(host, token)
    _check_port(host, port)
    dashboard = Dashboard(db, settings)
    try:
        app = create_app(dashboard, token)
        url = dashboard_url(host, port, token)
        announce(url)
        if open_browser:
            try:
                webbrowser.open(url)
            except webbrowser.Error:
                pass
        uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
    finally:
        dashboard.close()
