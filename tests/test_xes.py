"""XES reader and writer: real logs against pm4py (test-only oracle), both reader paths,
a written workspace read back by pm4py and by us, round trips, and bad files."""

from __future__ import annotations

import gzip
import re
import xml.etree.ElementTree as ET
from collections import Counter
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lead2cash.errors import InputError
from lead2cash.io.xes import XesTable, read_xes, write_xes
from lead2cash.io.xes_exact import read_exact
from lead2cash.io.xes_fast import NotFast, read_fast
from lead2cash.store import EVENTS, Workspace, events_ddl

REAL = ["running-example.xes", "roadtraffic100traces.xes", "helpdesk.xes.gz",
        pytest.param("bpic2012.xes.gz", marks=pytest.mark.slow)]
CASE, ACT, TIME = "case:concept:name", "concept:name", "time:timestamp"


def silent(step: str, done: int, total: int | None = None) -> None:
    """A progress sink for the readers' internal API."""


def pm4py_read(path: Path) -> pd.DataFrame:
    """pm4py's classic lxml reader (not the rustxes backend it prefers when installed)."""
    import pm4py

    return pm4py.read_xes(str(path), variant="iterparse")


def typed(xes: XesTable) -> pd.DataFrame:
    """Our raw strings converted by their XES types, to compare with pm4py's parsed frame."""
    df = xes.table.to_pandas()
    for col, kind in xes.types.items():
        if kind == "date":
            df[col] = pd.to_datetime(df[col], utc=True, format="ISO8601")
        elif kind in ("int", "float"):
            df[col] = pd.to_numeric(df[col])
        elif kind == "boolean":
            df[col] = df[col].map({"true": True, "false": False})
    return df


def normal(value: object) -> object:
    """One comparable form for a cell: None for missing, float for numbers, UTC Timestamps."""
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NaT:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return value


def by_case(df: pd.DataFrame, columns: list[str]) -> dict[str, list[tuple[object, ...]]]:
    """Each case's events in order, as tuples of the given columns."""
    out: dict[str, list[tuple[object, ...]]] = {}
    for row in df[[CASE, *columns]].itertuples(index=False):
        out.setdefault(row[0], []).append(tuple(normal(v) for v in row[1:]))
    return out


@pytest.fixture(scope="module")
def real_logs(shared_data: Path) -> dict[str, tuple[XesTable, pd.DataFrame]]:
    """Our table and pm4py's frame for each fast-tier real log, read once."""
    return {name: (read_xes(shared_data / name), pm4py_read(shared_data / name))
            for name in ("running-example.xes", "roadtraffic100traces.xes", "helpdesk.xes.gz")}


def pair(name: str, shared_data: Path, real_logs: dict) -> tuple[XesTable, pd.DataFrame]:
    """Cached pair for fast-tier logs; bpic2012 (slow tier) is read on demand."""
    if name in real_logs:
        return real_logs[name]
    return read_xes(shared_data / name), pm4py_read(shared_data / name)


@pytest.mark.parametrize("name", REAL)
def test_real_log_matches_pm4py(name: str, shared_data: Path, real_logs: dict) -> None:
    ours, theirs = pair(name, shared_data, real_logs)
    df = typed(ours)
    assert len(df) == len(theirs)
    assert set(df[CASE]) == set(theirs[CASE])
    assert Counter(df[ACT]) == Counter(theirs[ACT])
    assert by_case(df, [ACT, TIME]) == by_case(theirs, [ACT, TIME])
    assert set(theirs.columns) == set(df.columns) - {"_trace", "_event"}
    assert by_case(df, sorted(theirs.columns)) == by_case(theirs, sorted(theirs.columns))


