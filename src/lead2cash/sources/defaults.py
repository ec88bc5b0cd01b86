"""Default master data of the four source systems, as data: stages, status codes, regions.

One module that the simulator (which writes extracts) and the connectors (which
read them) both import, so a stage name or status code is spelled exactly once.
Each stage says which model activity its first entry means (None: only a stage
change), and whether it is closed / won. Stage lists are in pipeline order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .countries import REGION_BY_CODE, REGIONS

__all__ = [
    "DEFAULTS",
    "REGIONS",
    "REGION_BY_COUNTRY",
    "Stage",
    "SystemDefaults",
]

QUALIFIED = "Opportunity Qualified"
REQUIREMENTS = "Requirements Gathered"
SOLUTION = "Solution Proposed"


@dataclass(frozen=True, slots=True)
class Stage:
    """One sales stage: its name and code in the system, the milestone it marks, closed/won flags."""

    name: str
    code: str
    activity: str | None = None
    closed: bool = False
    won: bool = False
    probability: int = 0
    forecast: str = "Pipeline"


@dataclass(frozen=True, slots=True)
class SystemDefaults:
    """What a system's exports mean by default: its stages and its status values."""

    key: str
    stages: tuple[Stage, ...]
    status: dict[str, tuple[str, ...]]
    time_zone: str = "UTC"
    # option-set / lookup codes of attribute fields: field → {code: label}
    codes: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def open_stages(self) -> tuple[Stage, ...]:
        """The open stages in pipeline order."""
        return tuple(s for s in self.stages if not s.closed)

    @property
    def won_stage(self) -> Stage:
        """The (first) closed-won stage."""
        return next(s for s in self.stages if s.closed and s.won)

    @property
    def lost_stage(self) -> Stage:
        """The (first) closed-lost stage."""
        return next(s for s in self.stages if s.closed and not s.won)

    def stage(self, name: str) -> Stage:
        """Look a stage up by its name."""
        return next(s for s in self.stages if s.name == name)


_S = Stage
SALESFORCE = SystemDefaults(
    key="salesforce",
    # OpportunityStage master data of a default org (ApiName = MasterLabel).
    stages=(
        _S("Prospecting", "1", None, probability=10),
        _S("Qualification", "2", QUALIFIED, probability=10),
        _S("Needs Analysis", "3", REQUIREMENTS, probability=20),
        _S("Value Proposition", "4", SOLUTION, probability=50),
        _S("Id. Decision Makers", "5", None, probability=60),
        _S("Perception Analysis", "6", None, probability=70),
        _S("Proposal/Price Quote", "7", None, probability=75),
        _S("Negotiation/Review", "8", None, probability=90, forecast="Commit"),
        _S("Closed Won", "9", None, closed=True, won=True, probability=100, forecast="Closed"),
        _S("Closed Lost", "10", None, closed=True, probability=0, forecast="Omitted"),
    ),
    status={
        # Quote.Status values meaning the quote was issued / accepted.
        "quote_issued": ("Presented", "Accepted", "Denied"),
        "quote_accepted": ("Accepted",),
        # Contract.Status meaning signed (timestamp ActivatedDate).
        "contract_signed": ("Activated",),
        # Order.Status values after fulfilment (custom value under StatusCode Activated).
        "order_fulfilled": ("Fulfilled",),
        # blng__Invoice__c.blng__InvoiceStatus__c: generated vs cancelled.
        "invoice_issued": ("Posted",),
        "invoice_cancelled": ("Cancelled",),
        # blng__Payment__c.blng__Status__c meaning the money arrived.
        "payment_received": ("Posted",),
    },
)

SAP_S4HANA = SystemDefaults(
    key="sap-s4hana",
    # S/4HANA for customer management opportunity phases (CRMS4D_OPPT_H-PHASE, ~ config),
    # plus the user statuses that close (E0004 won, E0003 lost) or reopen (E0002) a deal.
    stages=(
        _S("Identify Opportunity", "001", None, probability=10),
        _S("Qualify Opportunity", "002", QUALIFIED, probability=20),
        _S("Analyze Needs", "003", REQUIREMENTS, probability=40),
        _S("Propose Solution", "004", SOLUTION, probability=60),
        _S("Negotiate", "005", None, probability=80, forecast="Commit"),
        _S("Won", "E0004", None, closed=True, won=True, probability=100, forecast="Closed"),
        _S("Lost", "E0003", None, closed=True, probability=0, forecast="Omitted"),
    ),
    status={
        # VBAK-VBTYP document categories (S/4: VBTYPL, compare trimmed).
        "quotation": ("B",),
        "order": ("C",),
        "contract": ("G",),
        "delivery": ("J",),
        "goods_movement": ("R",),
        "invoice": ("M",),
        "invoice_cancellation": ("N",),
        # LIKP-WBSTK: goods movement completely processed.
        "order_fulfilled": ("C",),
        # VBRK-FKSTO: invoice cancelled.
        "invoice_cancelled": ("X",),
        # CRM user status back to open after a close.
        "reopened": ("E0002",),
    },
    time_zone="Europe/Berlin",
)

