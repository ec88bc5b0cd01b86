"""The Lead-to-Cash data model: 17 attributes and 15 activities, defined once.

Everything else (store schema, import mapping, checks, exports, docs) reads
these tables instead of repeating field names.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "ACTIVITIES",
    "ACTIVITY_NAMES",
    "ATTRIBUTES",
    "ATTRIBUTE_NAMES",
    "CASE_ATTRIBUTES",
    "HAPPY_PATH",
    "INFERRED_ACTIVITIES",
    "SOURCE_SYSTEMS",
    "XES_KEYS",
    "Activity",
    "ActivityGroup",
    "AttrType",
    "Attribute",
    "EventKind",
    "Level",
    "Tier",
    "attribute",
    "attributes_in_tier",
]


class Tier(StrEnum):
    """How much an attribute matters for the analyses."""

    REQUIRED = "Required"
    RECOMMENDED = "Recommended"
    OPTIONAL = "Optional"


class AttrType(StrEnum):
    """Logical type of an attribute; the store maps it to an engine type."""

    STRING = "string"
    TIMESTAMP = "timestamp"
    DECIMAL = "decimal"
    DURATION = "duration"


class Level(StrEnum):
    """Whether an attribute describes the case (opportunity) or the single event."""

    CASE = "case"
    EVENT = "event"


class ActivityGroup(StrEnum):
    """The template's two groups of activities."""

    KEY = "key"
    FURTHER = "further"


class EventKind(StrEnum):
    """How an event is obtained: stored as such, derived from history, or read from a log."""

    EXPLICIT = "explicit"
    INFERRED = "inferred"
    IMPORTED = "imported"


@dataclass(frozen=True, slots=True)
class Attribute:
    """One attribute of the event log."""

    name: str
    type: AttrType
    tier: Tier
    level: Level
    meaning: str
    examples: tuple[str, ...] = ()

    @property
    def sql_type(self) -> str:
        """DuckDB column type used by the store (timestamps are UTC, microseconds)."""
        return _SQL_TYPES[self.type]


_SQL_TYPES = {
    AttrType.STRING: "VARCHAR",
    AttrType.TIMESTAMP: "TIMESTAMP",
    AttrType.DECIMAL: "DOUBLE",
    AttrType.DURATION: "INTERVAL",
}


@dataclass(frozen=True, slots=True)
class Activity:
    """One standard activity of the Lead-to-Cash process."""

    name: str
    group: ActivityGroup
    kind: EventKind
    happens_when: str
    typical_source: str


_R, _RC, _O = Tier.REQUIRED, Tier.RECOMMENDED, Tier.OPTIONAL
_S, _T, _D, _DUR = AttrType.STRING, AttrType.TIMESTAMP, AttrType.DECIMAL, AttrType.DURATION
_C, _E = Level.CASE, Level.EVENT

ATTRIBUTES: tuple[Attribute, ...] = (
    Attribute("SalesOpportunityId", _S, _R, _C,
              "case id: the opportunity, deal or quote that ties all events of one sale together",
              ("OPP-0012345", "DEAL-98765", "SO-2023-54321", "OPTY-456-7890")),
    Attribute("ActivityName", _S, _R, _E, "what happened (one of the 15 activities)",
              ("Opportunity Qualified", "Quote Issued")),
    Attribute("EventTime", _T, _R, _E, "when it happened; orders events; every duration comes from it",
              ("2023-04-15T10:30:00Z",)),
    Attribute("SourceSystem", _S, _R, _E, "system of record the event was extracted from",
              ("Salesforce CRM", "SAP S/4HANA", "Microsoft Dynamics 365", "Oracle CX Sales")),
    Attribute("LastDataUpdate", _T, _R, _E,
              "when the data was last refreshed from the source (stamped by the extraction run)",
              ("2024-07-27T02:00:00Z",)),
    Attribute("OpportunityAmount", _D, _RC, _C, "potential or final money value of the deal",
              ("50000.00", "125000.50")),
    Attribute("CustomerName", _S, _RC, _C, "account (company or person) the deal is for",
              ("Global Tech Inc.",)),
    Attribute("DiscountPercentage", _D, _RC, _C, "discount granted on quote/order, as a fraction 0..1",
              ("0.05", "0.25")),
    Attribute("OpportunityOwner", _S, _RC, _C, "rep or team responsible",
              ("Jane Doe", "Sales Team A", "Partner-XYZ")),
    Attribute("SalesRegion", _S, _RC, _C, "territory / market segment",
              ("North America", "EMEA", "APAC", "LATAM", "US-West")),
    Attribute("OpportunityOutcome", _S, _RC, _C,
              "final result once the deal left the pipeline (open deals: none yet)",
              ("Won", "Lost", "Closed - No Decision")),
    Attribute("LeadSource", _S, _RC, _C, "channel the lead came from",
              ("Website", "Partner Referral", "Trade Show", "Cold Call")),
    Attribute("SalesStage", _S, _RC, _E, "pipeline stage (current or at the event)",
              ("Qualification", "Needs Analysis", "Proposal/Quote", "Negotiation/Review")),
    Attribute("ProductCategory", _S, _O, _C, "category of what is sold",
              ("Software License", "Hardware", "Professional Services", "Subscription")),
    Attribute("PaymentTerms", _S, _O, _C, "agreed payment terms",
              ("Net 30", "Net 60", "Due on Receipt", "50% upfront / 50% on delivery")),
    Attribute("SalesCycleDuration", _DUR, _O, _C,
              "time from Opportunity Created to its close (Won or Lost)", ("35 days 4 hours",)),
    Attribute("OpportunityType", _S, _O, _C, "kind of deal",
              ("New Business", "Existing Customer - Upsell", "Existing Customer - Renewal",
               "Partner Sourced")),
)

