"""Tiny hand-written export folders for the connector tests (real object and field names)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from lead2cash.sources.defaults import DEFAULTS

__all__ = ["audit_change", "dynamics_org", "oracle_org", "salesforce_org", "sap_sd", "write_csv"]


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
    stages = [
        {
            "MasterLabel": s.name,
            "ApiName": s.name,
            "IsClosed": str(s.closed).lower(),
            "IsWon": str(s.won).lower(),
            "SortOrder": s.code,
        }
        for s in DEFAULTS["salesforce"].stages
    ]
    write_csv(folder, "OpportunityStage", stages)
    write_csv(
        folder,
        "Opportunity",
        [
            {
                "Id": "006A",
                "AccountId": "001A",
                "OwnerId": "005A",
                "StageName": "Closed Won",
                "Amount": "50000.00",
                "CreatedDate": _ts(1),
                "LeadSource": "Web",
                "Type": "New Customer",
                "ContractId": "800A",
                "Extra": "ignored",
            },
            {
                "Id": "006B",
                "AccountId": "001B",
                "OwnerId": "005A",
                "StageName": "Closed Lost",
                "Amount": "125000.50",
                "CreatedDate": _ts(2),
                "LeadSource": "",
                "Type": "",
                "ContractId": "",
                "Extra": "",
            },
        ],
    )
    h = [
        ("006A", "Prospecting", _ts(1)),
        ("006A", "Prospecting", _ts(1, 10)),
        ("006A", "Qualification", _ts(2)),
        ("006A", "Needs Analysis", _ts(3)),
        ("006A", "Qualification", _ts(4)),
        ("006A", "Closed Won", _ts(5)),
        ("006B", "Prospecting", _ts(2)),
        ("006B", "Closed Lost", _ts(3)),
        ("006B", "Qualification", _ts(4)),
        ("006B", "Closed Lost", _ts(6)),
    ]
    write_csv(
        folder,
        "OpportunityHistory",
        [
            {"Id": f"008{i:02d}", "OpportunityId": o, "StageName": s, "CreatedDate": t}
            for i, (o, s, t) in enumerate(h)
        ],
    )
    write_csv(
        folder,
        "Account",
        [
            {"Id": "001A", "Name": "Global Tech Inc.", "BillingCountry": "DE"},
            {"Id": "001B", "Name": "Acme", "BillingCountry": "Narnia"},
        ],
    )
    write_csv(folder, "User", [{"Id": "005A", "Name": "Jane Doe"}])
    write_csv(
        folder,
        "Quote",
        [
            {
                "Id": "0Q0A",
                "OpportunityId": "006A",
                "Status": "Accepted",
                "CreatedDate": _ts(3, 11),
                "Discount": "5",
                "IsSyncing": "true",
            }
        ],
    )
    write_csv(
        folder,
        "QuoteHistory",
        [
            {
                "Id": "q1",
                "QuoteId": "0Q0A",
                "Field": "Status",
                "NewValue": "Presented",
                "CreatedDate": _ts(3, 12),
            },
            {
                "Id": "q2",
                "QuoteId": "0Q0A",
                "Field": "Status",
                "NewValue": "Accepted",
                "CreatedDate": _ts(4, 12),
            },
        ],
    )
    write_csv(
        folder, "Contract", [{"Id": "800A", "Status": "Activated", "ActivatedDate": _ts(4, 15)}]
    )
    write_csv(folder, "Order", [{"Id": "801A", "OpportunityId": "006A", "CreatedDate": _ts(6)}])
    write_csv(
        folder,
        "blng__Invoice__c",
        [
            {
                "Id": "a1",
                "blng__Order__c": "801A",
                "blng__InvoiceDate__c": "2024-01-10",
                "blng__InvoiceStatus__c": "Posted",
            },
            {
                "Id": "a2",
                "blng__Order__c": "801A",
                "blng__InvoiceDate__c": "2024-01-11",
                "blng__InvoiceStatus__c": "Cancelled",
            },
        ],
    )
    write_csv(
        folder,
        "blng__Payment__c",
        [
            {
                "Id": "p1",
                "blng__Invoice__c": "a1",
                "blng__PaymentDate__c": "2024-02-01",
                "blng__Status__c": "Posted",
            }
        ],
    )
    return folder


def sap_sd(folder: Path, reference: str = "") -> Path:
    """One SD chain: inquiry, quotation, order, delivery, goods issue, 2 invoices (1 cancelled), payment."""
    write_csv(
        folder,
        "VBAK",
        [
            {
                "VBELN": "0010000001",
                "VBTYP": "A",
                "ERDAT": "20240102",
                "ERZET": "100000",
                "NETWR": "900.00",
                "KUNNR": "0000100001",
                "ERNAM": "JDOE",
                "AUART": "AF",
                "BSTNK": reference,
            },
            {
                "VBELN": "0020000001",
                "VBTYP": "B",
                "ERDAT": "20240103",
                "ERZET": "110000",
                "NETWR": "950.00",
                "KUNNR": "0000100001",
                "ERNAM": "JDOE",
                "AUART": "AG",
                "BSTNK": reference,
            },
            {
                "VBELN": "0000000001",
                "VBTYP": "C",
                "ERDAT": "20240105",
                "ERZET": "090000",
                "NETWR": "1000.00",
                "KUNNR": "0000100001",
                "ERNAM": "JDOE",
                "AUART": "OR",
                "BSTNK": reference,
            },
        ],
    )
    flow = [
        ("0010000001", "A", "0020000001", "B", "20240103", "110000"),
        ("0020000001", "B", "0000000001", "C", "20240105", "090000"),
        ("0000000001", "C", "0080000001", "J", "20240106", "080000"),
        ("0080000001", "J", "4900000001", "R", "20240107", "140000"),
        ("0080000001", "J", "0090000001", "M", "20240108", "100000"),
        ("0080000001", "J", "0090000002", "M", "20240108", "120000"),
        ("0090000002", "M", "0090000003", "N", "20240109", "080000"),
        ("0080000001", "J", "20240107", "Q", "20240107", "130000"),
    ]  # WM quirk: date in VBELN
    write_csv(
        folder,
        "VBFA",
        [
            {
                "VBELV": v,
                "POSNV": "000010",
                "VBELN": n,
                "POSNN": "000010",
                "VBTYP_N": tn,
                "VBTYP_V": tv,
                "ERDAT": d,
                "ERZET": t,
            }
            for v, tv, n, tn, d, t in flow
        ],
    )
    write_csv(
        folder,
        "VBRK",
        [
            {
                "VBELN": "0090000001",
                "VBTYP": "M",
                "FKSTO": "",
                "ERDAT": "20240108",
                "ERZET": "100000",
            },
            {
                "VBELN": "0090000002",
                "VBTYP": "M",
                "FKSTO": "X",
                "ERDAT": "20240108",
                "ERZET": "120000",
            },
            {
                "VBELN": "0090000003",
                "VBTYP": "N",
                "FKSTO": "",
                "ERDAT": "20240109",
                "ERZET": "080000",
            },
        ],
    )
    write_csv(folder, "BSAD", [{"VBELN": "0090000001", "BELNR": "1400000001", "AUGDT": "20240201"}])
    write_csv(folder, "KNA1", [{"KUNNR": "0000100001", "NAME1": "Global Tech Inc.", "LAND1": "DE"}])
    return folder


def _z(day: int, hour: int = 9) -> str:
    """A Dataverse datetime (UTC, Z) in March 2024."""
    return f"2024-03-{day:02d}T{hour:02d}:00:00Z"


def audit_change(field: str, new: str) -> str:
    """An audit `changedata` JSON with one changed attribute."""
    return json.dumps(
        {"changedAttributes": [{"logicalName": field, "oldValue": None, "newValue": new}]}
    )


def dynamics_org(folder: Path) -> Path:
    """Two opportunities: a won one invoiced and paid in two parts, a lost one reopened and won."""
    write_csv(
        folder,
        "opportunity",
        [
            {
                "opportunityid": "a1",
                "createdon": _z(1),
                "statecode": "1",
                "salesstage": "3",
                "estimatedvalue": "1200",
                "discountpercentage": "5.00",
                "customerid": "c1",
                "ownerid": "u1",
                "originatingleadid": "l1",
            },
            {
                "opportunityid": "b2",
                "createdon": _z(2),
                "statecode": "1",
                "salesstage": "1",
                "estimatedvalue": "500",
                "discountpercentage": "",
                "customerid": "c1",
                "ownerid": "u1",
                "originatingleadid": "",
            },
        ],
    )
    audit = [
        ("a1", "opportunity", "salesstage", "0", _z(1)),
        ("a1", "opportunity", "salesstage", "1", _z(2)),
        ("a1", "opportunity", "estimatedvalue", "900", _z(2, 10)),
        ("a1", "opportunity", "salesstage", "2", _z(3)),
        ("a1", "opportunity", "salesstage", "3", _z(4)),
        ("b2", "opportunity", "salesstage", "0", _z(2)),
        ("b2", "opportunity", "salesstage", "1", _z(3)),
        ("b2", "opportunity", "statecode", "0", _z(6)),
        ("i1", "invoice", "statecode", "2", _z(15, 8)),
        ("i1", "invoice", "statecode", "2", _z(20, 8)),
    ]
    write_csv(
        folder,
        "audit",
        [
            {
                "auditid": f"x{i}",
                "objectid": o,
                "objecttypecode": e,
                "createdon": t,
                "changedata": audit_change(a, v),
            }
            for i, (o, e, a, v, t) in enumerate(audit)
        ],
    )
    write_csv(
        folder,
        "opportunityclose",
        [
            {
                "activityid": "k1",
                "opportunityid": "a1",
                "opportunitystatecode": "1",
                "createdon": _z(5),
            },
            {
                "activityid": "k2",
                "opportunityid": "b2",
                "opportunitystatecode": "2",
                "createdon": _z(4),
            },
            {
                "activityid": "k3",
                "opportunityid": "b2",
                "opportunitystatecode": "1",
                "createdon": _z(8),
            },
        ],
    )
    write_csv(
        folder, "account", [{"accountid": "c1", "name": "Contoso Ltd.", "address1_country": "FR"}]
    )
    write_csv(folder, "systemuser", [{"systemuserid": "u1", "fullname": "Omar Khan"}])
    write_csv(folder, "lead", [{"leadid": "l1", "leadsourcecode": "7"}])
    write_csv(
        folder,
        "product",
        [
            {"productid": "f1", "name": "Hardware", "parentproductid": ""},
            {"productid": "p1", "name": "Server Bundle", "parentproductid": "f1"},
        ],
    )
    write_csv(
        folder,
        "opportunityproduct",
        [
            {
                "opportunityproductid": "op1",
                "opportunityid": "a1",
                "productid": "p1",
                "extendedamount": "1200",
            }
        ],
    )
    write_csv(
        folder,
        "quote",
        [
            {
                "quoteid": "q1",
                "opportunityid": "a1",
                "statecode": "2",
                "createdon": _z(3, 12),
                "closedon": _z(4, 12),
            },
            {
                "quoteid": "q0",
                "opportunityid": "a1",
                "statecode": "0",
                "createdon": _z(3, 11),
                "closedon": "",
            },
        ],
    )
    write_csv(
        folder,
        "salesorder",
        [
            {
                "salesorderid": "s1",
                "opportunityid": "a1",
                "createdon": _z(6),
                "datefulfilled": "2024-03-09",
                "paymenttermscode": "4",
            }
        ],
    )
    write_csv(
        folder,
        "invoice",
        [
            {
                "invoiceid": "i1",
                "salesorderid": "s1",
                "createdon": _z(10),
                "statecode": "2",
                "opportunityid": "",
            },
            {
                "invoiceid": "i2",
                "salesorderid": "s1",
                "createdon": _z(10, 11),
                "statecode": "3",
                "opportunityid": "a1",
            },
        ],
    )
    return folder


def _o(day: int, hour: int = 9) -> str:
    """An Oracle REST / BICC datetime (ISO with offset) in May 2024."""
    return f"2024-05-{day:02d}T{hour:02d}:00:00.000+00:00"


def oracle_org(folder: Path) -> Path:
    """One opportunity: stage entries, loss, reopen, win, CPQ quote, order, invoices, receipts."""
    folder.mkdir(parents=True, exist_ok=True)
    opp = {
        "OptyId": 300000000000001,
        "OptyNumber": "OPTY-1",
        "OptyCreationDate": _o(1),
        "StatusCode": "WON",
        "SalesStage": "03 - Discover",
        "Revenue": 8000.5,
        "TargetPartyId": 200000000001,
        "TargetPartyName": "Initech",
        "OwnerResourcePartyId": 100000000001,
        "ChildRevenue": [
            {"PrimaryFlag": False, "ProdGroupName": "Services"},
            {"PrimaryFlag": True, "ProdGroupName": "Hardware"},
        ],
    }
    (folder / "opportunities.json").write_text(json.dumps({"items": [opp], "count": 1}))
    (folder / "accounts.json").write_text(
        json.dumps(
            {"items": [{"PartyId": 200000000001, "OrganizationName": "Initech", "Country": "JP"}]}
        )
    )
    (folder / "resources.json").write_text(
        json.dumps({"items": [{"PartyId": 100000000001, "PartyName": "Kenji Sato"}]})
    )
    open_stages = [s for s in DEFAULTS["oracle-cx"].stages if not s.closed]
    write_csv(
        folder,
        "MOO_STG_VL",
        [{"STG_ID": str(101 + i), "NAME": s.name} for i, s in enumerate(open_stages)],
    )
    o = "300000000000001"
    write_csv(
        folder,
        "MOO_OPTY_STG_SNAPSHOTS",
        [
            {"OPTY_STG_SNAPSHOT_ID": f"40{i}", "OPTY_ID": o, "STG_ID": g, "CREATION_DATE": t}
            for i, (g, t) in enumerate([("101", _o(1)), ("102", _o(2)), ("103", _o(3))])
        ],
    )
    write_csv(
        folder,
        "MOO_OPTY_SNAPSHOTS",
        [
            {
                "OPTY_SNAPSHOT_ID": f"41{i}",
                "OPTY_ID": o,
                "CURR_STG_ID": g,
                "STATUS_CATEGORY": c,
                "CREATION_DATE": t,
            }
            for i, (g, c, t) in enumerate(
                [
                    ("103", "OPEN", _o(3, 10)),
                    ("103", "LOST", _o(4)),
                    ("103", "OPEN", _o(6)),
                    ("103", "WON", _o(8)),
                ]
            )
        ],
    )
    write_csv(
        folder,
        "ZCA_SALES_ORDER_HEADERS",
        [
            {
                "ORDER_HEADER_ID": "600",
                "ORDER_HEADER_NUMBER": "000000600",
                "OPTY_ID": o,
                "STATUS": "ORDERED",
                "CREATION_DATE": _o(7),
                "PLACED_ON_DATE": _o(8, 8),
            }
        ],
    )
    write_csv(
        folder,
        "DOO_HEADERS_ALL",
        [
            {
                "HEADER_ID": "700",
                "ORDER_NUMBER": "00000001",
                "SOURCE_ORDER_NUMBER": "000000600",
                "CREATION_DATE": _o(9),
                "PAYMENT_TERM_ID": "1001",
            }
        ],
    )
    write_csv(
        folder,
        "DOO_FULFILL_LINES_ALL",
        [
            {
                "FULFILL_LINE_ID": "710",
                "HEADER_ID": "700",
                "STATUS_CODE": "SHIPPED",
                "ACTUAL_SHIP_DATE": _o(10, 14),
            },
            {
                "FULFILL_LINE_ID": "711",
                "HEADER_ID": "700",
                "STATUS_CODE": "AWAIT_SHIPPING",
                "ACTUAL_SHIP_DATE": "",
            },
        ],
    )
    write_csv(
        folder,
        "RA_CUSTOMER_TRX_ALL",
        [
            {
                "CUSTOMER_TRX_ID": "800",
                "TRX_DATE": "2024-05-11",
                "INTERFACE_HEADER_ATTRIBUTE1": "00000001",
                "STATUS_TRX": "CL",
            },
            {
                "CUSTOMER_TRX_ID": "801",
                "TRX_DATE": "2024-05-11",
                "INTERFACE_HEADER_ATTRIBUTE1": "00000001",
                "STATUS_TRX": "VD",
            },
        ],
    )
    write_csv(
        folder,
        "AR_RECEIVABLE_APPLICATIONS_ALL",
        [
            {
                "RECEIVABLE_APPLICATION_ID": f"83{i}",
                "APPLIED_CUSTOMER_TRX_ID": trx,
                "STATUS": "APP",
                "APPLY_DATE": d,
            }
            for i, (trx, d) in enumerate(
                [("800", "2024-05-20"), ("800", "2024-06-03"), ("801", "2024-05-12")]
            )
        ],
    )
    write_csv(folder, "RA_TERMS_TL", [{"TERM_ID": "1001", "NAME": "Net 45"}])
    return folder
