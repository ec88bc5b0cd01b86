"""Salesforce Sales Cloud (+ Salesforce Billing): which object gives which activity and attribute.

Stages are classified through `OpportunityStage.IsClosed/IsWon` (never by name);
the milestone each stage marks comes from the configuration.
"""

from __future__ import annotations

from dataclasses import replace

from ..store import quote
from .config import Setting, Settings, status_settings
from .defaults import DEFAULTS
from .engine import EventRule, Mapping, StageHistory, history_rows, lit, lits
from .regions import TABLE, region_join, region_lookup_sql, regions_setting
from .tables import SourceTable, TimeField

__all__ = ["IS_CRM", "SETTINGS", "mapping"]

IS_CRM = True  # a CRM: its opportunities are the cases

_D = DEFAULTS["salesforce"]

_STATUS_DOCS = {
    "quote_issued": "Quote.Status values (QuoteHistory NewValue) whose first entry means "
    "Quote Issued",
    "quote_accepted": "Quote.Status values whose first entry means Quote Accepted",
    "contract_signed": "Contract.Status values meaning signed (time: ActivatedDate)",
    "order_fulfilled": "Order.Status values (OrderHistory NewValue) whose first entry means "
    "Order Fulfilled",
    "invoice_cancelled": "blng__Invoice__c.blng__InvoiceStatus__c values of cancelled invoices "
    "(not counted)",
    "payment_received": "blng__Payment__c.blng__Status__c values meaning the money arrived "
    "(a Canceled payment, or one with a negative blng__Amount__c, is no payment)",
}

SETTINGS: tuple[Setting, ...] = (
    *status_settings(_D.status, _STATUS_DOCS),
    Setting(
        "invoice_time",
        "CreatedDate",
        "blng__Invoice__c field dating Invoice Generated (else the date-only blng__InvoiceDate__c)",
    ),
    Setting(
        "payment_terms_field",
        "Payment_Terms__c",
        "Order field holding the payment terms (none in standard Sales Cloud; empty: not read)",
    ),
    Setting(
        "region_field",
        "Account.BillingCountry",
        "Table.Field holding the region or country (Account.* or User.*)",
    ),
    Setting(
        "stages",
        {s.name: s.activity for s in _D.stages if s.activity},
        "stage name -> milestone activity its first entry means (others: Stage Changed)",
    ),
    regions_setting("the region_field"),
)

