"""Salesforce Sales Cloud (+ Salesforce Billing): which object gives which activity and attribute.

Stages are classified through `OpportunityStage.IsClosed/IsWon` (never by name); the weekly
Data Export has no OpportunityStage, so then each stage's flags come from the opportunities
in it (`Opportunity.IsClosed/IsWon`). The milestone each stage marks comes from the
configuration. Every object is read as Data Loader, Data Export, Workbench and the Bulk API
write it: rows with `IsDeleted` set ("Export All") are left out, booleans may be `0`/`1`,
empty references `000000000000000AAA`.
"""

from __future__ import annotations

from dataclasses import replace

from ..store import quote
from .config import Setting, Settings, status_settings
from .defaults import DEFAULTS
from ..object_model import ObjectType, Qualifier, ValueType
from .engine import EventRule, Mapping, StageHistory, history_rows, lit, lits
from .objects import AttributeHistory, Document, ObjectRef, customers, touches
from .regions import TABLE, region_join, region_lookup_sql, regions_setting
from .spec import SourceTable, TimeField, flag_sql

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
        optional_columns=(
            "LeadSource",
            "Type",
            "ContractId",
            "SyncedQuoteId",
            "CloseDate",
            "IsClosed",
            "IsWon",
        ),
        numbers=("Amount",),
    ),
    SourceTable(
        "OpportunityHistory",
        ("Id", "OpportunityId", "StageName", "CreatedDate"),
        key="Id",
        optional=True,
        times=(TimeField("CreatedDate", _ISO),),
        optional_columns=("Amount", "Probability"),
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
        optional=True,
        optional_columns=("ApiName",),
        absent_note="OpportunityStage absent: each stage's closed / won flags derived from "
        "Opportunity.IsClosed / IsWon of the opportunities in it (stages only in the history: "
        "open)",
    ),
    SourceTable(
        "Account",
        ("Id", "Name"),
        key="Id",
        optional=True,
        optional_columns=("BillingCountry", "BillingState"),
    ),
    SourceTable(  # Data Export: FirstName and LastName, no compound Name
        "User",
        ("Id",),
        key="Id",
        optional=True,
        optional_columns=("Name", "FirstName", "LastName", "Division", "Country"),
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
# every object: soft-deleted rows of "Export All" (queryAll) exports; modification stamps
_DELETED: tuple[tuple[str, None], ...] = (("IsDeleted", None),)  # a boolean flag
_STAMPS = (TimeField("SystemModstamp", _ISO), TimeField("LastModifiedDate", _ISO))
TABLES = tuple(
    replace(
        t,
        salesforce_ids=tuple(c for c in (*t.columns, *t.optional_columns) if c in _ID_FIELDS),
        deleted=_DELETED,
        stamps=_STAMPS,
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
        objects=touches(activity, f"t.{parent}"),
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


_FLAGS = f"{flag_sql('IsClosed')} AS is_closed, {flag_sql('IsWon')} AS is_won"
# Closed / won per stage: OpportunityStage (MasterLabel and ApiName); without it (the weekly
# Data Export has none), from the opportunities in each stage; a stage seen only in the
# history (no opportunity is in it now, so none closed in it for good) is taken as open.
_STAGE_FLAGS = f"""
    SELECT MasterLabel AS stage, {_FLAGS} FROM {{OpportunityStage}}
    UNION ALL SELECT ApiName, {_FLAGS} FROM {{OpportunityStage}} WHERE ApiName IS NOT NULL
    UNION ALL SELECT * FROM (
      SELECT StageName, bool_or({flag_sql("IsClosed")}), bool_or({flag_sql("IsWon")})
      FROM {{Opportunity}} WHERE nullif(StageName, '') IS NOT NULL GROUP BY 1
      UNION ALL
      SELECT stage, FALSE, FALSE FROM (
        SELECT StageName AS stage FROM {{OpportunityHistory}}
        UNION SELECT NewValue FROM {{OpportunityFieldHistory}} WHERE Field = 'StageName'
        UNION SELECT OldValue FROM {{OpportunityFieldHistory}} WHERE Field = 'StageName'
      ) WHERE stage NOT IN (SELECT StageName FROM {{Opportunity}} WHERE StageName IS NOT NULL)
    ) WHERE NOT EXISTS (SELECT 1 FROM {{OpportunityStage}})"""


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
            objects=touches("Quote Issued", "t.Id"),
            activity="Quote Issued",
            table="Quote",
            time="CreatedDate",
            case="t.OpportunityId",
            id="Id",
            where=f"t.Status IN {lits(cfg['quote_issued'])} AND {no_history}",
        ),
        EventRule(
            objects=touches("Quote Accepted", "t.Id"),
            activity="Quote Accepted",
            table="Quote",
            time="LastModifiedDate",
            case="t.OpportunityId",
            id="Id",
            where=f"t.Status IN {lits(cfg['quote_accepted'])} AND {no_history}",
        ),
        EventRule(
            "Contract Signed",
            "Contract",
            "ActivatedDate",
            "o.Id",
            "Id",
            "JOIN {Opportunity} o ON o.ContractId = t.Id",
            f"t.Status IN {lits(cfg['contract_signed'])}",
            objects=touches("Contract Signed", "t.Id"),
        ),
        EventRule(  # an amendment or reduction order revises an order: no second one
            "Sales Order Created",
            "Order",
            "CreatedDate",
            "t.OpportunityId",
            "Id",
            where="nullif(trim(t.OriginalOrderId), '') IS NULL "  # the null id is read as NULL
            f"AND NOT coalesce({flag_sql('t.IsReductionOrder')}, FALSE)",
            objects=touches("Sales Order Created", "t.Id"),
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
            objects=touches("Invoice Generated", "t.Id", "t.blng__Order__c"),
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
            objects=touches("Payment Received", "t.Id", "t.blng__Invoice__c"),
        ),
    )
    milestones = cfg["stages"]
    ms = " ".join(f"WHEN {lit(k)} THEN {lit(v)}" for k, v in milestones.items())
    classes = (
        "SELECT DISTINCT stage, CASE stage " + (ms or "WHEN NULL THEN NULL") + " END AS milestone, "
        f"is_closed, is_won FROM ({_STAGE_FLAGS})"
    )
    rows = (
        history_rows("OpportunityHistory", "OpportunityId", "CreatedDate", "StageName", "Id")
        + f" UNION ALL {_FIELD_HISTORY}"
    )
    stages = StageHistory(
        rows,
        ("OpportunityHistory", "OpportunityFieldHistory"),
        classes,
        "OpportunityStage (MasterLabel/ApiName), or without it Opportunity.IsClosed / IsWon",
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
        documents=DOCUMENTS,
        object_history=HISTORY,
    )


_T, _Q, _V = ObjectType, Qualifier, ValueType
_ORIGINAL_ORDER = ("nullif(trim(t.OriginalOrderId), '') IS NULL "
                   f"AND NOT coalesce({flag_sql('t.IsReductionOrder')}, FALSE)")
DOCUMENTS: tuple[Document, ...] = (
    *customers("Account", "Id", "Name", "Opportunity", "Id", "AccountId"),
    Document(_T.QUOTE, "Quote", "t.Id", links=(ObjectRef(_T.OPPORTUNITY, "t.OpportunityId", _Q.QUOTE_OF),),
             attributes=(("Status", "t.Status", _V.STRING),
                         ("Discount", "TRY_CAST(t.Discount AS DOUBLE)", _V.FLOAT))),
    Document(_T.CONTRACT, "Contract", "t.Id", attributes=(("Status", "t.Status", _V.STRING),)),
    Document(_T.CONTRACT, "Opportunity", "t.ContractId",
             links=(ObjectRef(_T.OPPORTUNITY, "t.Id", _Q.CONTRACT_OF),)),
    # an amendment or reduction order revises its original order: not an order of its own
    Document(_T.SALES_ORDER, "Order", "t.Id", where=_ORIGINAL_ORDER,
             links=(ObjectRef(_T.OPPORTUNITY, "t.OpportunityId", _Q.ORDER_OF),
                    ObjectRef(_T.QUOTE, "o.SyncedQuoteId", _Q.ORDER_OF)),
             joins="LEFT JOIN {Opportunity} o ON o.Id = t.OpportunityId",
             attributes=(("Status", "t.Status", _V.STRING),)),
    Document(_T.INVOICE, "blng__Invoice__c", "t.Id",
             links=(ObjectRef(_T.SALES_ORDER, "t.blng__Order__c", _Q.INVOICE_OF),),
             attributes=(("Status", "t.blng__InvoiceStatus__c", _V.STRING),)),
    Document(_T.PAYMENT, "blng__Payment__c", "t.Id",
             links=(ObjectRef(_T.INVOICE, "t.blng__Invoice__c", _Q.CLEARS),),
             attributes=(("Status", "t.blng__Status__c", _V.STRING),
                         ("Amount", "TRY_CAST(t.blng__Amount__c AS DOUBLE)", _V.FLOAT))),
)
"""Salesforce's documents as objects: Account, Quote, Contract, Order, invoice and payment."""

_H = ("OpportunityHistory", "t.OpportunityId", 't."CreatedDate@utc"', "t.Id")
HISTORY: tuple[AttributeHistory, ...] = (
    AttributeHistory(_T.OPPORTUNITY, *_H, "OpportunityAmount", "TRY_CAST(t.Amount AS DOUBLE)", _V.FLOAT),
    AttributeHistory(_T.OPPORTUNITY, *_H, "Probability", "TRY_CAST(t.Probability AS DOUBLE)", _V.FLOAT),
)
"""The opportunity's amount and probability over time (OpportunityHistory; its stage is the
events' SalesStage)."""


# the owner's name: User.Name, else FirstName LastName (the Data Export has no compound Name)
_OWNER = (
    "coalesce(nullif(trim(u.Name), ''), nullif(trim(concat_ws(' ', nullif(trim(u.FirstName), ''),"
    " nullif(trim(u.LastName), ''))), ''))"
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
           a.Name AS CustomerName, {_OWNER} AS OpportunityOwner, {region} AS SalesRegion,
           {country} AS _country,
           nullif(o.LeadSource, '') AS LeadSource, nullif(o.Type, '') AS OpportunityType,
           d.discount AS DiscountPercentage, p.Family AS ProductCategory, pt.terms AS PaymentTerms
    FROM {{Opportunity}} o
    LEFT JOIN {{Account}} a ON a.Id = o.AccountId
    LEFT JOIN {{User}} u ON u.Id = o.OwnerId
    {join}
    LEFT JOIN (SELECT OpportunityId, TRY_CAST(Discount AS DOUBLE) / 100 AS discount FROM {{Quote}}
               QUALIFY row_number() OVER (PARTITION BY OpportunityId
                 ORDER BY {flag_sql("IsSyncing")} DESC NULLS LAST, "CreatedDate@utc" DESC,
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
