"""SAP S/4HANA for customer management: the opportunity object the SD connector starts cases from.

`CRMS4D_OPPT_H` holds the opportunity (`OBJECT_ID`, created at `CREATED_AT_H`, a UTC
timestamp); its phase and status changes are change documents (`CDHDR` for when, `CDPOS`
for what: `FNAME` PHASE enters a phase, STATUS closes (won / lost user status) or reopens
it). Quotations follow the opportunity in `VBFA` (`b` -> `B`), so the chain root is the
opportunity. Used by `sap.py`; all files are optional.
"""

from __future__ import annotations

from .config import Setting, Settings
from .defaults import DEFAULTS
from .engine import EventRule, StageHistory, carried_stages, lits, stage_classes
from .spec import SourceTable, TimeField

__all__ = ["SETTINGS", "TABLES", "cases_sql", "created_rule", "history"]

_D = DEFAULTS["sap-s4hana"]

SETTINGS: tuple[Setting, ...] = (
    Setting(
        "reopened", list(_D.status["reopened"]), "CRM user status that reopens a closed opportunity"
    ),
    Setting(
        "phases",
        {s.code: s.name for s in _D.stages if not s.closed},
        "CRM opportunity PHASE code -> stage name",
    ),
    Setting(
        "statuses",
        {s.code: s.name for s in _D.stages if s.closed},
        "CRM user status closing the opportunity -> closed stage name",
    ),
    Setting(
        "won_statuses", [s.code for s in _D.stages if s.won], "closing user statuses that mean won"
    ),
    Setting(
        "stages",
        {s.name: s.activity for s in _D.stages if s.activity},
        "stage name -> milestone activity its first entry means (others: Stage Changed)",
    ),
)

TABLES: tuple[SourceTable, ...] = (
    SourceTable(
        "CRMS4D_OPPT_H",
        ("OBJECT_ID", "CREATED_AT_H"),
        key="OBJECT_ID",
        optional=True,
        times=(
            TimeField("CREATED_AT_H", "sapts"),
            TimeField("STATUS_SINCE", "sap", required=False),
        ),
        optional_columns=(
            "SOLD_TO_PARTY",
            "CREATED_BY_H",
            "EXP_REVENUE",
            "PHASE",
            "STATUS",
            "STATUS_SINCE",
        ),
    ),
    SourceTable(
        "CDHDR",
        ("OBJECTCLAS", "OBJECTID", "CHANGENR", "UDATE", "UTIME"),
        optional=True,
        times=(TimeField("UDATE", "sap", "UTIME"),),
        lineage="CHANGENR",
    ),
    SourceTable(
        "CDPOS",
        ("OBJECTCLAS", "OBJECTID", "CHANGENR", "FNAME", "VALUE_NEW"),
        optional=True,
        optional_columns=("TABNAME",),
    ),
    SourceTable("T023T", ("MATKL", "WGBEZ"), key="MATKL", optional=True, language="SPRAS"),
)


def _names(values: dict[str, str], column: str) -> str:
    """SQL CASE turning codes into names (unknown codes kept, so they are reported)."""
    whens = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in values.items())
    return f"CASE trim({column}) {whens} ELSE trim({column}) END"


def history(cfg: Settings) -> StageHistory:
    """The opportunity's phase / status change documents as a stage history."""
    statuses, reopened = lits(list(cfg["statuses"])), lits(cfg["reopened"])
    rows = carried_stages(f"""
      SELECT p.OBJECTID AS opp, h."UDATE@utc" AS ts, p.CHANGENR AS _tie, {{@CDPOS}} AS _file,
        p._row,
             'VALUE_NEW' AS _column, {{@CDHDR}} || ':CHANGENR=' || p.CHANGENR AS source_record,
             CASE WHEN p.FNAME = 'PHASE'
               THEN {_names(cfg["phases"], "p.VALUE_NEW")} END AS open_stage,
             CASE WHEN p.FNAME = 'STATUS' AND trim(p.VALUE_NEW) IN {statuses}
                  THEN {_names(cfg["statuses"], "p.VALUE_NEW")} END AS closed_stage
      FROM {{CDPOS}} p JOIN {{CDHDR}} h
        ON h.OBJECTCLAS = p.OBJECTCLAS AND h.OBJECTID = p.OBJECTID AND h.CHANGENR = p.CHANGENR
      WHERE p.FNAME = 'PHASE' OR (p.FNAME = 'STATUS' AND trim(p.VALUE_NEW) IN {statuses})
         OR (p.FNAME = 'STATUS' AND trim(p.VALUE_NEW) IN {reopened})""")
    won = set(cfg["won_statuses"])
    closed = {name: code in won for code, name in cfg["statuses"].items()}
    # an opportunity without change documents: closed (won / lost user status) at STATUS_SINCE
    current = f"""
      SELECT OBJECT_ID AS SalesOpportunityId,
             greatest("STATUS_SINCE@utc", "CREATED_AT_H@utc") AS EventTime, OBJECT_ID AS _tie,
             {_names(cfg["statuses"], "STATUS")} AS stage,
             {{@CRMS4D_OPPT_H}} || ':OBJECT_ID=' || OBJECT_ID AS source_record,
             {{@CRMS4D_OPPT_H}} AS _file, _row, 'STATUS' AS _column
      FROM {{CRMS4D_OPPT_H}} WHERE trim(STATUS) IN {statuses}
        AND "STATUS_SINCE@utc" IS NOT NULL"""
    return StageHistory(
        rows,
        ("CDHDR", "CDPOS"),
        stage_classes(cfg["phases"], closed, cfg["stages"]),
        "the phases / statuses settings of [sap-s4hana]",
        current,
        cfg["stages"],
    )


def created_rule() -> EventRule:
    """Opportunity Created: the CRM opportunity header."""
    return EventRule(
        "Opportunity Created", "CRMS4D_OPPT_H", "CREATED_AT_H", "t.OBJECT_ID", "OBJECT_ID"
    )


def cases_sql(cfg: Settings) -> str:
    """Case attributes the CRM opportunity holds (amount, customer, owner, stage), by case id."""
    stage = (
        f"CASE WHEN trim(o.STATUS) IN {lits(list(cfg['statuses']))} "
        f"THEN {_names(cfg['statuses'], 'o.STATUS')} ELSE {_names(cfg['phases'], 'o.PHASE')} END"
    )
    return f"""
    SELECT o.OBJECT_ID AS case_id, TRY_CAST(o.EXP_REVENUE AS DOUBLE) AS amount,
      o.SOLD_TO_PARTY AS kunnr,
           nullif(trim(o.CREATED_BY_H), '') AS owner, {stage} AS stage
    FROM {{CRMS4D_OPPT_H}} o"""
