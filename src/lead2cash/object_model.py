"""The object model beside the event model: object types, relation qualifiers, value types.

Lead-to-Cash is not one object: one opportunity has several quotes, an order is
delivered in parts and billed in several invoices, one payment clears several
invoices. The workspace keeps these documents as typed objects next to the events
(see `objects.py` and docs/objects.md); this module names them once.
"""

from __future__ import annotations

from enum import StrEnum

from .model import ACTIVITY_NAMES, AttrType

__all__ = [
    "ACTIVITY_QUALIFIERS",
    "CASE_OBJECT_TYPE",
    "CASE_QUALIFIER",
    "EPOCH",
    "O2O",
    "OWN_DOCUMENT",
    "PARENT_DOCUMENT",
    "VALUE_TYPES",
    "ObjectType",
    "Qualifier",
    "ValueType",
    "value_type_of_attribute",
    "value_type_of_sql",
]


class ObjectType(StrEnum):
    """The Lead-to-Cash object types (a log may carry others, e.g. an imported OCEL 2.0 file)."""

    OPPORTUNITY = "Opportunity"
    QUOTE = "Quote"
    CONTRACT = "Contract"
    SALES_ORDER = "SalesOrder"
    DELIVERY = "Delivery"
    INVOICE = "Invoice"
    PAYMENT = "Payment"
    CUSTOMER = "Customer"


CASE_OBJECT_TYPE = ObjectType.OPPORTUNITY
"""The object the data model's case id (SalesOpportunityId) names."""


class Qualifier(StrEnum):
    """What an event does to an object (E2O), or how two objects relate (O2O)."""

    CREATES = "creates"
    QUALIFIES = "qualifies"
    UPDATES = "updates"
    QUOTES = "quotes"
    ACCEPTS = "accepts"
    SIGNS = "signs"
    WINS = "wins"
    LOSES = "loses"
    REOPENS = "reopens"
    ORDERS = "orders"
    FULFILS = "fulfils"
    BILLS = "bills"
    CLEARS = "clears"
    CONCERNS = "concerns"
    FOLLOWS = "follows"
    # object-to-object: "<source> of <target>"
    QUOTE_OF = "quote of"
    ORDER_OF = "order of"
    DELIVERY_OF = "delivery of"
    INVOICE_OF = "invoice of"
    CONTRACT_OF = "contract of"
    CUSTOMER_OF = "customer of"


_Q = Qualifier
# The qualifier of the relation between a model activity's event and its case object
# (the model's activity names, checked against model.py below).
ACTIVITY_QUALIFIERS: dict[str, Qualifier] = {
    "Opportunity Created": _Q.CREATES,
    "Opportunity Qualified": _Q.QUALIFIES,
    "Quote Issued": _Q.QUOTES,
    "Opportunity Won": _Q.WINS,
    "Opportunity Lost": _Q.LOSES,
    "Sales Order Created": _Q.ORDERS,
    "Invoice Generated": _Q.BILLS,
    "Payment Received": _Q.CLEARS,
    "Requirements Gathered": _Q.UPDATES,
    "Solution Proposed": _Q.UPDATES,
    "Opportunity Stage Changed": _Q.UPDATES,
    "Quote Accepted": _Q.ACCEPTS,
    "Contract Signed": _Q.SIGNS,
    "Order Fulfilled": _Q.FULFILS,
    "Opportunity Reopened": _Q.REOPENS,
}
if set(ACTIVITY_QUALIFIERS) != set(ACTIVITY_NAMES):  # pragma: no cover - guards model edits
    raise RuntimeError("object_model.ACTIVITY_QUALIFIERS must name exactly the model's activities")
CASE_QUALIFIER = Qualifier.CONCERNS
"""The qualifier for events whose activity is not one of the model's (plain imports of other logs)."""

