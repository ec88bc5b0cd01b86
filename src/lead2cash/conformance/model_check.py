"""Model-based conformance of an engine's log: token replay and alignments, once per variant.

The engine (DuckDB or Spark) gives the variants of the filtered log and their case
counts; each variant is replayed (or aligned) once in Python and its figures are
weighted by its cases, so both engines give identical results. Figures mean what
pm4py's mean (`fitness_token_based_replay`, `fitness_alignments`); see
docs/conformance.md.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import Lead2CashError
from ..mining.derived import SEP
from ..mining.engine import Engine
from ..mining.filters import CASE, Filter
from ..progress import NO_PROGRESS, Progress
from .alignments import Aligner, Alignment
from .bpmn import read_bpmn
from .petri import PetriNet
from .pnml import read_pnml
from .reference import reference_model
from .token_replay import TokenReplayer, TraceReplay

__all__ = [
    "ActivityDeviation",
    "AlignmentReport",
    "ReplayReport",
    "VariantAlignment",
    "VariantReplay",
    "align_log",
    "load_model",
    "replay_log",
]


def load_model(path: str | Path | None = None) -> PetriNet:
    """A Petri net from a PNML or BPMN file (by extension), or the built-in reference model."""
    if path is None:
        return reference_model()
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix == ".pnml":
        return read_pnml(p)
    if suffix in (".bpmn", ".bpmn2"):
        return read_bpmn(p)
    raise Lead2CashError(f"{p}: unknown model format {suffix or '(no extension)'!r}",
                         "pass a Petri net as .pnml or a BPMN 2.0 model as .bpmn")


def _variants(engine: Engine, filters: tuple[Filter, ...]) -> list[tuple[tuple[str, ...], int]]:
    """The variants of the filtered log with their case counts, most frequent first."""
    cases = engine.cases(filters)
    frame = engine.execute(cases.group_by("variant").aggregate(n=cases.count()))
    rows = sorted(zip(frame.variant.tolist(), frame.n.astype("int64").tolist()),
                  key=lambda r: (-r[1], r[0]))
    return [(tuple(v.split(SEP)), n) for v, n in rows]


def _case_variants(engine: Engine, filters: tuple[Filter, ...]) -> dict[str, tuple[str, ...]]:
    """Each case's variant (for per-case figures)."""
    frame = engine.execute(engine.cases(filters).select(CASE, "variant"))
    return {c: tuple(v.split(SEP)) for c, v in zip(frame[CASE].tolist(), frame.variant.tolist())}


def _share(n: float, d: float) -> float | None:
    return n / d if d else None


@dataclass(frozen=True, slots=True)
class ActivityDeviation:
    """Where the log deviates at one activity, counted over cases (a variant weighs its cases).

    Token replay: `deviating_events` are events that fired with missing tokens (or, for
    an activity not in the model, every event). Alignments: moves on log and on model.
    """

    activity: str
    in_model: bool
    events: int
    deviating_events: int
    cases: int
    moves_on_model: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"activity": self.activity, "in_model": self.in_model, "events": self.events,
                "deviating_events": self.deviating_events, "cases": self.cases,
                "moves_on_model": self.moves_on_model}


@dataclass(frozen=True, slots=True)
class VariantReplay:
    """One variant's replay and how many cases follow it."""

    activities: tuple[str, ...]
    cases: int
    replay: TraceReplay

    def to_dict(self) -> dict[str, Any]:
        r = self.replay
        return {"activities": list(self.activities), "cases": self.cases, "fit": r.fit,
                "fitness": r.fitness, "missing_tokens": r.missing, "consumed_tokens": r.consumed,
                "remaining_tokens": r.remaining, "produced_tokens": r.produced,
                "underfed_activities": list(r.underfed), "unknown_activities": list(r.unknown),
                "remaining_places": dict(r.remaining_places)}


@dataclass(frozen=True, slots=True)
class ReplayReport:
    """Token-based replay of a log on a model (keys and meaning as pm4py's)."""

    model: dict[str, Any]
    cases: int
    log_fitness: float
    perc_fit_traces: float
    average_trace_fitness: float
    fitting_cases: int
    missing_tokens: int
    consumed_tokens: int
    remaining_tokens: int
    produced_tokens: int
    activities: tuple[ActivityDeviation, ...]
    variants: tuple[VariantReplay, ...]
    total_variants: int
    per_case: dict[str, float] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "method": "token replay", "model": self.model, "cases": self.cases,
            "variants": self.total_variants, "log_fitness": self.log_fitness,
            "perc_fit_traces": self.perc_fit_traces,
            "average_trace_fitness": self.average_trace_fitness,
            "fitting_cases": self.fitting_cases, "missing_tokens": self.missing_tokens,
            "consumed_tokens": self.consumed_tokens, "remaining_tokens": self.remaining_tokens,
            "produced_tokens": self.produced_tokens,
            "activities": [a.to_dict() for a in self.activities],
            "variant_details": [v.to_dict() for v in self.variants],
        }
        if self.per_case is not None:
            out["case_fitness"] = dict(self.per_case)
        return out