DYNAMICS365 = SystemDefaults(
    key="dynamics365",
    # opportunity.salesstage option set; closing is opportunity.statecode 1 Won / 2 Lost.
    stages=(
        _S("Qualify", "0", None, probability=10),
        _S("Develop", "1", QUALIFIED, probability=40),
        _S("Propose", "2", SOLUTION, probability=60),
        _S("Close", "3", None, probability=80, forecast="Committed"),
        _S("Won", "1", None, closed=True, won=True, probability=100, forecast="Won"),
        _S("Lost", "2", None, closed=True, probability=0, forecast="Lost"),
    ),
    status={
        # quote.statecode 1 Active = issued, 2 Won = accepted.
        "quote_issued": ("1", "2", "3"),
        "quote_accepted": ("2",),
        # salesorder.statecode 3 Fulfilled, invoice.statecode 2 Paid / 3 Canceled.
        "order_fulfilled": ("3",),
        "invoice_paid": ("2",),
        "invoice_cancelled": ("3",),
        # invoice.statecode back to 0 Active right after Paid: the payment was reversed (bounced)
        "payment_reversed": ("0",),
        # opportunity.statecode 0 Open after 1/2 = reopened.
        "reopened": ("0",),
    },
    codes={
        # lead.leadsourcecode (opportunity.originatingleadid → lead)
        "leadsourcecode": {
            "1": "Advertisement", "2": "Employee Referral", "3": "External Referral",
            "4": "Partner", "5": "Public Relations", "6": "Seminar", "7": "Trade Show",
            "8": "Web", "9": "Word of Mouth", "10": "Other"},
        # quote / salesorder / invoice .paymenttermscode (100000000: a custom option value)
        "paymenttermscode": {
            "1": "Net 30", "2": "2% 10, Net 30", "3": "Net 45", "4": "Net 60",
            "100000000": "Due on Receipt"},
    },
)

ORACLE_CX = SystemDefaults(
    key="oracle-cx",
    # Sales stages of the standard sales method (MOO_STG_VL NAME, ~ config); StatusCode WON / LOST.
    stages=(
        _S("01 - Prospect", "1", None, probability=10),
        _S("02 - Qualify", "2", QUALIFIED, probability=20),
        _S("03 - Discover", "3", REQUIREMENTS, probability=40),
        _S("04 - Propose", "4", SOLUTION, probability=60),
        _S("05 - Negotiate", "5", None, probability=80),
        _S("WON", "WON", None, closed=True, won=True, probability=100),
        _S("LOST", "LOST", None, closed=True, probability=0),
    ),
    status={
        # ZCA_SALES_ORDER_HEADERS.STATUS of an accepted CPQ quote (Quote Accepted at PLACED_ON_DATE)
        "quote_accepted": ("ORDERED",),
        # DOO_FULFILL_LINES_ALL.STATUS_CODE of cancelled lines (a line with ACTUAL_SHIP_DATE is
        # fulfilled whatever status it moved on to: AWAIT_BILLING, BILLED, CLOSED)
        "line_cancelled": ("CANCELED",),
        # RA_CUSTOMER_TRX_ALL.STATUS_TRX of a voided invoice (not counted)
        "invoice_cancelled": ("VD",),
        # AR_RECEIVABLE_APPLICATIONS_ALL.STATUS of an applied receipt (Payment Received)
        "payment_received": ("APP",),
        # AR_CASH_RECEIPTS_ALL.STATUS of reversed / bounced receipts (not a payment)
        "receipt_reversed": ("REV", "NSF", "STOP"),
        # MOO_OPTY_SNAPSHOTS.STATUS_CATEGORY after WON / LOST that reopens the deal
        "reopened": ("OPEN",),
    },
)

DEFAULTS: dict[str, SystemDefaults] = {
    d.key: d for d in (SALESFORCE, SAP_S4HANA, DYNAMICS365, ORACLE_CX)
}

# Country (ISO 3166 alpha-2, as in Account.BillingCountry / KNA1-LAND1) → SalesRegion, for
# every country; names and other spellings of each are in `countries.py`.
REGION_BY_COUNTRY: dict[str, str] = dict(REGION_BY_CODE)
