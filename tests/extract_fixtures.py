"""Tiny hand-written export folders for the connector tests (real object and field names)."""

from __future__ import annotations

import csv
from pathlib import Path

from lead2cash.sources.defaults import DEFAULTS

__all__ = ["write_csv", "salesforce_org"]


def write_csv(folder: Path, name: str, rows: list[dict[str, str]]) -> Path:
    """Write one export file (header = the keys of the first row)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.csv"
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def _ts(day: int, hour: int = 9) -> str:
    """A Salesforce datetime in January 2024."""
    return f"2024-01-{day:02d}T{hour:02d}:00:00.000+0000"


def salesforce_org(folder: Path) -> Path:
    """Two opportunities: a won deal with regression and billing, a lost one that was reopened."""
    stages = [{"MasterLabel": s.name, "ApiName": s.name, "IsClosed": str(s.closed).lower(),
               "IsWon": str(s.won).lower(), "SortOrder": s.code} for s in DEFAULTS["salesforce"].stages]
    write_csv(folder, "OpportunityStage", stages)
    write_csv(folder, "Opportunity", [
        {"Id": "006A", "AccountId": "001A", "OwnerId": "005A", "StageName": "Closed Won",
         "Amount": "50000.00", "CreatedDate": _ts(1), "LeadSource": "Web", "Type": "New Customer",
         "ContractId": "800A", "Extra": "ignored"},
        {"Id": "006B", "AccountId": "001B", "OwnerId": "005A", "StageName": "Closed Lost",
         "Amount": "125000.50", "CreatedDate": _ts(2), "LeadSource": "", "Type": "",
         "ContractId": "", "Extra": ""},
    ])
    h = [("006A", "Prospecting", _ts(1)), ("006A", "Prospecting", _ts(1, 10)),
         ("006A", "Qualification", _ts(2)), ("006A", "Needs Analysis", _ts(3)),
         ("006A", "Qualification", _ts(4)), ("006A", "Closed Won", _ts(5)),
         ("006B", "Prospecting", _ts(2)), ("006B", "Closed Lost", _ts(3)),
         ("006B", "Qualification", _ts(4)), ("006B", "Closed Lost", _ts(6))]
    write_csv(folder, "OpportunityHistory", [
        {"Id": f"008{i:02d}", "OpportunityId": o, "StageName": s, "CreatedDate": t}
        for i, (o, s, t) in enumerate(h)])
    write_csv(folder, "Account", [{"Id": "001A", "Name": "Global Tech Inc.", "BillingCountry": "DE"},
                                  {"Id": "001B", "Name": "Acme", "BillingCountry": "Narnia"}])
    write_csv(folder, "User", [{"Id": "005A", "Name": "Jane Doe"}])
    write_csv(folder, "Quote", [{"Id": "0Q0A", "OpportunityId": "006A", "Status": "Accepted",
                                 "CreatedDate": _ts(3, 11), "Discount": "5", "IsSyncing": "true"}])
    write_csv(folder, "QuoteHistory", [
        {"Id": "q1", "QuoteId": "0Q0A", "Field": "Status", "NewValue": "Presented", "CreatedDate": _ts(3, 12)},
        {"Id": "q2", "QuoteId": "0Q0A", "Field": "Status", "NewValue": "Accepted", "CreatedDate": _ts(4, 12)}])
    write_csv(folder, "Contract", [{"Id": "800A", "Status": "Activated", "ActivatedDate": _ts(4, 15)}])
    write_csv(folder, "Order", [{"Id": "801A", "OpportunityId": "006A", "CreatedDate": _ts(6)}])
    write_csv(folder, "blng__Invoice__c", [
        {"Id": "a1", "blng__Order__c": "801A", "blng__InvoiceDate__c": "2024-01-10",
         "blng__InvoiceStatus__c": "Posted"},
        {"Id": "a2", "blng__Order__c": "801A", "blng__InvoiceDate__c": "2024-01-11",
         "blng__InvoiceStatus__c": "Cancelled"}])
    write_csv(folder, "blng__Payment__c", [
        {"Id": "p1", "blng__Invoice__c": "a1", "blng__PaymentDate__c": "2024-02-01",
         "blng__Status__c": "Posted"}])
    return folder
