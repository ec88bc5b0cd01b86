"""SAP S/4HANA SD and FI extracts: tables as SE16 / an ODP extractor gives them.

Dates are `YYYYMMDD` and times `HHMMSS` in the application server's local time
(`time_zone` in the manifest), `00000000` for an empty date, document numbers
CHAR 10 with leading zeros, every table starting with the client `MANDT`.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..model import SOURCE_SYSTEMS
from ..object_model import ObjectType, Qualifier
from .calendar import BusinessCalendar
from .ground_truth import Documents, Events, activity, order_terms, own
from .params import SimulationParams
from .process import Chunk
from .text import concat, const, digits, money, short_ids, take, time_text
from .world import COUNTRIES, World

__all__ = ["KEY", "MATKL", "flow", "kunnr", "master", "order_to_cash", "vbak", "vbap"]

KEY = "sap-s4hana"
SYSTEM = SOURCE_SYSTEMS[KEY]
CSV_QUOTING = "none"
MANDT, BUKRS, WAERK = "100", "1000", "USD"
# Number ranges (per document category, as SAP keeps them apart).
ORDER, DELIVERY, INVOICE, CANCEL, FI_INVOICE, FI_PAYMENT = (
    100_000_000, 800_000_000, 900_000_000, 950_000_000, 1_000_000_000, 1_400_000_000)
_EMPTY_DATE = "00000000"
MATKL = ("LIC", "SUB", "SRV", "HW")



def kunnr(customer: np.ndarray) -> pa.Array:
    """Customer numbers (`KNA1-KUNNR`)."""
    return digits(100_000 + np.asarray(customer), 10)


def _dt(cal: BusinessCalendar, utc: np.ndarray) -> tuple[pa.Array, pa.Array]:
    """(ERDAT, ERZET): local date and time of UTC instants."""
    local = cal.local(utc)
    return time_text(local, "%Y%m%d"), time_text(local, "%H%M%S")


def _day(days: np.ndarray) -> pa.Array:
    return time_text(np.asarray(days, np.int64) * 86_400, "%Y%m%d")


def _table(n: int, **columns: pa.Array | str) -> pa.Table:
    """A table starting with MANDT; string values are broadcast as constants."""
    cols = {"MANDT": const(MANDT, n)}
    cols |= {k: const(v, n) if isinstance(v, str) else v for k, v in columns.items()}
    return pa.table(cols)


def master(p: SimulationParams, world: World) -> dict[str, pa.Table]:
    """Customer master `KNA1` and payment-terms texts `TVZBT`."""
    n = len(world.customer_country)
    terms = p.payment_terms
    return {
        "KNA1.csv": _table(n, KUNNR=kunnr(np.arange(n)), NAME1=world.customer_name,
                           LAND1=take(COUNTRIES, world.customer_country), KTOKD="0001"),
        "TVZBT.csv": _table(len(terms), SPRAS="E", ZTERM=pa.array([t.sap_key for t in terms]),
                            VTEXT=pa.array([t.name for t in terms])),
    }


def vbak(n: int, **columns: pa.Array | str) -> pa.Table:
    """Sales document headers (quotations, orders, contracts share one table and column set)."""
    defaults = dict(ERNAM="SALES_RFC", AUDAT=columns["ERDAT"], WAERK=WAERK, VKORG="1000",
                    VTWEG="10", SPART="00", GBSTK="", BSTNK="", ANGDT="", BNDDT="", ABSTK="",
                    VGBEL="")
    order = ("VBELN", "ERDAT", "ERZET", "ERNAM", "AUDAT", "VBTYP", "AUART", "NETWR", "WAERK",
             "VKORG", "VTWEG", "SPART", "KUNNR", "GBSTK", "BSTNK", "ANGDT", "BNDDT", "ABSTK",
             "VGBEL")
    merged = defaults | columns
    return _table(n, **{k: merged[k] for k in order})


def vbap(n: int, vbeln: pa.Array, family: np.ndarray, cents: np.ndarray, erdat: pa.Array,
         erzet: pa.Array, abgru: pa.Array | str) -> pa.Table:
    """One item `000010` per sales document; `MATKL` is the product family's material group."""
    return _table(n, VBELN=vbeln, POSNR="000010", MATNR=concat("MAT-", take(MATKL, family)),
                  MATKL=take(MATKL, family), KWMENG="1.000", NETWR=money(cents), WAERK=WAERK,
                  ABGRU=abgru, ERDAT=erdat, ERZET=erzet)


