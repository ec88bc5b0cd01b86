"""SAP S/4HANA SD + FI: document flow (`VBFA`) chains, sales documents, deliveries, billing, FI.

The case is found by walking `VBFA` from each document back to its chain's root
sales document (CRM opportunity `b`, inquiry, quotation, or an order nothing
precedes). Alone, that root is the case id; behind a CRM, the root's configured
reference field (default `VBAK.BSTNK`) carries the CRM opportunity id. Only
`VBFA` is required: with `VBAK`, `VBRK`, `LIKP` and `BSAD` more activities and
attributes appear. Dates and times are `YYYYMMDD` / `HHMMSS` in the system's time zone (a
blank time is midnight, counted as date-only). Tables come as SE16 / SE16N downloads (CSV or
tab-separated text, any encoding), ODP or SLT extracts: rows an SLT or ODP extract flags as
deleted (`IUUC_OPERAT_FLAG` / `ODQ_CHANGEMODE` = D) are left out, and of a text table's
languages (`SPRAS`) the configured one is read.
"""

from __future__ import annotations

from dataclasses import replace
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..errors import Lead2CashError
from ..object_model import ObjectType, Qualifier, ValueType
from . import sap_crm
from .config import Setting, Settings
from .defaults import DEFAULTS
from .engine import EventRule, Mapping, lits
from .objects import Document, ObjectRef, touches
from .regions import TABLE, region_join, region_lookup_sql, regions_setting
from .spec import SourceTable, TimeField

__all__ = ["IS_CRM", "SETTINGS", "mapping"]

IS_CRM = (
    False  # an ERP: behind a CRM its documents join the CRM opportunity through a reference field
)

_D = DEFAULTS["sap-s4hana"]
_ST = _D.status

SETTINGS: tuple[Setting, ...] = (
    Setting(
        "timezone", _D.time_zone, "time zone of the SAP application server (ERDAT/ERZET are local)"
    ),
    Setting(
        "opportunity_field",
        "VBAK.BSTNK",
        "field carrying the CRM opportunity id when a CRM is extracted too "
        "(VBAK.BSTNK or VBAK.XBLNR)",
    ),
    Setting(
        "salesforce_ids",
        True,
        "behind a CRM, a 15-character reference of letters and digits (not digits only) is a "
        "Salesforce id and gets its 18-character form; false if the CRM has other such codes",
    ),
    Setting(
        "root_categories",
        ["b", "A", "B", "C"],
        "VBTYP of documents that can start a case: CRM opportunity, inquiry, quotation, order",
    ),
    Setting(
        "chain_categories",
        ["b", "A", "B", "C", "G", "J", "R", "M", "N"],
        "VBTYP followed in VBFA (others, e.g. Q transfer orders holding dates in VBELN, "
        "are ignored)",
    ),
    Setting(
        "quotation",
        list(_ST["quotation"]),
        "VBTYP of quotations (Quote Issued; B -> C is Quote Accepted)",
    ),
    Setting("order", list(_ST["order"]), "VBTYP of sales orders (Sales Order Created)"),
    Setting("inquiry", ["A"], "VBTYP of inquiries (Opportunity Created when no CRM is extracted)"),
    Setting("delivery", list(_ST["delivery"]), "VBTYP of deliveries"),
    Setting(
        "goods_movement",
        list(_ST["goods_movement"]),
        "VBTYP of goods movements: delivery -> goods movement is Order Fulfilled",
    ),
    Setting(
        "goods_issued",
        list(_ST["order_fulfilled"]),
        "LIKP.WBSTK values of a posted goods issue (Order Fulfilled at WADAT_IST + SPE_WAUHR_IST)",
    ),
    Setting("invoice", list(_ST["invoice"]), "VBTYP of invoices (Invoice Generated)"),
    Setting(
        "invoice_cancellation",
        list(_ST["invoice_cancellation"]),
        "VBTYP of invoice cancellations: a cancelled invoice does not count",
    ),
    Setting(
        "invoice_cancelled",
        list(_ST["invoice_cancelled"]),
        "VBRK.FKSTO values of cancelled invoices",
    ),
    Setting(
        "won_from_order",
        True,
        "without a CRM: the first order created from a quotation also means Opportunity Won",
    ),
    Setting(
        "lost_from_rejection",
        True,
        "without a CRM: a case whose quotations are all rejected (VBAK.ABSTK or every item's "
        "VBAP.ABGRU) and that has no order is Opportunity Lost, at the last ABGRU change document",
    ),
    Setting(
        "rejected",
        ["C"],
        "VBAK.ABSTK values meaning all items of the quotation are rejected",
    ),
    Setting(
        "contract", list(_ST["contract"]), "VBTYP of sales contracts (Contract Signed at creation)"
    ),
    regions_setting("KNA1.LAND1"),
    Setting(
        "language",
        "E",
        "SPRAS of the texts read (TVZBT payment terms, T023T material groups): the SAP code "
        '("E") or its ISO form ("EN"); a text missing in it is read in another language',
    ),
    *sap_crm.SETTINGS,
)