_ISO = "iso"
# Id and reference fields: 15-character ids in them get their 18-character form on reading
_ID_FIELDS = (
    "Id", "AccountId", "OwnerId", "ContractId", "SyncedQuoteId", "OpportunityId", "QuoteId",
    "OrderId", "Product2Id", "blng__Order__c", "blng__Invoice__c", "OriginalOrderId",
)  # fmt: skip
_TABLES: tuple[SourceTable, ...] = (
    SourceTable(
        "Opportunity",
        ("Id", "AccountId", "OwnerId", "StageName", "Amount", "CreatedDate"),
        key="Id",
        times=(TimeField("CreatedDate", _ISO), TimeField("CloseDate", "date", required=False)),
        optional_columns=("LeadSource", "Type", "ContractId", "SyncedQuoteId", "CloseDate"),
        numbers=("Amount",),
    ),
    SourceTable(
        "OpportunityHistory",
        ("Id", "OpportunityId", "StageName", "CreatedDate"),
        key="Id",
        optional=True,
        times=(TimeField("CreatedDate", _ISO),),
    ),
    SourceTable(
        "OpportunityFieldHistory",
        ("Id", "OpportunityId", "Field", "OldValue", "NewValue", "CreatedDate"),
        key="Id",
        optional=True,
        times=(TimeField("CreatedDate", _ISO),),
    ),
    SourceTable(
        "OpportunityStage",
        ("MasterLabel", "IsClosed", "IsWon"),
        key="MasterLabel",
        optional_columns=("ApiName",),
    ),
    SourceTable(
        "Account",
        ("Id", "Name"),
        key="Id",
        optional=True,
        optional_columns=("BillingCountry", "BillingState"),
    ),
    SourceTable(
        "User", ("Id", "Name"), key="Id", optional=True, optional_columns=("Division", "Country")
    ),
    SourceTable(
        "Quote",
        ("Id", "OpportunityId", "Status", "CreatedDate"),
        key="Id",
        optional=True,
        times=(TimeField("CreatedDate", _ISO), TimeField("LastModifiedDate", _ISO, required=False)),
        optional_columns=("Discount", "IsSyncing", "LastModifiedDate"),
        numbers=("Discount",),
    ),
    SourceTable(
        "QuoteHistory",
        ("Id", "QuoteId", "Field", "NewValue", "CreatedDate"),
        key="Id",
        optional=True,
        times=(TimeField("CreatedDate", _ISO),),
    ),
    SourceTable(
        "Contract",
        ("Id", "Status", "ActivatedDate"),
        key="Id",
        optional=True,
        times=(TimeField("ActivatedDate", _ISO, required=False),),
    ),
    SourceTable(
        "Order",
        ("Id", "OpportunityId", "CreatedDate"),
        key="Id",
        optional=True,
        times=(TimeField("CreatedDate", _ISO),),
        optional_columns=("Status", "OriginalOrderId", "IsReductionOrder"),
    ),
    SourceTable(
        "OrderHistory",
        ("Id", "OrderId", "Field", "NewValue", "CreatedDate"),
        key="Id",
        optional=True,
        times=(TimeField("CreatedDate", _ISO),),
    ),
    SourceTable(
        "OpportunityLineItem",
        ("Id", "OpportunityId", "Product2Id", "TotalPrice"),
        key="Id",
        optional=True,
        optional_columns=("Discount",),
    ),
    SourceTable("Product2", ("Id", "Family"), key="Id", optional=True),
    SourceTable(
        "blng__Invoice__c",
        ("Id", "blng__Order__c", "blng__InvoiceDate__c"),
        key="Id",
        optional=True,
        times=(
            TimeField("blng__InvoiceDate__c", "date"),
            TimeField("CreatedDate", _ISO, required=False),
        ),
        optional_columns=("blng__InvoiceStatus__c", "CreatedDate"),
    ),
    SourceTable(
        "blng__Payment__c",
        ("Id", "blng__Invoice__c", "blng__PaymentDate__c"),
        key="Id",
        optional=True,
        times=(TimeField("blng__PaymentDate__c", "date"),),
        optional_columns=("blng__Status__c", "blng__Amount__c"),
        numbers=("blng__Amount__c",),
    ),
)
TABLES = tuple(
    replace(
        t, salesforce_ids=tuple(c for c in (*t.columns, *t.optional_columns) if c in _ID_FIELDS)
    )
    for t in _TABLES
)


def _status_rule(
    activity: str, table: str, parent: str, statuses: list[str], case: str, joins: str
) -> EventRule:
    """First history row that sets a record's Status to one of `statuses` (one event per record)."""
    return EventRule(
        activity,
        table,
        "CreatedDate",
        case,
        "Id",
        joins,
        f"t.Field = 'Status' AND t.NewValue IN {lits(statuses)}",
        once_per=f"t.{parent}",
    )


# Without OpportunityHistory: StageName changes tracked in OpportunityFieldHistory, preceded by
# the stage the opportunity was created with (the first change's OldValue, at CreatedDate).
_FIELD_HISTORY = """
    SELECT * FROM (
      SELECT OpportunityId AS SalesOpportunityId, "CreatedDate@utc" AS EventTime, Id AS _tie,
             NewValue AS stage, {@OpportunityFieldHistory} || ':Id=' || Id AS source_record,
             {@OpportunityFieldHistory} AS _file, _row, 'NewValue' AS _column
      FROM {OpportunityFieldHistory} WHERE Field = 'StageName'
      UNION ALL
      SELECT f.OpportunityId, o."CreatedDate@utc", '', f.OldValue,
             {@Opportunity} || ':Id=' || o.Id, {@OpportunityFieldHistory}, f._row, 'OldValue'
      FROM {OpportunityFieldHistory} f JOIN {Opportunity} o ON o.Id = f.OpportunityId
      WHERE f.Field = 'StageName'
      QUALIFY row_number() OVER (PARTITION BY f.OpportunityId ORDER BY f."CreatedDate@utc", f.Id) = 1
    ) WHERE NOT EXISTS (SELECT 1 FROM {OpportunityHistory})"""

