"""Microsoft Dynamics 365 Sales (Dataverse): tables by logical name, lookups as `_<name>_value`.

Stage history comes from `audit` rows of `salesstage` (flattened old/new values, as
RetrieveRecordChangeHistory returns them) and from `opportunityclose` activities (won / lost);
an audit row setting `statecode` back to open reopens the deal at its last open stage.
Dynamics Sales has no payment table: Payment Received is the invoice's Paid state.
"""

from __future__ import annotations

from .config import Setting
from .defaults import DEFAULTS, REGION_BY_COUNTRY
from .engine import EventRule, Mapping, StageHistory, lit, lits
from .tables import SourceTable, TimeField

__all__ = ["SETTINGS", "mapping"]

_D = DEFAULTS["dynamics365"]
_OPEN = [s for s in _D.stages if not s.closed]
_CLOSED = [s for s in _D.stages if s.closed]

_STATUS_DOCS = {
    "quote_issued": "quote.statecode values of issued quotes (Quote Issued at createdon)",
    "quote_accepted": "quote.statecode values of won quotes (Quote Accepted at closedon, else modifiedon)",
    "invoice_paid": "invoice.statecode values meaning paid (Payment Received at modifiedon)",
    "invoice_cancelled": "invoice.statecode values of cancelled invoices (not counted)",
    "reopened": "opportunity statecode that, set again after a close (audit), reopens the deal",
}

SETTINGS: tuple[Setting, ...] = (
    *(Setting(key, list(_D.status[key]), doc) for key, doc in _STATUS_DOCS.items()),
    Setting("salesstage", {s.code: s.name for s in _OPEN}, "opportunity salesstage code -> stage name"),
    Setting("closed", {s.code: s.name for s in _CLOSED},
            "opportunityclose.opportunitystatecode -> closed stage name (Won / Lost)"),
    Setting("stages", {s.name: s.activity for s in _OPEN if s.activity},
            "stage name -> milestone activity its first entry means (others: Stage Changed)"),
    Setting("lead_sources", {"1": "Advertisement", "2": "Employee Referral", "3": "External Referral",
                             "4": "Partner", "5": "Public Relations", "6": "Seminar", "7": "Trade Show",
                             "8": "Web", "9": "Word of Mouth", "10": "Other"},
            "lead.leadsourcecode -> LeadSource"),
    Setting("payment_terms", {"1": "Net 30", "2": "2% 10, Net 30", "3": "Net 45", "4": "Net 60"},
            "paymenttermscode -> PaymentTerms"),
    Setting("regions", dict(REGION_BY_COUNTRY), "account address1_country -> SalesRegion (others kept)"),
)

_ISO = "iso"
_T = (TimeField("createdon", _ISO),)
TABLES: tuple[SourceTable, ...] = (
    SourceTable("opportunity", ("opportunityid", "createdon", "statecode"), key="opportunityid", times=_T,
                optional_columns=("salesstage", "estimatedvalue", "actualvalue", "discountpercentage",
                                  "_customerid_value", "_ownerid_value", "_originatingleadid_value")),
    SourceTable("audit", ("auditid", "objectid", "createdon", "attributename", "newvalue"), key="auditid",
                optional=True, times=_T),
    SourceTable("opportunityclose", ("activityid", "_opportunityid_value", "opportunitystatecode", "createdon"),
                key="activityid", optional=True, times=_T),
    SourceTable("account", ("accountid", "name"), key="accountid", optional=True,
                optional_columns=("address1_country",)),
    SourceTable("systemuser", ("systemuserid", "fullname"), key="systemuserid", optional=True),
    SourceTable("lead", ("leadid", "leadsourcecode"), key="leadid", optional=True),
    SourceTable("quote", ("quoteid", "_opportunityid_value", "statecode", "createdon"), key="quoteid",
                optional=True, times=(*_T, TimeField("closedon", _ISO, required=False),
                                      TimeField("modifiedon", _ISO, required=False)),
                optional_columns=("closedon", "modifiedon", "discountpercentage", "paymenttermscode")),
    SourceTable("salesorder", ("salesorderid", "_opportunityid_value", "createdon"), key="salesorderid",
                optional=True, times=(*_T, TimeField("datefulfilled", "date", required=False)),
                optional_columns=("statecode", "datefulfilled", "paymenttermscode")),
    SourceTable("invoice", ("invoiceid", "_salesorderid_value", "createdon", "statecode"), key="invoiceid",
                optional=True, times=(*_T, TimeField("modifiedon", _ISO, required=False)),
                optional_columns=("modifiedon", "_opportunityid_value")),
)


def _case_of(values: object, column: str) -> str:
    """SQL CASE mapping codes to labels (unknown codes kept as they are)."""
    whens = " ".join(f"WHEN {lit(k)} THEN {lit(v)}" for k, v in values.items())  # type: ignore[attr-defined]
    return f"CASE trim({column}) {whens} ELSE trim({column}) END" if whens else column