O2O: dict[tuple[ObjectType, ObjectType], Qualifier] = {
    (ObjectType.QUOTE, ObjectType.OPPORTUNITY): Qualifier.QUOTE_OF,
    (ObjectType.CONTRACT, ObjectType.OPPORTUNITY): Qualifier.CONTRACT_OF,
    (ObjectType.SALES_ORDER, ObjectType.QUOTE): Qualifier.ORDER_OF,
    (ObjectType.SALES_ORDER, ObjectType.CONTRACT): Qualifier.ORDER_OF,
    (ObjectType.SALES_ORDER, ObjectType.OPPORTUNITY): Qualifier.ORDER_OF,
    (ObjectType.DELIVERY, ObjectType.SALES_ORDER): Qualifier.DELIVERY_OF,
    (ObjectType.INVOICE, ObjectType.SALES_ORDER): Qualifier.INVOICE_OF,
    (ObjectType.INVOICE, ObjectType.DELIVERY): Qualifier.INVOICE_OF,
    (ObjectType.INVOICE, ObjectType.CONTRACT): Qualifier.INVOICE_OF,
    (ObjectType.PAYMENT, ObjectType.INVOICE): Qualifier.CLEARS,
    (ObjectType.CUSTOMER, ObjectType.OPPORTUNITY): Qualifier.CUSTOMER_OF,
}
"""The usual object-to-object relations (source type, target type) and their qualifier."""


class ValueType(StrEnum):
    """OCEL 2.0's attribute value types; object attribute values are stored as text of one."""

    STRING = "string"
    TIME = "time"
    INTEGER = "integer"
    FLOAT = "float"
    BOOLEAN = "boolean"


VALUE_TYPES: tuple[str, ...] = tuple(v.value for v in ValueType)

EPOCH = "1970-01-01T00:00:00Z"
"""OCEL 2.0 writes an attribute value that holds from the start with this time."""

_FROM_ATTR = {AttrType.STRING: ValueType.STRING, AttrType.TIMESTAMP: ValueType.TIME,
              AttrType.DECIMAL: ValueType.FLOAT, AttrType.DURATION: ValueType.STRING}


def value_type_of_attribute(kind: AttrType) -> ValueType:
    """The value type a model attribute has as an object attribute (durations as text)."""
    return _FROM_ATTR[kind]


def value_type_of_sql(sql_type: str) -> ValueType:
    """The value type of a DuckDB column type (anything unknown is text)."""
    t = sql_type.upper()
    if t.startswith("TIMESTAMP") or t == "DATE":
        return ValueType.TIME
    if t in ("BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT", "UBIGINT", "UINTEGER",
             "USMALLINT", "UTINYINT"):
        return ValueType.INTEGER
    if t in ("DOUBLE", "FLOAT", "REAL") or t.startswith("DECIMAL"):
        return ValueType.FLOAT
    if t == "BOOLEAN":
        return ValueType.BOOLEAN
    return ValueType.STRING


_T = ObjectType
OWN_DOCUMENT: dict[str, tuple[ObjectType, Qualifier]] = {
    "Quote Issued": (_T.QUOTE, _Q.CREATES),
    "Quote Accepted": (_T.QUOTE, _Q.ACCEPTS),
    "Contract Signed": (_T.CONTRACT, _Q.SIGNS),
    "Sales Order Created": (_T.SALES_ORDER, _Q.CREATES),
    "Order Fulfilled": (_T.SALES_ORDER, _Q.FULFILS),
    "Invoice Generated": (_T.INVOICE, _Q.CREATES),
    "Payment Received": (_T.PAYMENT, _Q.CREATES),
}
"""The document a model activity's event is about (besides its opportunity) and the qualifier:
the quote a Quote Issued creates, the order an Order Fulfilled fulfils, ... Connectors and the
simulator's ground truth take it from here."""

PARENT_DOCUMENT: dict[str, tuple[ObjectType, Qualifier]] = {
    "Invoice Generated": (_T.SALES_ORDER, _Q.BILLS),
    "Payment Received": (_T.INVOICE, _Q.CLEARS),
}
"""The second document some events touch: an invoice bills its order, a payment clears its
invoice(s)."""
