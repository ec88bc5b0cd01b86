"""The dashboard's views as data: one object per served workspace, results cached per scope.

`Dashboard` opens the workspace read-only, and each new version a refresh puts in its place
(`live.py`); every call takes its own DuckDB cursor (one per request: a DuckDB connection
must not be shared between threads) and an engine over it, runs the mining layer's analyses
and returns JSON-ready dicts built from their `to_dict()`, so the web pages, the JSON API,
the report and `lead2cash mine ... --json` show the same numbers. Results are cached per
workspace version, view, scope and options; the case facts behind the KPI views are read
once per version and scope and shared by them.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Hashable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..checks import check_log
from ..errors import Lead2CashError
from ..mining import dfg, performance, variants
from ..mining.calendar import CalendarSet
from ..mining.derived import ACT, CASE_FACTS, STEPS, TIME
from ..mining.engine import DuckDBEngine
from ..mining.kpis import KpiOptions, facts_of, flat_kpis, from_facts
from ..mining.kpis_facts import CASE, CaseFacts
from ..mining.kpis_o2c import late_frame, late_payments_by
from ..objects import case_type
from ..store import EVENTS, Workspace
from .cache import ResultCache
from .casesets import case_mask, describe
from .figures import HEADLINES, OVERVIEW
from .live import LiveWorkspace
from .scope import ATTRIBUTE_FIELDS, Scope
from .selection import CaseSelection
from .units import time_basis

__all__ = ["CASE_COLUMNS", "COMPARE_PATHS", "Dashboard", "Settings"]

T = TypeVar("T")
CASE_COLUMNS: tuple[tuple[str, str], ...] = (
    (CASE, "case"), ("attr_CustomerName", "customer"), ("attr_SalesRegion", "region"),
    ("attr_OpportunityOwner", "owner"), ("attr_OpportunityAmount", "amount"), ("outcome", "outcome"),
    ("stage", "current stage"), ("start", "first event"), ("end", "last event"), ("events", "events"),
)
"""Columns of the case list: (case-facts column, header)."""


DEFAULT_OPTIONS = KpiOptions()
COMPARE_PATHS = 0.3
"""The share of paths of the compare view's two maps."""


@dataclass(frozen=True, slots=True)
class Settings:
    """What the served dashboard measures with: calendar, KPI thresholds, staleness limit."""

    calendar: CalendarSet | None = None
    options: KpiOptions = DEFAULT_OPTIONS
    stale_hours: float = 48.0
    working_time: str | None = None
    """The `--working-time` value `calendar` was loaded from, for the commands pages name."""


@dataclass(frozen=True, slots=True)
class _Served:
    """What the dashboard knows of one version of the workspace."""

    version: str  # the identity its results are cached under
    case_type: str  # what the cases are (an OCEL import may choose)
    selection: CaseSelection = field(compare=False)  # the cases each filter keeps in it


