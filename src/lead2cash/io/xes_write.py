"""Stream an events table to IEEE 1849-2016 XES (`.xes`, or gzip for `.xes.gz`).

DuckDB builds each event's XML fragment vectorised (escaping, ISO-8601 UTC times
with microseconds, XES types from the column types); Python only streams the
fragments to the file batch by batch, so the document is never held in memory.
Case-level columns (the model's case attributes and extras named `case:<key>`) go
on the trace when they are constant within every case, otherwise on each event.
"""

from __future__ import annotations

import gzip
import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from xml.sax.saxutils import escape

import duckdb

from ..model import CASE_ATTRIBUTES, XES_KEYS
from ..progress import NO_PROGRESS, Progress
from ..store import quote

__all__ = ["write_xes"]

_XES_NAME = {v: k for k, v in XES_KEYS.items()}  # model field -> XES key
_CASE_ID = "SalesOpportunityId"
_RESOURCE = XES_KEYS["org:resource"]
_LIFECYCLE = "lifecycle:transition"
COMPLETE = "complete"
"""The lifecycle transition of every event the model holds (each is a completed step)."""
_EXTENSIONS = (("Concept", "concept"), ("Time", "time"), ("Lifecycle", "lifecycle"),
               ("Organizational", "org"))
_STANDARD = "http://www.xes-standard.org/"
_ISO = "'%Y-%m-%dT%H:%M:%S.%f+00:00'"
_INTS = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
         "UINTEGER", "UBIGINT", "UHUGEINT"}
_FLOATS = {"FLOAT", "DOUBLE", "REAL"}
_BATCH = 50_000
_KEY_REFS = {'"': "&quot;", "\t": "&#9;", "\n": "&#10;", "\r": "&#13;"}


def _typed(col: str, sql_type: str) -> tuple[str, str]:
    """(XES type, SQL text expression) of a column, by its DuckDB type; NULL stays NULL."""
    q = quote(col)
    base = sql_type.split("(")[0].upper()
    if base in _INTS:
        return "int", f"CAST({q} AS VARCHAR)"
    if base in _FLOATS or base == "DECIMAL" or base == "INTERVAL":
        num = f"epoch({q})" if base == "INTERVAL" else f"CAST({q} AS DOUBLE)"
        return "float", (f"CASE WHEN isnan({num}) THEN 'NaN' WHEN {num} = 'inf'::DOUBLE THEN 'INF' "
                         f"WHEN {num} = '-inf'::DOUBLE THEN '-INF' ELSE CAST({num} AS VARCHAR) END")
    if base == "BOOLEAN":
        return "boolean", f"CASE WHEN {q} THEN 'true' WHEN NOT {q} THEN 'false' END"
    if base == "TIMESTAMP WITH TIME ZONE":
        return "date", f"strftime(timezone('UTC', {q}), {_ISO})"
    if base.startswith("TIMESTAMP") or base == "DATE":
        return "date", f"strftime(CAST({q} AS TIMESTAMP), {_ISO})"
    return "string", _escaped(f"CAST({q} AS VARCHAR)")


def _escaped(text: str) -> str:
    """SQL that XML-escapes text for an attribute value (controls XML cannot hold become U+FFFD)."""
    for raw, ref in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;"),
                     ("\t", "&#9;"), ("\n", "&#10;"), ("\r", "&#13;")):
        text = f"replace({text}, '{raw}', '{ref}')"
    return f"regexp_replace({text}, '[\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F]', '\uFFFD', 'g')"


def _attribute(key: str, col: str, sql_type: str, indent: str) -> str:
    """SQL for one `<type key=".." value=".."/>` line, NULL when the value is NULL."""
    xes_type, expr = _typed(col, sql_type)
    head = f'{indent}<{xes_type} key="{escape(key, _KEY_REFS)}" value="'.replace("'", "''")
    return f"('{head}' || {expr} || '\"/>\n')"


def _constant_within_cases(con: duckdb.DuckDBPyConnection, table: str, cols: list[str]) -> set[str]:
    """The columns that hold one value (or none) throughout every case: they describe the case."""
    if not cols:
        return set()
    inner = ", ".join(f"count(DISTINCT {quote(c)}) AS d{i}, count({quote(c)}) AS v{i}"
                      for i, c in enumerate(cols))
    outer = ", ".join(f"coalesce(bool_and(d{i} <= 1 AND (v{i} = 0 OR v{i} = n)), true)"
                      for i in range(len(cols)))
    row = con.execute(f"SELECT {outer} FROM (SELECT count(*) AS n, {inner} FROM {table} "
                      f"GROUP BY {quote(_CASE_ID)})").fetchall()[0]
    return {c for c, ok in zip(cols, row, strict=True) if ok}


