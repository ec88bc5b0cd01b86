"""Microsoft Dynamics 365 Sales (Dataverse): tables by logical name, as Synapse Link exports them.

Stage history comes from `audit` rows of the opportunity (the `changedata` JSON lists each
changed attribute with old and new value): a `salesstage` change enters a stage; a
`statecode` set back to open reopens the deal at its last open stage. Wins and losses are
`opportunityclose` activities. Dynamics Sales has no payment table: each audited change of an
invoice's `statecode` to Paid is a Payment Received.

Synapse Link writes each table as a folder of headerless CSV partitions named by its
`model.json`; in append-only mode every change is a new row: the newest `versionnumber` of a
record is read, and a record whose newest row has `IsDelete` set is left out.
"""

from __future__ import annotations

from ..object_model import ObjectType, Qualifier, ValueType
from .config import Setting, Settings, status_settings
from .defaults import DEFAULTS
from .engine import EventRule, Mapping, StageHistory, carried_stages, lit, lits, stage_classes
from .objects import Document, ObjectRef, customers, touches
from .regions import TABLE, region_join, region_lookup_sql, regions_setting
from .spec import SourceTable, TimeField
from .sql import id_order

__all__ = ["IS_CRM", "SETTINGS", "mapping"]

IS_CRM = True  # a CRM: its opportunities are the cases

_D = DEFAULTS["dynamics365"]
_OPEN = [s for s in _D.stages if not s.closed]
_CLOSED = [s for s in _D.stages if s.closed]

_STATUS_DOCS = {
    "quote_issued": "quote.statecode values of issued quotes (Quote Issued at createdon)",
    "quote_accepted": "quote.statecode values of won quotes (Quote Accepted at closedon)",
    "invoice_paid": "invoice.statecode values meaning paid: each audited change to one is a "
    "payment "
    "(without audit: one at modifiedon)",
    "invoice_cancelled": "invoice.statecode values of cancelled invoices (not counted)",
    "payment_reversed": "invoice.statecode values that, as the next state change after a Paid "
    "one, mean that payment was reversed or bounced: it is no payment",
    "reopened": "opportunity statecode that, set again after a close (audit), reopens the deal",
}

SETTINGS: tuple[Setting, ...] = (
    *status_settings(_D.status, _STATUS_DOCS),
    Setting(
        "salesstage", {s.code: s.name for s in _OPEN}, "opportunity salesstage code -> stage name"
    ),
    Setting(
        "closed",
        {s.code: s.name for s in _CLOSED},
        "opportunityclose.opportunitystatecode -> closed stage name (Won / Lost)",
    ),
    Setting(
        "stages",
        {s.name: s.activity for s in _OPEN if s.activity},
        "stage name -> milestone activity its first entry means (others: Stage Changed)",
    ),
    Setting("lead_sources", dict(_D.codes["leadsourcecode"]), "lead.leadsourcecode -> LeadSource"),
    Setting(
        "payment_terms",
        dict(_D.codes["paymenttermscode"]),
        "salesorder.paymenttermscode -> PaymentTerms",
    ),
    regions_setting("account.address1_country"),
)

_ISO = "iso"
_T = (TimeField("createdon", _ISO),)
# Synapse Link (append-only mode) appends a deleted record as a row with IsDelete = True
_DELETED: tuple[tuple[str, None], ...] = (("IsDelete", None), ("IsDeleted", None))


def _table(
    name: str,
    columns: tuple[str, ...],
    key: str,
    lookups: tuple[str, ...] = (),
    optional: bool = True,
    **kw: object,
) -> SourceTable:
    """A Dataverse table: lookups read as `<name>` (Synapse Link) or `_<name>_value` (Web API)."""
    return SourceTable(
        name,
        columns,
        key=key,
        optional=optional,
        aliases=tuple((c, f"_{c}_value") for c in lookups),
        deleted=_DELETED,
        versions=("versionnumber", "SinkModifiedOn"),
        stamps=(TimeField("modifiedon", _ISO), TimeField("SinkModifiedOn", _ISO)),
        **kw,  # type: ignore[arg-type]
    )


