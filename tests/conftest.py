"""Shared fixtures: the real data beside the checkout, and fresh workspaces on disk."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from lead2cash.store import Workspace

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

    from lead2cash.app.views import Dashboard

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session", autouse=True)
def _compiled_sql_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Compiled mining SQL goes to a fresh folder, not the user's cache (mining/compiled.py)."""
    os.environ["LEAD2CASH_CACHE_DIR"] = str(tmp_path_factory.mktemp("compiled-sql"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The read-only real logs in ../shared/data."""
    if not SHARED_DATA.is_dir():
        pytest.fail(f"{SHARED_DATA} is missing: the shared data must sit beside the checkout")
    return SHARED_DATA


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    """A fresh workspace: a real DuckDB file in a temporary folder."""
    ws = Workspace(tmp_path / "test.duckdb", memory_limit="2GB")
    yield ws
    ws.close()


@pytest.fixture(scope="session")
def company_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A simulated company's CRM and ERP extracts turned into a workspace (the demo pipeline,
    600 opportunities): what the dashboard tests serve and compare with the CLI."""
    from lead2cash.demo import run_demo

    out = tmp_path_factory.mktemp("company")
    return run_demo(out, cases=600, seed=11).workspace


@pytest.fixture(scope="session")
def deviating_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's simulated company (600 opportunities, Salesforce and SAP S/4HANA through the
    connectors) with the simulator's deviations injected (5 % each): some rules are broken."""
    from lead2cash.simulate import SimulationParams, simulate
    from lead2cash.sources.registry import extract
    from lead2cash.store import Workspace

    out = tmp_path_factory.mktemp("deviating")
    params = SimulationParams(order_for_lost_rate=0.05, order_before_win_rate=0.05,
                              payment_before_invoice_rate=0.05)
    sim = simulate(out, 600, 11, "salesforce+sap-s4hana", params)
    db = out / "lead2cash.duckdb"
    with Workspace(db) as ws:
        extract(ws, {s: out / s for s in ("salesforce", "sap-s4hana")})
    assert (out / "deviations.csv").exists() and sim.cases == 600
    return db


# The in-process dashboard of a module's `company_db` (a module may choose another company,
# as test_web_conformance.py does), for the dashboard API tests.
@pytest.fixture(scope="module")
def dashboard(company_db: Path) -> Iterator[Dashboard]:
    from lead2cash.app.views import Dashboard

    d = Dashboard(company_db)
    yield d
    d.close()


@pytest.fixture(scope="module")
def client(dashboard: Dashboard) -> TestClient:
    from fastapi.testclient import TestClient

    from lead2cash.web import create_app

    return TestClient(create_app(dashboard))
