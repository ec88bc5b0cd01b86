"""Logs for the KPI tests: a small hand-built one (answers worked out in test_kpis.py), a simulated one."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from lead2cash.simulate import simulate
from lead2cash.store import CORE_COLUMNS, EVENTS, Workspace, events_ddl, quote

# Each case: its attributes and its events (time, activity).
CASES: dict[str, tuple[dict[str, Any], list[tuple[str, str]]]] = {
    "C1": (
        dict(SalesRegion="EMEA", OpportunityAmount=100000.0, DiscountPercentage=0.10,
             OpportunityOwner="Ann", PaymentTerms="Net 30", LeadSource="Website"),
        [("2024-01-01", "Opportunity Created"), ("2024-01-02", "Opportunity Qualified"),
         ("2024-01-04", "Quote Issued"), ("2024-01-05", "Quote Accepted"),
         ("2024-01-07", "Contract Signed"), ("2024-01-11", "Opportunity Won"),
         ("2024-01-11 12:00", "Sales Order Created"), ("2024-01-16 12:00", "Order Fulfilled"),
         ("2024-01-17 12:00", "Invoice Generated"), ("2024-02-06 12:00", "Payment Received")],
    ),
    "C2": (
        dict(SalesRegion="North America", OpportunityAmount=50000.0, DiscountPercentage=0.25,
             OpportunityOwner="Bob", PaymentTerms="Net 30", LeadSource="Partner Referral"),
        [("2024-01-01", "Opportunity Created"), ("2024-01-03", "Opportunity Qualified"),
         ("2024-01-06", "Quote Issued"), ("2024-01-21", "Opportunity Won"),
         ("2024-01-22", "Sales Order Created"), ("2024-01-25", "Order Fulfilled"),
         ("2024-01-25", "Invoice Generated"), ("2024-03-05", "Payment Received")],
    ),
    "C3": (
        dict(SalesRegion="EMEA", OpportunityAmount=20000.0, DiscountPercentage=0.05,
             OpportunityOwner="Ann", LeadSource="Website"),
        [("2024-01-01", "Opportunity Created"), ("2024-01-02", "Opportunity Qualified"),
         ("2024-01-05", "Quote Issued"), ("2024-01-31", "Opportunity Lost")],
    ),
    "C4": (
        dict(SalesRegion="North America", OpportunityAmount=30000.0, DiscountPercentage=0.0,
             OpportunityOwner="Bob", PaymentTerms="Due on Receipt", LeadSource="Cold Call"),
        [("2024-01-01", "Opportunity Created"), ("2024-01-10", "Opportunity Lost"),
         ("2024-01-15", "Opportunity Reopened"), ("2024-01-20", "Quote Issued"),
         ("2024-02-09", "Opportunity Won"), ("2024-02-10", "Sales Order Created"),
         ("2024-02-10", "Invoice Generated"), ("2024-02-12", "Payment Received")],
    ),
    "C5": (
        dict(SalesRegion="APAC", OpportunityAmount=40000.0, DiscountPercentage=0.30,
             OpportunityOwner="Cid", LeadSource="Trade Show"),
        [("2024-01-01", "Opportunity Created"), ("2024-01-05", "Opportunity Qualified"),
         ("2024-01-10", "Solution Proposed"), ("2024-01-12", "Requirements Gathered")],
    ),
    "C6": (
        dict(SalesRegion="APAC", OpportunityAmount=10000.0, OpportunityOwner="Cid",
             LeadSource="Trade Show"),
        [("2024-02-25", "Opportunity Created"), ("2024-02-26", "Opportunity Qualified")],
    ),
}
UPDATED = datetime(2024, 3, 6)
OLDEST_UPDATE = datetime(2024, 3, 1)


def rows() -> list[dict[str, Any]]:
    """The events as column dicts, in a shuffled source order (event_id still breaks ties)."""
    out: list[dict[str, Any]] = []
    for case, (attrs, events) in CASES.items():
        for i, (when, activity) in enumerate(events):
            update: datetime | None = UPDATED
            if case == "C6":
                update = None if i == 0 else OLDEST_UPDATE
            out.append(dict(attrs, SalesOpportunityId=case, ActivityName=activity,
                            EventTime=datetime.fromisoformat(when), SourceSystem="Salesforce CRM",
                            LastDataUpdate=update))
    out.reverse()
    for i, row in enumerate(out):
        row["event_id"] = 1000 - i if row["SalesOpportunityId"] != "C2" else i
    return out


def write_log(ws: Workspace) -> None:
    """Create the events table in a workspace and insert the log (one new version)."""
    with ws.transaction() as con:
        con.execute(events_ddl(EVENTS))
        for row in rows():
            cols = [*row, "event_type"]
            marks = ", ".join("?" * len(cols))
            names = ", ".join(f'"{c}"' for c in cols)
            con.execute(f"INSERT INTO {EVENTS} ({names}) VALUES ({marks})", [*row.values(), "explicit"])


def load_simulated(ws: Workspace, folder: Path, cases: int, seed: int) -> None:
    """Simulate a Salesforce company and load its ground truth as the workspace's log."""
    simulate(folder, cases, seed, "salesforce")
    cols = ", ".join("to_microseconds(SalesCycleDuration)" if c == "SalesCycleDuration" else quote(c)
                     for c in CORE_COLUMNS)
    with ws.transaction():
        ws.replace_log(f"SELECT {cols} FROM read_parquet('{folder / 'ground_truth.parquet'}')", {}, {})