ATTRIBUTE_NAMES: tuple[str, ...] = tuple(a.name for a in ATTRIBUTES)
CASE_ATTRIBUTES: tuple[str, ...] = tuple(
    a.name for a in ATTRIBUTES if a.level is Level.CASE and a.name != "SalesOpportunityId"
)

_K, _F = ActivityGroup.KEY, ActivityGroup.FURTHER
_X, _I = EventKind.EXPLICIT, EventKind.INFERRED

ACTIVITIES: tuple[Activity, ...] = (
    Activity("Opportunity Created", _K, _X, "the opportunity record is created",
             "CRM opportunity creation date"),
    Activity("Opportunity Qualified", _K, _I, "the stage first moves to Qualified / Discovery",
             "CRM stage history"),
    Activity("Quote Issued", _K, _X, "a formal quote is created or becomes Sent / Presented / Active",
             "quote object"),
    Activity("Opportunity Won", _K, _X, "stage set to Closed Won", "CRM stage history"),
    Activity("Opportunity Lost", _K, _X, "stage set to Closed Lost", "CRM stage history"),
    Activity("Sales Order Created", _K, _X, "a sales order linked to the won deal is created",
             "CRM or ERP order"),
    Activity("Invoice Generated", _K, _X, "an invoice for the order is created", "ERP / billing"),
    Activity("Payment Received", _K, _X, "the invoice is paid or a clearing date is recorded",
             "ERP / finance"),
    Activity("Requirements Gathered", _F, _I, "stage moves to Needs Analysis / Discovery / Scoping",
             "CRM stage history"),
    Activity("Solution Proposed", _F, _I, "stage moves to Proposal / Presentation / Demo Done",
             "CRM stage history"),
    Activity("Opportunity Stage Changed", _F, _X, "any other change of the stage field",
             "field history / audit log"),
    Activity("Quote Accepted", _F, _X, "quote status becomes Accepted / Won", "quote object"),
    Activity("Contract Signed", _F, _X, "contract status becomes Activated / Signed",
             "contract object"),
    Activity("Order Fulfilled", _F, _X, "order status becomes Fulfilled / Shipped / Completed",
             "ERP / order management"),
    Activity("Opportunity Reopened", _F, _I, "a closed deal goes back to an open stage",
             "CRM stage history"),
)

ACTIVITY_NAMES: tuple[str, ...] = tuple(a.name for a in ACTIVITIES)
INFERRED_ACTIVITIES: frozenset[str] = frozenset(
    a.name for a in ACTIVITIES if a.kind is EventKind.INFERRED
)

HAPPY_PATH: tuple[str, ...] = (
    "Opportunity Created", "Opportunity Qualified", "Requirements Gathered", "Solution Proposed",
    "Quote Issued", "Quote Accepted", "Contract Signed", "Opportunity Won",
    "Sales Order Created", "Order Fulfilled", "Invoice Generated", "Payment Received",
)

SOURCE_SYSTEMS: dict[str, str] = {
    "salesforce": "Salesforce CRM",
    "sap-s4hana": "SAP S/4HANA",
    "dynamics365": "Microsoft Dynamics 365",
    "oracle-cx": "Oracle CX Sales",
}

# XES standard keys that map themselves onto the model on import and export.
XES_KEYS: dict[str, str] = {
    "case:concept:name": "SalesOpportunityId",
    "concept:name": "ActivityName",
    "time:timestamp": "EventTime",
    "org:resource": "OpportunityOwner",
}

_BY_NAME = {a.name: a for a in ATTRIBUTES}


def attribute(name: str) -> Attribute:
    """Look up an attribute by its exact field name."""
    return _BY_NAME[name]


def attributes_in_tier(tier: Tier) -> tuple[Attribute, ...]:
    """The attributes of one tier, in model order."""
    return tuple(a for a in ATTRIBUTES if a.tier is tier)
