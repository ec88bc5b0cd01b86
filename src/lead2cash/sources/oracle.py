"""Oracle CX Sales (REST JSON) with Fusion Order Management and Receivables (BICC table extracts).

The stage history is the union of `MOO_OPTY_STG_SNAPSHOTS` (entries into a sales stage) and
`MOO_OPTY_SNAPSHOTS` (status snapshots: `STATUS_CATEGORY` WON / LOST closes the deal, OPEN
after a close reopens it at `CURR_STG_ID`, other saves keep the stage). Orders reach the
opportunity through their CPQ quote (`DOO_HEADERS_ALL.SOURCE_ORDER_NUMBER` =
`ZCA_SALES_ORDER_HEADERS.ORDER_HEADER_NUMBER`), invoices through the order number in
`RA_CUSTOMER_TRX_ALL.INTERFACE_HEADER_ATTRIBUTE1`, payments through the applied transaction.

REST pages may nest a child collection as an object with `items` (framework v3+) or as a plain
array; translated tables (`_TL`, `_VL`) give the configured `language` (else the base
language, `SOURCE_LANG`); rows with a soft-delete flag set (`DELETE_FLAG` / `DeletedFlag` =
Y) are left out.
"""

from __future__ import annotations

from dataclasses import replace

from ..object_model import ObjectType, Qualifier, ValueType
from .config import Setting, Settings, status_settings
from .defaults import DEFAULTS
from .engine import EventRule, Mapping, StageHistory, lit, lits
from .objects import Document, ObjectRef, customers, touches
from .regions import TABLE, region_join, region_lookup_sql, regions_setting
from .spec import SourceTable, TimeField, flag_sql
from .sql import id_order

__all__ = ["IS_CRM", "SETTINGS", "mapping"]

IS_CRM = True  # a CRM: its opportunities are the cases

_D = DEFAULTS["oracle-cx"]

_STATUS_DOCS = {
    "quote_accepted": "ZCA_SALES_ORDER_HEADERS.STATUS of accepted CPQ quotes "
    "(Quote Accepted at PLACED_ON_DATE)",
    "line_cancelled": "DOO_FULFILL_LINES_ALL.STATUS_CODE of cancelled lines; any other line with "
    "an ACTUAL_SHIP_DATE is Order Fulfilled, whatever status it moved on to (AWAIT_BILLING, ...)",
    "invoice_cancelled": "RA_CUSTOMER_TRX_ALL.STATUS_TRX of voided invoices (not counted)",
    "payment_received": "AR_RECEIVABLE_APPLICATIONS_ALL.STATUS of applied receipts "
    "(Payment Received; reversed applications and their negative reversal rows never count)",
    "receipt_reversed": "AR_CASH_RECEIPTS_ALL.STATUS of reversed or bounced receipts: their "
    "applications are no payment",
    "reopened": "MOO_OPTY_SNAPSHOTS.STATUS_CATEGORY that, after WON / LOST, reopens the deal",
}

SETTINGS: tuple[Setting, ...] = (
    *status_settings(_D.status, _STATUS_DOCS),
    Setting(
        "closed",
        {s.name: "won" if s.won else "lost" for s in _D.stages if s.closed},
        "MOO_OPTY_SNAPSHOTS.STATUS_CATEGORY -> won / lost",
    ),
    Setting(
        "stages",
        {s.name: s.activity for s in _D.stages if s.activity},
        "sales stage NAME (MOO_STG_VL) -> milestone activity its first entry means",
    ),
    regions_setting("accounts.Country"),
    Setting(
        "language",
        "US",
        "LANGUAGE of translated rows read (RA_TERMS_TL, MOO_STG_VL); a row missing in it is read "
        "in the base language (SOURCE_LANG)",
    ),
)

