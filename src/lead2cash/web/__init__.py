"""The web face: a FastAPI app with server-rendered pages, HTMX fragments and a JSON API.

It shows the application layer's views (`app.views.Dashboard`) and never imports `cli/`.
Every script and style sheet is vendored under `static/vendor/` (from the npm lock file in
`frontend/`), so no page loads anything from another host.
"""

from .app import create_app
from .security import LOOPBACK_HOSTS, check_bind

__all__ = ["LOOPBACK_HOSTS", "check_bind", "create_app"]