# SAP's one-letter language keys and their ISO 639 forms (SE16N shows either)
_SPRAS = {"E": "EN", "D": "DE", "F": "FR", "S": "ES", "I": "IT", "P": "PT", "N": "NL",
          "J": "JA", "1": "ZH", "R": "RU", "K": "DA", "V": "SV", "O": "NO", "U": "FI"}  # fmt: skip

_SAP = "sap"
_T = TimeField("ERDAT", _SAP, "ERZET")
_TABLES: tuple[SourceTable, ...] = (
    SourceTable(
        "VBFA",
        ("VBELV", "VBELN", "VBTYP_N", "VBTYP_V", "ERDAT", "ERZET"),
        times=(_T,),
        lineage="VBELN",
    ),
    SourceTable(
        "VBAK",
        ("VBELN", "VBTYP", "ERDAT", "ERZET"),
        key="VBELN",
        optional=True,
        times=(_T,),
        optional_columns=(
            "NETWR",
            "KUNNR",
            "ERNAM",
            "AUART",
            "BSTNK",
            "XBLNR",
            "VKBUR",
            "ABSTK",
        ),
        numbers=("NETWR",),
    ),
    SourceTable(
        "VBAP", ("VBELN", "POSNR", "NETWR"), optional=True, optional_columns=("MATKL", "ABGRU")
    ),
    SourceTable("VBKD", ("VBELN", "POSNR", "ZTERM"), optional=True),
    SourceTable("TVZBT", ("ZTERM", "VTEXT"), key="ZTERM", optional=True, language="SPRAS"),
    SourceTable(
        "KNA1", ("KUNNR", "NAME1"), key="KUNNR", optional=True, optional_columns=("LAND1",)
    ),
    SourceTable(
        "LIKP",
        ("VBELN", "WADAT_IST"),
        key="VBELN",
        optional=True,
        times=(TimeField("WADAT_IST", _SAP, "SPE_WAUHR_IST", required=False),),
        optional_columns=("SPE_WAUHR_IST", "WBSTK"),
    ),
    SourceTable(
        "VBRK",
        ("VBELN", "VBTYP", "ERDAT", "ERZET"),
        key="VBELN",
        optional=True,
        times=(_T,),
        optional_columns=("FKSTO", "SFAKN"),
    ),
    SourceTable(
        "BSAD",
        ("VBELN", "AUGDT", "BELNR"),
        optional=True,
        times=(TimeField("AUGDT", _SAP),),
        optional_columns=("BUKRS", "AUGBL", "XNEGP"),
    ),
    SourceTable(
        "BKPF", ("BUKRS", "BELNR"), optional=True, optional_columns=("GJAHR", "STBLG", "XREVERSAL")
    ),
    *sap_crm.TABLES,
)
# every table: rows an SLT (logical delete) or ODP delta extract marks as deleted; AEDAT (changed
# on) where a table has it, for the data's age
TABLES = tuple(
    replace(
        t,
        deleted=(("IUUC_OPERAT_FLAG", ("d",)), ("ODQ_CHANGEMODE", ("d",))),
        stamps=(TimeField("AEDAT", _SAP),),
    )
    for t in _TABLES
)


