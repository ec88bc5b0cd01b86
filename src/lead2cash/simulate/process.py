"""The canonical Lead-to-Cash process of one chunk of cases, generated with numpy.

A chunk holds per-case attributes and flat arrays of stage-history rows, quotes,
contracts, orders, deliveries, invoices and payments, each with its case's local
index and its UTC time (epoch seconds; payments as day ordinals). Everything the
extraction could not yet see (later than LastDataUpdate) is already cut off, so
renderers only format. Loops run over stages or slots, never over events.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..sources.defaults import SOLUTION, SystemDefaults
from .calendar import DAY, BusinessCalendar
from .params import SimulationParams
from .world import REGIONS, World

__all__ = ["DEVIATIONS", "Chunk", "generate", "segments"]

DEVIATIONS: tuple[str, ...] = ("order for lost deal", "order before win", "payment before invoice")
"""The deviations the simulator can inject (`Chunk.dev_kind` indexes this)."""


def segments(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For variable-size children: the parent index of each child and its number within."""
    counts = np.asarray(counts, np.int64)
    parent = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    return parent, np.arange(len(parent)) - starts[parent]


@dataclass(slots=True)
class Chunk:
    """Cases `case0 .. case0+n-1` and everything that happened to them up to the extraction."""

    case0: int
    n: int
    lead_source: np.ndarray
    opp_type: np.ndarray
    customer: np.ndarray
    region: np.ndarray
    owner: np.ndarray
    family: np.ndarray
    amount: np.ndarray  # cents, final
    discount_half_pct: np.ndarray  # discount in half percent steps (25 = 12.5 %)
    terms: np.ndarray
    created: np.ndarray
    missing_lead_source: np.ndarray
    missing_type: np.ndarray
    # stage history rows: case, slot (stable id part), stage index, time, amount
    h_case: np.ndarray
    h_slot: np.ndarray
    h_stage: np.ndarray
    h_time: np.ndarray
    h_amount: np.ndarray
    final_stage: np.ndarray  # stage index of each case's last row at extraction
    # quotes (revisions): case, number, created, accepted (-1 if not), discount, last revision?
    q_case: np.ndarray
    q_no: np.ndarray
    q_time: np.ndarray
    q_accepted: np.ndarray
    q_discount_half_pct: np.ndarray
    q_closed: np.ndarray  # the deal closed by extraction: a not accepted quote is denied
    c_case: np.ndarray
    c_time: np.ndarray
    o_case: np.ndarray
    o_time: np.ndarray
    o_deliveries: np.ndarray  # deliveries planned; fulfilled once all are out
    d_order: np.ndarray  # index into orders
    d_no: np.ndarray
    d_time: np.ndarray
    i_order: np.ndarray
    i_no: np.ndarray
    i_time: np.ndarray
    i_cancelled_time: np.ndarray  # -1, or when the first, cancelled copy was created
    i_amount: np.ndarray
    i_due_day: np.ndarray
    p_invoice: np.ndarray
    p_no: np.ndarray
    p_day: np.ndarray
    p_amount: np.ndarray
    p_settles: np.ndarray  # this payment clears the invoice
    # receipts that bounced before a first payment: which payment (index into p_*), received
    # and reversed (day ordinals); they are no payment, so no event
    b_payment: np.ndarray
    b_day: np.ndarray
    b_reversed_day: np.ndarray
    dev_case: np.ndarray  # cases with an injected deviation (local index) ...
    dev_kind: np.ndarray  # ... and which one (index into DEVIATIONS)

    @property
    def case_ids(self) -> np.ndarray:
        """Global case numbers of the chunk."""
        return self.case0 + np.arange(self.n, dtype=np.int64)


def _logit(p: np.ndarray | float) -> np.ndarray:
    return np.log(p) - np.log1p(-np.asarray(p))


def _odds(table: dict[str, float], names: tuple[str, ...], codes: np.ndarray) -> np.ndarray:
    """Log odds multiplier of each case from a per-value table."""
    return np.log(np.array([table.get(k, 1.0) for k in names]))[codes]