def _plan(con: duckdb.DuckDBPyConnection, table: str) -> tuple[list[str], list[str], bool]:
    """SQL fragments for trace attributes and event attributes, and whether there is a lifecycle."""
    columns = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? "
        "ORDER BY ordinal_position", [table]).fetchall()
    types = dict(columns)
    # the owner goes on every event as org:resource (the Organizational extension's key), even
    # where it is constant within each case: XES tools look for the resource there
    case_level = [c for c, _ in columns
                  if (c in CASE_ATTRIBUTES or c.startswith("case:")) and c != _RESOURCE]
    on_trace = _constant_within_cases(con, table, case_level)
    trace = [_attribute("concept:name", _CASE_ID, types[_CASE_ID], "\t\t")]
    events = []
    for col, sql_type in columns:
        if col == _CASE_ID:
            continue
        if col in on_trace:
            key = col.removeprefix("case:")
            trace.append(_attribute(key, col, sql_type, "\t\t"))
        else:
            key = _XES_NAME.get(col, col)  # OpportunityOwner varies per event: org:resource
            events.append(_attribute(key, col, sql_type, "\t\t\t"))
    if _LIFECYCLE not in types:  # every event of the model is a completion
        events.append(f"'\t\t\t<string key=\"{_LIFECYCLE}\" value=\"{COMPLETE}\"/>\n'")
    return trace, events, True


def _header(lifecycle: bool) -> str:
    """The log element's opening: extensions, globals, classifiers."""
    ext = "".join(f'\t<extension name="{n}" prefix="{p}" uri="{_STANDARD}{p}.xesext"/>\n'
                  for n, p in _EXTENSIONS)
    classifiers = '\t<classifier name="Activity" keys="concept:name"/>\n'
    if lifecycle:
        classifiers += ('\t<classifier name="Activity+Lifecycle" '
                        'keys="concept:name lifecycle:transition"/>\n')
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<log xes.version="1849-2016" xmlns="{_STANDARD}">\n' + ext
        + '\t<global scope="trace">\n\t\t<string key="concept:name" value="__INVALID__"/>\n'
        '\t</global>\n'
        '\t<global scope="event">\n\t\t<string key="concept:name" value="__INVALID__"/>\n'
        '\t\t<date key="time:timestamp" value="1970-01-01T00:00:00.000000+00:00"/>\n\t</global>\n'
        + classifiers + '\t<string key="creator" value="lead2cash"/>\n'
    )


def _events_sql(table: str, trace: list[str], events: list[str]) -> str:
    """One row per event, in case order, holding its XML (with trace open/close around it)."""
    case = quote(_CASE_ID)
    return (
        f"WITH o AS (SELECT *, row_number() OVER w AS _pos, "
        f"count(*) OVER (PARTITION BY {case}) AS _n, "
        f"first_value(EventTime) OVER w AS _ct, first_value(event_id) OVER w AS _ci FROM {table} "
        f"WINDOW w AS (PARTITION BY {case} ORDER BY EventTime, event_id)) "
        f"SELECT concat(CASE WHEN _pos = 1 THEN concat('\t<trace>\n', {', '.join(trace)}) END, "
        f"'\t\t<event>\n', {', '.join(events)}, '\t\t</event>\n', "
        f"CASE WHEN _pos = _n THEN '\t</trace>\n' END) "
        f"FROM o ORDER BY _ct, _ci, {case}, _pos"
    )


@contextmanager
def _output(path: Path) -> Iterator[io.BufferedIOBase]:
    """A binary file written beside `path` and moved into place only when complete."""
    tmp = path.with_name(path.name + ".part")
    try:
        with open(tmp, "wb") as raw:
            if path.name.lower().endswith(".gz"):
                with gzip.GzipFile(filename=path.name[:-3], mode="wb", fileobj=raw, mtime=0,
                                   compresslevel=6) as gz:
                    yield gz
            else:
                yield raw
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_xes(con: duckdb.DuckDBPyConnection, path: str | Path, table: str = "events",
              progress: Progress = NO_PROGRESS) -> int:
    """Write the events table as XES (gzip when the name ends in .gz); returns events written."""
    path = Path(path)
    step = f"writing {path.name}"
    total = int(con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])
    trace, events, lifecycle = _plan(con, table)
    progress(step, 0, total)
    done = 0
    with _output(path) as out:
        out.write(_header(lifecycle).encode())
        reader = con.sql(_events_sql(table, trace, events)).to_arrow_reader(_BATCH)
        for batch in reader:
            out.write("".join(batch.column(0).to_pylist()).encode())
            done += batch.num_rows
            progress(step, done, total)
        out.write(b"</log>\n")
    return done