# A cleared invoice line is a payment unless a reversal is involved: the line is a negative
# posting (XNEGP), or its document or its clearing document is reversed or reverses another
# (BKPF: STBLG set, XREVERSAL 1 reversed / 2 reversal; BSAD: a line with XNEGP).
_DOC = "coalesce(trim({t}BUKRS), '') || '/' || trim({t}{belnr})"
_REVERSALS = (
    f"SELECT {_DOC.format(t='', belnr='BELNR')} FROM {{BKPF}} WHERE BELNR IS NOT NULL AND "
    "(nullif(trim(STBLG), '') IS NOT NULL OR trim(XREVERSAL) IN ('1', '2')) "
    f"UNION SELECT {_DOC.format(t='', belnr='BELNR')} FROM {{BSAD}} "
    "WHERE BELNR IS NOT NULL AND trim(XNEGP) = 'X'"
)
_NOT_REVERSED = (
    "coalesce(trim(t.XNEGP), '') <> 'X' "
    f"AND {_DOC.format(t='t.', belnr='BELNR')} NOT IN ({_REVERSALS}) "
    f"AND coalesce({_DOC.format(t='t.', belnr='AUGBL')}, '') NOT IN ({_REVERSALS})"
)


def _reference_field(cfg: Settings) -> str:
    """The VBAK field carrying the CRM opportunity id (`opportunity_field`, e.g. VBAK.BSTNK)."""
    table, _, column = str(cfg["opportunity_field"]).partition(".")
    if table != "VBAK" or not column:
        raise Lead2CashError(
            f"opportunity_field = {cfg['opportunity_field']!r}: not a VBAK field",
            'use a sales document header field, e.g. "VBAK.BSTNK" or "VBAK.XBLNR"',
        )
    return column


def _timezone(cfg: Settings) -> str:
    """The server time zone setting, checked against the IANA database."""
    try:
        ZoneInfo(str(cfg["timezone"]))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise Lead2CashError(
            f"timezone = {cfg['timezone']!r}: not a known time zone",
            'use an IANA name such as "Europe/Berlin" or "UTC"',
        ) from exc
    return str(cfg["timezone"])


def _tables(cfg: Settings, crm_present: bool) -> tuple[SourceTable, ...]:
    """The SAP tables, VBAK with the configured reference field (behind a CRM, holding
    Salesforce ids in their 18-character form unless `salesforce_ids` is off)."""
    ref = _reference_field(cfg)
    ids = (ref,) if crm_present and cfg["salesforce_ids"] else ()
    lang = str(cfg["language"]).strip().upper()
    iso = {v: k for k, v in _SPRAS.items()}
    languages = tuple(dict.fromkeys((lang, _SPRAS.get(lang, lang), iso.get(lang, lang))))
    return tuple(
        replace(
            t,
            optional_columns=tuple(dict.fromkeys((*t.optional_columns, ref))),
            salesforce_ids=ids,
        )
        if t.name == "VBAK"
        else replace(t, languages=languages)
        if t.language
        else t
        for t in TABLES
    )