TABLES: tuple[SourceTable, ...] = (
    _table(
        "opportunity",
        ("opportunityid", "createdon", "statecode"),
        "opportunityid",
        ("customerid", "ownerid", "originatingleadid"),
        optional=False,
        times=(*_T, TimeField("actualclosedate", "date", required=False)),
        optional_columns=(
            "actualclosedate",
            "salesstage",
            "estimatedvalue",
            "discountpercentage",
            "customerid",
            "ownerid",
            "originatingleadid",
        ),
        numbers=("estimatedvalue", "discountpercentage"),
    ),
    _table(
        "audit",
        ("auditid", "objectid", "objecttypecode", "createdon"),
        "auditid",
        times=_T,
        optional_columns=("changedata", "attributename", "newvalue"),
        json_columns=("changedata",),
    ),
    _table(
        "opportunityclose",
        ("activityid", "opportunityid", "opportunitystatecode", "createdon"),
        "activityid",
        ("opportunityid",),
        times=_T,
    ),
    _table("account", ("accountid", "name"), "accountid", optional_columns=("address1_country",)),
    _table("systemuser", ("systemuserid", "fullname"), "systemuserid"),
    _table("lead", ("leadid", "leadsourcecode"), "leadid"),
    _table(
        "opportunityproduct",
        ("opportunityproductid", "opportunityid", "productid"),
        "opportunityproductid",
        ("opportunityid", "productid"),
        optional_columns=("extendedamount",),
    ),
    _table(
        "product",
        ("productid", "name"),
        "productid",
        ("parentproductid",),
        optional_columns=("parentproductid",),
    ),
    _table(
        "quote",
        ("quoteid", "opportunityid", "statecode", "createdon"),
        "quoteid",
        ("opportunityid",),
        times=(*_T, TimeField("closedon", _ISO, required=False)),
        optional_columns=("closedon",),
    ),
    _table(
        "salesorder",
        ("salesorderid", "opportunityid", "createdon"),
        "salesorderid",
        ("opportunityid",),
        times=(*_T, TimeField("datefulfilled", "date", required=False)),
        optional_columns=("datefulfilled", "paymenttermscode"),
    ),
    _table(
        "invoice",
        ("invoiceid", "salesorderid", "createdon", "statecode"),
        "invoiceid",
        ("salesorderid", "opportunityid"),
        times=(*_T, TimeField("modifiedon", _ISO, required=False)),
        optional_columns=("opportunityid", "modifiedon"),
    ),
)

# One row per changed attribute of an audit record: flattened (`attributename`, `newvalue`, as
# RetrieveRecordChangeHistory gives it) or the `changedata` JSON of the audit table itself.
_CHANGES = """
    SELECT auditid, objectid, objecttypecode, "createdon@utc", _row, attributename AS field,
           newvalue AS new FROM {audit} WHERE attributename IS NOT NULL
    UNION ALL
    SELECT a.auditid, a.objectid, a.objecttypecode, a."createdon@utc", a._row, ch.logicalName,
      ch.newValue
    FROM {audit} a, unnest(from_json(json_extract(a.changedata, '$.changedAttributes'),
         '[{{"logicalName": "VARCHAR", "newValue": "VARCHAR"}}]')) AS c(ch)
    WHERE a.attributename IS NULL AND a.changedata IS NOT NULL"""


# Each audited change of an invoice's statecode, with the state it changed to next (time, then
# audit id): a change to Paid followed by one back to Active was a payment that bounced.
_INVOICE_STATES = f"""
    SELECT auditid, trim(new) AS state, lead(trim(new)) OVER (
             PARTITION BY objectid ORDER BY "createdon@utc", {id_order("auditid")}) AS next_state
    FROM {{changes}} WHERE objecttypecode = 'invoice' AND field = 'statecode'"""


def _case_of(values: object, column: str) -> str:
    """SQL CASE mapping codes to labels (unknown codes kept as they are)."""
    whens = " ".join(f"WHEN {lit(k)} THEN {lit(v)}" for k, v in values.items())
    return f"CASE trim({column}) {whens} ELSE trim({column}) END" if whens else column