def test_real_log_counts_and_positions(shared_data: Path, real_logs: dict) -> None:
    """Published counts of helpdesk, trace attributes as case: columns, 0-based positions."""
    xes, _ = real_logs["helpdesk.xes.gz"]
    t = xes.table
    assert (t.num_rows, len(set(t[CASE].to_pylist()))) == (21348, 4580)
    assert xes.types[TIME] == "date" and xes.types[CASE] == "string"
    road, _ = real_logs["roadtraffic100traces.xes"]
    assert road.types["amount"] == "float" and road.types["article"] == "int"
    traces, events = t["_trace"].to_numpy(), t["_event"].to_numpy()
    new = traces[1:] != traces[:-1]
    assert traces[0] == 0 and traces[-1] == 4579 and ((traces[1:] - traces[:-1]) <= 1).all()
    assert (events[1:][new] == 0).all() and (events[1:][~new] == events[:-1][~new] + 1).all()
    assert t[TIME][0].as_py() == "2012-10-09T14:50:17+00:00"  # raw, not parsed


@pytest.mark.parametrize("name", REAL)
def test_fast_and_exact_paths_agree(name: str, shared_data: Path) -> None:
    fast = read_fast(shared_data / name, silent)  # the usual layout takes the fast path
    exact = read_exact(shared_data / name, silent)
    assert fast.table.equals(exact.table) and fast.types == exact.types


def test_unusual_layouts_fall_back_to_the_exact_reader(shared_data: Path, tmp_path: Path) -> None:
    """Reordered and single-quoted attributes, comments: same result via the exact path."""
    text = (shared_data / "running-example.xes").read_text(encoding="utf-8")
    odd = re.sub(r'key="([^"]*)" value="([^"]*)"', r"value='\2' key='\1'", text)
    odd = odd.replace("<event>", "<!-- a comment --><event>", 3)
    path = tmp_path / "odd.xes"
    path.write_text(odd, encoding="utf-8")
    with pytest.raises(NotFast):
        read_fast(path, silent)
    expected = read_xes(shared_data / "running-example.xes")
    got = read_xes(path)
    assert got.table.equals(expected.table) and got.types == expected.types


def small_log(body: str) -> str:
    """An XES document around some traces."""
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<log xes.version="1849-2016" '
            'xmlns="http://www.xes-standard.org/">\n' + body + "</log>\n")


ESCAPES = small_log(
    '<trace>\n<string key="concept:name" value="c&amp;1"/>\n'
    '<event>\n<string key="concept:name" value="a &lt;b&gt; &quot;q&quot; &#10;line&#x9;tab"/>\n'
    '<string key="note" value="two\n lines\tand tab"/>\n<int key="n" value="7"/>\n</event>\n'
    '<event>\n<string key="concept:name" value="Ünïcödé €"/>\n<float key="n" value="1.5"/>\n'
    '<list key="items"><values><string key="x" value="1"/></values></list>\n'
    '<string key="parent" value="kept"><string key="child" value="dropped"/></string>\n</event>\n'
    '<event/>\n<string key="after" value="trace attribute after the events"/>\n</trace>\n'
    '<trace/>\n<trace>\n<event>\n<date key="time:timestamp" value="2024-01-01T00:00:00Z"/>\n'
    '</event>\n</trace>\n')