def _chain_sql(cfg: Settings, crm_present: bool) -> str:
    """doc -> case id: each document's chain root (walking VBFA back), or its CRM reference."""
    cats = lits(cfg["chain_categories"])
    roots = lits(cfg["root_categories"])
    ref = _reference_field(cfg)
    case = (
        "coalesce(CASE WHEN r.ref IN (SELECT OBJECT_ID FROM {CRMS4D_OPPT_H}) THEN r.ref END, "
        "c.root)"
    )
    if crm_present:
        case = "coalesce(r.ref, c.root)"
    return f"""
    WITH RECURSIVE edges AS (
      SELECT DISTINCT trim(VBELV) AS pre, trim(VBTYP_V) AS pre_cat, trim(VBELN) AS doc
      FROM {{VBFA}} WHERE trim(VBTYP_V) IN {cats} AND trim(VBTYP_N) IN {cats}
        AND trim(VBELV) <> trim(VBELN)
    ), nodes AS (
      SELECT pre AS doc, pre_cat AS cat FROM edges
      UNION SELECT trim(VBELN), trim(VBTYP) FROM {{VBAK}}
    ), roots AS (
      SELECT doc FROM nodes WHERE cat IN {roots} AND doc NOT IN (SELECT doc FROM edges)
    ), walk(root, doc) AS (
      SELECT doc, doc FROM roots
      UNION SELECT w.root, e.doc FROM walk w JOIN edges e ON e.pre = w.doc
    ), chain AS (SELECT doc, min(root) AS root FROM walk GROUP BY doc),
    refs AS (
      SELECT c.root, min(nullif(trim(k.{ref}), '')) AS ref
      FROM chain c JOIN {{VBAK}} k ON trim(k.VBELN) = c.doc GROUP BY c.root
    )
    SELECT c.doc, c.root, {case} AS case_id FROM chain c LEFT JOIN refs r USING (root)"""


