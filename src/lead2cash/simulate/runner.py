"""`simulate()`: generate a company chunk by chunk and stream its extracts and ground truth."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa

from ..errors import Lead2CashError
from ..model import SOURCE_SYSTEMS
from ..progress import NO_PROGRESS, Progress
from ..sources.defaults import DEFAULTS
from .calendar import DAY, BusinessCalendar
from .ground_truth import OBJECTS_SCHEMA, Documents, Events, build, objects_table
from .landscape import landscape as find_landscape
from .params import SimulationParams
from .process import DEVIATIONS, generate
from .world import World
from .writer import ExtractWriter, GroundTruthWriter

__all__ = ["SimulationResult", "simulate"]

_YEARS_AFTER = 4  # calendar beyond the extraction, for deals that run on past it


@dataclass(frozen=True, slots=True)
class SimulationResult:
    """What a simulation wrote: folders, files, event counts and the extraction time."""

    out_dir: Path
    landscape: str
    cases: int
    seed: int
    ground_truth: Path
    last_data_update: datetime
    events: int
    events_by_system: dict[str, int] = field(default_factory=dict)
    files: tuple[Path, ...] = ()
    ground_truth_objects: Path | None = None  # the documents and their relations (E2O, O2O)


def _ldu(p: SimulationParams) -> int:
    """LastDataUpdate (epoch seconds): 02:00 UTC the day after the creation window, or the
    cut time (`cut_at`), which may not be earlier nor beyond the simulated calendar."""
    first = (date.fromisoformat(p.start) - date(1970, 1, 1)).days
    default = (first + p.span_days) * DAY + 2 * 3600
    if p.cut_at is None:
        return default
    try:
        cut = datetime.fromisoformat(p.cut_at.replace("Z", "+00:00"))
    except ValueError as exc:
        raise Lead2CashError(f"--cut-at {p.cut_at!r}: not an ISO 8601 time",
                             "write it like 2025-03-01T02:00:00Z") from exc
    when = int((cut if cut.tzinfo else cut.replace(tzinfo=UTC)).timestamp())
    earliest = datetime.fromtimestamp(default, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if when < default:
        raise Lead2CashError(
            f"--cut-at {p.cut_at}: before the end of the creation window ({earliest})",
            f"cut at {earliest} or later (opportunities are created until then)")
    if when > default + 366 * _YEARS_AFTER * DAY:
        raise Lead2CashError(f"--cut-at {p.cut_at}: beyond the simulated calendar",
                             f"cut within {_YEARS_AFTER} years after {earliest}")
    return when


def simulate(out_dir: Path, cases: int, seed: int, landscape: str = "salesforce+sap-s4hana",
             params: SimulationParams | None = None,
             progress: Progress = NO_PROGRESS) -> SimulationResult:
    """Simulate `cases` opportunities; write each system's extracts and `ground_truth.parquet`."""
    if cases < 1:
        raise Lead2CashError(f"--cases must be at least 1 (got {cases})",
                             "pass the number of opportunities to simulate, e.g. --cases 1000")
    p = params or SimulationParams()
    land = find_landscape(landscape)
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise Lead2CashError(f"{out_dir}: cannot create the output folder ({exc.strerror})",
                             "choose a writable folder for --out (it is created if missing)"
                             ) from exc
    cal = BusinessCalendar(p, p.span_days + 366 * _YEARS_AFTER)
    ldu = _ldu(p)
    world = World.build(p, cases, seed)
    crm_stages = DEFAULTS[land.crm.KEY]
    writers = {m.KEY: ExtractWriter(out_dir / m.KEY, m.CSV_QUOTING) for m in land.systems}
    truth_objects = GroundTruthWriter(out_dir / "ground_truth_objects.parquet", OBJECTS_SCHEMA)
    for m in land.modules:
        writers[m.KEY].write(m.master(p, world))
        if hasattr(m, "master_documents"):  # master data held as objects (customers)
            truth_objects.write(objects_table(pa.array([], pa.string()), [], m.master_documents(p, world)))
    truth = GroundTruthWriter(out_dir / "ground_truth.parquet")
    deviating = p.order_for_lost_rate or p.order_before_win_rate or p.payment_before_invoice_rate
    deviations: list[str] = ["SalesOpportunityId,deviation"]
    by_system = {SOURCE_SYSTEMS[m.KEY]: 0 for m in land.systems}
    progress("simulate", 0, cases)
    for case0 in range(0, cases, p.chunk_cases):
        n = min(p.chunk_cases, cases - case0)
        chunk = generate(p, crm_stages, world, cal, ldu, case0, n, seed)
        tables, crm_events, attrs, stages = land.crm.crm(p, chunk, cal, world)
        o_tables, o_events, o_attrs = land.o2c.order_to_cash(
            p, chunk, cal, attrs["SalesOpportunityId"])
        writers[land.crm.KEY].write(tables)
        writers[land.o2c.KEY].write(o_tables)
        # renderers give their documents (objects) in the same list as their events
        events = [e for e in crm_events + o_events if isinstance(e, Events)]
        docs = [d for d in crm_events + o_events if isinstance(d, Documents)]
        for e in events:
            by_system[e.system] += len(e.case)
        truth.write(build(n, events, attrs | o_attrs, stages, ldu, truth.rows))
        truth_objects.write(objects_table(attrs["SalesOpportunityId"], events, docs))
        ids = attrs["SalesOpportunityId"].to_pylist()
        deviations += [f"{ids[c]},{DEVIATIONS[k]}" for c, k in zip(chunk.dev_case, chunk.dev_kind)]
        progress("simulate", case0 + n, cases)
    extracted = datetime.fromtimestamp(ldu, UTC)
    files: list[Path] = [truth.close(), truth_objects.close()]
    if deviating:  # the cases whose deviations were injected, for checking conformance
        (out_dir / "deviations.csv").write_text("\n".join(deviations) + "\n", encoding="utf-8")
        files.append(out_dir / "deviations.csv")
    for key, w in writers.items():
        files += w.close({
            "system": key, "system_name": SOURCE_SYSTEMS[key],
            "extracted_at": extracted.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "time_zone": DEFAULTS[key].time_zone if key == "sap-s4hana" else "UTC",
            "landscape": land.name, "seed": seed, "cases": cases,
            "generator": "lead2cash simulate",
        })
    return SimulationResult(out_dir, land.name, cases, seed, files[0], extracted, truth.rows,
                            by_system, tuple(files), files[1])