def flow(cal: BusinessCalendar, links: list[tuple[pa.Array, pa.Array, str, str, np.ndarray,
                                                  np.ndarray]]) -> pa.Table:
    """`VBFA` rows (preceding, subsequent, VBTYP_V, VBTYP_N, created UTC, value in cents)."""
    parts = []
    for prev, nxt, tv, tn, when, amt in links:
        erdat, erzet = _dt(cal, when)
        parts.append(_table(len(nxt), VBELV=prev, POSNV="000010", VBELN=nxt, POSNN="000010",
                            VBTYP_V=tv, VBTYP_N=tn, RFMNG="1.000", RFWRT=money(amt),
                            WAERS=WAERK, ERDAT=erdat, ERZET=erzet))
    return pa.concat_tables(parts)


def _record(file: str, key: str, values: pa.Array) -> pa.Array:
    return concat(f"{KEY}/{file}:{key}=", values)


def master_documents(p: SimulationParams, world: World) -> list[Documents]:
    """The customers of `KNA1` as objects."""
    return [Documents(ObjectType.CUSTOMER, kunnr(np.arange(len(world.customer_country))))]


def order_to_cash(p: SimulationParams, c: Chunk, cal: BusinessCalendar, opp_ids: pa.Array
                  ) -> tuple[dict[str, pa.Table], list[Events | Documents], dict[str, pa.Array]]:
    """Orders (VBAK/VBAP/VBKD), deliveries (LIKP), billing (VBRK/VBRP), flow (VBFA), FI (BSAD/BSID).

    The CRM opportunity id travels in the order's customer reference `VBAK-BSTNK`.
    """
    gcase = c.case0 + c.o_case
    no = len(c.o_case)
    vbeln = digits(ORDER + gcase, 10)
    erdat, erzet = _dt(cal, c.o_time)
    amount = c.amount[c.o_case]
    terms = c.terms[c.o_case]
    zterm = take([t.sap_key for t in p.payment_terms], terms)
    tables: dict[str, pa.Table] = {
        "VBAK.csv": vbak(no, VBELN=vbeln, ERDAT=erdat, ERZET=erzet, VBTYP="C", AUART="OR",
                         NETWR=money(amount), KUNNR=kunnr(c.customer[c.o_case]),
                         GBSTK=pa.array(np.where(
                             np.bincount(c.i_order, minlength=no) > 0, "C", "A")),
                         BSTNK=short_ids(opp_ids.take(pa.array(c.o_case)), p.short_id_share)),
        "VBAP.csv": vbap(no, vbeln, c.family[c.o_case], amount, erdat, erzet, ""),
        "VBKD.csv": _table(no, VBELN=vbeln, POSNR="000000", ZTERM=zterm,
                           BSTKD=short_ids(opp_ids.take(pa.array(c.o_case)), p.short_id_share)),
    }
    # deliveries: created a few hours before goods issue; goods issue = Order Fulfilled
    nd = len(c.d_order)
    d_vbeln = digits(DELIVERY + gcase[c.d_order] * 4 + c.d_no, 10)
    d_created = c.d_time - 3 * 3600
    d_erdat, d_erzet = _dt(cal, d_created)
    gi_dat, gi_zet = _dt(cal, c.d_time)
    tables["LIKP.csv"] = _table(nd, VBELN=d_vbeln, ERDAT=d_erdat, ERZET=d_erzet, LFART="LF",
                                WADAT=gi_dat, WADAT_IST=gi_dat, SPE_WAUHR_IST=gi_zet,
                                KUNNR=kunnr(c.customer[c.o_case[c.d_order]]), VBTYP="J",
                                WBSTK="C")
    # billing: valid invoices, the cancelled first copies and their cancellation documents
    inv_key = gcase[c.i_order] * 8 + c.i_no * 2
    i_vbeln = digits(INVOICE + inv_key, 10)
    cut = c.i_cancelled_time >= 0
    x_vbeln = digits(INVOICE + inv_key[cut] + 1, 10)
    s_vbeln = digits(CANCEL + inv_key[cut] + 1, 10)
    i_ref = digits(DELIVERY + gcase[c.i_order] * 4 + c.i_no, 10)
    i_erdat, i_erzet = _dt(cal, c.i_time)
    x_erdat, x_erzet = _dt(cal, c.i_cancelled_time[cut])
    s_time = c.i_time[cut] - 600
    s_erdat, s_erzet = _dt(cal, s_time)
    order_no = vbeln.take(pa.array(c.i_order))
    i_zterm = zterm.take(pa.array(c.i_order))

    i_cust = c.customer[c.o_case[c.i_order]]

    def billing(v: pa.Array, typ: str, ed: pa.Array, ez: pa.Array, sel: np.ndarray,
                fksto: str, sfakn: pa.Array | str) -> pa.Table:
        return _table(len(v), VBELN=v, FKART="F2" if typ == "M" else "S1", VBTYP=typ, FKDAT=ed,
                      ERDAT=ed, ERZET=ez, NETWR=money(c.i_amount[sel]), WAERK=WAERK,
                      KUNRG=kunnr(i_cust[sel]), BUKRS=BUKRS, FKSTO=fksto, SFAKN=sfakn,
                      ZTERM=i_zterm.take(pa.array(sel)))

    every = np.arange(len(c.i_order))
    tables["VBRK.csv"] = pa.concat_tables([
        billing(i_vbeln, "M", i_erdat, i_erzet, every, "", ""),
        billing(x_vbeln, "M", x_erdat, x_erzet, every[cut], "X", ""),
        billing(s_vbeln, "N", s_erdat, s_erzet, every[cut], "", x_vbeln),
    ])
    all_inv = pa.concat_arrays([i_vbeln, x_vbeln])
    all_sel = np.r_[np.arange(len(c.i_order)), np.flatnonzero(cut)]
    tables["VBRP.csv"] = _table(len(all_sel), VBELN=all_inv, POSNR="000010",
                                FKIMG="1.000", NETWR=money(c.i_amount[all_sel]),
                                AUBEL=order_no.take(pa.array(all_sel)), AUPOS="000010",
                                VGBEL=i_ref.take(pa.array(all_sel)), VGPOS="000010")
    tables["VBFA.csv"] = _flow(c, cal, vbeln, d_vbeln, d_created, i_vbeln, i_ref,
                               x_vbeln, s_vbeln, s_time, cut)
    tables |= _fi(c, cal, i_vbeln, x_vbeln, s_vbeln, inv_key, cut, s_time, i_zterm)
    paid = _settled(c)
    # the payment object: the clearing document of each cleared valid invoice
    clearing = np.full(len(inv_key), -1, np.int64)
    settles = c.p_settles
    clearing[c.p_invoice[settles]] = (FI_PAYMENT + inv_key[c.p_invoice] + c.p_no)[settles]
    pay_doc = digits(clearing[paid], 10)
    i_paid = i_vbeln.filter(pa.array(paid))
    d_order_no = vbeln.take(pa.array(c.d_order))
    T, Q = ObjectType, Qualifier
    events: list[Events | Documents] = [
        Documents(T.SALES_ORDER, vbeln, ((Q.ORDER_OF, opp_ids.take(pa.array(c.o_case))),)),
        Documents(T.DELIVERY, d_vbeln, ((Q.DELIVERY_OF, d_order_no),)),
        Documents(T.INVOICE, all_inv, ((Q.INVOICE_OF, i_ref.take(pa.array(all_sel))),
                                       (Q.INVOICE_OF, order_no.take(pa.array(all_sel))))),
        Documents(T.PAYMENT, pay_doc, ((Q.CLEARS, i_paid),)),
        Events(SYSTEM, c.o_case, np.full(no, activity("Sales Order Created")), c.o_time,
               _record("VBAK.csv", "VBELN", vbeln), objects=own("Sales Order Created", vbeln)),
        Events(SYSTEM, c.o_case[c.d_order], np.full(nd, activity("Order Fulfilled")), c.d_time,
               _record("LIKP.csv", "VBELN", d_vbeln),
               objects=(*own("Order Fulfilled", d_order_no), (T.DELIVERY.value, d_vbeln, Q.FULFILS.value))),
        Events(SYSTEM, c.o_case[c.i_order], np.full(len(c.i_order),
                                                    activity("Invoice Generated")),
               c.i_time, _record("VBRK.csv", "VBELN", i_vbeln),
               objects=own("Invoice Generated", i_vbeln, order_no)),
        Events(SYSTEM, c.o_case[c.i_order[paid]], np.full(paid.sum(),
                                                          activity("Payment Received")),
               _settle_day(c)[paid] * 86_400,
               _record("BSAD.csv", "BELNR", digits(FI_INVOICE + inv_key[paid], 10)),
               objects=own("Payment Received", pay_doc, i_paid)),
    ]
    return tables, events, order_terms([t.name for t in p.payment_terms], c)


