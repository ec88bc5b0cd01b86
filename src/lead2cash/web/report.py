"""`lead2cash report`: one self-contained HTML file with the main views, to send by e-mail.

The report renders the same view data as the dashboard (`app.views.Dashboard`) through one
template, with every style sheet and script inlined (the vendored libraries included), so
the file opens offline in any browser, with no server.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from ..app.conformance_views import conformance_view, drivers_view
from ..app.figures import HEADLINES
from ..app.scope import Scope
from ..app.views import Dashboard, Settings
from ..errors import Lead2CashError
from . import formatting
from .app import STATIC, TEMPLATES

__all__ = ["INLINED", "render_report", "write_report"]

INLINED = ("vendor/echarts.min.js", "vendor/cytoscape.min.js", "vendor/cytoscape-dagre.min.js",
           "app.js", "map.js")
"""The scripts the report inlines, in load order."""


def _script(name: str) -> Markup:
    """A script's text, safe inside a <script> element."""
    text = (STATIC / name).read_text(encoding="utf-8")
    return Markup(text.replace("</script", "<\\/script").replace("<!--", "<\\!--"))


def render_report(dashboard: Dashboard, filters: Sequence[str] = ()) -> str:
    """The report's HTML for the cases the filters keep (the `--filter` language)."""
    scope = Scope(q=" and ".join(f"{f}" for f in filters if f.strip()))
    scope.filters()  # a bad filter fails here with the parser's message
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]))
    formatting.install(env)
    template = env.get_template("report.html")
    return template.render(
        scope=scope, filters=list(filters), basis=dashboard.basis, headlines=HEADLINES,
        overview=dashboard.overview(scope), map=dashboard.process_map(scope, 1.0, 0.4),
        variants=dashboard.variants(scope, 20), funnel=dashboard.funnel(scope),
        discounts=dashboard.discounts(scope), o2c=dashboard.order_to_cash(scope),
        conformance=conformance_view(dashboard, scope), drivers=drivers_view(dashboard, scope),
        workspace=dashboard.ws.path.name, created=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        css=Markup((STATIC / "app.css").read_text(encoding="utf-8")),
        scripts=[_script(n) for n in INLINED],
        cases_url=lambda *a, **k: None,
    )


def write_report(out: Path, db: Path, filters: Sequence[str] = (),
                 settings: Settings | None = None) -> int:
    """Write the report for the workspace at `db`; returns the file's size in bytes."""
    if out.suffix.lower() not in (".html", ".htm"):
        raise Lead2CashError(f"{out}: the report is an HTML file", "name it e.g. report.html")
    dashboard = Dashboard(db, settings)
    try:
        html = render_report(dashboard, filters)
    finally:
        dashboard.close()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    return out.stat().st_size
