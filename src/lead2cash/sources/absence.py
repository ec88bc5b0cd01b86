"""What an extraction could not give, and why: absent activities, unmatched stage names, cases
without a region. Each report is plain data the engine stores in the log's metadata and
`lead2cash check` shows, so the reason points at the real cause (a file not extracted, a stage
name the configuration does not know, a country value no table holds).
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

import duckdb

from ..model import ACTIVITIES
from .sql import lit
from .stages import MILESTONES, STAGE_ACTIVITIES, StageTables

__all__ = ["Plan", "absent_reasons", "region_gaps", "stage_name_report"]

# (activity, system key, source tables it needs, the system's absent optional tables)
Plan = tuple[str, str, list[str], list[str]]


def absent_reasons(
    con: duckdb.DuckDBPyConnection,
    plans: Sequence[Plan],
    loaded: Sequence[StageTables],
    missing: dict[str, list[str]],
) -> dict[str, str]:
    """Why each model activity is absent: no source reads it, files absent, no row qualifies,
    or (stage activities) no stage of the org is mapped to it."""
    present = {r[0] for r in con.execute("SELECT DISTINCT ActivityName FROM x_events").fetchall()}
    reasons: dict[str, list[str]] = {}
    lacking: dict[tuple[str, str], list[str]] = {}
    empty: dict[tuple[str, str], list[str]] = {}
    for activity, system, tables, gone_tables in plans:
        if activity in present:
            continue
        gone = [t for t in tables if t in gone_tables]
        into = lacking if gone else empty
        names = into.setdefault((activity, system), [])
        names += [t for t in (gone or tables[:1]) if t not in names]
    for (activity, system), names in lacking.items():
        reasons.setdefault(activity, []).append(f"{system}: {', '.join(names)} not extracted")
    for (activity, system), names in empty.items():
        reasons.setdefault(activity, []).append(
            f"{system}: no qualifying row in {', '.join(names)}"
        )
    for t in loaded:
        for activity in STAGE_ACTIVITIES:
            if activity not in present:
                reason = _stage_reason(con, t, activity, missing.get(t.system, []))
                if reason not in reasons.setdefault(activity, []):
                    reasons[activity].append(reason)
    systems = sorted({p[1] for p in plans} | {t.system for t in loaded})
    return {
        a.name: "; ".join(reasons.get(a.name) or [f"not held by {', '.join(systems)}"])
        for a in ACTIVITIES
        if a.name not in present
    }


def _stage_reason(
    con: duckdb.DuckDBPyConnection, t: StageTables, activity: str, gone: list[str]
) -> str:
    """Why one stage activity is absent from one system's history."""
    key, h = t.system, t.history
    absent = [x for x in h.tables if x in gone]
    present = [x for x in h.tables if x not in gone]
    rows = con.execute(f"SELECT count(*) FROM {t.rows}").fetchone()
    if not present or not rows or not rows[0]:
        if absent:
            return f"{key}: {', '.join(absent)} not extracted"
        return f"{key}: no stage history row in {', '.join(h.tables)}"
    if activity not in MILESTONES:
        return f"{key}: no qualifying row in {', '.join(present)}"
    mapped = [
        r[0]
        for r in con.execute(
            f"SELECT DISTINCT stage FROM {t.classes} WHERE milestone = {lit(activity)} "
            "ORDER BY stage"
        ).fetchall()
    ]
    if mapped:
        return f"{key}: no opportunity entered {', '.join(map(repr, mapped))} (mapped to it)"
    stages = _open_stages(con, t)
    configured = [s for s, m in h.milestones.items() if m == activity]
    where = f'the ["{key}".stages] table of the configuration'
    if configured:
        return (
            f"{key}: the stage names of the org do not match the configured milestones: "
            f"{', '.join(map(repr, configured))} (mapped to it in {where}) is not one of its "
            f"stages ({', '.join(stages)}); see the stage-names finding"
        )
    return f"{key}: no stage is mapped to it in {where} (its stages: {', '.join(stages)})"


def _open_stages(con: duckdb.DuckDBPyConnection, t: StageTables) -> list[str]:
    """The org's open stage names, in pipeline order (their average place in the histories;
    stages no opportunity entered last)."""
    return [
        r[0]
        for r in con.execute(
            f"""SELECT c.stage FROM {t.classes} c LEFT JOIN (
                  SELECT stage, avg(n) AS pos FROM (SELECT stage, row_number() OVER (
                    PARTITION BY SalesOpportunityId ORDER BY EventTime, _key) AS n FROM {t.rows})
                  GROUP BY stage) p USING (stage)
                WHERE NOT c.is_closed GROUP BY c.stage ORDER BY min(p.pos) NULLS LAST, c.stage"""
        ).fetchall()
    ]


def stage_name_report(
    con: duckdb.DuckDBPyConnection, loaded: Sequence[StageTables]
) -> list[dict[str, object]]:
    """Per system whose configured milestone stages are not among the org's stages: those
    names, the org's stages, and the configuration lines that map them (the closest stage name
    where one is close, else a placeholder to replace)."""
    out: list[dict[str, object]] = []
    for t in loaded:
        rows = con.execute(f"SELECT count(*) FROM {t.rows}").fetchone()
        if not rows or not rows[0] or not t.history.milestones:
            continue
        known = {r[0] for r in con.execute(f"SELECT stage FROM {t.classes}").fetchall()}
        unmatched = {s: m for s, m in t.history.milestones.items() if s not in known}
        if not unmatched:
            continue
        stages = _open_stages(con, t)
        lines = [f'["{t.system}".stages]  # replaces the whole default table']
        for stage, milestone in t.history.milestones.items():
            if stage in known:
                lines.append(f'"{stage}" = "{milestone}"')
        for stage, milestone in unmatched.items():
            close = difflib.get_close_matches(stage, stages, n=1, cutoff=0.6)
            name = close[0] if close else "<one of the stages above>"
            lines.append(f'"{name}" = "{milestone}"  # instead of "{stage}"')
        out.append(
            {"system": t.system, "unmatched": unmatched, "stages": stages, "toml": "\n".join(lines)}
        )
    return out


def region_gaps(con: duckdb.DuckDBPyConnection, top: int = 5) -> dict[str, object]:
    """Cases without a SalesRegion: how many lack a country value, how many hold one that no
    table maps (with the most frequent such values and the system they came from)."""
    row = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE SalesRegion IS NULL), "
        "count(*) FILTER (WHERE SalesRegion IS NULL AND _country IS NULL) FROM x_cases"
    ).fetchone()
    assert row is not None
    values = con.execute(
        "SELECT _country, _country_from, count(*) AS n FROM x_cases WHERE SalesRegion IS NULL "
        f"AND _country IS NOT NULL GROUP BY ALL ORDER BY n DESC, _country LIMIT {top}"
    ).fetchall()
    return {
        "cases": int(row[0]),
        "no_region": int(row[1]),
        "no_country": int(row[2]),
        "unknown": int(row[1]) - int(row[2]),
        "values": [[v, s, int(n)] for v, s, n in values],
    }