def test_escapes_whitespace_nesting_and_empty_elements(tmp_path: Path) -> None:
    path = tmp_path / "escapes.xes"
    path.write_text(ESCAPES, encoding="utf-8")
    xes = read_xes(path)
    rows = xes.table.to_pylist()
    assert len(rows) == 4  # the empty <event/> is a row; the empty <trace/> has none
    assert rows[0][ACT] == 'a <b> "q" \nline\ttab'
    assert rows[0]["note"] == "two  lines and tab"  # literal whitespace normalised as XML says
    assert rows[1][ACT] == "Ünïcödé €" and rows[1]["parent"] == "kept"
    assert "child" not in rows[1] and "items" not in rows[1] and "x" not in rows[1]
    assert [r[CASE] for r in rows] == ["c&1", "c&1", "c&1", None]
    assert rows[2]["case:after"] == "trace attribute after the events"
    assert [(r["_trace"], r["_event"]) for r in rows] == [(0, 0), (0, 1), (0, 2), (2, 0)]
    assert xes.types["n"] == "string" and xes.types[TIME] == "date"  # int and float → string
    flat = tmp_path / "flat.xes"  # without the nested attributes the fast path reads it alike
    plain = re.sub(r"<list.*</list>\n|<string key=\"parent\".*</string>\n|<event/>\n", "", ESCAPES)
    flat.write_text(plain.replace("<trace/>", "<trace></trace>"), encoding="utf-8")
    fast, exact = read_fast(flat, silent), read_exact(flat, silent)
    assert fast.table.equals(exact.table) and fast.types == exact.types
    assert fast.table.num_rows == 3 and fast.table[ACT][0].as_py() == rows[0][ACT]
    assert fast.table["_trace"].to_pylist() == [0, 0, 2]


# --- writer -----------------------------------------------------------------------------------

EXTRAS = {"priority": "BIGINT", "flag": "BOOLEAN", "case:segment": "VARCHAR",
          "lifecycle:transition": "VARCHAR"}
ROWS = [  # event_id, case, activity, time, amount, customer, owner, stage, priority, flag, segment
    (3, "OPP-1", "Opportunity Qualified", "2024-01-02 10:00:00", 200.25, 'Ünï & <Co> "Ltd"',
     "Jane", "Qualification", 2, True, "SMB"),
    (1, "OPP-1", "Opportunity Created", "2024-01-01 10:00:00.123456", 100.5, 'Ünï & <Co> "Ltd"',
     "Jane", None, 1, False, "SMB"),
    (2, "OPP-1", "Quote Issued", "2024-01-02 10:00:00", 100.5, 'Ünï & <Co> "Ltd"',
     "Jane", "Proposal/Quote", None, None, "SMB"),
    (0, "OPP-2", "Opportunity Created", "2023-12-31 23:59:59.999999", 5.0, "Beta\nGmbH",
     "Ann", None, 7, True, "Enterprise"),
    (4, "OPP-2", "Opportunity Lost", "2024-02-01 00:00:00.000001", 5.0, "Beta\nGmbH",
     "Bob", "Closed Lost", 9, False, "Enterprise"),
]


@pytest.fixture
def written(workspace: Workspace) -> Workspace:
    """A workspace whose events table was filled directly, without the importer."""
    with workspace.transaction() as con:
        con.execute(events_ddl(EVENTS, EXTRAS))
        for eid, case, act, ts, amount, customer, owner, stage, prio, flag, seg in ROWS:
            con.execute(
                f"INSERT INTO {EVENTS} (event_id, SalesOpportunityId, ActivityName, EventTime, "
                "SourceSystem, LastDataUpdate, OpportunityAmount, CustomerName, OpportunityOwner, "
                "SalesStage, SalesCycleDuration, event_type, source_record, priority, flag, "
                '"case:segment", "lifecycle:transition") VALUES (?, ?, ?, ?::TIMESTAMP, '
                "'Salesforce CRM', '2024-03-01 02:00:00'::TIMESTAMP, ?, ?, ?, ?, "
                "INTERVAL '3 days 4 hours', 'explicit', ?, ?, ?, ?, 'complete')",
                [eid, case, act, ts, amount, customer, owner, stage, f"Opportunity/{case}#{eid}",
                 prio, flag, seg])
    return workspace


def expected_events() -> list[tuple[str, str, pd.Timestamp]]:
    """(case, activity, UTC time) in the writer's order: cases by first event, ties by event_id."""
    rows = sorted(ROWS, key=lambda r: (r[1] != "OPP-2", r[3], r[0]))
    return [(r[1], r[2], pd.Timestamp(r[3], tz="UTC")) for r in rows]