class Dashboard:
    """The data of every dashboard view for one workspace, opened read-only.

    A refresh of the workspace while it is served is picked up by the next request
    (`app.live.LiveWorkspace`): results are cached per version, and a request reads one
    version from start to end (`pinned`)."""

    def __init__(self, db: str | Path, settings: Settings | None = None, cache_size: int = 512) -> None:
        settings = settings or Settings()
        self.live = LiveWorkspace(db, self._describe)
        self.settings = settings
        self.basis = time_basis(settings.calendar)
        self.cache = ResultCache(cache_size)  # results per view and scope
        self._facts = ResultCache(6)  # the largest objects: a few scopes' case facts
        self.whole = ResultCache(8)  # whole-log data, read once per version: facts, menus, checks
        self.warm = threading.Event()  # set once `prewarm` has run (for the current version)
        self._autowarm = False  # prewarm each new version too (once `prewarm` was asked for)
        self.live.on_new_version(self._new_version)

    @staticmethod
    def _describe(ws: Workspace) -> _Served:
        """Check a version as it is opened (a log with derived tables: fails clearly on an
        older workspace) and note its identity, case type and the selection of its cases."""
        ws.require_log()
        with DuckDBEngine(ws):
            pass
        meta = sorted(ws.meta().items())
        text = f"{ws.path.resolve()}|{ws.version()}|{meta}"
        return _Served(hashlib.sha256(text.encode()).hexdigest()[:16], case_type(ws.con),
                       CaseSelection(ws))

    @property
    def ws(self) -> Workspace:
        """The workspace version this thread reads (the newest unless a request pins one)."""
        return self.live.current().ws

    @property
    def version(self) -> str:
        """The identity of the version this thread reads: results are cached under it."""
        return self.live.current().info.version

    @property
    def case_type(self) -> str:
        """What the cases of the version this thread reads are."""
        return self.live.current().info.case_type

    @property
    def selection(self) -> CaseSelection:
        """The cases each filter keeps in the version this thread reads, selected once (a new
        version starts a new selection; the old one goes with its version)."""
        return self.live.current().info.selection

    def pinned(self) -> AbstractContextManager[object]:
        """Read one version of the workspace throughout the block (one request)."""
        return self.live.pinned()

    def close(self) -> None:
        """Close the workspace (the selection's cursor closes with its version)."""
        self.live.close()

    def _new_version(self) -> None:
        """A refresh replaced the log: forget the old results, and warm up again."""
        self.cache.clear()
        self._facts.clear()
        self.whole.clear()
        if self._autowarm:
            self.warm.clear()
            threading.Thread(target=self.prewarm, name="lead2cash-prewarm", daemon=True).start()

    def prewarm(self) -> None:
        """Compute what the first visitors ask for, in a background thread of the server (and
        again after each refresh of the workspace): the filter bar's menus and the log's case
        ids first (every page and filter needs them, and they are quick), then the whole log's
        case facts, every unfiltered view, then the data-quality checks, the conformance and
        drivers views and the object statistics (seconds each on a large log, asked for
        least)."""
        from .conformance_views import conformance_view, drivers_view

        self._autowarm = True
        everything = Scope()
        with self.pinned():
            for step in (self.choices, self.selection.cases, self.all_facts,
                         lambda: self.overview(everything),
                         lambda: self.process_map(everything, 1.0, 0.4),
                         lambda: self.variants(everything, 30),
                         lambda: self.order_to_cash(everything),
                         lambda: self.compare(everything, "outcome = 'Won'", "outcome = 'Lost'"),
                         self.quality, lambda: conformance_view(self, everything),
                         lambda: drivers_view(self, everything), self.objects):
                try:
                    step()
                except Exception:  # noqa: BLE001 - a failure shows when the view is asked for
                    break
        self.warm.set()

    @contextmanager
    def _cursor(self) -> Iterator[Workspace]:
        """The workspace on a cursor of its own (one per request or thread)."""
        with self.live.cursor() as view:
            yield view

    @contextmanager
    def _engine(self, scope: Scope | None = None) -> Iterator[DuckDBEngine]:
        """An engine on a cursor of its own, closed (with its temporary tables) afterwards;
        given a scope, it takes the scope's kept cases from `selection` (no new selection)."""
        with self._cursor() as ws, DuckDBEngine(ws) as engine:
            filters = scope.filters() if scope is not None else ()
            if filters:
                engine.use_selection(filters, self.selection.ids(filters))
            yield engine

    def _cached(self, key: tuple[Hashable, ...], compute: Callable[[], T]) -> T:
        return self.cache.get((self.version, *key), compute)

    def _whole_log(self, name: str, compute: Callable[[], T]) -> T:
        """Whole-log data (the same under every filter), computed once per version."""
        return self.whole.get((self.version, name), compute)

    # -- the case facts behind the KPI views --------------------------------------------------

    def all_facts(self) -> CaseFacts:
        """The whole log's case facts, read once per version (from the table stored at load
        time) and kept in memory: a version never changes."""
        return self._all_facts()[0]

    def _all_facts(self) -> tuple[CaseFacts, np.ndarray | None]:
        """The whole log's case facts, and where each of their cases is in `selection.cases()`
        (None when in the same order, as both are sorted by case id)."""
        def read() -> tuple[CaseFacts, np.ndarray | None]:
            with self._engine() as engine:
                facts = facts_of(engine.tables(), calendar=self.settings.calendar)
            ids = pa.array(facts.cases[CASE].to_numpy(), type=pa.string())
            cases = self.selection.cases()
            if ids.equals(cases):
                return facts, None
            return facts, pc.index_in(ids, value_set=cases).to_numpy(zero_copy_only=False)
        return self._whole_log("facts", read)

    def facts(self, scope: Scope) -> CaseFacts:
        """The scope's case facts: the in-memory facts of the cases `selection` keeps (with
        their own as-of time, as if read for them alone: the same facts `mine kpis --filter`
        reads)."""
        everything, order = self._all_facts()
        filters = scope.filters()
        if not filters:
            return everything

        def select() -> CaseFacts:
            mask = self.selection.mask(filters)
            return everything.restrict(mask if order is None else mask[order])
        return self._facts.get((self.version, scope), select)

    # -- views ----------------------------------------------------------------------------------

    def kpis(self, scope: Scope) -> dict[str, Any]:
        """Every KPI of the scope: the JSON of `lead2cash mine kpis --json` on its filters."""
        def compute() -> dict[str, Any]:
            s = self.settings
            return from_facts(self.facts(scope), None, (), s.calendar, s.options,
                              case_type=self.case_type).to_dict()
        return self._cached(("kpis", scope), compute)

    def overview(self, scope: Scope) -> dict[str, Any]:
        """KPI cards, cases started and closed per week, and the data's freshness."""
        def compute() -> dict[str, Any]:
            k = self.kpis(scope)
            f = self.facts(scope)
            fresh = dict(k["freshness"])
            age = fresh.get("age_hours")
            fresh["stale"] = age is not None and age > self.settings.stale_hours
            fresh["stale_hours"] = self.settings.stale_hours
            return {
                "time": k["time"], "day_s": k["day_s"], "as_of": k["as_of"],
                "cards": [{"key": c.key, "label": c.label, "value": c.value(k),
                           "text": c.format(c.value(k), self.basis), "unit": c.unit(self.basis),
                           "hint": c.hint, "case_set": c.case_set} for c in OVERVIEW],
                "headlines": {h.key: h.value(k) for h in HEADLINES},
                "won": k["won"], "lost": k["lost"], "open": k["open"],
                "weekly": _weekly(f),
                "freshness": fresh,
            }
        return self._cached(("overview", scope), compute)

    def working_time(self, working: bool = False) -> str | None:
        """The `--working-time` value of the durations shown: the served calendar's, or with
        `working` (the map's working-time switch) the built-in default; None: calendar time."""
        s = self.settings
        if s.calendar is not None:
            return s.working_time or s.calendar.default.name
        return "default" if working else None

    def working_calendar(self) -> CalendarSet:
        """The calendar of working-time views: the served one, else the built-in default."""
        from ..mining.calendar import load_calendars

        return self.settings.calendar or load_calendars("default")

    def process_map(self, scope: Scope, activities: float = 1.0, paths: float = 1.0,
                    working: bool = False) -> dict[str, Any]:
        """The process map: the JSON of `lead2cash mine dfg --json --activities A --paths P`
        (edge durations in working time when `working`)."""
        for name, share in (("activities", activities), ("paths", paths)):
            if not 0.01 <= share <= 1.0:
                raise Lead2CashError(f"{name} {share!r} is out of range", "use a share from 0.01 to 1")
        calendar = self.working_calendar() if working else self.settings.calendar
        activities = round(activities, 4)

        def full() -> dfg.ProcessMap:
            with self._engine(scope) as engine:
                return dfg.discover(engine, scope.filters(), activities, 1.0, calendar)

        def compute() -> dict[str, Any]:  # moving the paths slider re-uses the full map
            pm = self._cached(("full map", scope, activities, working), full)
            shown = dfg.simplify_paths(pm, paths) if paths < 1.0 else pm  # as dfg.discover does
            return shown.to_dict() | {"time": time_basis(calendar).name,
                                      "day_s": time_basis(calendar).day_s}
        return self._cached(("map", scope, activities, round(paths, 4), working), compute)

    def variants(self, scope: Scope, top: int = 50) -> dict[str, Any]:
        """The most frequent variants: the JSON of `lead2cash mine variants --json --top K`."""
        if not 1 <= top <= 1000:
            raise Lead2CashError(f"top {top} is out of range", "list 1 to 1000 variants")
        def compute() -> dict[str, Any]:
            with self._engine(scope) as engine:
                return variants.discover(engine, scope.filters(), top, None,
                                         self.settings.calendar).to_dict()
        return self._cached(("variants", scope, top), compute)

    def performance(self, scope: Scope) -> dict[str, Any]:
        """Durations, throughput, time in stage, rework: the JSON of `mine performance --json`."""
        def compute() -> dict[str, Any]:
            with self._engine(scope) as engine:
                return performance.report(engine, scope.filters(),
                                          calendar=self.settings.calendar).to_dict()
        return self._cached(("performance", scope), compute)

    def funnel(self, scope: Scope) -> dict[str, Any]:
        """Stage conversion and time in stage, stalls, regressions and reopened deals."""
        k = self.kpis(scope)
        keys = ("reopened_cases", "ever_closed_cases", "reopen_rate", "regressed_cases",
                "regression_rate", "cases", "open")
        return {"time": k["time"], "day_s": k["day_s"], "funnel": k["funnel"], "stalls": k["stalls"],
                "stall_days": self.settings.options.stall_days,
                "value_at_stake": k["value_at_stake"], **{x: k[x] for x in keys}}

    def discounts(self, scope: Scope) -> dict[str, Any]:
        """Discount bands against win rate, cycle time and deal size; per owner; the policy."""
        k = self.kpis(scope)
        return {"time": k["time"], "day_s": k["day_s"], **k["discounts"]}

    def order_to_cash(self, scope: Scope, top_customers: int = 15) -> dict[str, Any]:
        """Hand-off, fulfilment, invoicing and payment times, DSO, late payments by payment
        terms, region and customer."""
        def compute() -> dict[str, Any]:
            k = self.kpis(scope)
            f = self.facts(scope)
            stages = ("handoff", "fulfilment", "fulfilment_to_invoice", "dso")

            frame = late_frame(f)

            def rows(attribute: str, top: int | None = None) -> list[dict[str, Any]]:
                return [asdict(g) for g in late_payments_by(f, attribute, top, frame)]

            late_keys = ("paid_cases", "paid_with_terms", "late_cases", "late_payment_rate",
                         "late_mean_s", "overdue_open_cases", "overdue_open_amount", "unparsed_terms")
            return {
                "time": k["time"], "day_s": k["day_s"],
                "transitions": [{"name": n, **{s: k.get(f"{n}_{s}") for s in
                                 ("count", "mean_s", "median_s", "p90_s", "min_s", "max_s")}}
                                for n in stages],
                **{x: k[x] for x in late_keys},
                "by_terms": rows("PaymentTerms"), "by_region": rows("SalesRegion"),
                "by_customer": rows("CustomerName", top_customers),
            }
        return self._cached(("o2c", scope, top_customers), compute)

    def compare(self, scope: Scope, a: str, b: str, paths: float = COMPARE_PATHS) -> dict[str, Any]:
        """Two segments of the scope side by side (each a `--filter` condition): headline KPIs,
        their deltas (b − a) and both process maps."""
        parts = {name: (text, scope.with_condition(text) if text else scope)
                 for name, text in (("a", a), ("b", b))}
        # Each side's KPIs and map in a thread of their own (reading the version this request
        # reads): the selections and the maps run on DuckDB, which releases the GIL, while the
        # KPIs are computed.
        version = self.live.current()

        def headlines(part: Scope) -> dict[str, Any]:
            with self.live.pinned(version):
                k = self._cached(("flat kpis", part), lambda: flat_kpis(self.facts(part)))
            return {h.key: h.value(k) for h in HEADLINES}

        def map_of(part: Scope) -> dict[str, Any]:
            with self.live.pinned(version):
                return self.process_map(part, 1.0, paths)

        with ThreadPoolExecutor(max_workers=4, thread_name_prefix="lead2cash-compare") as pool:
            futures = {name: (pool.submit(headlines, part), pool.submit(map_of, part))
                       for name, (_, part) in parts.items()}
            sides = {name: {"filter": parts[name][0], "kpis": k.result(), "map": m.result()}
                     for name, (k, m) in futures.items()}
        deltas = {}
        for h in HEADLINES:
            va, vb = sides["a"]["kpis"][h.key], sides["b"]["kpis"][h.key]
            deltas[h.key] = None if va is None or vb is None else vb - va
        return {"time": self.basis.name, "day_s": self.basis.day_s, **sides, "delta": deltas}

    def cases(self, scope: Scope, case_set: str = "all", offset: int = 0,
              limit: int | None = 100) -> dict[str, Any]:
        """The cases of a scope and case set, one row each (all rows when `limit` is None)."""
        if offset < 0 or (limit is not None and not 1 <= limit <= 10_000):
            raise Lead2CashError("offset/limit out of range", "use offset ≥ 0 and limit 1..10000")
        f = self.facts(scope)
        mask = case_mask(f, case_set, self.settings.options)
        chosen = f.cases.loc[mask, [c for c, _ in CASE_COLUMNS]]
        if not chosen[CASE].is_monotonic_increasing:  # the facts are sorted by case id already
            chosen = chosen.sort_values(CASE)
        page = chosen.iloc[offset: None if limit is None else offset + limit]
        return {"case_set": case_set, "description": describe(case_set), "total": int(mask.sum()),
                "offset": offset, "limit": limit,
                "columns": [h for _, h in CASE_COLUMNS], "rows": [_cells(r) for r in page.itertuples(index=False)]}

    def search(self, text: str, limit: int = 25) -> list[dict[str, Any]]:
        """Cases whose id or customer contains the text (case-insensitive)."""
        text = text.strip()
        if not text:
            return []
        if len(text) > 200:
            raise Lead2CashError("the search text is too long", "search for at most 200 characters")
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        with self._cursor() as ws:
            if CASE_FACTS in {r[0] for r in ws.con.execute("SHOW TABLES").fetchall()}:
                sql = (f"SELECT {CASE}, attr_CustomerName, attr_SalesRegion, attr_OpportunityAmount, "
                       f"start, \"end\", events FROM {CASE_FACTS} WHERE {CASE} ILIKE ? ESCAPE '\\' "
                       f"OR attr_CustomerName ILIKE ? ESCAPE '\\' ORDER BY {CASE} LIMIT ?")
            else:
                sql = (f"SELECT {CASE}, max(CustomerName), max(SalesRegion), max(OpportunityAmount), "
                       f"min(EventTime), max(EventTime), count(*) FROM {EVENTS} WHERE {CASE} ILIKE ? "
                       f"ESCAPE '\\' OR CustomerName ILIKE ? ESCAPE '\\' GROUP BY 1 ORDER BY 1 LIMIT ?")
            rows = ws.con.execute(sql, [pattern, pattern, limit]).fetchall()
        keys = ("case", "customer", "region", "amount", "start", "end", "events")
        return [dict(zip(keys, _cells(r))) for r in rows]

    def case(self, case_id: str) -> dict[str, Any]:
        """One case's timeline: every event with every attribute, source system and record."""
        with self._cursor() as ws:
            cur = ws.con.execute(f"SELECT * FROM {EVENTS} WHERE {CASE} = ? ORDER BY EventTime, event_id",
                                 [case_id])
            columns = [d[0] for d in cur.description]
            rows = cur.fetchall()
        if not rows:
            raise Lead2CashError(f"no case {case_id!r} in the log", "search by id or customer name")
        events = [dict(zip(columns, _cells(r))) for r in rows]
        constant = {c: events[0][c] for c in columns
                    if c not in (CASE, "event_id") and len({str(e[c]) for e in events}) == 1
                    and events[0][c] is not None}
        return {"case": case_id, "columns": columns, "events": events, "constant": constant,
                "start": events[0]["EventTime"], "end": events[-1]["EventTime"]}

    def animation(self, scope: Scope, limit: int = 400) -> dict[str, Any]:
        """Up to `limit` cases spread over the scope's time span, each as its events
        (activity, seconds since the first case started), to play tokens over the map."""
        if not 1 <= limit <= 5000:
            raise Lead2CashError(f"limit {limit} is out of range", "animate 1 to 5000 cases")
        def compute() -> dict[str, Any]:
            ids, starts = self.selection.cases(), self.selection.starts()
            mask = self.selection.mask(scope.filters())
            if mask is not None:
                ids, starts = ids.filter(pa.array(mask)), starts[mask]
            if not len(ids):
                return {"start": None, "end": None, "cases": []}
            by_start = np.argsort(starts, kind="stable")  # ties in case-id order (ids are sorted)
            pick = np.unique(np.linspace(0, len(ids) - 1, min(limit, len(ids))).astype(int))
            chosen = pa.table({CASE: ids.take(pa.array(by_start[pick]))})
            with self._cursor() as ws:
                ws.con.register("animated_cases", chosen)  # this cursor's own name
                ev = ws.con.sql(f"SELECT {CASE}, {ACT}, {TIME}, pos FROM {STEPS} WHERE {CASE} IN "
                                f"(SELECT {CASE} FROM animated_cases)").df()
            ev = ev.sort_values([CASE, "pos"], ignore_index=True)
            t0 = pd.Timestamp(ev[TIME].min())
            ev["t"] = (pd.to_datetime(ev[TIME]) - t0).dt.total_seconds()
            cases = [{"id": cid, "events": [[a, float(x)] for a, x in zip(g[ACT], g["t"])]}
                     for cid, g in ev.groupby(CASE, sort=True)]
            span = float(ev["t"].max())
            return {"start": t0.isoformat() + "Z", "span_s": span, "cases": cases}
        return self._cached(("animation", scope, limit), compute)

    def quality(self) -> dict[str, Any]:
        """The `lead2cash check` results and coverage by tier: the JSON of `check --json`."""
        def compute() -> dict[str, Any]:
            with self._cursor() as ws:
                return check_log(ws).to_dict()
        return self._whole_log("quality", compute)

    def objects(self) -> dict[str, Any]:
        """The object-centric statistics: the JSON of `mine objects --json` (app/objects_view.py)."""
        from .objects_view import objects_view

        def compute() -> dict[str, Any]:
            with self._cursor() as ws:
                return objects_view(ws)
        return self._whole_log("objects", compute)  # the whole log's, under any filter

    def choices(self) -> dict[str, list[str]]:
        """The values each filter-bar attribute takes (at most 500 each), for its menus."""
        def compute() -> dict[str, list[str]]:
            out: dict[str, list[str]] = {}
            with self._cursor() as ws:
                columns = {n for n, _ in ws.columns()}
                for key, column in ATTRIBUTE_FIELDS.items():
                    if column not in columns:
                        out[key] = []
                        continue
                    rows = ws.con.execute(f'SELECT DISTINCT "{column}" FROM {EVENTS} WHERE "{column}" '
                                          f'IS NOT NULL ORDER BY 1 LIMIT 500').fetchall()
                    out[key] = [str(r[0]) for r in rows]
            return out
        return self._whole_log("choices", compute)