def _settle_day(c: Chunk) -> np.ndarray:
    """Clearing date (day ordinal) of each valid invoice, -1 while (partly) open."""
    day = np.full(len(c.i_order), -1, np.int64)
    day[c.p_invoice[c.p_settles]] = c.p_day[c.p_settles]
    return day


def _settled(c: Chunk) -> np.ndarray:
    """Valid invoices cleared by the extraction."""
    return _settle_day(c) >= 0


def _flow(c: Chunk, cal: BusinessCalendar, vbeln: pa.Array, d_vbeln: pa.Array,
          d_created: np.ndarray, i_vbeln: pa.Array, i_ref: pa.Array, x_vbeln: pa.Array,
          s_vbeln: pa.Array, s_time: np.ndarray, cut: np.ndarray) -> pa.Table:
    """Document flow `VBFA`: order→delivery, delivery→goods movement, delivery→invoice,
    invoice→cancellation, each stamped when the follow-on document was created."""
    gcase = c.case0 + c.o_case
    goods = digits(4_900_000_000 + gcase[c.d_order] * 4 + c.d_no, 10)
    links = [  # (preceding, subsequent, VBTYP_V, VBTYP_N, created, amount cents)
        (vbeln.take(pa.array(c.d_order)), d_vbeln, "C", "J", d_created,
         np.zeros(len(c.d_order), np.int64)),
        (d_vbeln, goods, "J", "R", c.d_time, np.zeros(len(c.d_order), np.int64)),
        (i_ref, i_vbeln, "J", "M", c.i_time, c.i_amount),
        (i_ref.filter(pa.array(cut)), x_vbeln, "J", "M", c.i_cancelled_time[cut],
         c.i_amount[cut]),
        (x_vbeln, s_vbeln, "M", "N", s_time, c.i_amount[cut]),
    ]
    return flow(cal, links)