def _choice(rng: np.random.Generator, weights: dict[str, float] | tuple[float, ...],
            n: int) -> np.ndarray:
    w = np.array(list(weights.values()) if isinstance(weights, dict) else weights, float)
    return rng.choice(len(w), n, p=w / w.sum())


def generate(p: SimulationParams, crm: SystemDefaults, world: World, cal: BusinessCalendar,
             ldu: int, case0: int, n: int, seed: int) -> Chunk:
    """Simulate cases `case0..case0+n-1` with the CRM's stages, cut at the extraction time."""
    rng = np.random.default_rng([seed, 1 + case0])
    W = cal.work_seconds
    ls = _choice(rng, p.lead_sources, n)
    ot = _choice(rng, p.opportunity_types, n)
    fam = _choice(rng, {k: v[0] for k, v in p.product_families.items()}, n)
    medians = np.array([v[1] for v in p.product_families.values()])
    amount = np.round(medians[fam] * rng.lognormal(0, p.amount_sigma, n) / 100) * 10_000
    amount = np.maximum(amount, 10_000).astype(np.int64)
    cust = rng.integers(0, len(world.customer_country), n)
    region = world.customer_region[cust]
    reps_per_region = np.bincount(world.rep_region, minlength=len(REGIONS))
    order = np.argsort(world.rep_region, kind="stable")
    starts = np.cumsum(reps_per_region) - reps_per_region
    owner = order[starts[region] + rng.integers(0, 1 << 30, n) % reps_per_region[region]]
    mean_disc = np.where(world.rep_heavy_discount[owner], p.discount_mean_heavy,
                         p.discount_mean_normal)
    disc_half = np.round(np.clip(rng.exponential(mean_disc), 0, 0.4) * 200).astype(np.int64)
    disc = disc_half / 200
    logit = (_logit(p.base_win_rate)
             + _odds(p.win_odds_lead_source, tuple(p.lead_sources), ls)
             + _odds(p.win_odds_region, REGIONS, region)
             + _odds(p.win_odds_type, tuple(p.opportunity_types), ot)
             + np.log10(amount / 100 / np.median(medians)) * np.log(p.win_odds_per_amount_tenfold)
             + disc * 10 * np.log(p.win_odds_per_10pct_discount))
    won = rng.random(n) < 1 / (1 + np.exp(-logit))
    terms = _choice(rng, p.payment_term_weights, n)
    span_b = np.searchsorted(cal.days, cal.first_day + p.span_days) * W
    created = rng.integers(0, span_b, n)

    # --- stage history: a fixed grid of slots per case, flattened where valid ---
    open_ = crm.open_stages
    k = len(open_)
    won_i, lost_i = crm.stages.index(crm.won_stage), crm.stages.index(crm.lost_stage)
    w = np.array(p.loss_stage_weights[:k], float)
    last = np.where(won, k - 1, rng.choice(k, n, p=w / w.sum()))
    j = np.arange(k)
    visit = j[None, :] <= last[:, None]
    skippable = np.array([s.activity is None for s in open_]) & (j > 0)
    visit &= ~(skippable[None, :] & (rng.random((n, k)) < p.stage_skip_rate)
               & (j[None, :] != last[:, None]))
    reg = (rng.random(n) < p.regression_rate) & (last >= 1)
    reg_at = np.where(reg, 1 + rng.integers(0, 1 << 30, n) % np.maximum(last, 1), -1)
    amt = rng.random(n) < p.amount_change_rate
    dup = rng.random(n) < p.noise
    extra_at = np.where(amt | dup, rng.integers(0, 1 << 30, n) % (last + 1), -1)
    visit[np.arange(n), np.maximum(reg_at, 0)] |= reg
    # extra rows go to a stage the case visits (the last one if the drawn one was skipped)
    extra_at = np.where(visit[np.arange(n), np.maximum(extra_at, 0)], extra_at, last)
    extra_at = np.where(amt | dup, extra_at, -1)
    reo = rng.random(n) < p.reopen_rate
    first_close = np.where(rng.random(n) < 0.8, lost_i, won_i)
    final_close = np.where(won, won_i, lost_i)
    factor = p.cycle_factor_per_10pct_discount ** (disc * 10)
    if p.cycle_factor_region:
        factor = factor * np.array([p.cycle_factor_region.get(r, 1.0) for r in REGIONS])[region]
    mu = np.log(p.stage_days * W) - p.stage_days_sigma ** 2 / 2
    cols_valid, cols_stage, cols_gap = [], [], []
    S = 4 * k + 3
    gaps = rng.lognormal(mu, p.stage_days_sigma, (n, S)) * factor[:, None]
    small = rng.integers(0, 3600, n) * (rng.random(n) < 0.5)  # same save (a tie) or soon after
    # deals entered after the fact (own random stream: the other draws stay as they are): the
    # history is one row, the close, at creation; quotes and contract fall on that instant too
    entered = np.random.default_rng([seed, 7, case0]).random(n) < p.entered_closed_rate
    visit &= ~entered[:, None]
    reg_at, extra_at = np.where(entered, -1, reg_at), np.where(entered, -1, extra_at)
    amt &= ~entered
    reo &= ~entered
    gaps[entered, 4 * k + 2] = 0

    def slot(valid: np.ndarray, stage: np.ndarray | int, gap: np.ndarray) -> None:
        cols_valid.append(valid)
        cols_stage.append(np.broadcast_to(stage, (n,)))
        cols_gap.append(gap)

    for i in range(k):
        slot(visit[:, i], i, np.zeros(n) if i == 0 else gaps[:, 4 * i])
        slot(extra_at == i, i, small)
        slot(reg_at == i, i - 1, gaps[:, 4 * i + 1] / 2)
        slot(reg_at == i, i, gaps[:, 4 * i + 2] / 2)
    slot(reo, first_close, gaps[:, 4 * k])
    slot(reo, last, gaps[:, 4 * k + 1] * 2)
    slot(np.ones(n, bool), final_close, gaps[:, 4 * k + 2])
    valid = np.stack(cols_valid, axis=1)
    stage = np.stack(cols_stage, axis=1)
    btime = created[:, None] + np.cumsum(np.where(valid, np.stack(cols_gap, 1), 0), axis=1)
    btime = btime.astype(np.int64)
    utc = cal.to_utc(btime)
    slot_no = np.broadcast_to(np.arange(S), (n, S))
    a0 = np.where(amt, np.round(amount * rng.uniform(0.7, 1.3, n) / 10_000) * 10_000, amount)
    amount_at = np.where(amt[:, None] & (slot_no <= 4 * np.maximum(extra_at, 0)[:, None]),
                         a0[:, None], amount[:, None]).astype(np.int64)
    keep = valid & (utc <= ldu)
    h_case, h_slot = np.nonzero(keep)
    final_stage = stage[np.arange(n), S - 1 - np.argmax(keep[:, ::-1], axis=1)]

    # --- quotes, contract: between entering the solution stage and the (final) close ---
    qs = next(i for i, s in enumerate(open_) if s.activity == SOLUTION)
    has_q = last >= qs
    t_q = btime[:, 4 * qs]
    t_end = np.where(won | ~reo, btime[:, S - 1], btime[:, 4 * k])
    f = t_end - t_q
    revisions = np.where(has_q, 1 + np.minimum(rng.geometric(1 - p.quote_revision_rate, n) - 1,
                                               3), 0)
    qc, qn = segments(revisions)
    R = revisions[qc]
    q_b = t_q[qc] + f[qc] * (qn + 1) // (R + 3)
    q_last = qn == R - 1
    acc_b = np.where(won[qc] & q_last, t_q[qc] + f[qc] * (R + 1) // (R + 3), -1)
    q_utc, acc_utc = cal.to_utc(q_b), np.where(acc_b >= 0, cal.to_utc(acc_b), -1)
    q_disc = np.round(disc_half[qc] * (qn + 1) / R).astype(np.int64)
    qk = q_utc <= ldu
    closed_at_ldu = cal.to_utc(t_end) <= ldu
    signed = won & (rng.random(n) < p.contract_rate)
    # a deal lost and reopened signs after the reopening, never while it stood lost
    c_from = np.where(reo, np.maximum(t_q, btime[:, 4 * k + 1]), t_q)
    c_utc = cal.to_utc(c_from + (t_end - c_from) * (revisions + 2) // (revisions + 3))
    ck = signed & (c_utc <= ldu)

    # --- order to cash after the final win ---
    # every won deal's documents are drawn, then cut at the extraction: the same company
    # whatever the cut time (`SimulationParams.cut_at`), its snapshots consistent
    close_b = btime[:, S - 1]
    o_b = close_b + (rng.uniform(0.1, 2.0, n) * W).astype(np.int64)
    dev = np.random.default_rng([seed, 7, 1 + case0])  # deviations: their own stream
    # drawn for every case, whatever the cut: an order placed after the extraction is cut below
    lost_order = ~won & (dev.random(n) < p.order_for_lost_rate)
    order_early = won & (dev.random(n) < p.order_before_win_rate)
    o_b = np.where(order_early, close_b - (dev.uniform(0.5, 3.0, n) * W).astype(np.int64), o_b)
    o_case = np.flatnonzero(won | lost_order)
    o_b = o_b[o_case]
    nd = 1 + (rng.random(len(o_case)) < p.multi_delivery_rate) * rng.integers(1, 3, len(o_case))
    d_order, d_no = segments(nd)
    d_gap = rng.lognormal(np.log(2 * W), 0.6, len(d_order)).astype(np.int64) + 1
    csum = np.cumsum(d_gap)
    d_b = o_b[d_order] + csum - (csum - d_gap)[np.cumsum(nd) - nd][d_order]
    d_utc = cal.to_utc(d_b)
    i_b = d_b + rng.integers(600, W, len(d_b))
    cancel = rng.random(len(d_b)) < p.invoice_cancel_rate
    i_utc = cal.to_utc(i_b + np.where(cancel, rng.integers(1800, 4 * 3600, len(d_b)), 0))
    i_cut = np.where(cancel, cal.to_utc(i_b), -1)
    share = rng.uniform(0.5, 1.5, len(d_b))
    tot = np.bincount(d_order, share, len(o_case))
    o_amount = amount[o_case]
    i_amount = np.floor(o_amount[d_order] * share / tot[d_order]).astype(np.int64)
    i_amount[np.cumsum(nd) - 1] += o_amount - np.bincount(d_order, i_amount, len(o_case)).astype(
        np.int64)
    inv_case = o_case[d_order]
    inv_day = cal.local_day(i_utc)
    term_days = np.array([t.days for t in p.payment_terms])[terms[inv_case]]
    due = inv_day + term_days
    late = (np.array([p.late_days_region.get(r, 0.0) for r in REGIONS])[region[inv_case]]
            + world.customer_late_days[cust[inv_case]] + rng.normal(0, 4, len(d_b)))
    pay_day = cal.next_business_day(np.maximum(inv_day + 1, due + np.round(late).astype(int)))
    # only an order's first invoice: paying a later one early is invisible among activities
    prepaid = (dev.random(len(d_b)) < p.payment_before_invoice_rate) & (d_no == 0)
    pay_day = np.where(prepaid, inv_day - dev.integers(1, 11, len(d_b)), pay_day)
    parts = 1 + (rng.random(len(d_b)) < p.partial_payment_rate)
    p_inv, p_no = segments(parts)
    first_share = rng.uniform(0.3, 0.7, len(d_b))
    early = cal.next_business_day(np.maximum(inv_day + 1, pay_day - rng.integers(5, 25, len(d_b))))
    two = parts[p_inv] == 2
    p_day = np.where(two & (p_no == 0), np.minimum(early, pay_day)[p_inv], pay_day[p_inv])
    p_day = np.where(prepaid[p_inv], pay_day[p_inv], p_day)  # both parts before the invoice
    p_first = np.floor(i_amount * first_share).astype(np.int64)
    p_amount = np.where(two, np.where(p_no == 0, p_first[p_inv], (i_amount - p_first)[p_inv]),
                        i_amount[p_inv])
    p_settles = p_no == parts[p_inv] - 1
    dk = d_utc <= ldu
    ik = i_utc <= ldu
    pk = ik[p_inv] & (p_day * DAY <= ldu)
    i_index = np.cumsum(ik) - 1
    # a first receipt preceded by one that bounced (own random stream, drawn for every
    # payment, then cut): received the first business day after the invoice, reversed 2-6
    # days later, before the real payment
    q = np.random.default_rng([seed, 8, case0])
    b_day = cal.next_business_day(inv_day[p_inv] + 1)
    b_rev = cal.next_business_day(b_day + 2 + q.integers(0, 5, len(p_inv)))
    bounce_all = (p_no == 0) & (q.random(len(p_inv)) < p.bounced_payment_rate) & (b_rev < p_day)
    b_day, b_rev, bounce = b_day[pk], b_rev[pk], bounce_all[pk]
    o_kept = cal.to_utc(o_b) <= ldu  # orders placed by the extraction (their documents after)
    o_index = np.cumsum(o_kept) - 1
    o_lost = lost_order[o_case] & o_kept
    o_early = order_early[o_case] & o_kept & (cal.to_utc(o_b) < cal.to_utc(close_b[o_case]))
    paid_early = np.zeros(len(o_case), bool)
    np.logical_or.at(paid_early, d_order[p_inv[pk]], prepaid[p_inv[pk]])
    kinds = [o_lost, o_early & ~o_lost, paid_early & o_kept & ~o_lost & ~o_early]
    dev_case = np.concatenate([o_case[k] for k in kinds])
    dev_kind = np.concatenate([np.full(k.sum(), i, np.int8) for i, k in enumerate(kinds)])
    order = np.argsort(dev_case, kind="stable")
    noise_ls = rng.random(n) < p.noise
    noise_ot = rng.random(n) < p.noise
    return Chunk(
        case0=case0, n=n, lead_source=ls, opp_type=ot, customer=cust, region=region,
        owner=owner, family=fam, amount=amount, discount_half_pct=disc_half, terms=terms,
        created=cal.to_utc(created), missing_lead_source=noise_ls, missing_type=noise_ot,
        h_case=h_case, h_slot=h_slot, h_stage=stage[h_case, h_slot], h_time=utc[h_case, h_slot],
        h_amount=amount_at[h_case, h_slot], final_stage=final_stage,
        q_case=qc[qk], q_no=qn[qk], q_time=q_utc[qk],
        q_accepted=np.where(acc_utc <= ldu, acc_utc, -1)[qk], q_discount_half_pct=q_disc[qk],
        q_closed=closed_at_ldu[qc][qk],
        c_case=np.flatnonzero(ck), c_time=c_utc[ck],
        o_case=o_case[o_kept], o_time=cal.to_utc(o_b)[o_kept], o_deliveries=nd[o_kept],
        d_order=o_index[d_order[dk]], d_no=d_no[dk], d_time=d_utc[dk],
        i_order=o_index[d_order[ik]], i_no=d_no[ik], i_time=i_utc[ik], i_cancelled_time=i_cut[ik],
        i_amount=i_amount[ik], i_due_day=due[ik],
        p_invoice=i_index[p_inv[pk]], p_no=p_no[pk], p_day=p_day[pk], p_amount=p_amount[pk],
        p_settles=p_settles[pk],
        b_payment=np.flatnonzero(bounce), b_day=b_day[bounce], b_reversed_day=b_rev[bounce],
        dev_case=dev_case[order], dev_kind=dev_kind[order],
    )
