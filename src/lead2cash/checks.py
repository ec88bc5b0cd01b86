"""Check a workspace's log against the data model: coverage by tier, and every rule the model implies.

Each rule is one SQL query that lists the offending cases; the report gives its count,
example case ids and how to fix it. Errors make the log unfit for the analyses,
warnings make some of them less reliable.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from enum import StrEnum

from .io.import_notes import DST_META
from .model import ACTIVITY_NAMES, ATTRIBUTES, Tier
from .sources.defaults import DEFAULTS
from .store import REJECTED, Workspace, quote

__all__ = ["CheckReport", "Coverage", "Finding", "Severity", "check_log"]

EXAMPLES = 5


class Severity(StrEnum):
    """How bad a finding is; decides the exit code of `lead2cash check`."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Coverage:
    """Share of events and of cases that carry a value for one attribute."""

    attribute: str
    tier: str
    events_share: float
    cases_share: float


@dataclass(frozen=True, slots=True)
class Finding:
    """One rule that the log breaks: how often, on which cases, and how to fix it."""

    rule: str
    severity: Severity
    message: str
    count: int
    examples: tuple[str, ...]
    hint: str


@dataclass(frozen=True, slots=True)
class CheckReport:
    """The outcome of `check_log`."""

    events: int
    cases: int
    coverage: tuple[Coverage, ...]
    findings: tuple[Finding, ...]

    @property
    def exit_code(self) -> int:
        """0 when clean, 1 with warnings only, 2 with errors."""
        severities = {f.severity for f in self.findings}
        return 2 if Severity.ERROR in severities else 1 if Severity.WARNING in severities else 0

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {
            "events": self.events,
            "cases": self.cases,
            "exit_code": self.exit_code,
            "coverage": [asdict(c) for c in self.coverage],
            "findings": [{**asdict(f), "examples": list(f.examples)} for f in self.findings],
        }


@dataclass(frozen=True, slots=True)
class _Rule:
    """A rule as data: SQL selecting one row per offence (with its case id)."""

    rule: str
    severity: Severity
    message: str
    sql: str
    hint: str
    needs: tuple[str, ...] = ()


_CLOSE = "ActivityName IN ('Opportunity Won', 'Opportunity Lost')"

_RULES: tuple[_Rule, ...] = (
    _Rule("future-timestamp", Severity.ERROR, "events dated after the log's LastDataUpdate",
          "SELECT SalesOpportunityId FROM events WHERE EventTime > LastDataUpdate",
          "fix the source's clock or time zone (import --timezone), or re-extract to refresh LastDataUpdate"),
    _Rule("missing-created", Severity.WARNING, "cases without an Opportunity Created event",
          "SELECT SalesOpportunityId FROM events GROUP BY SalesOpportunityId "
          "HAVING count(*) FILTER (WHERE ActivityName = 'Opportunity Created') = 0",
          "extract the opportunity object's creation date, or map your start activity to "
          "'Opportunity Created'"),
    _Rule("before-created", Severity.WARNING, "events before the case's Opportunity Created",
          "SELECT e.SalesOpportunityId FROM events e JOIN (SELECT SalesOpportunityId, "
          "min(EventTime) AS created FROM events WHERE ActivityName = 'Opportunity Created' "
          "GROUP BY ALL) c USING (SalesOpportunityId) WHERE e.EventTime < c.created",
          "check the time zones of the source systems and the link between CRM and ERP records"),
    _Rule("won-and-lost", Severity.WARNING,
          "cases with Won and Lost both present without an Opportunity Reopened between them",
          f"SELECT SalesOpportunityId FROM (SELECT SalesOpportunityId, ActivityName, "
          f"lag(ActivityName) OVER (PARTITION BY SalesOpportunityId ORDER BY EventTime, event_id) "
          f"AS prev FROM events WHERE {_CLOSE} OR ActivityName = 'Opportunity Reopened') "
          f"WHERE {_CLOSE} AND prev IN ('Opportunity Won', 'Opportunity Lost') AND prev <> ActivityName",
          "a deal that changes its outcome must be reopened first: check the stage history"),
    _Rule("outcome-contradiction", Severity.ERROR,
          "OpportunityOutcome contradicts the case's last Won/Lost event",
          f"SELECT SalesOpportunityId FROM (SELECT SalesOpportunityId, "
          f"last(OpportunityOutcome ORDER BY EventTime, event_id) FILTER "
          f"(WHERE OpportunityOutcome IS NOT NULL) AS outcome, "
          f"last(ActivityName ORDER BY EventTime, event_id) FILTER (WHERE {_CLOSE}) AS closed "
          f"FROM events GROUP BY ALL) WHERE outcome IS NOT NULL AND ("
          f"(outcome = 'Won' AND closed IS DISTINCT FROM 'Opportunity Won') OR "
          f"(outcome = 'Lost' AND closed IS DISTINCT FROM 'Opportunity Lost'))",
          "derive OpportunityOutcome from the final close (Won/Lost), or fix the stage history",
          ("OpportunityOutcome",)),
    _Rule("cycle-duration-mismatch", Severity.ERROR,
          "SalesCycleDuration differs from first Opportunity Created → last Won/Lost (by > 1 s)",
          f"SELECT SalesOpportunityId FROM (SELECT SalesOpportunityId, "
          f"max(SalesCycleDuration) AS stated, "
          f"max(EventTime) FILTER (WHERE {_CLOSE}) - min(EventTime) FILTER "
          f"(WHERE ActivityName = 'Opportunity Created') AS actual FROM events GROUP BY ALL) "
          f"WHERE stated IS NOT NULL AND (actual IS NULL OR "
          f"abs(epoch(stated) - epoch(actual)) > 1)",
          "recompute SalesCycleDuration from the events (lead2cash extract does this)",
          ("SalesCycleDuration",)),
    _Rule("negative-amount", Severity.ERROR, "OpportunityAmount below zero",
          "SELECT SalesOpportunityId FROM events WHERE OpportunityAmount < 0",
          "amounts must be zero or positive; credit notes belong in their own events",
          ("OpportunityAmount",)),
    _Rule("discount-range", Severity.ERROR, "DiscountPercentage outside 0..1",
          "SELECT SalesOpportunityId FROM events WHERE DiscountPercentage < 0 OR DiscountPercentage > 1",
          "write discounts as fractions (0.15 for 15 %)", ("DiscountPercentage",)),
    _Rule("nonstandard-activity", Severity.WARNING, "events whose activity is not one of the model's 15",
          "SELECT SalesOpportunityId FROM events WHERE ActivityName NOT IN ("
          + ", ".join("'" + a + "'" for a in ACTIVITY_NAMES) + ")",
          "rename activities to the model's names (e.g. with a mapping), or accept them as extra steps"),
)