def mapping(cfg: Settings, crm_present: bool) -> Mapping:
    """The SAP mapping under a configuration; behind a CRM the case id is the CRM reference."""
    c = "JOIN {chain} ch ON ch.doc = trim(t.VBELN)"
    cv = "JOIN {chain} ch ON ch.doc = trim(t.VBELV)"
    cat = {
        k: lits(cfg[k])
        for k in (
            "quotation",
            "order",
            "inquiry",
            "delivery",
            "goods_movement",
            "invoice",
            "invoice_cancellation",
        )
    }
    # an invoice is cancelled by a cancellation document following it in VBFA, or one naming it
    # in VBRK.SFAKN (when VBFA lacks the link)
    cancelled = (
        f"trim(t.VBELN) NOT IN (SELECT trim(VBELV) FROM {{VBFA}} "
        f"WHERE trim(VBTYP_N) IN {cat['invoice_cancellation']}) "
        f"AND trim(t.VBELN) NOT IN (SELECT trim(SFAKN) FROM {{VBRK}} "
        f"WHERE nullif(trim(SFAKN), '') IS NOT NULL)"
    )
    no_vbak = "trim(t.VBELN) NOT IN (SELECT trim(VBELN) FROM {VBAK})"
    no_vbrk = "trim(t.VBELN) NOT IN (SELECT trim(VBELN) FROM {VBRK})"
    accepted = f"trim(t.VBTYP_V) IN {cat['quotation']} AND trim(t.VBTYP_N) IN {cat['order']}"
    events = [
        EventRule(
            "Quote Issued",
            "VBAK",
            "ERDAT",
            "ch.case_id",
            "VBELN",
            c,
            f"trim(t.VBTYP) IN {cat['quotation']}",
            objects=touches("Quote Issued", "t.VBELN"),
        ),
        EventRule(
            "Quote Issued",
            "VBFA",
            "ERDAT",
            "ch.case_id",
            "VBELN",
            c,
            f"trim(t.VBTYP_N) IN {cat['quotation']} AND {no_vbak}",
            once_per="trim(t.VBELN)",
            objects=touches("Quote Issued", "t.VBELN"),
        ),
        EventRule(
            "Quote Accepted",
            "VBFA",
            "ERDAT",
            "ch.case_id",
            "VBELN",
            cv,
            accepted,
            once_per="trim(t.VBELV)",
            objects=touches("Quote Accepted", "t.VBELV"),
        ),
        EventRule(
            "Sales Order Created",
            "VBAK",
            "ERDAT",
            "ch.case_id",
            "VBELN",
            c,
            f"trim(t.VBTYP) IN {cat['order']}",
            objects=touches("Sales Order Created", "t.VBELN"),
        ),
        EventRule(
            "Sales Order Created",
            "VBFA",
            "ERDAT",
            "ch.case_id",
            "VBELN",
            c,
            f"trim(t.VBTYP_N) IN {cat['order']} AND {no_vbak}",
            once_per="trim(t.VBELN)",
            objects=touches("Sales Order Created", "t.VBELN"),
        ),
        EventRule(
            "Order Fulfilled",
            "LIKP",
            "WADAT_IST",
            "ch.case_id",
            "VBELN",
            c,
            f"coalesce(trim(t.WBSTK), 'C') IN {lits(cfg['goods_issued'])}",
            objects=_fulfils("t.VBELN", cat),
        ),
        EventRule(
            "Order Fulfilled",
            "VBFA",
            "ERDAT",
            "ch.case_id",
            "VBELN",
            cv,
            f"trim(t.VBTYP_V) IN {cat['delivery']} AND trim(t.VBTYP_N) IN {cat['goods_movement']}"
            " AND trim(t.VBELV) NOT IN (SELECT trim(VBELN) FROM {LIKP})",
            once_per="trim(t.VBELV)",
            objects=_fulfils("t.VBELV", cat),
        ),
        EventRule(
            "Invoice Generated",
            "VBRK",
            "ERDAT",
            "ch.case_id",
            "VBELN",
            c,
            f"trim(t.VBTYP) IN {cat['invoice']} AND coalesce(trim(t.FKSTO), '') NOT IN "
            f"{lits(cfg['invoice_cancelled'])} AND {cancelled}",
            objects=_bills(cat),
        ),
        EventRule(
            "Invoice Generated",
            "VBFA",
            "ERDAT",
            "ch.case_id",
            "VBELN",
            c,
            f"trim(t.VBTYP_N) IN {cat['invoice']} AND {cancelled} AND {no_vbrk}",
            once_per="trim(t.VBELN)",
            objects=_bills(cat),
        ),
        EventRule(
            "Payment Received",
            "BSAD",
            "AUGDT",
            "ch.case_id",
            "BELNR",
            c + " JOIN {VBRK} k ON trim(k.VBELN) = trim(t.VBELN)",
            f"trim(k.VBTYP) IN {cat['invoice']} AND "
            f"coalesce(trim(k.FKSTO), '') NOT IN {lits(cfg['invoice_cancelled'])} AND "
            + cancelled.replace("t.VBELN", "k.VBELN")
            + f" AND {_NOT_REVERSED}",
            objects=touches("Payment Received", "coalesce(nullif(trim(t.AUGBL), ''), trim(t.BELNR))",
                            "t.VBELN"),
        ),
    ]
    events += [
        EventRule(
            "Contract Signed",
            "VBAK",
            "ERDAT",
            "ch.case_id",
            "VBELN",
            c,
            f"trim(t.VBTYP) IN {lits(cfg['contract'])}",
            objects=touches("Contract Signed", "t.VBELN"),
        ),
        sap_crm.created_rule(),
    ]
    prepare = {"chain": _chain_sql(cfg, crm_present), TABLE: region_lookup_sql(cfg["regions"])}
    if not crm_present:  # SD only: inquiries and orders stand in for the missing opportunity
        sd_only = "NOT EXISTS (SELECT 1 FROM {CRMS4D_OPPT_H})"
        events.append(
            EventRule(
                "Opportunity Created",
                "VBAK",
                "ERDAT",
                "ch.case_id",
                "VBELN",
                c,
                f"trim(t.VBTYP) IN {cat['inquiry']} AND ch.root = trim(t.VBELN) AND {sd_only}",
            )
        )
        if cfg["lost_from_rejection"]:
            events.append(
                EventRule(
                    "Opportunity Lost",
                    "CDHDR",
                    "UDATE",
                    "l.case_id",
                    "CHANGENR",
                    "JOIN {CDPOS} p ON p.OBJECTCLAS = t.OBJECTCLAS AND p.OBJECTID = t.OBJECTID "
                    "AND p.CHANGENR = t.CHANGENR JOIN {sd_lost} l ON l.doc = trim(t.OBJECTID) "
                    "AND l.changenr = t.CHANGENR",
                    "trim(p.FNAME) = 'ABGRU'",
                )
            )
            prepare["sd_lost"] = _lost_sql(cfg)
        if cfg["won_from_order"]:
            events.append(
                EventRule(
                    "Opportunity Won",
                    "VBFA",
                    "ERDAT",
                    "ch.case_id",
                    "VBELN",
                    cv,
                    f"{accepted} AND {sd_only}",
                    once_per="ch.case_id",
                )
            )
    return Mapping(
        "sap-s4hana",
        _tables(cfg, crm_present),
        tuple(events),
        _cases_sql(cfg),
        sap_crm.history(cfg),
        timezone=_timezone(cfg),
        prepare=prepare,
        case_table=("CRMS4D_OPPT_H", "OBJECT_ID"),
        crm_link=("VBAK", _reference_field(cfg), "opportunity_field") if crm_present else None,
        documents=_documents(cfg, cat, cancelled),
    )