# An opportunity without any history row: its own StageName, closed at CloseDate (a date; not
# before its creation). Only a closed stage becomes a row (see StageHistory.current).
_CURRENT = """
    SELECT Id AS SalesOpportunityId, greatest("CloseDate@utc", "CreatedDate@utc") AS EventTime,
           Id AS _tie, StageName AS stage, {@Opportunity} || ':Id=' || Id AS source_record,
           {@Opportunity} AS _file, _row, 'StageName' AS _column
    FROM {Opportunity} WHERE "CloseDate@utc" IS NOT NULL"""


def mapping(cfg: Settings, crm_present: bool) -> Mapping:
    """The Salesforce mapping under a configuration."""
    q = "JOIN {Quote} q ON q.Id = t.QuoteId"
    no_history = (
        "t.Id NOT IN (SELECT QuoteId FROM {QuoteHistory})"  # else QuoteHistory gives the times
    )
    invoice_ok = f"coalesce(t.blng__InvoiceStatus__c, '') NOT IN {lits(cfg['invoice_cancelled'])}"
    events = (
        EventRule("Opportunity Created", "Opportunity", "CreatedDate", "t.Id", "Id"),
        _status_rule(
            "Quote Issued", "QuoteHistory", "QuoteId", cfg["quote_issued"], "q.OpportunityId", q
        ),
        _status_rule(
            "Quote Accepted", "QuoteHistory", "QuoteId", cfg["quote_accepted"], "q.OpportunityId", q
        ),
        EventRule(
            "Quote Issued",
            "Quote",
            "CreatedDate",
            "t.OpportunityId",
            "Id",
            "",
            f"t.Status IN {lits(cfg['quote_issued'])} AND {no_history}",
        ),
        EventRule(
            "Quote Accepted",
            "Quote",
            "LastModifiedDate",
            "t.OpportunityId",
            "Id",
            "",
            f"t.Status IN {lits(cfg['quote_accepted'])} AND {no_history}",
        ),
        EventRule(
            "Contract Signed",
            "Contract",
            "ActivatedDate",
            "o.Id",
            "Id",
            "JOIN {Opportunity} o ON o.ContractId = t.Id",
            f"t.Status IN {lits(cfg['contract_signed'])}",
        ),
        EventRule(  # an amendment or reduction order revises an order: no second one
            "Sales Order Created",
            "Order",
            "CreatedDate",
            "t.OpportunityId",
            "Id",
            where="coalesce(trim(t.OriginalOrderId), '') IN ('', '000000000000000AAA') "
            "AND coalesce(lower(trim(t.IsReductionOrder)), '') NOT IN ('true', '1')",
        ),
        _status_rule(
            "Order Fulfilled",
            "OrderHistory",
            "OrderId",
            cfg["order_fulfilled"],
            "o.OpportunityId",
            "JOIN {Order} o ON o.Id = t.OrderId",
        ),
        EventRule(
            "Invoice Generated",
            "blng__Invoice__c",
            str(cfg["invoice_time"]),
            "o.OpportunityId",
            "Id",
            "JOIN {Order} o ON o.Id = t.blng__Order__c",
            invoice_ok,
            fallback_time="blng__InvoiceDate__c",
        ),
        EventRule(
            "Payment Received",
            "blng__Payment__c",
            "blng__PaymentDate__c",
            "o.OpportunityId",
            "Id",
            "JOIN {blng__Invoice__c} i ON i.Id = t.blng__Invoice__c "
            "JOIN {Order} o ON o.Id = i.blng__Order__c",
            f"coalesce(t.blng__Status__c, {lit(cfg['payment_received'][0])}) "
            f"IN {lits(cfg['payment_received'])} AND "
            "coalesce(TRY_CAST(t.blng__Amount__c AS DOUBLE), 0) >= 0 AND "  # no reversal row
            + invoice_ok.replace("t.", "i."),
        ),
    )
    milestones = cfg["stages"]
    ms = " ".join(f"WHEN {lit(k)} THEN {lit(v)}" for k, v in milestones.items())
    classes = (
        "SELECT DISTINCT stage, CASE stage " + (ms or "WHEN NULL THEN NULL") + " END AS milestone, "
        "TRY_CAST(lower(IsClosed) AS BOOLEAN) AS is_closed, "
        "TRY_CAST(lower(IsWon) AS BOOLEAN) AS is_won "
        "FROM (SELECT MasterLabel AS stage, * FROM {OpportunityStage} UNION ALL BY NAME "
        "SELECT ApiName AS stage, * FROM {OpportunityStage} WHERE ApiName IS NOT NULL)"
    )
    rows = (
        history_rows("OpportunityHistory", "OpportunityId", "CreatedDate", "StageName", "Id")
        + f" UNION ALL {_FIELD_HISTORY}"
    )
    stages = StageHistory(
        rows,
        ("OpportunityHistory", "OpportunityFieldHistory"),
        classes,
        "OpportunityStage (MasterLabel/ApiName)",
        _CURRENT,
        milestones,
    )
    terms = str(cfg["payment_terms_field"])
    tables = tuple(
        replace(t, optional_columns=(*t.optional_columns, terms))
        if t.name == "Order" and terms
        else t
        for t in TABLES
    )
    return Mapping(
        "salesforce",
        tables,
        events,
        _cases_sql(cfg),
        stages,
        prepare={TABLE: region_lookup_sql(cfg["regions"])},
        case_table=("Opportunity", "Id"),
    )