_ISO = "iso"
_C = (TimeField("CREATION_DATE", _ISO),)
_TABLES: tuple[SourceTable, ...] = (
    SourceTable(
        "opportunities",
        ("OptyId", "OptyCreationDate"),
        key="OptyId",
        times=(
            TimeField("OptyCreationDate", _ISO),
            TimeField("EffectiveDate", "date", required=False),
        ),
        optional_columns=(
            "EffectiveDate",
            "OptyNumber",
            "StatusCode",
            "SalesStage",
            "Revenue",
            "TargetPartyId",
            "TargetPartyName",
            "OwnerResourcePartyId",
            "ChildRevenue",
        ),
        numbers=("Revenue",),
    ),
    SourceTable(
        "accounts",
        ("PartyId", "OrganizationName"),
        key="PartyId",
        optional=True,
        optional_columns=("Country",),
    ),
    SourceTable("resources", ("PartyId", "PartyName"), key="PartyId", optional=True),
    SourceTable("MOO_STG_VL", ("STG_ID", "NAME"), key="STG_ID", language="LANGUAGE"),
    SourceTable(
        "MOO_OPTY_STG_SNAPSHOTS",
        ("OPTY_STG_SNAPSHOT_ID", "OPTY_ID", "STG_ID", "CREATION_DATE"),
        key="OPTY_STG_SNAPSHOT_ID",
        optional=True,
        times=_C,
    ),
    SourceTable(
        "MOO_OPTY_SNAPSHOTS",
        ("OPTY_SNAPSHOT_ID", "OPTY_ID", "CURR_STG_ID", "STATUS_CATEGORY", "CREATION_DATE"),
        key="OPTY_SNAPSHOT_ID",
        optional=True,
        times=_C,
    ),
    SourceTable(
        "ZCA_SALES_ORDER_HEADERS",
        ("ORDER_HEADER_ID", "ORDER_HEADER_NUMBER", "OPTY_ID", "STATUS", "CREATION_DATE"),
        key="ORDER_HEADER_ID",
        optional=True,
        times=(*_C, TimeField("PLACED_ON_DATE", _ISO, required=False)),
        optional_columns=("PLACED_ON_DATE", "VERSION_NUMBER", "ACTIVE_VERSION_FLAG"),
    ),
    SourceTable(
        "DOO_HEADERS_ALL",
        ("HEADER_ID", "ORDER_NUMBER", "SOURCE_ORDER_NUMBER", "CREATION_DATE"),
        key="HEADER_ID",
        optional=True,
        times=_C,
        optional_columns=("PAYMENT_TERM_ID", "SOURCE_ORDER_ID"),
    ),
    SourceTable(
        "DOO_FULFILL_LINES_ALL",
        ("FULFILL_LINE_ID", "HEADER_ID", "STATUS_CODE", "ACTUAL_SHIP_DATE"),
        key="FULFILL_LINE_ID",
        optional=True,
        times=(TimeField("ACTUAL_SHIP_DATE", _ISO, required=False),),
    ),
    SourceTable(
        "RA_CUSTOMER_TRX_ALL",
        ("CUSTOMER_TRX_ID", "TRX_DATE", "INTERFACE_HEADER_ATTRIBUTE1"),
        key="CUSTOMER_TRX_ID",
        optional=True,
        times=(TimeField("TRX_DATE", "date"),),
        optional_columns=("STATUS_TRX",),
    ),
    SourceTable(
        "AR_RECEIVABLE_APPLICATIONS_ALL",
        ("RECEIVABLE_APPLICATION_ID", "APPLIED_CUSTOMER_TRX_ID", "STATUS", "APPLY_DATE"),
        key="RECEIVABLE_APPLICATION_ID",
        optional=True,
        times=(TimeField("APPLY_DATE", "date"),),
        optional_columns=("CASH_RECEIPT_ID", "AMOUNT_APPLIED", "REVERSAL_GL_DATE"),
        numbers=("AMOUNT_APPLIED",),
    ),
    SourceTable(
        "AR_CASH_RECEIPTS_ALL",
        ("CASH_RECEIPT_ID", "STATUS"),
        key="CASH_RECEIPT_ID",
        optional=True,
        optional_columns=("REVERSAL_DATE",),
    ),
    SourceTable(
        "RA_TERMS_TL", ("TERM_ID", "NAME"), key="TERM_ID", optional=True, language="LANGUAGE"
    ),
)
# soft-delete flags (Y / true) where a table or REST resource has one; last-update stamps
_DELETED = ("DELETE_FLAG", "DELETED_FLAG", "DeleteFlag", "DeletedFlag")
TABLES = tuple(
    replace(
        t,
        deleted=tuple((c, None) for c in _DELETED),
        stamps=tuple(
            TimeField(c, _ISO) for c in ("LAST_UPDATE_DATE", "LastUpdateDate", "OptyLastUpdateDate")
        ),
    )
    for t in _TABLES
)