def _orders_of(doc: str, cat: dict[str, str]) -> str:
    """SQL: the LIST of sales orders a delivery (`doc`) serves, from the document flow."""
    return (f"(SELECT list(DISTINCT trim(f.VBELV)) FROM {{VBFA}} f WHERE trim(f.VBELN) = trim({doc}) "
            f"AND trim(f.VBTYP_V) IN {cat['order']})")


def _fulfils(delivery: str, cat: dict[str, str]) -> tuple[ObjectRef, ...]:
    """E2O of a goods issue: its delivery and every order the delivery serves."""
    return (ObjectRef(ObjectType.DELIVERY, delivery, Qualifier.FULFILS),
            ObjectRef(ObjectType.SALES_ORDER, _orders_of(delivery, cat), Qualifier.FULFILS, many=True))


def _bills(cat: dict[str, str]) -> tuple[ObjectRef, ...]:
    """E2O of an invoice: the invoice and the orders it bills (directly, or through its deliveries)."""
    orders = (f"(SELECT list(DISTINCT o) FROM (SELECT trim(f.VBELV) AS o FROM {{VBFA}} f "
              f"WHERE trim(f.VBELN) = trim(t.VBELN) AND trim(f.VBTYP_V) IN {cat['order']} "
              f"UNION ALL SELECT trim(g.VBELV) FROM {{VBFA}} f JOIN {{VBFA}} g ON trim(g.VBELN) = trim(f.VBELV) "
              f"WHERE trim(f.VBELN) = trim(t.VBELN) AND trim(f.VBTYP_V) IN {cat['delivery']} "
              f"AND trim(g.VBTYP_V) IN {cat['order']}))")
    return (*touches("Invoice Generated", "t.VBELN"),
            ObjectRef(ObjectType.SALES_ORDER, orders, Qualifier.BILLS, many=True))