def _history(cfg: Settings) -> str:
    """Stage rows: salesstage audits, opportunityclose won/lost, statecode-reopen audits."""
    stage = _case_of(cfg["salesstage"], "new")
    closed = _case_of(cfg["closed"], "opportunitystatecode")
    reopened = lits(cfg["reopened"])
    return carried_stages(f"""
      SELECT objectid AS opp, "createdon@utc" AS ts, auditid AS _tie, {{@audit}} AS _file, _row,
             'changedata' AS _column, {{@audit}} || ':auditid=' || auditid AS source_record,
             CASE WHEN field = 'salesstage' THEN {stage} END AS open_stage, NULL AS closed_stage
      FROM {{changes}} WHERE objecttypecode = 'opportunity'
        AND (field = 'salesstage' OR (field = 'statecode' AND trim(new) IN {reopened}))
      UNION ALL
      SELECT opportunityid, "createdon@utc", activityid, {{@opportunityclose}}, _row,
             'opportunitystatecode', {{@opportunityclose}} || ':activityid=' || activityid, NULL,
               {closed}
      FROM {{opportunityclose}}""")


def _current(cfg: Settings) -> str:
    """An opportunity without history: closed (statecode Won / Lost) at its actualclosedate."""
    closed = _case_of(cfg["closed"], "statecode")
    return f"""
    SELECT opportunityid AS SalesOpportunityId,
           greatest("actualclosedate@utc", "createdon@utc") AS EventTime, opportunityid AS _tie,
           {closed} AS stage, {{@opportunity}} || ':opportunityid=' || opportunityid
             AS source_record, {{@opportunity}} AS _file, _row, 'statecode' AS _column
    FROM {{opportunity}} WHERE trim(statecode) IN {lits(list(cfg["closed"]))}
      AND "actualclosedate@utc" IS NOT NULL"""


def mapping(cfg: Settings, crm_present: bool) -> Mapping:
    """The Dynamics 365 mapping under a configuration."""
    so = "LEFT JOIN {salesorder} so ON so.salesorderid = t.salesorderid"
    inv_case = "coalesce(nullif(t.opportunityid, ''), so.opportunityid)"
    paid = lits(cfg["invoice_paid"])
    paid_change = f"p.field = 'statecode' AND trim(p.new) IN {paid}"
    reversed_ = lits(cfg["payment_reversed"])
    events = (
        EventRule(
            "Opportunity Created", "opportunity", "createdon", "t.opportunityid", "opportunityid"
        ),
        EventRule(
            "Quote Issued",
            "quote",
            "createdon",
            "t.opportunityid",
            "quoteid",
            where=f"trim(t.statecode) IN {lits(cfg['quote_issued'])}",
            objects=touches("Quote Issued", "t.quoteid"),
        ),
        EventRule(
            "Quote Accepted",
            "quote",
            "closedon",
            "t.opportunityid",
            "quoteid",
            where=f"trim(t.statecode) IN {lits(cfg['quote_accepted'])}",
            objects=touches("Quote Accepted", "t.quoteid"),
        ),
        EventRule(
            "Sales Order Created", "salesorder", "createdon", "t.opportunityid", "salesorderid",
            objects=touches("Sales Order Created", "t.salesorderid"),
        ),
        EventRule(
            "Order Fulfilled", "salesorder", "datefulfilled", "t.opportunityid", "salesorderid",
            objects=touches("Order Fulfilled", "t.salesorderid"),
        ),
        EventRule(
            "Invoice Generated",
            "invoice",
            "createdon",
            inv_case,
            "invoiceid",
            so,
            f"trim(t.statecode) NOT IN {lits(cfg['invoice_cancelled'])}",
            objects=touches("Invoice Generated", "t.invoiceid", "t.salesorderid"),
        ),
        EventRule(
            "Payment Received",
            "audit",
            "createdon",
            inv_case.replace("t.", "i."),
            "auditid",
            "JOIN {changes} p ON p.auditid = t.auditid "
            "JOIN {invoice} i ON i.invoiceid = t.objectid " + so.replace("t.", "i."),
            f"t.objecttypecode = 'invoice' AND {paid_change} AND t.auditid NOT IN "
            f"(SELECT auditid FROM {{invoice_states}} WHERE next_state IN {reversed_})",
            objects=(ObjectRef(ObjectType.INVOICE, "i.invoiceid", Qualifier.CLEARS),),
        ),
        EventRule(
            "Payment Received",
            "invoice",
            "modifiedon",
            inv_case,
            "invoiceid",
            so,
            f"trim(t.statecode) IN {paid} "
            f"AND t.invoiceid NOT IN (SELECT objectid FROM {{changes}} p "
            f"WHERE {paid_change})",
            objects=_CLEARS_INVOICE,
        ),  # without audit: the Paid state, as last modified
    )
    won = cfg["closed"].get("1")  # statecode 1 is Won in Dataverse
    classes = stage_classes(
        cfg["salesstage"], {n: n == won for n in cfg["closed"].values()}, cfg["stages"]
    )
    stages = StageHistory(
        _history(cfg),
        ("audit", "opportunityclose"),
        classes,
        "the salesstage / closed settings of [dynamics365]",
        _current(cfg),
        cfg["stages"],
    )
    return Mapping(
        "dynamics365",
        TABLES,
        events,
        _cases_sql(cfg),
        stages,
        prepare={
            "changes": _CHANGES,
            "invoice_states": _INVOICE_STATES,
            TABLE: region_lookup_sql(cfg["regions"]),
        },
        case_table=("opportunity", "opportunityid"),
        documents=DOCUMENTS,
    )


