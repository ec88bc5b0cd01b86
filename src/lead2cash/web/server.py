"""Running the dashboard: check the address and token, open the workspace, serve with uvicorn."""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
import webbrowser
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ..app.views import Dashboard, Settings
from ..errors import Lead2CashError
from .security import check_bind

if TYPE_CHECKING:
    import uvicorn

__all__ = ["can_open_browser", "dashboard_url", "free_port", "serve"]


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


def free_port(host: str, first: int, tries: int = 20) -> int:
    """The first port from `first` on that is free on `host`."""
    for port in range(first, first + tries):
        try:
            _check_port(host, port)
            return port
        except Lead2CashError:
            continue
    raise Lead2CashError(f"no free port on {host} from {first} to {first + tries - 1}",
                         "pass --port with a free port")


def can_open_browser() -> bool:
    """Whether a graphical browser can open here (never a text browser in the terminal)."""
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _announce_when_listening(server: uvicorn.Server, url: str, announce: Callable[[str], None],
                             open_browser: bool) -> None:
    """Say the URL (and open a browser) once the server accepts connections, not before:
    a user or a script that follows the URL at once must find the dashboard there."""
    while not server.started:
        if server.should_exit:
            return
        time.sleep(0.05)
    announce(url)
    if open_browser and can_open_browser():
        try:
            webbrowser.open(url)
        except webbrowser.Error:
            pass


def serve(
    db: Path,
    host: str = "127.0.0.1",
    port: int = 8000,
    token: str | None = None,
    settings: Settings | None = None,
    open_browser: bool = False,
    announce: Callable[[str], None] = lambda url: None,
) -> None:
    """Serve the dashboard of the workspace at `db` until interrupted (Ctrl+C)."""
    import uvicorn

    from .app import create_app

    check_bind(host, token)
    _check_port(host, port)
    dashboard = Dashboard(db, settings)
    threading.Thread(target=dashboard.prewarm, name="lead2cash-prewarm", daemon=True).start()
    try:
        app = create_app(dashboard, token)
        server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning",
                                               access_log=False))
        url = dashboard_url(host, port, token)
        threading.Thread(target=_announce_when_listening, name="lead2cash-announce", daemon=True,
                         args=(server, url, announce, open_browser)).start()
        server.run()
    finally:
        dashboard.close()