def _fi(c: Chunk, cal: BusinessCalendar, i_vbeln: pa.Array, x_vbeln: pa.Array,
        s_vbeln: pa.Array, inv_key: np.ndarray, cut: np.ndarray, s_time: np.ndarray,
        i_zterm: pa.Array) -> dict[str, pa.Table]:
    """Customer line items (cleared ones in `BSAD`, open ones in `BSID`) and their document
    headers `BKPF`.

    Invoices post a debit line (BLART RV, VBELN = billing document); payments post credit
    lines (BLART DZ, REBZG = the invoice's accounting document). An invoice is cleared, and
    all its lines get AUGDT/AUGBL, when its last payment arrives. A cancelled invoice and its
    cancellation clear each other on the cancellation date (no payment). A receipt that
    bounced was reset and reversed: the receipt and its reversal document (negative posting,
    XNEGP = X) clear each other, both headers name the other in STBLG (XREVERSAL 1 reversed,
    2 reversal); the invoice is cleared later by the real payment.
    """
    settle = _settle_day(c)
    inv_belnr = FI_INVOICE + inv_key
    pay_belnr = FI_PAYMENT + inv_key[c.p_invoice] + c.p_no
    clearing = np.full(len(inv_key), -1, np.int64)
    clearing[c.p_invoice[c.p_settles]] = pay_belnr[c.p_settles]
    inv_day = cal.local_day(c.i_time)
    cust = c.customer[c.o_case[c.i_order]]
    s_day = cal.local_day(s_time)
    x_belnr = FI_INVOICE + inv_key[cut] + 1
    s_belnr = FI_INVOICE + 100_000_000 + inv_key[cut] + 1
    b_inv = c.p_invoice[c.b_payment]
    b_belnr = FI_PAYMENT + 300_000_000 + inv_key[b_inv]
    r_belnr = FI_PAYMENT + 400_000_000 + inv_key[b_inv]
    b_cents = c.p_amount[c.b_payment]
    groups = [  # belnr, budat, augdt, augbl, blart, shkzg, cents, cust, rebzg, vbeln, zterm,
        #         xnegp, stblg (-1: none), xreversal
        (inv_belnr, inv_day, settle, clearing, "RV", "S", c.i_amount, cust, None, i_vbeln,
         i_zterm, "", None, ""),
        (pay_belnr, c.p_day, settle[c.p_invoice], clearing[c.p_invoice], "DZ", "H",
         c.p_amount, cust[c.p_invoice], inv_belnr[c.p_invoice], None, None, "", None, ""),
        (x_belnr, cal.local_day(c.i_cancelled_time[cut]), s_day, s_belnr, "RV", "S",
         c.i_amount[cut], cust[cut], None, x_vbeln, i_zterm.filter(pa.array(cut)), "", None, ""),
        (s_belnr, s_day, s_day, s_belnr, "RV", "H", c.i_amount[cut], cust[cut], None,
         s_vbeln, None, "", None, ""),
        (b_belnr, c.b_day, c.b_reversed_day, r_belnr, "DZ", "H", b_cents, cust[b_inv],
         inv_belnr[b_inv], None, None, "", r_belnr, "1"),
        (r_belnr, c.b_reversed_day, c.b_reversed_day, r_belnr, "DZ", "S", b_cents, cust[b_inv],
         inv_belnr[b_inv], None, None, "X", b_belnr, "2"),
    ]
    out: dict[str, list[pa.Table]] = {"BSAD.csv": [], "BSID.csv": [], "BKPF.csv": []}
    for (belnr, budat, augdt, augbl, blart, shkzg, cents, kun, rebzg, vbeln, zterm, xnegp,
         stblg, xrev) in groups:
        n = len(belnr)
        budat_t = _day(budat)
        gjahr = time_text(np.asarray(budat, np.int64) * 86_400, "%Y")
        t = _table(n, BUKRS=BUKRS, KUNNR=kunnr(kun),
                   AUGDT=pc.if_else(pa.array(augdt >= 0), _day(np.maximum(augdt, 0)),
                                    _EMPTY_DATE),
                   AUGBL=pc.if_else(pa.array(augbl >= 0), digits(np.maximum(augbl, 0), 10), ""),
                   GJAHR=gjahr, BELNR=digits(belnr, 10), BUZEI="001", BUDAT=budat_t,
                   BLDAT=budat_t, BLART=blart, SHKZG=shkzg, DMBTR=money(cents), WAERS=WAERK,
                   ZFBDT=budat_t, ZTERM=zterm if zterm is not None else "",
                   REBZG=digits(rebzg, 10) if rebzg is not None else "",
                   VBELN=vbeln if vbeln is not None else "", XNEGP=xnegp)
        cleared = pa.array(augdt >= 0)
        out["BSAD.csv"].append(t.filter(cleared))
        out["BSID.csv"].append(t.filter(pc.invert(cleared)))
        out["BKPF.csv"].append(_table(
            n, BUKRS=BUKRS, BELNR=digits(belnr, 10), GJAHR=gjahr, BLART=blart, BUDAT=budat_t,
            BLDAT=budat_t, CPUDT=budat_t, AWTYP="VBRK" if vbeln is not None else "BKPF",
            AWKEY=vbeln if vbeln is not None else concat(digits(belnr, 10), BUKRS, gjahr),
            STBLG=digits(stblg, 10) if stblg is not None else "",
            STJAH=gjahr if stblg is not None else "", XREVERSAL=xrev))
    return {k: pa.concat_tables(v) for k, v in out.items()}