def _documents(cfg: Settings, cat: dict[str, str], cancelled: str) -> tuple[Document, ...]:
    """SAP's documents as objects: SD documents by category (VBAK, LIKP, VBRK), their flow
    (VBFA) as O2O, clearing documents of invoices (BSAD AUGBL) as payments, customers (KNA1)."""
    T, Q, V = ObjectType, Qualifier, ValueType
    flow = "LEFT JOIN {{VBFA}} f ON trim(f.VBELN) = trim(t.VBELN) AND trim(f.VBTYP_V) IN {cats}"
    chain = "LEFT JOIN {chain} ch ON ch.doc = trim(t.VBELN)"
    return (
        Document(T.CUSTOMER, "KNA1", "t.KUNNR", attributes=(("Name", "t.NAME1", V.STRING),)),
        Document(T.QUOTE, "VBAK", "t.VBELN", where=f"trim(t.VBTYP) IN {cat['quotation']}", joins=chain,
                 links=(ObjectRef(T.OPPORTUNITY, "ch.case_id", Q.QUOTE_OF),)),
        Document(T.CONTRACT, "VBAK", "t.VBELN", where=f"trim(t.VBTYP) IN {lits(cfg['contract'])}",
                 joins=chain, links=(ObjectRef(T.OPPORTUNITY, "ch.case_id", Q.CONTRACT_OF),)),
        Document(T.SALES_ORDER, "VBAK", "t.VBELN", where=f"trim(t.VBTYP) IN {cat['order']}",
                 joins=chain + " " + flow.format(cats=cat["quotation"]),
                 links=(ObjectRef(T.OPPORTUNITY, "ch.case_id", Q.ORDER_OF),
                        ObjectRef(T.QUOTE, "f.VBELV", Q.ORDER_OF))),
        Document(T.DELIVERY, "LIKP", "t.VBELN", joins=flow.format(cats=cat["order"]),
                 links=(ObjectRef(T.SALES_ORDER, "f.VBELV", Q.DELIVERY_OF),)),
        Document(T.INVOICE, "VBRK", "t.VBELN", where=f"trim(t.VBTYP) IN {cat['invoice']}",
                 joins=flow.format(cats=cat["delivery"])
                 + " LEFT JOIN {VBFA} g ON trim(g.VBELN) = trim(f.VBELV) "
                 f"AND trim(g.VBTYP_V) IN {cat['order']}",
                 links=(ObjectRef(T.DELIVERY, "f.VBELV", Q.INVOICE_OF),
                        ObjectRef(T.SALES_ORDER, "g.VBELV", Q.INVOICE_OF)),
                 attributes=(("Cancelled", f"NOT ({cancelled}) OR coalesce(trim(t.FKSTO), '') "
                              f"IN {lits(cfg['invoice_cancelled'])}", V.BOOLEAN),)),
        # the clearing document of a valid invoice's line: the payment that cleared it
        Document(T.PAYMENT, "BSAD", "t.AUGBL", joins="JOIN {VBRK} k ON trim(k.VBELN) = trim(t.VBELN)",
                 where=f"nullif(trim(t.VBELN), '') IS NOT NULL AND trim(k.VBTYP) IN {cat['invoice']} AND "
                 f"coalesce(trim(k.FKSTO), '') NOT IN {lits(cfg['invoice_cancelled'])} AND "
                 + cancelled.replace("t.VBELN", "k.VBELN") + f" AND {_NOT_REVERSED}",
                 links=(ObjectRef(T.INVOICE, "t.VBELN", Q.CLEARS),)),
    )