# Dynamics 365 Sales keeps no payment record: a payment is the invoice's (audited) Paid state
_CLEARS_INVOICE = (ObjectRef(ObjectType.INVOICE, "t.invoiceid", Qualifier.CLEARS),)
_T, _Q, _V = ObjectType, Qualifier, ValueType
DOCUMENTS: tuple[Document, ...] = (
    *customers("account", "accountid", "name", "opportunity", "opportunityid", "customerid"),
    Document(_T.QUOTE, "quote", "t.quoteid",
             links=(ObjectRef(_T.OPPORTUNITY, "t.opportunityid", _Q.QUOTE_OF),),
             attributes=(("statecode", "t.statecode", _V.STRING),)),
    Document(_T.SALES_ORDER, "salesorder", "t.salesorderid",
             links=(ObjectRef(_T.OPPORTUNITY, "t.opportunityid", _Q.ORDER_OF),)),
    Document(_T.INVOICE, "invoice", "t.invoiceid",
             links=(ObjectRef(_T.SALES_ORDER, "t.salesorderid", _Q.INVOICE_OF),),
             attributes=(("statecode", "t.statecode", _V.STRING),)),
)
"""Dynamics 365's documents as objects: account, quote, salesorder, invoice."""


def _cases_sql(cfg: Settings) -> str:
    """Case attributes: opportunity values, account, owner, lead source, family, order terms."""
    join, region, country = region_join("a.address1_country")
    lead = _case_of(cfg["lead_sources"], "l.leadsourcecode")
    terms = _case_of(cfg["payment_terms"], "so.paymenttermscode")
    open_stage = _case_of(cfg["salesstage"], "o.salesstage")
    state = _case_of(cfg["closed"], "o.statecode")
    first = (
        'QUALIFY row_number() OVER (PARTITION BY opportunityid ORDER BY "createdon@utc", _row) = 1'
    )
    return f"""
    SELECT o.opportunityid AS SalesOpportunityId,
      TRY_CAST(o.estimatedvalue AS DOUBLE) AS OpportunityAmount,
           a.name AS CustomerName, u.fullname AS OpportunityOwner, {region} AS SalesRegion,
           {country} AS _country,
           TRY_CAST(o.discountpercentage AS DOUBLE) / 100 AS DiscountPercentage,
             {lead} AS LeadSource,
           CASE WHEN trim(o.statecode) IN {lits(list(cfg["closed"]))} THEN {state}
             ELSE {open_stage} END
             AS SalesStage, {terms} AS PaymentTerms, coalesce(fam.name, pr.name) AS ProductCategory
    FROM {{opportunity}} o
    LEFT JOIN {{account}} a ON a.accountid = o.customerid
    {join}
    LEFT JOIN {{systemuser}} u ON u.systemuserid = o.ownerid
    LEFT JOIN {{lead}} l ON l.leadid = o.originatingleadid
    LEFT JOIN (SELECT * FROM {{salesorder}} {first}) so ON so.opportunityid = o.opportunityid
    LEFT JOIN (SELECT * FROM {{opportunityproduct}}
               QUALIFY row_number() OVER (PARTITION BY opportunityid
               ORDER BY TRY_CAST(extendedamount AS DOUBLE) DESC NULLS LAST, _row) = 1) op
      ON op.opportunityid = o.opportunityid
    LEFT JOIN {{product}} pr ON pr.productid = op.productid
    LEFT JOIN {{product}} fam ON fam.productid = pr.parentproductid"""