@pytest.mark.parametrize("name", ["log.xes", "log.xes.gz"])
def test_written_xes_reads_back_in_pm4py_and_ours(written: Workspace, tmp_path: Path,
                                                  name: str) -> None:
    path = tmp_path / name
    seen: list[tuple[int, int | None]] = []
    assert write_xes(written.con, path, progress=lambda s, d, t=None: seen.append((d, t))) == 5
    assert seen[-1] == (5, 5)
    df = pm4py_read(path)
    assert list(zip(df[CASE], df[ACT], df[TIME], strict=True)) == expected_events()
    first = df[df[ACT] == "Opportunity Created"].set_index(CASE)
    assert first.loc["OPP-1", "case:CustomerName"] == 'Ünï & <Co> "Ltd"'
    assert first.loc["OPP-2", "case:CustomerName"] == "Beta\nGmbH"
    assert first.loc["OPP-2", "case:segment"] == "Enterprise"
    assert first.loc["OPP-1", "case:SalesCycleDuration"] == 3 * 86400 + 4 * 3600
    assert list(df["OpportunityAmount"]) == [5.0, 5.0, 100.5, 100.5, 200.25]  # varies: on events
    assert list(df["org:resource"]) == ["Ann", "Bob", "Jane", "Jane", "Jane"]
    assert list(df["priority"].fillna(-1)) == [7, 9, 1, -1, 2]
    assert list(df["flag"].fillna("-")) == [True, False, False, "-", True]
    assert set(df["SourceSystem"]) == {"Salesforce CRM"} and set(df["event_type"]) == {"explicit"}
    assert "DiscountPercentage" not in df.columns  # all NULL: omitted
    assert df["source_record"].iloc[0] == "Opportunity/OPP-2#0"
    ours = read_fast(path, silent)
    t = typed(ours)
    assert list(zip(t[CASE], t[ACT], t[TIME], strict=True)) == expected_events()
    assert ours.types["priority"] == "int" and ours.types["flag"] == "boolean"
    assert ours.types["case:SalesCycleDuration"] == "float"
    assert t["LastDataUpdate"].iloc[0] == pd.Timestamp("2024-03-01 02:00", tz="UTC")