# One opportunity per CPQ quote number (its versions share the number: the active, else the
# newest version counts), per order header, and per order number (change versions of one order
# share it: the first version counts), so revisions never multiply the events downstream.
_ORDERS = ("DOO_HEADERS_ALL", "ZCA_SALES_ORDER_HEADERS")  # the tables behind these helpers
_PREPARE = {
    "quote_case": f"""
    SELECT ORDER_HEADER_NUMBER, OPTY_ID FROM {{ZCA_SALES_ORDER_HEADERS}}
    QUALIFY row_number() OVER (PARTITION BY ORDER_HEADER_NUMBER
      ORDER BY {flag_sql("ACTIVE_VERSION_FLAG")} DESC NULLS LAST,
               TRY_CAST(VERSION_NUMBER AS INTEGER) DESC NULLS LAST,
               {id_order("ORDER_HEADER_ID")} DESC) = 1""",
    "header_case": """
    SELECT h.HEADER_ID, h.ORDER_NUMBER, h."CREATION_DATE@utc" AS created, h._row, q.OPTY_ID
    FROM {DOO_HEADERS_ALL} h JOIN {quote_case} q ON q.ORDER_HEADER_NUMBER = h.SOURCE_ORDER_NUMBER""",
    "order_case": f"""
    SELECT ORDER_NUMBER, first(OPTY_ID ORDER BY created, {id_order("HEADER_ID")}) AS OPTY_ID
    FROM {{header_case}} GROUP BY ORDER_NUMBER""",
}


def _history(cfg: Settings) -> str:
    """Stage entries and status snapshots as one stage history (closes as WON / LOST)."""
    closed = lits(list(cfg["closed"]))
    return f"""
    SELECT s.OPTY_ID AS SalesOpportunityId, s."CREATION_DATE@utc" AS EventTime,
      s.OPTY_STG_SNAPSHOT_ID AS _tie,
           {{@MOO_OPTY_STG_SNAPSHOTS}} || ':OPTY_STG_SNAPSHOT_ID=' || s.OPTY_STG_SNAPSHOT_ID
             AS source_record,
           {{@MOO_OPTY_STG_SNAPSHOTS}} AS _file, s._row, 'STG_ID' AS _column,
             coalesce(v.NAME, s.STG_ID) AS stage
    FROM {{MOO_OPTY_STG_SNAPSHOTS}} s LEFT JOIN {{MOO_STG_VL}} v ON v.STG_ID = s.STG_ID
    UNION ALL
    SELECT s.OPTY_ID, s."CREATION_DATE@utc", s.OPTY_SNAPSHOT_ID,
           {{@MOO_OPTY_SNAPSHOTS}} || ':OPTY_SNAPSHOT_ID=' || s.OPTY_SNAPSHOT_ID,
             {{@MOO_OPTY_SNAPSHOTS}}, s._row,
           CASE WHEN s.STATUS_CATEGORY IN {closed} THEN 'STATUS_CATEGORY' ELSE 'CURR_STG_ID' END,
           CASE WHEN s.STATUS_CATEGORY IN {closed} THEN s.STATUS_CATEGORY
             ELSE coalesce(v.NAME, s.CURR_STG_ID) END
    FROM {{MOO_OPTY_SNAPSHOTS}} s LEFT JOIN {{MOO_STG_VL}} v ON v.STG_ID = s.CURR_STG_ID"""


def _current(cfg: Settings) -> str:
    """An opportunity without snapshots: closed (StatusCode WON / LOST) at its EffectiveDate."""
    return f"""
    SELECT CAST(OptyId AS VARCHAR) AS SalesOpportunityId,
           greatest("EffectiveDate@utc", "OptyCreationDate@utc") AS EventTime, OptyId AS _tie,
           StatusCode AS stage, {{@opportunities}} || ':OptyId=' || OptyId AS source_record,
           {{@opportunities}} AS _file, _row, 'StatusCode' AS _column
    FROM {{opportunities}} WHERE StatusCode IN {lits(list(cfg["closed"]))}
      AND "EffectiveDate@utc" IS NOT NULL"""