def _coverage(ws: Workspace) -> tuple[int, int, tuple[Coverage, ...]]:
    """Event and case coverage of all 17 attributes in one scan."""
    parts = []
    for a in ATTRIBUTES:
        q = quote(a.name)
        parts.append(f"count({q})")
        parts.append(f"count(DISTINCT SalesOpportunityId) FILTER (WHERE {q} IS NOT NULL)")
    row = ws.con.execute(
        f"SELECT count(*), count(DISTINCT SalesOpportunityId), {', '.join(parts)} FROM events"
    ).fetchone()
    assert row is not None
    events, cases = int(row[0]), int(row[1])
    cov = tuple(
        Coverage(a.name, a.tier.value, row[2 + 2 * i] / events if events else 0.0,
                 row[3 + 2 * i] / cases if cases else 0.0)
        for i, a in enumerate(ATTRIBUTES)
    )
    return events, cases, cov


def _run_rule(ws: Workspace, sql: str) -> tuple[int, tuple[str, ...]]:
    """Count a rule's offences and pick example case ids."""
    row = ws.con.execute(
        f"SELECT count(*), list(DISTINCT SalesOpportunityId ORDER BY SalesOpportunityId)"
        f"[1:{EXAMPLES}] FROM ({sql})"
    ).fetchone()
    assert row is not None
    return int(row[0]), tuple(str(x) for x in (row[1] or []))


def _missing_required(ws: Workspace, coverage: tuple[Coverage, ...]) -> list[Finding]:
    """One error per required attribute that some events lack."""
    out = []
    for c in coverage:
        if c.tier != Tier.REQUIRED.value or c.events_share >= 1.0:
            continue
        count, examples = _run_rule(
            ws, f"SELECT SalesOpportunityId FROM events WHERE {quote(c.attribute)} IS NULL")
        how = {"SourceSystem": "re-import with --source-system 'Salesforce CRM' (or the system's name)",
               "LastDataUpdate": "re-import with --extracted-at TIME (when the data was extracted)"}
        out.append(Finding(f"missing-required:{c.attribute}", Severity.ERROR,
                           f"required attribute {c.attribute} is missing", count, examples,
                           how.get(c.attribute, f"fill in {c.attribute} in the source")))
    return out


def _freshness(ws: Workspace) -> Finding | None:
    """How old the data is, from the newest LastDataUpdate (and, after extract, where each
    system's LastDataUpdate came from)."""
    row = ws.con.execute(
        "SELECT max(LastDataUpdate), date_diff('second', max(LastDataUpdate), "
        "now()::TIMESTAMP) / 86400.0 FROM events").fetchone()
    if not row or row[0] is None:
        return None
    sources = tuple(f"{k.split(':', 1)[1]}: {v}" for k, v in _notes(ws, "data_age"))
    return Finding("data-age", Severity.INFO, f"data last refreshed {row[0]:%Y-%m-%d %H:%M} UTC, "
                   f"{float(row[1]):.1f} days ago", 0, sources,
                   "re-extract to analyse current data (or pass extract --extracted-at TIME)")