def _lost_sql(cfg: Settings) -> str:
    """SD only: per case whose quotations are all rejected and that has no order, the last
    `VBAP-ABGRU` change document (object class VERKBELEG) that rejected one of them."""
    return f"""
    WITH items AS (
      SELECT trim(VBELN) AS doc, bool_and(coalesce(trim(ABGRU), '') <> '') AS rejected
      FROM {{VBAP}} GROUP BY 1
    ), quotes AS (
      SELECT ch.case_id, ch.doc,
             coalesce(trim(k.ABSTK), '') IN {lits(cfg["rejected"])}
               OR coalesce(i.rejected, FALSE) AS rejected
      FROM {{chain}} ch JOIN {{VBAK}} k ON trim(k.VBELN) = ch.doc
      LEFT JOIN items i ON i.doc = ch.doc
      WHERE trim(k.VBTYP) IN {lits(cfg["quotation"])}
    ), orders AS (
      SELECT trim(VBELN) AS doc FROM {{VBFA}} WHERE trim(VBTYP_N) IN {lits(cfg["order"])}
      UNION SELECT trim(VBELN) FROM {{VBAK}} WHERE trim(VBTYP) IN {lits(cfg["order"])}
    ), lost AS (
      SELECT case_id FROM quotes GROUP BY 1 HAVING bool_and(rejected)
      EXCEPT SELECT ch.case_id FROM {{chain}} ch JOIN orders USING (doc)
    )
    SELECT l.case_id, q.doc, h.CHANGENR AS changenr
    FROM lost l JOIN quotes q USING (case_id)
    JOIN {{CDHDR}} h ON trim(h.OBJECTID) = q.doc AND trim(h.OBJECTCLAS) = 'VERKBELEG'
    JOIN {{CDPOS}} p ON p.OBJECTCLAS = h.OBJECTCLAS AND p.OBJECTID = h.OBJECTID
      AND p.CHANGENR = h.CHANGENR
    WHERE coalesce(trim(p.TABNAME), 'VBAP') = 'VBAP' AND trim(p.FNAME) = 'ABGRU'
      AND coalesce(trim(p.VALUE_NEW), '') <> ''
      AND NOT EXISTS (SELECT 1 FROM {{CRMS4D_OPPT_H}})
    QUALIFY row_number() OVER (PARTITION BY l.case_id
                               ORDER BY h."UDATE@utc" DESC, h.CHANGENR DESC) = 1"""


def _cases_sql(cfg: Settings) -> str:
    """Case attributes: the CRM opportunity's, else the chain's order (else first document)."""
    join, land, country = region_join("cu.LAND1")
    orders = lits(cfg["order"])
    return f"""
    WITH docs AS (
      SELECT ch.case_id, k.*, row_number() OVER (PARTITION BY ch.case_id
        ORDER BY (trim(k.VBTYP) IN {orders}) DESC, k."ERDAT@utc", k._row) AS n
      FROM {{chain}} ch JOIN {{VBAK}} k ON trim(k.VBELN) = ch.doc
    ), item AS (
      SELECT VBELN, MATKL FROM {{VBAP}}
      QUALIFY row_number() OVER (PARTITION BY VBELN
                                 ORDER BY TRY_CAST(NETWR AS DOUBLE) DESC NULLS LAST, _row) = 1
    ), sd AS (SELECT * FROM docs WHERE n = 1), crm AS ({sap_crm.cases_sql(cfg)})
    SELECT coalesce(o.case_id, d.case_id) AS SalesOpportunityId,
           coalesce(o.amount, TRY_CAST(d.NETWR AS DOUBLE)) AS OpportunityAmount,
             cu.NAME1 AS CustomerName,
           coalesce(o.owner, nullif(trim(d.ERNAM), '')) AS OpportunityOwner, {land} AS SalesRegion,
           {country} AS _country,
           coalesce(mt.WGBEZ, i.MATKL) AS ProductCategory, o.stage AS SalesStage,
           coalesce(tz.VTEXT, nullif(trim(kd.ZTERM), '')) AS PaymentTerms
    FROM crm o FULL OUTER JOIN sd d ON d.case_id = o.case_id
    LEFT JOIN {{KNA1}} cu ON cu.KUNNR = coalesce(o.kunnr, d.KUNNR)
    {join}
    LEFT JOIN item i ON i.VBELN = d.VBELN
    LEFT JOIN {{T023T}} mt ON mt.MATKL = i.MATKL
    LEFT JOIN {{VBKD}} kd ON kd.VBELN = d.VBELN AND trim(kd.POSNR) IN ('000000', '0', '')
    LEFT JOIN {{TVZBT}} tz ON tz.ZTERM = kd.ZTERM"""