def test_written_header_declares_the_standard(written: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "log.xes"
    write_xes(written.con, path)
    ns = "{http://www.xes-standard.org/}"
    root = ET.parse(path).getroot()
    assert root.tag == f"{ns}log" and root.get("xes.version") == "1849-2016"
    assert {e.get("prefix"): e.get("uri") for e in root.iter(f"{ns}extension")} == {
        p: f"http://www.xes-standard.org/{p}.xesext"
        for p in ("concept", "time", "lifecycle", "org")}
    assert {c.get("name"): c.get("keys") for c in root.iter(f"{ns}classifier")} == {
        "Activity": "concept:name", "Activity+Lifecycle": "concept:name lifecycle:transition"}
    scopes = {g.get("scope"): {a.get("key") for a in g} for g in root.iter(f"{ns}global")}
    assert scopes == {"trace": {"concept:name"}, "event": {"concept:name", "time:timestamp"}}
    times = [d.get("value") for d in root.iter(f"{ns}date") if d.get("key") == TIME]  # global first
    assert times[1:3] == ["2023-12-31T23:59:59.999999+00:00", "2024-02-01T00:00:00.000001+00:00"]


def test_empty_log_writes_a_valid_document(workspace: Workspace, tmp_path: Path) -> None:
    with workspace.transaction() as con:
        con.execute(events_ddl(EVENTS))
    path = tmp_path / "empty.xes"
    assert write_xes(workspace.con, path) == 0
    assert ET.parse(path).getroot().find("{http://www.xes-standard.org/}trace") is None
    assert read_xes(path).table.num_rows == 0


# --- round trips through the importer ---------------------------------------------------------

def table_of(ws: Workspace) -> pd.DataFrame:
    """The whole events table, columns sorted, rows by event_id."""
    df = ws.con.execute(f"SELECT * FROM {EVENTS} ORDER BY event_id").df()
    return df[sorted(df.columns)]


@pytest.mark.parametrize("name", ["running-example.xes", "roadtraffic100traces.xes",
                                  pytest.param("helpdesk.xes.gz", marks=pytest.mark.slow)])
def test_import_export_reimport_gives_the_same_log(name: str, shared_data: Path,
                                                   tmp_path: Path) -> None:
    from lead2cash.io.importer import import_log

    with Workspace(tmp_path / "a.duckdb") as a, Workspace(tmp_path / "b.duckdb") as b:
        import_log(a, shared_data / name)
        out = tmp_path / ("out.xes.gz" if name.endswith(".gz") else "out.xes")
        events = a.con.execute("SELECT count(*) FROM events").fetchall()[0][0]
        assert write_xes(a.con, out) == events
        import_log(b, out)
        pd.testing.assert_frame_equal(table_of(a), table_of(b))


@pytest.mark.slow
def test_pm4py_reads_our_bpic2012_export(shared_data: Path, tmp_path: Path) -> None:
    import pm4py

    from lead2cash.io.importer import import_log

    source = shared_data / "bpic2012.xes.gz"
    with Workspace(tmp_path / "a.duckdb") as ws:
        import_log(ws, source)
        write_xes(ws.con, tmp_path / "bpic.xes.gz")
    original, exported = pm4py.read_xes(str(source)), pm4py_read(tmp_path / "bpic.xes.gz")
    assert len(exported) == len(original) == 262200
    assert exported[CASE].nunique() == original[CASE].nunique() == 13087
    assert pm4py.discover_dfg(exported) == pm4py.discover_dfg(original)


# --- bad files --------------------------------------------------------------------------------

def error_of(path: Path) -> str:
    """The message read_xes raises for a bad file."""
    with pytest.raises(InputError) as info:
        read_xes(path)
    return str(info.value)


GOOD = small_log("".join(
    f'\t<trace>\n\t\t<string key="concept:name" value="c{i}"/>\n\t\t<event>\n'
    f'\t\t\t<string key="concept:name" value="a{i}"/>\n\t\t</event>\n\t</trace>\n'
    for i in range(40)))


def test_good_file_of_the_bad_file_tests_reads(tmp_path: Path) -> None:
    path = tmp_path / "good.xes"
    path.write_text(GOOD, encoding="utf-8")
    assert read_fast(path, silent).table.num_rows == 40


def test_unclosed_tag_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "unclosed.xes"
    lines = GOOD.splitlines(keepends=True)
    gone = next(i for i, line in enumerate(lines) if i > 100 and line.strip() == "</event>")
    del lines[gone]  # a "</event>" in the middle of the traces: its </trace> now mismatches
    path.write_text("".join(lines), encoding="utf-8")
    msg = error_of(path)
    assert "unclosed.xes" in msg and f"line {gone + 1}," in msg and "mismatched tag" in msg
    assert "value '</trace>'" in msg  # shows the offending line


def test_bare_ampersand_and_bad_utf8_are_located(tmp_path: Path) -> None:
    amp = tmp_path / "amp.xes"
    amp.write_text(GOOD.replace('value="a7"', 'value="a & b"'), encoding="utf-8")
    msg = error_of(amp)
    line = GOOD.splitlines().index('\t\t\t<string key="concept:name" value="a7"/>') + 1
    assert "amp.xes" in msg and f"line {line}," in msg and "malformed XML" in msg
    utf = tmp_path / "latin.xes"
    utf.write_bytes(GOOD.replace('value="a9"', 'value="caf\xe9"').encode("latin-1"))
    assert "latin.xes" in (msg := error_of(utf)) and "line " in msg and "malformed XML" in msg


def test_truncated_gzip_is_reported(shared_data: Path, tmp_path: Path) -> None:
    data = gzip.compress((shared_data / "running-example.xes").read_bytes())
    path = tmp_path / "cut.xes.gz"
    path.write_bytes(data[: len(data) // 2])
    msg = error_of(path)
    assert "cut.xes.gz" in msg and "truncated" in msg and "compressed byte" in msg


def test_truncated_plain_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "cut.xes"
    path.write_text(GOOD[: len(GOOD) // 2], encoding="utf-8")
    msg = error_of(path)
    assert "cut.xes" in msg and "line " in msg and "malformed XML: unclosed token" in msg


def test_event_outside_a_trace(tmp_path: Path) -> None:
    path = tmp_path / "loose.xes"
    path.write_text(small_log('<event>\n<string key="concept:name" value="x"/>\n</event>\n'),
                    encoding="utf-8")
    msg = error_of(path)
    assert "loose.xes" in msg and "line 3" in msg and "outside a <trace>" in msg


def test_root_must_be_log(tmp_path: Path) -> None:
    path = tmp_path / "root.xes"
    path.write_text("<trace><event/></trace>", encoding="utf-8")
    assert "root element is <trace>" in error_of(path)


def test_missing_file(tmp_path: Path) -> None:
    msg = error_of(tmp_path / "nowhere.xes.gz")
    assert "nowhere.xes.gz" in msg and "no such file" in msg


def test_reader_reports_progress(shared_data: Path) -> None:
    seen: list[tuple[str, int, int | None]] = []
    read_xes(shared_data / "helpdesk.xes.gz", lambda s, d, t=None: seen.append((s, d, t)))
    size = (shared_data / "helpdesk.xes.gz").stat().st_size
    assert seen and seen[-1] == ("reading XES", size, size)


def test_timestamps_keep_microseconds(tmp_path: Path) -> None:
    stamp = "2024-05-06T07:08:09.123456+02:00"
    path = tmp_path / "us.xes"
    path.write_text(small_log(f'<trace><event><date key="time:timestamp" value="{stamp}"/>'
                              "</event></trace>"), encoding="utf-8")
    value = read_xes(path).table[TIME][0].as_py()
    assert value == stamp and datetime.fromisoformat(value).microsecond == 123456


@pytest.mark.parametrize("bad", ["\x01", "\x0c"])
def test_characters_xml_forbids_are_errors_not_data(tmp_path: Path, bad: str) -> None:
    """A control character in a value, or a form feed between tags, is malformed XML."""
    path = tmp_path / "control.xes"
    in_value = GOOD.replace('value="a5"', f'value="a{bad}5"')
    path.write_text(in_value, encoding="utf-8")
    line = GOOD.splitlines().index('\t\t\t<string key="concept:name" value="a5"/>') + 1
    assert f"line {line}," in (msg := error_of(path)) and "malformed XML" in msg
    between = GOOD.replace("\t\t<event>", f"\t\t{bad}<event>", 3)
    path.write_text(between, encoding="utf-8")
    assert "malformed XML" in error_of(path)


def test_writer_replaces_characters_xml_cannot_hold(written: Workspace, tmp_path: Path) -> None:
    with written.transaction() as con:
        con.execute(f"UPDATE {EVENTS} SET SalesStage = 'bell' || chr(7) || ' & tab' || chr(9)")
    path = tmp_path / "controls.xes"
    write_xes(written.con, path)
    stages = set(read_fast(path, silent).table["SalesStage"].to_pylist())
    assert stages == {"bell\ufffd & tab\t"}


def test_declared_latin1_is_read_exactly(tmp_path: Path) -> None:
    path = tmp_path / "latin1.xes"
    text = GOOD.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"').replace('"a3"', '"café"')
    path.write_bytes(text.encode("latin-1"))
    with pytest.raises(NotFast):
        read_fast(path, silent)
    assert read_xes(path).table[ACT][3].as_py() == "café"


def test_failed_write_leaves_no_file(written: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "broken.xes.gz"

    def fail(step: str, done: int, total: int | None = None) -> None:
        if done:
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_xes(written.con, path, progress=fail)
    assert not path.exists() and not (tmp_path / "broken.xes.gz.part").exists()
    write_xes(written.con, path)
    assert path.read_bytes()[:2] == b"\x1f\x8b"  # gzip


# --- property: the fast path returns exactly what the exact reader returns ------------------

_TEXT = st.text(alphabet="ab &<>\"'\t\n\r\u00e9\u20ac\U0001f600", max_size=6)
_ATTR = st.tuples(st.sampled_from(["string", "date", "int", "float", "boolean", "id"]),
                  st.sampled_from(["concept:name", "k", "x&y", "time:timestamp"]), _TEXT)
_EVENT = st.lists(_ATTR, max_size=3)
_TRACE = st.tuples(st.lists(_ATTR, max_size=2), st.lists(_EVENT, max_size=3),
                   st.lists(_ATTR, max_size=1))


def _escape(value: str, refs: bool) -> str:
    """Escape for a double-quoted attribute; whitespace as references or left literal."""
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")
    if refs:
        value = value.replace("\t", "&#9;").replace("\n", "&#10;").replace("\r", "&#xD;")
    return value


def _document(traces: list, gap: str, refs: bool) -> str:
    """An XES document in the common layout with the given whitespace between tags."""
    def attrs(items: list) -> str:
        return "".join(f'{gap}<{t} key="{_escape(k, refs)}" value="{_escape(v, refs)}"/>'
                       for t, k, v in items)

    body = "".join(
        f"{gap}<trace>{attrs(before)}"
        + "".join(f"{gap}<event>{attrs(ev)}{gap}</event>" for ev in events)
        + f"{attrs(after)}{gap}</trace>" for before, events, after in traces)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<log>{body}{gap}</log>\n'


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(traces=st.lists(_TRACE, min_size=1, max_size=4),
       gap=st.sampled_from(["", "\n\t", " \r\n"]), refs=st.booleans())
def test_fast_path_equals_exact_reader(tmp_path: Path, traces: list, gap: str, refs: bool) -> None:
    path = tmp_path / "generated.xes"
    path.write_bytes(_document(traces, gap, refs).encode("utf-8"))
    exact = read_exact(path, silent)
    try:
        fast = read_fast(path, silent)
    except NotFast:
        return  # e.g. an empty event between two attributes: read exactly, as designed
    assert fast.table.equals(exact.table), (fast.table.to_pylist(), exact.table.to_pylist())
    assert fast.types == exact.types


@settings(max_examples=40, deadline=None)
@given(traces=st.lists(_TRACE, min_size=1, max_size=8), block=st.integers(16, 400))
def test_chunks_scanned_apart_equal_one_read(traces: list, block: int) -> None:
    """The fast reader scans the chunks between </trace> tags on their own, in threads, and
    numbers their traces and events after the chunks before them: with blocks so small that a
    document is many chunks, the result is still the exact reader's."""
    import tempfile
    from unittest import mock

    from lead2cash.io import xes_source

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "chunked.xes"
        path.write_bytes(_document(traces, "\n", False).encode("utf-8"))
        exact = read_exact(path, silent)
        try:
            with mock.patch.object(xes_source, "BLOCK", block):
                fast = read_fast(path, silent)
        except NotFast:
            return
    assert fast.table.equals(exact.table), (fast.table.to_pylist(), exact.table.to_pylist())
    assert fast.types == exact.types


def test_a_real_log_in_many_chunks_equals_one_read(shared_data: Path) -> None:
    from unittest import mock

    from lead2cash.io import xes_source

    whole = read_fast(shared_data / "helpdesk.xes.gz", silent)
    with mock.patch.object(xes_source, "BLOCK", 50_000):
        chunked = read_fast(shared_data / "helpdesk.xes.gz", silent)
    assert chunked.table.equals(whole.table) and chunked.table.num_rows == 21_348