def _notes(ws: Workspace, kind: str) -> list[tuple[str, str]]:
    """The log's metadata entries `<kind>:<system>` written by extract."""
    return sorted((k, v) for k, v in ws.meta().items() if k.split(":", 1)[0] == kind)


def _reading(ws: Workspace) -> list[Finding]:
    """What extract derived or normalised while reading the exports (`<kind>:<system>` notes):
    stage flags derived, SAP dates without a time, rows left out, non-UTF-8 files."""
    out = []
    for key, text in _notes(ws, "derived"):
        out.append(Finding("derived-from-export", Severity.INFO,
                           f"{key.split(':', 1)[1]}: {text}", 0, (),
                           "export the missing object to use its own values"))
    counts = {f"{k.split(':', 1)[1]} {label}": n for k, v in _notes(ws, "date_only")
              for label, n in json.loads(v).items()}
    if counts:
        out.append(Finding("date-only-times", Severity.WARNING,
                           "events dated by a SAP date whose time (ERZET / UTIME) is blank: "
                           "placed at midnight local time", sum(counts.values()),
                           tuple(f"{label}: {n}" for label, n in counts.items()),
                           "durations and the order of same-day events around them are unsure: "
                           "export the time columns too"))
    dropped = [f"{k.split(':', 1)[1]}: {v}" for k, v in _notes(ws, "dropped")]
    if dropped:
        out.append(Finding("rows-left-out", Severity.INFO,
                           "export rows left out: marked deleted, older versions of a record, "
                           "texts in other languages", 0, tuple(dropped),
                           "nothing to fix; see the connector docs (exports as they come)"))
    encodings = [f"{k.split(':', 1)[1]}: {v}" for k, v in _notes(ws, "encoding")]
    if encodings:
        out.append(Finding("file-encoding", Severity.INFO, "files read in an encoding other "
                           "than UTF-8", 0, tuple(encodings),
                           'if names look wrong, set encoding = "..." for the system in '
                           "the extract --config file"))
    return out


def _dst_times(ws: Workspace) -> Finding | None:
    """Local times the import read in a daylight-saving gap or overlap (io/import_notes.py)."""
    raw = ws.meta().get(DST_META)
    if not raw:
        return None
    dst = json.loads(raw)
    gap, overlap = int(dst.get("gap", 0)), int(dst.get("overlap", 0))
    if not gap and not overlap:
        return None
    return Finding(
        "dst-ambiguous-times", Severity.WARNING,
        f"local times in {dst.get('timezone')} that fall in a daylight-saving gap ({gap}, read "
        f"moved forward by the gap) or overlap ({overlap}, read as the second occurrence)",
        gap + overlap, (), "export times with their UTC offset, or in UTC, and import again")


def _rejected(ws: Workspace) -> Finding | None:
    """Rows set aside at import with --skip-bad-rows."""
    try:
        row = ws.con.execute(f"SELECT count(DISTINCT row), list(DISTINCT row)[1:{EXAMPLES}] "
                             f"FROM {REJECTED}").fetchone()
    except Exception:
        return None
    if not row or not row[0]:
        return None
    return Finding("rejected-rows", Severity.WARNING, "input rows were set aside at import",
                   int(row[0]), tuple(row[1]), "see the rejected_rows table for each row's reason")


def _absent_activities(ws: Workspace) -> Finding | None:
    """Standard activities that never occur, with the reason the extraction recorded."""
    present = {r[0] for r in ws.con.execute("SELECT DISTINCT ActivityName FROM events").fetchall()}
    absent = [a for a in ACTIVITY_NAMES if a not in present]
    if not absent:
        return None
    reasons: dict[str, str] = json.loads(ws.meta().get("absent_activities", "{}"))
    shown = tuple(f"{a}: {reasons[a]}" if a in reasons else a for a in absent)
    return Finding("absent-activities", Severity.INFO,
                   f"{len(absent)} of the model's 15 activities never occur", len(absent), shown,
                   "extract the source objects that carry them (see the connector docs)")


