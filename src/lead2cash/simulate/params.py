"""The simulated company's behaviour: every knob is a named, documented parameter.

Odds multipliers act on the win probability through its logit, so a multiplier
of 2 doubles the odds of winning relative to the base rate; 1 means no effect.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["PaymentTerm", "SimulationParams"]


@dataclass(frozen=True, slots=True)
class PaymentTerm:
    """Agreed payment terms: the model's name, days until due, and the SAP `ZTERM` key."""

    name: str
    days: int
    sap_key: str


@dataclass(frozen=True, slots=True)
class SimulationParams:
    """Behaviour of the simulated company (defaults give a plausible B2B software seller)."""

    # Calendar: opportunities are created over `span_days` from `start`; the extraction
    # (LastDataUpdate) runs at 02:00 UTC the day after, so late deals are still open.
    start: str = "2023-01-02"
    span_days: int = 730
    time_zone: str = "Europe/Berlin"  # the company's (and SAP server's) local time
    work_start_hour: int = 8  # working hours: work happens from 08:00 ...
    work_hours: int = 10  # ... for ten hours, on weekdays that are not holidays
    holidays: tuple[str, ...] = ("01-01", "05-01", "10-03", "12-24", "12-25", "12-26", "12-31")
    easter_holidays: bool = True  # Good Friday and Easter Monday too

    # Outcome: base win rate of closed deals, shifted by odds multipliers per attribute.
    base_win_rate: float = 0.22
    lead_sources: dict[str, float] = field(default_factory=lambda: {
        "Web": 0.30, "Phone Inquiry": 0.15, "Partner Referral": 0.20,
        "Purchased List": 0.15, "Trade Show": 0.12, "Other": 0.08})
    win_odds_lead_source: dict[str, float] = field(default_factory=lambda: {
        "Web": 1.0, "Phone Inquiry": 0.9, "Partner Referral": 2.2,
        "Purchased List": 0.4, "Trade Show": 1.3, "Other": 0.8})
    win_odds_region: dict[str, float] = field(default_factory=lambda: {
        "North America": 1.1, "EMEA": 1.0, "APAC": 0.8, "LATAM": 0.9})
    opportunity_types: dict[str, float] = field(default_factory=lambda: {
        "New Customer": 0.5, "Existing Customer - Upgrade": 0.3,
        "Existing Customer - Replacement": 0.15, "Existing Customer - Downgrade": 0.05})
    win_odds_type: dict[str, float] = field(default_factory=lambda: {
        "New Customer": 0.8, "Existing Customer - Upgrade": 1.6,
        "Existing Customer - Replacement": 1.3, "Existing Customer - Downgrade": 1.1})
    win_odds_per_amount_tenfold: float = 0.7  # odds factor per ten times larger deal
    win_odds_per_10pct_discount: float = 1.8  # discounts raise the win rate ...
    cycle_factor_per_10pct_discount: float = 1.25  # ... but lengthen every stage

    # Deals: amount (lognormal per product family), discount given mostly by some reps.
    product_families: dict[str, tuple[float, float]] = field(default_factory=lambda: {
        "Software License": (0.35, 60_000.0), "Subscription": (0.30, 30_000.0),
        "Professional Services": (0.20, 25_000.0), "Hardware": (0.15, 80_000.0)})
    amount_sigma: float = 0.9
    reps: int = 40
    rep_discount_share: float = 0.25  # a quarter of the reps discount heavily ...
    discount_mean_heavy: float = 0.15  # ... with this mean discount,
    discount_mean_normal: float = 0.04  # the others with this one

    # Stage funnel: losses happen at open stage i with these relative weights (drop-off per
    # stage; truncated to the CRM's number of open stages), mean business days per stage.
    loss_stage_weights: tuple[float, ...] = (0.28, 0.22, 0.16, 0.12, 0.09, 0.06, 0.04, 0.03)
    stage_days: float = 6.0
    stage_days_sigma: float = 0.8
    stage_skip_rate: float = 0.08  # a stage with no milestone is skipped
    regression_rate: float = 0.05  # a deal moves one stage back, then forward again
    reopen_rate: float = 0.03  # a closed deal is reopened and closed again
    amount_change_rate: float = 0.3  # a history row that changes only the amount
    quote_revision_rate: float = 0.35  # chance of one more quote revision (up to 4 quotes)
    contract_rate: float = 0.75  # won deals with a signed contract

    # Order to cash.
    multi_delivery_rate: float = 0.3  # orders shipped in 2-3 partial deliveries
    invoice_cancel_rate: float = 0.04  # invoices cancelled and issued again
    partial_payment_rate: float = 0.2  # invoices paid in two parts
    payment_terms: tuple[PaymentTerm, ...] = (
        PaymentTerm("Net 30", 30, "NT30"), PaymentTerm("Net 60", 60, "NT60"),
        PaymentTerm("Due on Receipt", 0, "0001"), PaymentTerm("Net 45", 45, "NT45"))
    payment_term_weights: tuple[float, ...] = (0.5, 0.2, 0.15, 0.15)
    late_days_region: dict[str, float] = field(default_factory=lambda: {
        "North America": 3.0, "EMEA": 6.0, "APAC": 9.0, "LATAM": 18.0})
    late_days_customer_sigma: float = 8.0  # each customer pays this much earlier/later

    # Cycle time per region: every stage of a deal in the region lasts this factor longer
    # (missing regions: 1, no effect).
    cycle_factor_region: dict[str, float] = field(default_factory=dict)

    # Deviations from the reference process, listed per case in `deviations.csv`
    # (0: none; drawn from their own random stream, so the rest of the company is unchanged).
    order_for_lost_rate: float = 0.0  # closed lost deals that still get a sales order (and O2C)
    order_before_win_rate: float = 0.0  # won deals whose order is created before the win
    payment_before_invoice_rate: float = 0.0  # first invoices whose payments predate them

    # Data quality: share of missing optional values and duplicate history rows.
    noise: float = 0.0
    # Share of Salesforce id references (OpportunityId, OrderId, blng links, SAP BSTNK/BSTKD)
    # written in the 15-character form, as reports and some integrations give them.
    short_id_share: float = 0.0

    # Exports as real systems write them (off by default; the round-trip tests switch them on).
    # Share of deals entered after the fact: their first history row is already the close.
    entered_closed_rate: float = 0.0
    # Share of CRM accounts whose country is a name ("Deutschland", "México") not an ISO code.
    country_name_share: float = 0.0
    # Share of first payments preceded by a receipt that bounced and was reversed (cancelled
    # blng payment, SAP reversal document, Oracle REV receipt, Dynamics Paid -> Active).
    bounced_payment_rate: float = 0.0
    # Oracle CPQ quote versions share their ORDER_HEADER_NUMBER (as real CPQ numbers them).
    quote_versions_share_number: bool = False
    # Share of Oracle orders with a change version (a 2nd DOO_HEADERS_ALL row, same number).
    order_change_rate: float = 0.0
    # Shipped lines and orders move on: Oracle AWAIT_BILLING / CLOSED, Dynamics 4 Invoiced.
    status_after_shipping: bool = False

    # The extraction time (ISO 8601, UTC) instead of 02:00 the day after the creation window:
    # the same company seen later (never earlier: every case exists by then), for snapshots
    # and delta extracts (`simulate.delta`).
    cut_at: str | None = None

    # Share of Oracle orders with several invoices whose final payments arrive as one receipt
    # applied to each of the invoices (one payment clearing several invoices), on the day the
    # last of them would have come.
    joint_receipt_rate: float = 0.0

    # Streaming: cases generated and written per chunk (bounds memory).
    chunk_cases: int = 50_000