def replay_log(engine: Engine, *, filters: Iterable[Filter] = (), model: PetriNet | None = None,
               per_case: bool = False, top: int | None = 20,
               progress: Progress = NO_PROGRESS) -> ReplayReport:
    """Token-based replay of the filtered log, once per variant; `top` variants are listed."""
    chosen = tuple(filters)
    net = model or reference_model()
    variants = _variants(engine, chosen)
    replayer = TokenReplayer(net)
    results: list[VariantReplay] = []
    for i, (acts, n) in enumerate(variants):
        if i % 200 == 0:
            progress("replaying variants", i, len(variants))
        results.append(VariantReplay(acts, n, replayer.replay(acts)))
    progress("replaying variants", len(variants), len(variants))
    total = sum(n for _, n in variants)
    m = sum(v.replay.missing * v.cases for v in results)
    c = sum(v.replay.consumed * v.cases for v in results)
    r = sum(v.replay.remaining * v.cases for v in results)
    p = sum(v.replay.produced * v.cases for v in results)
    fitting = sum(v.cases for v in results if v.replay.fit)
    ok = total > 0 and c > 0 and p > 0
    log_fitness = 0.5 * (1 - m / c) + 0.5 * (1 - r / p) if ok else 0.0
    average = sum(v.replay.fitness * v.cases for v in results) / total if ok else 0.0
    detail = None
    if per_case:
        fitness = {v.activities: v.replay.fitness for v in results}
        detail = {case: fitness[acts] for case, acts in _case_variants(engine, chosen).items()}
    return ReplayReport(
        net.to_dict(), total, log_fitness, 100.0 * fitting / total if ok else 0.0, average,
        fitting, m, c, r, p, _replay_deviations(results, net), tuple(results[:top]),
        len(results), detail,
    )


def _replay_deviations(results: list[VariantReplay], net: PetriNet) -> tuple[ActivityDeviation, ...]:
    """Per activity: events, events fired with missing tokens (or unknown), cases affected."""
    events: Counter[str] = Counter()
    bad: Counter[str] = Counter()
    cases: Counter[str] = Counter()
    for v in results:
        for a in v.activities:
            events[a] += v.cases
        wrong = Counter(v.replay.underfed) + Counter(v.replay.unknown)
        for a, k in wrong.items():
            bad[a] += k * v.cases
            cases[a] += v.cases
    known = net.labels
    rows = [ActivityDeviation(a, a in known, events[a], bad[a], cases[a]) for a in events]
    return tuple(sorted(rows, key=lambda d: (-d.deviating_events, -d.events, d.activity)))


@dataclass(frozen=True, slots=True)
class VariantAlignment:
    """One variant's optimal alignment (None: the time limit passed first)."""

    activities: tuple[str, ...]
    cases: int
    alignment: Alignment | None
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        head = {"activities": list(self.activities), "cases": self.cases,
                "seconds": round(self.seconds, 6), "timed_out": self.alignment is None}
        return head | (self.alignment.to_dict() if self.alignment else {})


@dataclass(frozen=True, slots=True)
class AlignmentReport:
    """Alignments of a log with a model: fitness figures over the aligned cases (as pm4py's
    `fitness_alignments`), moves per activity, and which variants ran out of time."""

    model: dict[str, Any]
    cases: int
    aligned_cases: int
    log_fitness: float | None
    perc_fit_traces: float | None
    average_trace_fitness: float | None
    fitting_cases: int
    average_cost: float | None
    time_limit_s: float
    variants_timed_out: int
    cases_timed_out: int
    activities: tuple[ActivityDeviation, ...]
    variants: tuple[VariantAlignment, ...]
    total_variants: int
    per_case: dict[str, dict[str, Any]] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "method": "alignments", "model": self.model, "cases": self.cases,
            "variants": self.total_variants, "aligned_cases": self.aligned_cases,
            "log_fitness": self.log_fitness, "perc_fit_traces": self.perc_fit_traces,
            "average_trace_fitness": self.average_trace_fitness,
            "fitting_cases": self.fitting_cases, "average_cost": self.average_cost,
            "time_limit_s": self.time_limit_s, "variants_timed_out": self.variants_timed_out,
            "cases_timed_out": self.cases_timed_out,
            "activities": [a.to_dict() for a in self.activities],
            "variant_details": [v.to_dict() for v in self.variants],
        }
        if self.per_case is not None:
            out["case_alignments"] = dict(self.per_case)
        return out