def _cells(row: Any) -> list[Any]:
    """Result cells as JSON-ready values (times as ISO text, NaN as None)."""
    out = []
    for v in row:
        if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NaT:
            out.append(None)
        elif isinstance(v, (pd.Timestamp, datetime)):
            out.append(pd.Timestamp(v).isoformat())
        elif isinstance(v, np.generic):
            out.append(v.item())
        elif isinstance(v, pd.Timedelta):
            out.append(v.total_seconds())
        else:
            out.append(v if isinstance(v, (int, float, str, bool)) else str(v))
    return out


def _weekly(f: CaseFacts) -> dict[str, Any]:
    """Cases started, won and lost per week (weeks starting Monday, UTC; decided cases by
    the time of their final Won or Lost), every week from the first to the last."""
    def weeks_of(times: pd.Series, mask: np.ndarray | None = None) -> np.ndarray:
        """Each time's week as a number: week k starts on day 7k - 3 after 1970-01-01 (a Monday)."""
        t = times.to_numpy(dtype="datetime64[us]")
        t = t if mask is None else t[mask]
        days = t[~np.isnat(t)].astype("datetime64[D]").astype(np.int64)
        return (days + 3) // 7

    c = f.cases
    started = weeks_of(c["start"])
    won, lost = (weeks_of(c["close_time"], f.is_outcome(o)) for o in ("Won", "Lost"))
    every = np.concatenate([started, won, lost])
    if not len(every):
        return {"weeks": [], "started": [], "won": [], "lost": []}
    first, n = int(every.min()), int(every.max() - every.min()) + 1
    mondays = np.datetime64(0, "D") + (np.arange(first, first + n) * 7 - 3)
    return {"weeks": [str(d) for d in mondays],
            **{name: np.bincount(w - first, minlength=n).tolist()
               for name, w in (("started", started), ("won", won), ("lost", lost))}}