def mapping(cfg: Settings, crm_present: bool) -> Mapping:
    """The Oracle CX Sales + Fusion mapping under a configuration."""
    order = "JOIN {order_case} oc ON oc.ORDER_NUMBER = t.INTERFACE_HEADER_ATTRIBUTE1"
    header = "JOIN {header_case} hc ON hc.HEADER_ID = t.HEADER_ID"
    reversed_receipts = (
        "SELECT CASH_RECEIPT_ID FROM {AR_CASH_RECEIPTS_ALL} WHERE CASH_RECEIPT_ID IS NOT NULL "
        f"AND (STATUS IN {lits(cfg['receipt_reversed'])} "
        "OR nullif(trim(REVERSAL_DATE), '') IS NOT NULL)"
    )
    applied = (
        f"t.STATUS IN {lits(cfg['payment_received'])} "
        "AND nullif(trim(t.REVERSAL_GL_DATE), '') IS NULL "  # reversed, or the reversal row
        "AND coalesce(TRY_CAST(t.AMOUNT_APPLIED AS DOUBLE), 0) >= 0 "
        f"AND coalesce(t.CASH_RECEIPT_ID, '') NOT IN ({reversed_receipts})"
    )
    void = f"coalesce(t.STATUS_TRX, '') NOT IN {lits(cfg['invoice_cancelled'])}"
    events = (
        EventRule("Opportunity Created", "opportunities", "OptyCreationDate", "t.OptyId", "OptyId"),
        EventRule(
            "Quote Issued",
            "ZCA_SALES_ORDER_HEADERS",
            "CREATION_DATE",
            "t.OPTY_ID",
            "ORDER_HEADER_ID",
            objects=touches("Quote Issued", "t.ORDER_HEADER_ID"),
        ),
        EventRule(
            "Quote Accepted",
            "ZCA_SALES_ORDER_HEADERS",
            "PLACED_ON_DATE",
            "t.OPTY_ID",
            "ORDER_HEADER_ID",
            where=f"t.STATUS IN {lits(cfg['quote_accepted'])}",
            objects=touches("Quote Accepted", "t.ORDER_HEADER_ID"),
        ),
        EventRule(
            "Sales Order Created",
            "DOO_HEADERS_ALL",
            "CREATION_DATE",
            "hc.OPTY_ID",
            "HEADER_ID",
            header,
            once_per="t.ORDER_NUMBER",
            needs=("ZCA_SALES_ORDER_HEADERS",),
            objects=touches("Sales Order Created", "t.ORDER_NUMBER"),
        ),
        EventRule(
            "Order Fulfilled",
            "DOO_FULFILL_LINES_ALL",
            "ACTUAL_SHIP_DATE",
            "hc.OPTY_ID",
            "FULFILL_LINE_ID",
            header,
            f"coalesce(t.STATUS_CODE, '') NOT IN {lits(cfg['line_cancelled'])}",
            needs=_ORDERS,
            objects=touches("Order Fulfilled", "hc.ORDER_NUMBER"),
        ),
        EventRule(
            "Invoice Generated",
            "RA_CUSTOMER_TRX_ALL",
            "TRX_DATE",
            "oc.OPTY_ID",
            "CUSTOMER_TRX_ID",
            order,
            void,
            needs=_ORDERS,
            objects=touches("Invoice Generated", "t.CUSTOMER_TRX_ID", "t.INTERFACE_HEADER_ATTRIBUTE1"),
        ),
        EventRule(
            "Payment Received",
            "AR_RECEIVABLE_APPLICATIONS_ALL",
            "APPLY_DATE",
            "oc.OPTY_ID",
            "RECEIVABLE_APPLICATION_ID",
            "JOIN {RA_CUSTOMER_TRX_ALL} i ON i.CUSTOMER_TRX_ID = t.APPLIED_CUSTOMER_TRX_ID "
            + order.replace("t.", "i."),
            f"{applied} AND " + void.replace("t.", "i."),
            needs=_ORDERS,
            objects=touches("Payment Received", "t.CASH_RECEIPT_ID", "t.APPLIED_CUSTOMER_TRX_ID"),
        ),
    )
    closed = cfg["closed"]
    classes = (
        f"SELECT NAME AS stage, CASE NAME {_whens(cfg['stages'])} END AS milestone, "
        f"FALSE AS is_closed, "
        f"FALSE AS is_won FROM {{MOO_STG_VL}} UNION ALL SELECT * FROM (VALUES "
        + ", ".join(f"({lit(k)}, NULL, TRUE, {lit(v == 'won')})" for k, v in closed.items())
        + ") AS v(stage, milestone, is_closed, is_won)"
    )
    stages = StageHistory(
        _history(cfg),
        ("MOO_OPTY_STG_SNAPSHOTS", "MOO_OPTY_SNAPSHOTS"),
        classes,
        "MOO_STG_VL (NAME) and the closed setting of [oracle-cx]",
        _current(cfg),
        cfg["stages"],
    )
    language = (str(cfg["language"]).strip(),)
    tables = tuple(replace(t, languages=language) if t.language else t for t in TABLES)
    return Mapping(
        "oracle-cx",
        tables,
        events,
        _cases_sql(cfg),
        stages,
        prepare={**_PREPARE, TABLE: region_lookup_sql(cfg["regions"])},
        case_table=("opportunities", "OptyId"),
        documents=_documents(applied),
    )