def _cases_sql(cfg: Settings) -> str:
    """Case attributes: Opportunity fields, Account/User names, quote discount, product family."""
    table, _, field = str(cfg["region_field"]).partition(".")
    alias = {"Account": "a", "User": "u"}.get(table, "o")
    join, region, country = region_join(f"{alias}.{quote(field)}")
    terms = (
        f"nullif({quote(str(cfg['payment_terms_field']))}, '')"
        if cfg["payment_terms_field"]
        else "NULL"
    )
    return f"""
    SELECT o.Id AS SalesOpportunityId, TRY_CAST(o.Amount AS DOUBLE) AS OpportunityAmount,
      o.StageName AS SalesStage,
           a.Name AS CustomerName, u.Name AS OpportunityOwner, {region} AS SalesRegion,
           {country} AS _country,
           nullif(o.LeadSource, '') AS LeadSource, nullif(o.Type, '') AS OpportunityType,
           d.discount AS DiscountPercentage, p.Family AS ProductCategory, pt.terms AS PaymentTerms
    FROM {{Opportunity}} o
    LEFT JOIN {{Account}} a ON a.Id = o.AccountId
    LEFT JOIN {{User}} u ON u.Id = o.OwnerId
    {join}
    LEFT JOIN (SELECT OpportunityId, TRY_CAST(Discount AS DOUBLE) / 100 AS discount FROM {{Quote}}
               QUALIFY row_number() OVER (PARTITION BY OpportunityId
                 ORDER BY (lower(IsSyncing) = 'true') DESC NULLS LAST, "CreatedDate@utc" DESC,
                   _row DESC) = 1
              ) d ON d.OpportunityId = o.Id
    LEFT JOIN (SELECT li.OpportunityId, pr.Family FROM {{OpportunityLineItem}} li
               JOIN {{Product2}} pr ON pr.Id = li.Product2Id
               QUALIFY row_number() OVER (PARTITION BY li.OpportunityId
                 ORDER BY TRY_CAST(li.TotalPrice AS DOUBLE) DESC NULLS LAST, li._row) = 1
              ) p ON p.OpportunityId = o.Id
    LEFT JOIN (SELECT OpportunityId, {terms} AS terms FROM {{Order}}
               QUALIFY row_number() OVER (PARTITION BY OpportunityId
                                          ORDER BY "CreatedDate@utc", _row) = 1
              ) pt ON pt.OpportunityId = o.Id"""