def _duplicates(ws: Workspace) -> Finding | None:
    """Events that are one fact twice: the same case, activity and time from the same source
    record, or (imported rows, whose lineage is only a file row) with every attribute equal.
    Two records at the same time, e.g. two stage changes in one second or two invoices cleared
    on one day, are two events, not a duplicate."""
    columns = [r[0] for r in ws.con.execute("DESCRIBE events").fetchall()]
    attrs = ", ".join(quote(c) for c in columns if c not in ("event_id", "source_record"))
    record = "CASE WHEN event_type <> 'imported' THEN source_record END"
    sql = (f"SELECT SalesOpportunityId FROM events GROUP BY SalesOpportunityId, ActivityName, "
           f"EventTime, {record}, CASE WHEN ({record}) IS NULL THEN row({attrs}) END "
           f"HAVING count(*) > 1")
    count, examples = _run_rule(ws, sql)
    if not count:
        return None
    return Finding("duplicate-event", Severity.WARNING,
                   "duplicate events (same case, activity and time from one source record, or "
                   "imported rows equal in every attribute)", count, examples,
                   "remove duplicated rows in the source extract, or de-duplicate before import")


def _closed_without_close(ws: Workspace) -> Finding | None:
    """Cases whose current stage is closed but that have no Won / Lost event: an outcome the
    log does not show. Extracted logs: the opportunity record's stage (counted at extraction);
    imported logs: the SalesStage of the case's last event, against the closed stages the log
    recorded or, without them, the closed stages of the four systems' defaults."""
    meta = ws.meta()
    if "closed_without_close" in meta:
        data = json.loads(meta["closed_without_close"])
        count, examples = int(data["count"]), tuple(str(x) for x in data["examples"])
    else:
        closed = json.loads(meta.get("closed_stages", "null")) or sorted(
            {s.name for d in DEFAULTS.values() for s in d.stages if s.closed})
        names = ", ".join("'" + n.replace("'", "''") + "'" for n in closed)
        count, examples = _run_rule(ws, (
            "SELECT SalesOpportunityId FROM events GROUP BY SalesOpportunityId HAVING "
            f"last(SalesStage ORDER BY EventTime, event_id) IN ({names}) AND "
            f"count(*) FILTER (WHERE {_CLOSE}) = 0"))
    if not count:
        return None
    return Finding("closed-without-outcome", Severity.WARNING,
                   "cases whose current stage is closed but with no Opportunity Won / Lost event "
                   "(their outcome is missing)", count, examples,
                   "extract the stage history of these opportunities (e.g. OpportunityHistory with "
                   "the close), or check that the history and the opportunity record agree")


def _stage_names(ws: Workspace) -> list[Finding]:
    """Configured milestone stages that are not among the org's stage names (the milestones
    they mark then never occur): the org's stages and the configuration lines to map them."""
    out = []
    for entry in json.loads(ws.meta().get("stage_names", "[]")):
        unmatched = ", ".join(f"{s!r} ({m})" for s, m in entry["unmatched"].items())
        out.append(Finding(
            "stage-names", Severity.WARNING,
            f"{entry['system']}: the stage names do not match the configured milestones: "
            f"{unmatched} not among its stages ({', '.join(entry['stages'])})",
            len(entry["unmatched"]), tuple(entry["unmatched"]),
            "map the org's stages in the configuration (extract --config FILE):\n"
            + entry["toml"]))
    return out


def _regions(ws: Workspace) -> Finding | None:
    """Cases without a SalesRegion and why: no country value, or a value no table maps."""
    gaps = json.loads(ws.meta().get("region_gaps", "null") or "null")
    if not gaps or not gaps["no_region"]:
        return None
    values = tuple(f"{v!r} ({system}) x{n}" for v, system, n in gaps["values"])
    hint = ("fill in the customers' country in the source (or extract the table holding it, "
            "see the connector docs under SalesRegion)")
    if gaps["values"]:
        value, system, _ = gaps["values"][0]
        hint = (f'map each such value in the configuration, e.g. ["{system}".regions] '
                f'"{value}" = "EMEA"; {hint}')
    return Finding(
        "no-region", Severity.WARNING if gaps["unknown"] else Severity.INFO,
        f"{gaps['no_region']} of {gaps['cases']} cases have no SalesRegion: "
        f"{gaps['no_country']} without a country value, {gaps['unknown']} with a country value "
        f"no table maps (the most frequent in the examples)", gaps["no_region"], values, hint)


def check_log(ws: Workspace) -> CheckReport:
    """Run every check on the workspace's log."""
    ws.require_log()
    events, cases, coverage = _coverage(ws)
    covered = {c.attribute for c in coverage if c.events_share > 0}
    findings = _missing_required(ws, coverage)
    for rule in _RULES:
        if any(n not in covered for n in rule.needs):
            continue
        count, examples = _run_rule(ws, rule.sql)
        if count:
            findings.append(Finding(rule.rule, rule.severity, rule.message, count, examples, rule.hint))
    extra = (_duplicates(ws), _closed_without_close(ws), *_stage_names(ws), _regions(ws),
             _rejected(ws), _absent_activities(ws), _freshness(ws), *_reading(ws), _dst_times(ws))
    findings += [f for f in extra if f]
    order = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}
    findings.sort(key=lambda f: order[f.severity])
    return CheckReport(events, cases, coverage, tuple(findings))