def _documents(applied: str) -> tuple[Document, ...]:
    """Oracle's documents as objects (Fusion ids are unique across tables): accounts, CPQ quote
    versions, DOO orders (by ORDER_NUMBER, over change versions), AR transactions, receipts."""
    T, Q, V = ObjectType, Qualifier, ValueType
    return (
        *customers("accounts", "PartyId", "OrganizationName", "opportunities", "OptyId",
                   "TargetPartyId"),
        Document(T.QUOTE, "ZCA_SALES_ORDER_HEADERS", "t.ORDER_HEADER_ID",
                 links=(ObjectRef(T.OPPORTUNITY, "t.OPTY_ID", Q.QUOTE_OF),),
                 attributes=(("STATUS", "t.STATUS", V.STRING),)),
        Document(T.SALES_ORDER, "DOO_HEADERS_ALL", "t.ORDER_NUMBER",
                 joins="LEFT JOIN {header_case} hc ON hc.HEADER_ID = t.HEADER_ID",
                 links=(ObjectRef(T.OPPORTUNITY, "hc.OPTY_ID", Q.ORDER_OF),
                        ObjectRef(T.QUOTE, "t.SOURCE_ORDER_ID", Q.ORDER_OF))),
        Document(T.INVOICE, "RA_CUSTOMER_TRX_ALL", "t.CUSTOMER_TRX_ID",
                 links=(ObjectRef(T.SALES_ORDER, "t.INTERFACE_HEADER_ATTRIBUTE1", Q.INVOICE_OF),),
                 attributes=(("STATUS_TRX", "t.STATUS_TRX", V.STRING),)),
        Document(T.PAYMENT, "AR_CASH_RECEIPTS_ALL", "t.CASH_RECEIPT_ID",
                 attributes=(("STATUS", "t.STATUS", V.STRING),)),
        # a receipt clears each invoice it is applied to (one receipt may pay several)
        Document(T.PAYMENT, "AR_RECEIVABLE_APPLICATIONS_ALL", "t.CASH_RECEIPT_ID", where=applied,
                 links=(ObjectRef(T.INVOICE, "t.APPLIED_CUSTOMER_TRX_ID", Q.CLEARS),)),
    )


def _whens(values: dict[str, str]) -> str:
    """CASE branches mapping keys to values (a never-true branch when empty)."""
    return (
        " ".join(f"WHEN {lit(k)} THEN {lit(v)}" for k, v in values.items()) or "WHEN NULL THEN NULL"
    )


# the JSON structure of the ChildRevenue lines read (braces doubled: the SQL is a template)
_REVENUE_LINES = '[{{"PrimaryFlag": "BOOLEAN", "ProdGroupName": "VARCHAR"}}]'


def _cases_sql(cfg: Settings) -> str:
    """Case attributes: revenue, customer, owner, country, primary revenue line, order terms."""
    join, region, country = region_join("a.Country")
    return f"""
    SELECT o.OptyId AS SalesOpportunityId, TRY_CAST(o.Revenue AS DOUBLE) AS OpportunityAmount,
           coalesce(o.TargetPartyName, a.OrganizationName) AS CustomerName,
             r.PartyName AS OpportunityOwner,
           {region} AS SalesRegion, {country} AS _country,
           CASE WHEN o.StatusCode IN {lits(list(cfg["closed"]))} THEN o.StatusCode
             ELSE o.SalesStage END AS SalesStage, t.NAME AS PaymentTerms,
           list_filter(from_json(o.ChildRevenue, '{_REVENUE_LINES}'),
                       lambda x: x.PrimaryFlag)[1].ProdGroupName AS ProductCategory
    FROM {{opportunities}} o
    LEFT JOIN {{accounts}} a ON a.PartyId = o.TargetPartyId
    {join}
    LEFT JOIN {{resources}} r ON r.PartyId = o.OwnerResourcePartyId
    LEFT JOIN (SELECT hc.OPTY_ID, h.PAYMENT_TERM_ID FROM {{DOO_HEADERS_ALL}} h
               JOIN {{header_case}} hc ON hc.HEADER_ID = h.HEADER_ID
               QUALIFY row_number() OVER (PARTITION BY hc.OPTY_ID
                                          ORDER BY h."CREATION_DATE@utc", h._row) = 1
              ) ot ON ot.OPTY_ID = o.OptyId
    LEFT JOIN {{RA_TERMS_TL}} t ON t.TERM_ID = ot.PAYMENT_TERM_ID"""
