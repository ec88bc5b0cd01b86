"""Documents that come and go: a reversed or bounced receipt is no payment, revisions of one
document do not multiply the events downstream, a line that shipped stays fulfilled whatever
status it moved to, in every connector where the shape exists (hand-written files under
tests/data/ in each system's shape)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from lead2cash.checks import check_log
from lead2cash.sources.registry import extract
from lead2cash.store import Workspace

DATA = Path(__file__).parent / "data"
WHEN = datetime(2024, 7, 27, 2, 0)


def _events(ws: Workspace, *activities: str) -> list[tuple]:
    return ws.con.execute(
        "SELECT ActivityName, strftime(EventTime, '%m-%d %H:%M'), "
        "regexp_extract(source_record, '=(.*)$', 1) FROM events "
        f"WHERE ActivityName IN ({', '.join('?' * len(activities))}) ORDER BY event_id",
        list(activities),
    ).fetchall()


def test_oracle_revisions_reversed_receipts_and_lines_after_shipping(
    workspace: Workspace,
) -> None:
    extract(workspace, {"oracle-cx": DATA / "oracle-documents"}, extracted_at=WHEN)
    assert _events(
        workspace,
        "Quote Issued",
        "Quote Accepted",
        "Sales Order Created",
        "Order Fulfilled",
        "Invoice Generated",
        "Payment Received",
    ) == [
        ("Quote Issued", "05-03 10:00", "600000000000411"),  # version 1
        ("Quote Issued", "05-04 10:00", "600000000000412"),  # version 2, same number
        ("Quote Accepted", "05-06 15:00", "600000000000412"),
        ("Sales Order Created", "05-07 09:00", "700000000000401"),  # not again for version 2
        ("Order Fulfilled", "05-09 14:00", "710000000000401"),  # now AWAIT_BILLING
        ("Order Fulfilled", "05-10 14:00", "710000000000402"),  # now CLOSED; CANCELED: none
        ("Invoice Generated", "05-11 00:00", "800000000000401"),  # once, not per version
        ("Payment Received", "06-03 00:00", "830000000000403"),  # the NSF receipt: none
    ]
    assert "duplicate-event" not in {f.rule for f in check_log(workspace).findings}
    terms = workspace.con.execute("SELECT DISTINCT PaymentTerms FROM events").fetchall()
    assert terms == [("Net 30",)]


def test_sap_reversal_documents_are_no_payment(workspace: Workspace) -> None:
    extract(workspace, {"sap-s4hana": DATA / "sap-reversals"}, extracted_at=WHEN)
    # invoice 32's document was reversed in FI (STBLG, and its XNEGP reversal line), invoice
    # 33 was cleared by a payment that was itself reversed: only invoice 31 was paid
    assert _events(workspace, "Invoice Generated", "Payment Received") == [
        ("Invoice Generated", "05-04 08:00", "0090000031"),
        ("Invoice Generated", "05-04 09:00", "0090000032"),
        ("Invoice Generated", "05-04 10:00", "0090000033"),
        ("Payment Received", "06-10 00:00", "1000000031"),
    ]


def test_dynamics_paid_then_back_to_active_is_no_payment(workspace: Workspace) -> None:
    extract(workspace, {"dynamics365": DATA / "dynamics-bounced-payment"}, extracted_at=WHEN)
    assert _events(workspace, "Order Fulfilled", "Payment Received") == [
        ("Order Fulfilled", "05-09 00:00", "bd000000-0000-0000-0000-000000000001"),  # Invoiced
        ("Payment Received", "06-03 08:00", "bf000000-0000-0000-0000-000000000003"),
    ]


def test_salesforce_cancelled_and_negative_payments_and_amendment_orders(
    workspace: Workspace,
) -> None:
    extract(workspace, {"salesforce": DATA / "salesforce-billing-reversals"}, extracted_at=WHEN)
    assert _events(workspace, "Sales Order Created", "Payment Received") == [
        ("Sales Order Created", "05-07 09:00", "8015g00000BillO1AAC"),  # amendments: none
        ("Payment Received", "05-22 00:00", "a1C5g00000BillP2AAC"),  # P1 Canceled: none
        ("Payment Received", "06-03 00:00", "a1C5g00000BillP4AAC"),  # P3 negative: none
    ]