def _history(cfg: dict[str, object]) -> str:
    """Stage rows: salesstage audits, opportunityclose won/lost, statecode-reopen audits."""
    stage = _case_of(cfg["salesstage"], "newvalue")
    closed = _case_of(cfg["closed"], "opportunitystatecode")
    reopened = lits(cfg["reopened"])  # type: ignore[arg-type]
    current = _case_of(cfg["salesstage"], "o.salesstage")
    return f"""
    WITH u AS (
      SELECT objectid AS opp, "createdon@utc" AS ts, _row AS _seq, {{@audit}} AS _file, _row,
             'newvalue' AS _column, {{@audit}} || ':auditid=' || auditid AS source_record,
             CASE WHEN attributename = 'salesstage' THEN {stage} END AS open_stage, NULL AS closed_stage
      FROM {{audit}} WHERE attributename = 'salesstage'
         OR (attributename = 'statecode' AND trim(newvalue) IN {reopened})
      UNION ALL
      SELECT _opportunityid_value, "createdon@utc", 1000000000 + _row, {{@opportunityclose}}, _row,
             'opportunitystatecode', {{@opportunityclose}} || ':activityid=' || activityid, NULL, {closed}
      FROM {{opportunityclose}}
    )
    SELECT u.opp AS SalesOpportunityId, u.ts AS EventTime, u._seq, u.source_record, u._file, u._row,
           u._column, coalesce(u.closed_stage, u.open_stage, last_value(u.open_stage IGNORE NULLS)
             OVER (PARTITION BY u.opp ORDER BY u.ts, u._seq ROWS UNBOUNDED PRECEDING), {current}) AS stage
    FROM u LEFT JOIN {{opportunity}} o ON o.opportunityid = u.opp"""


def mapping(cfg: dict[str, object], crm_present: bool) -> Mapping:
    """The Dynamics 365 mapping under a configuration."""
    so = "LEFT JOIN {salesorder} so ON so.salesorderid = t._salesorderid_value"
    inv_case = "coalesce(nullif(t._opportunityid_value, ''), so._opportunityid_value)"
    events = (
        EventRule("Opportunity Created", "opportunity", "createdon", "t.opportunityid", "opportunityid"),
        EventRule("Quote Issued", "quote", "createdon", "t._opportunityid_value", "quoteid",
                  where=f"trim(t.statecode) IN {lits(cfg['quote_issued'])}"),  # type: ignore[arg-type]
        EventRule("Quote Accepted", "quote", "closedon", "t._opportunityid_value", "quoteid",
                  where=f"trim(t.statecode) IN {lits(cfg['quote_accepted'])}",  # type: ignore[arg-type]
                  fallback_time="modifiedon"),
        EventRule("Sales Order Created", "salesorder", "createdon", "t._opportunityid_value", "salesorderid"),
        EventRule("Order Fulfilled", "salesorder", "datefulfilled", "t._opportunityid_value", "salesorderid"),
        EventRule("Invoice Generated", "invoice", "createdon", inv_case, "invoiceid", so,
                  f"trim(t.statecode) NOT IN {lits(cfg['invoice_cancelled'])}"),  # type: ignore[arg-type]
        EventRule("Payment Received", "invoice", "modifiedon", inv_case, "invoiceid", so,
                  f"trim(t.statecode) IN {lits(cfg['invoice_paid'])}"),  # type: ignore[arg-type]
    )
    names = [*cfg["salesstage"].values(), *cfg["closed"].values()]  # type: ignore[attr-defined]
    closed_names = set(cfg["closed"].values())  # type: ignore[attr-defined]
    won = cfg["closed"].get("1")  # type: ignore[attr-defined]  # statecode 1 is Won in Dataverse
    rows = ", ".join(
        f"({lit(n)}, {lit(cfg['stages'].get(n))}, {lit(n in closed_names)}, {lit(n == won)})"  # type: ignore[attr-defined]
        for n in dict.fromkeys(names))
    classes = f"SELECT * FROM (VALUES {rows}) AS v(stage, milestone, is_closed, is_won)"
    stages = StageHistory(_history(cfg), ("audit", "opportunityclose"), classes,
                          "the salesstage / closed settings of [dynamics365]")
    return Mapping("dynamics365", TABLES, events, _cases_sql(cfg), stages)


def _cases_sql(cfg: dict[str, object]) -> str:
    """Case attributes: opportunity values, account, owner, lead source, order (else quote) terms."""
    region = _case_of(cfg["regions"], "a.address1_country")
    lead = _case_of(cfg["lead_sources"], "l.leadsourcecode")
    terms = _case_of(cfg["payment_terms"], "coalesce(nullif(so.paymenttermscode, ''), q.paymenttermscode)")
    stage = _case_of(cfg["salesstage"], "o.salesstage")
    first = ("QUALIFY row_number() OVER (PARTITION BY _opportunityid_value "
             "ORDER BY \"createdon@utc\" DESC, _row DESC) = 1")
    return f"""
    SELECT o.opportunityid AS SalesOpportunityId,
           TRY_CAST(coalesce(nullif(o.actualvalue, ''), o.estimatedvalue) AS DOUBLE) AS OpportunityAmount,
           a.name AS CustomerName, u.fullname AS OpportunityOwner, {region} AS SalesRegion,
           TRY_CAST(o.discountpercentage AS DOUBLE) / 100 AS DiscountPercentage,
           {lead} AS LeadSource, {stage} AS SalesStage, {terms} AS PaymentTerms
    FROM {{opportunity}} o
    LEFT JOIN {{account}} a ON a.accountid = o._customerid_value
    LEFT JOIN {{systemuser}} u ON u.systemuserid = o._ownerid_value
    LEFT JOIN {{lead}} l ON l.leadid = o._originatingleadid_value
    LEFT JOIN (SELECT * FROM {{salesorder}} {first}) so ON so._opportunityid_value = o.opportunityid
    LEFT JOIN (SELECT * FROM {{quote}} {first}) q ON q._opportunityid_value = o.opportunityid"""