def align_log(engine: Engine, *, filters: Iterable[Filter] = (), model: PetriNet | None = None,
              time_limit: float = 10.0, per_case: bool = False, top: int | None = 20,
              progress: Progress = NO_PROGRESS) -> AlignmentReport:
    """Optimal alignments of the filtered log, once per variant, each within `time_limit`
    seconds; variants that run out of time are counted and listed, never dropped silently."""
    if time_limit <= 0:
        raise Lead2CashError(f"the time limit must be positive (got {time_limit})",
                             "pass --time-limit in seconds per variant, e.g. 10")
    chosen = tuple(filters)
    net = model or reference_model()
    aligner = Aligner(net)
    if aligner.model_cost(time_limit) is None:
        raise Lead2CashError(f"{net.origin}: the model cannot reach its final marking "
                             f"(searched {time_limit:g} s)",
                             "check the final marking and that the end place can be reached")
    variants = _variants(engine, chosen)
    results: list[VariantAlignment] = []
    for i, (acts, n) in enumerate(variants):
        progress("aligning variants", i, len(variants))
        t0 = time.monotonic()
        found = aligner.align(acts, time_limit)
        results.append(VariantAlignment(acts, n, found, time.monotonic() - t0))
    progress("aligning variants", len(variants), len(variants))
    done = [v for v in results if v.alignment is not None]
    total = sum(n for _, n in variants)
    aligned = sum(v.cases for v in done)
    cost = sum(v.alignment.cost * v.cases for v in done)  # type: ignore[union-attr]
    bwc = sum(v.alignment.bwc * v.cases for v in done)  # type: ignore[union-attr]
    fitting = sum(v.cases for v in done if v.alignment.fitness == 1.0)  # type: ignore[union-attr]
    late = [v for v in results if v.alignment is None]
    # the timed-out variants first, so that they are always listed
    ordered = late + done
    listed = tuple(ordered if top is None else ordered[: max(top, len(late))])
    detail = None
    if per_case:
        by_variant = {v.activities: v for v in results}
        detail = {
            case: ({"timed_out": True} if by_variant[acts].alignment is None else {
                "timed_out": False, "cost": by_variant[acts].alignment.cost,  # type: ignore[union-attr]
                "fitness": by_variant[acts].alignment.fitness})  # type: ignore[union-attr]
            for case, acts in _case_variants(engine, chosen).items()
        }
    return AlignmentReport(
        net.to_dict(), total, aligned,
        1.0 - cost / bwc if bwc else None,
        100.0 * fitting / aligned if aligned else None,
        sum(v.alignment.fitness * v.cases for v in done) / aligned if aligned else None,  # type: ignore[union-attr]
        fitting, cost / aligned if aligned else None, time_limit, len(late),
        sum(v.cases for v in late), _alignment_deviations(done, net), listed, len(results), detail,
    )


def _alignment_deviations(done: list[VariantAlignment], net: PetriNet
                          ) -> tuple[ActivityDeviation, ...]:
    """Per activity: events, moves on log, cases with a deviation at it, moves on model."""
    events: Counter[str] = Counter()
    on_log: Counter[str] = Counter()
    on_model: Counter[str] = Counter()
    cases: Counter[str] = Counter()
    for v in done:
        for a in v.activities:
            events[a] += v.cases
        touched: set[str] = set()
        for move in v.alignment.moves:  # type: ignore[union-attr]
            kind = move.kind
            if kind == "log":
                on_log[move.log] += v.cases  # type: ignore[index]
                touched.add(move.log)  # type: ignore[arg-type]
            elif kind == "model":
                on_model[move.model] += v.cases  # type: ignore[index]
                touched.add(move.model)  # type: ignore[arg-type]
        for a in touched:
            cases[a] += v.cases
    known = net.labels
    names = set(events) | set(on_model)
    rows = [ActivityDeviation(a, a in known, events[a], on_log[a], cases[a], on_model[a])
            for a in names]
    return tuple(sorted(rows, key=lambda d: (-(d.deviating_events + d.moves_on_model),
                                             -d.events, d.activity)))

