"""Extracts "as they come": a simulation's clean files rewritten the way real export tools write them.

A post-processing step (the generator stays untouched): each style rewrites one system's
folder as one real tool does, and changes the ground truth only where the connector must then
read something else, so it stays exactly what a correct connector derives. A real tool writes
no `_manifest.json`: extract styled folders with `--extracted-at` (the simulation's
extraction time) to compare LastDataUpdate.

| Style | System | Tool | Quirks |
|---|---|---|---|
| `data-export` | salesforce | Setup > Data Export (weekly) | cp1252 with non-ASCII names (country names outside cp1252 in their English form), every value quoted, CRLF, booleans `1`/`0`, empty references `000000000000000AAA` (and orders without an opportunity), datetimes `.000Z`, no `OpportunityStage.csv`, `User` with FirstName / LastName and no Name, header-only files for unused objects |
| `data-loader` | salesforce | Data Loader / Bulk API "Export All" | gzipped UTF-8, upper-case headers, datetimes without milliseconds, soft-deleted extra rows (`IsDeleted` = true) in every object |
| `se16n` | sap-s4hana | SE16N "Text with Tabs" download | UTF-16 with BOM, tab-separated `.txt`, texts in two languages (`SPRAS`), non-ASCII customer names, a blank `ERZET` on a share of orders, quotations and invoices |
| `slt` | sap-s4hana | SLT replication (logical delete) | `IUUC_OPERAT_FLAG` on every row; deleted orders with their flow and invoices flagged `D` |
| `synapse-link` | dynamics365 | Azure Synapse Link, append-only | headerless CSV partitions per year named by `model.json`, `versionnumber`, older row versions, deleted records (`IsDelete`) |
| `rest-v3` | oracle-cx | REST framework v3 + BICC | child collections as `{"items": [...]}`, translated tables in three languages, soft-deleted stage snapshots (`DELETE_FLAG`) |
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from ..errors import Lead2CashError
from ..sources.countries import COUNTRIES
from ..sources.defaults import DEFAULTS
from .landscape import landscape as find_landscape
from .runner import SimulationResult

__all__ = ["STYLES", "ExportStyle", "apply_export_styles", "check_export_styles"]

NULL_ID = "000000000000000AAA"
_SHARE = 0.05  # share of records given a deleted copy / an older version
_BLANK_TIME_SHARE = 0.1  # share of eligible SAP documents whose ERZET is blank
_LAKE_START = "2020-01-01T00:00:00Z"  # Synapse Link sink time of rows without createdon
# ASCII names of the simulated cast -> names as real orgs spell them (cp1252 can encode all)
_NAMES = (
    ("Schmidt", "Schmidt-Müller"), ("Garcia", "García"), ("Lopez", "López"),
    ("Novak", "Novák"), ("Dubois", "Dubois-Lefèvre"), ("Energy", "Énergie"),
    ("Textiles", "Textilwerke Süd"), ("Capital", "€uro Capital"), ("Chemicals", "Química – Chemie"),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class ExportStyle:
    """A real export tool: the system it exports and how it rewrites that system's folder."""

    name: str
    system: str
    tool: str
    apply: Callable[[Path, _Truth, bool], dict[str, int]]


# --- reading and writing the clean extracts ---------------------------------------------------


def _read(path: Path) -> pa.Table:
    """A clean extract file, every value as text (empty stays empty)."""
    with path.open(newline="") as fh:
        header = next(csv.reader(fh))
    convert = pcsv.ConvertOptions(
        column_types=dict.fromkeys(header, pa.string()), strings_can_be_null=False
    )
    return pcsv.read_csv(path, convert_options=convert)


def _csv_text(table: pa.Table, delimiter: str = ",", quote_all: bool = False,
              header: bool = True) -> str:
    """CSV text of a table (header unquoted unless every value is quoted)."""
    sink = io.BytesIO()
    style = "all_valid" if quote_all else "needed"
    options = pcsv.WriteOptions(include_header=False, delimiter=delimiter, quoting_style=style)
    pcsv.write_csv(table, sink, write_options=options)
    body = sink.getvalue().decode()
    if not header:
        return body
    names = [f'"{n}"' if quote_all else n for n in table.column_names]
    return delimiter.join(names) + "\n" + body


def _write(path: Path, text: str, encoding: str = "utf-8", crlf: bool = False,
           gz: bool = False) -> None:
    """Write CSV text in an encoding, with CRLF line ends, optionally gzipped."""
    data = (text.replace("\n", "\r\n") if crlf else text).encode(encoding)
    path.write_bytes(gzip.compress(data, mtime=0) if gz else data)


def _set(table: pa.Table, name: str, values: pa.Array | str) -> pa.Table:
    """Replace or append a column (a string is broadcast)."""
    if isinstance(values, str):
        values = pa.array([values] * table.num_rows, pa.string())
    at = table.schema.get_field_index(name)
    return table.set_column(at, name, values) if at >= 0 else table.append_column(name, values)


def _pick(n: int, share: float, salt: int) -> np.ndarray:
    """A deterministic share of row positions (a multiplicative hash, no random state)."""
    i = np.arange(n, dtype=np.uint64)
    h = (i * np.uint64(2654435761) + np.uint64(salt * 40503)) % np.uint64(1000)
    return np.flatnonzero(h < share * 1000)


def _rename_names(values: pa.Array) -> pa.Array:
    """The cast's ASCII names as the org spells them."""
    for old, new in _NAMES:
        values = pc.replace_substring(values, old, new)
    return values


class _Truth:
    """The ground truth, changed where a style makes the connector read something else."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.table = pq.read_table(path)

    def rename_names(self, columns: tuple[str, ...]) -> None:
        """Apply the non-ASCII spellings to name attributes."""
        for c in columns:
            self.table = _set(self.table, c, _rename_names(self.table[c].combine_chunks()))

    def rename_files(self, system: str, names: dict[str, str]) -> None:
        """Lineage follows renamed files (`system/Old.csv:` -> `system/New:`)."""
        rec = self.table["source_record"].combine_chunks()
        for old, new in names.items():
            rec = pc.replace_substring(rec, f"{system}/{old}:", f"{system}/{new}:")
        self.table = _set(self.table, "source_record", rec)

    def save(self) -> None:
        """Write the ground truth back (same schema and compression as the simulator)."""
        pq.write_table(self.table, self.path, compression="zstd")


# --- Salesforce ---------------------------------------------------------------------------------

_SF_REFS = ("blng__Order__c", "blng__Invoice__c", "blng__Account__c")


def _is_ref(name: str) -> bool:
    """A Salesforce reference field (lookup id), e.g. AccountId, blng__Order__c."""
    return (name.endswith("Id") and name != "Id") or name in _SF_REFS


def _data_export(folder: Path, truth: _Truth, crm: bool) -> dict[str, int]:
    """Setup > Data Export: cp1252, every value quoted, 0/1, null ids, no OpportunityStage."""
    (folder / "OpportunityStage.csv").unlink(missing_ok=True)
    orphans = 0
    for path in sorted(folder.glob("*.csv")):
        t = _read(path)
        if path.stem == "Account":
            t = _set(t, "Name", _rename_names(t["Name"].combine_chunks()))
            t = _set(t, "BillingCountry", _latin_countries(t["BillingCountry"].combine_chunks()))
        if path.stem == "User":
            name = t["Name"].combine_chunks()
            parts = pc.split_pattern(name, " ", max_splits=1)
            t = _set(t, "FirstName", pc.list_element(parts, 0))
            t = _set(t, "LastName", _rename_names(pc.list_element(parts, 1)))
            t = t.drop_columns(["Name"])
        if path.stem == "Order":
            picked = _pick(t.num_rows, _SHARE, 7)
            extra = _new_ids(t.take(pa.array(picked)), "Id", "7x")
            t = pa.concat_tables([t, _set(extra, "OpportunityId", "")])
            orphans += len(picked)
        for name in t.column_names:
            col = t[name].combine_chunks()
            if name.startswith("Is") and set(pc.unique(col).to_pylist()) <= {"true", "false", ""}:
                col = pc.replace_substring(pc.replace_substring(col, "true", "1"), "false", "0")
            elif _is_ref(name):
                col = pc.if_else(pc.equal(col, ""), NULL_ID, col)
            else:
                col = pc.replace_substring_regex(col, r"\.000\+0000$", ".000Z")
            t = _set(t, name, col)
        if "IsDeleted" not in t.column_names:
            t = _set(t, "IsDeleted", "0")
        _write(path, _csv_text(t, quote_all=True), "cp1252", crlf=True)
    # objects the org never used come header-only, some without a column newer APIs have
    unused = {
        "OpportunityFieldHistory": "Id,IsDeleted,OpportunityId,CreatedDate,Field,NewValue",
        "QuoteHistory": "Id,IsDeleted,QuoteId,CreatedById,CreatedDate,Field,OldValue,NewValue",
        "Order": "Id,OwnerId,AccountId,EffectiveDate,Status,StatusCode,CreatedDate,IsDeleted",
        "blng__Invoice__c": "Id,Name,blng__Account__c,blng__InvoiceStatus__c,CreatedDate",
    }
    for name, header in unused.items():
        if not (folder / f"{name}.csv").exists():
            cells = ",".join(f'"{h}"' for h in header.split(","))
            _write(folder / f"{name}.csv", cells + "\n", "cp1252", crlf=True)
    if crm:
        truth.rename_names(("CustomerName", "OpportunityOwner"))
    return {"orders without opportunity": orphans} if orphans else {}


def _latin_countries(values: pa.Array) -> pa.Array:
    """Country names cp1252 cannot hold (`日本`, `भारत`) in their English form: an org whose
    Data Export is cp1252 spells its countries in Latin script (same country, same region, so
    the ground truth stays)."""
    english = {
        name: c.names[0]
        for c in COUNTRIES
        for name in c.names
        if not _encodable(name, "cp1252")
    }
    return pa.array([english.get(v, v) for v in values.to_pylist()], pa.string())


def _encodable(text: str, encoding: str) -> bool:
    """Whether a text can be written in an encoding."""
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


def _new_ids(t: pa.Table, column: str, mark: str) -> pa.Table:
    """Copies of rows with new ids: characters 6-7 of an 18-character id replaced by `mark`."""
    ids = t[column].combine_chunks()
    new = pc.binary_join_element_wise(pc.utf8_slice_codeunits(ids, 0, 5), mark,
                                      pc.utf8_slice_codeunits(ids, 7), "")
    return _set(t, column, new)


def _data_loader(folder: Path, truth: _Truth, crm: bool) -> dict[str, int]:
    """Data Loader / Bulk API "Export All": gzipped, upper-case headers, soft-deleted rows."""
    deleted = 0
    renamed = {}
    for salt, path in enumerate(sorted(folder.glob("*.csv"))):
        t = _read(path)
        if "IsDeleted" not in t.column_names:
            t = _set(t, "IsDeleted", "false")
        if path.stem not in ("OpportunityStage",) and "Id" in t.column_names:
            copies = _new_ids(t.take(pa.array(_pick(t.num_rows, _SHARE, salt))), "Id", "9z")
            if path.stem == "OpportunityHistory":  # a deleted close, given Lost if read
                copies = _set(copies, "StageName", DEFAULTS["salesforce"].lost_stage.name)
            t = pa.concat_tables([t, _set(copies, "IsDeleted", "true")])
            deleted += copies.num_rows
        for name in t.column_names:
            t = _set(t, name, pc.replace_substring_regex(
                t[name].combine_chunks(), r"\.000\+0000$", "Z"))
        t = t.rename_columns([c.upper() for c in t.column_names])
        _write(path.with_suffix(".csv.gz"), _csv_text(t, quote_all=True), gz=True)
        path.unlink()
        renamed[path.name] = f"{path.name}.gz"
    truth.rename_files("salesforce", renamed)
    return {"deleted rows": deleted}


# --- SAP ----------------------------------------------------------------------------------------


def _se16n(folder: Path, truth: _Truth, crm: bool) -> dict[str, int]:
    """SE16N "Text with Tabs": UTF-16 text files, two languages, blank ERZET on some rows."""
    blank = _blank_times(folder, truth)
    renamed = {}
    for path in sorted(folder.glob("*.csv")):
        t = _read(path)
        if "SPRAS" in t.column_names:  # the texts in German too, after the English ones
            text = next(c for c in t.column_names if c in ("VTEXT", "WGBEZ"))
            german = _set(t, "SPRAS", "D")
            german = _set(german, text, pc.binary_join_element_wise(
                german[text].combine_chunks(), " (DE)", ""))
            t = pa.concat_tables([t, german])
        if path.stem == "KNA1":
            t = _set(t, "NAME1", _rename_names(t["NAME1"].combine_chunks()))
        if path.stem in blank:
            hit = pc.is_in(t["VBELN"], pa.array(sorted(blank[path.stem])))
            t = _set(t, "ERZET", pc.if_else(hit, "", t["ERZET"].combine_chunks()))
        _write(path.with_suffix(".txt"), _csv_text(t, "\t"), "utf-16", crlf=True)
        path.unlink()
        renamed[path.name] = f"{path.stem}.txt"
    if crm:
        truth.rename_names(("CustomerName",))
    truth.rename_files("sap-s4hana", renamed)
    return {"blank ERZET": sum(len(v) for v in blank.values())}


def _blank_times(folder: Path, truth: _Truth) -> dict[str, set[str]]:
    """Documents (VBAK, VBRK) whose ERZET a download leaves blank, with their events moved to
    local midnight in the ground truth; only where no other event of the case lies between
    midnight and the real time, so the order of every case's events stays as it was."""
    t = truth.table
    rec = t["source_record"].combine_chunks().to_numpy(zero_copy_only=False).astype(str)
    case = t["SalesOpportunityId"].combine_chunks().to_numpy(zero_copy_only=False).astype(str)
    time = t["EventTime"].combine_chunks().cast(pa.int64()).to_numpy()  # microseconds UTC
    tz = ZoneInfo(DEFAULTS["sap-s4hana"].time_zone)
    out: dict[str, set[str]] = {"VBAK": set(), "VBRK": set()}
    new_time = time.copy()
    candidates = [
        i for i, r in enumerate(rec)
        if r.startswith(("sap-s4hana/VBAK.csv:VBELN=", "sap-s4hana/VBRK.csv:VBELN="))
    ]
    for k in _pick(len(candidates), _BLANK_TIME_SHARE, 3):
        i = candidates[k]
        local = datetime.fromtimestamp(time[i] / 1e6, UTC).astimezone(tz)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        m = int(midnight.astimezone(UTC).timestamp()) * 1_000_000
        before_ok = i == 0 or case[i - 1] != case[i] or time[i - 1] < m
        after_ok = i + 1 == len(case) or case[i + 1] != case[i] or time[i + 1] > time[i]
        if before_ok and after_ok:
            table, _, vbeln = rec[i].removeprefix("sap-s4hana/").partition(".csv:VBELN=")
            out[table].add(vbeln)
            new_time[i] = m
    field = t.schema.field("EventTime")
    truth.table = _set(t, "EventTime", pa.array(new_time, pa.int64()).cast(field.type))
    return out


def _slt(folder: Path, truth: _Truth, crm: bool) -> dict[str, int]:
    """SLT replication with logical deletes: IUUC_OPERAT_FLAG on every row, deleted documents."""
    tables = {p.stem: _read(p) for p in sorted(folder.glob("*.csv"))}
    orders = tables["VBAK"].filter(pc.equal(tables["VBAK"]["VBTYP"], "C"))
    picked = orders.take(pa.array(_pick(orders.num_rows, _SHARE, 11)))
    n = picked.num_rows
    new_order = pa.array([f"{500_000_000 + i:010d}" for i in range(n)])
    new_invoice = pa.array([f"{970_000_000 + i:010d}" for i in range(n)])
    extra = {"VBAK": _set(picked, "VBELN", new_order)}
    if "VBRK" in tables and tables["VBRK"].num_rows and n:
        invoices = tables["VBRK"].take(pa.array(np.arange(n) % tables["VBRK"].num_rows))
        extra["VBRK"] = _set(invoices, "VBELN", new_invoice)
        flow = tables["VBFA"].take(pa.array(np.arange(n) % tables["VBFA"].num_rows))
        flow = _set(_set(_set(flow, "VBELV", new_order), "VBELN", new_invoice), "VBTYP_V", "C")
        extra["VBFA"] = _set(flow, "VBTYP_N", "M")
    for name, t in tables.items():
        flags = np.where(np.arange(t.num_rows) % 7 == 0, "U", "I")
        t = _set(t, "IUUC_OPERAT_FLAG", pa.array(flags))
        if name in extra:
            t = pa.concat_tables([t, _set(extra[name], "IUUC_OPERAT_FLAG", "D")])
        _write(folder / f"{name}.csv", _csv_text(t))
    return {"deleted rows": sum(t.num_rows for t in extra.values())}


# --- Dynamics 365 -------------------------------------------------------------------------------


def _synapse_link(folder: Path, truth: _Truth, crm: bool) -> dict[str, int]:
    """Synapse Link append-only: headerless partitions per year, row versions, IsDelete."""
    entities = []
    renamed = {}
    counts = {"older versions": 0, "deleted records": 0}
    version = 1_000_000
    for path in sorted(folder.glob("*.csv")):
        if path.stem == "audit":  # not in the lake: exported through the Web API beside it
            continue
        t = _read(path)
        key = f"{path.stem}id" if f"{path.stem}id" in t.column_names else "activityid"
        if path.stem == "opportunity":
            t, older, gone = _append_only(t, key)
            counts["older versions"] += older
            counts["deleted records"] += gone
        else:
            t = _set(t, "IsDelete", "False")
        n = t.num_rows
        t = _set(t, "versionnumber", pa.array([str(version + i) for i in range(n)]))
        version += n
        created = (t["createdon"].combine_chunks() if "createdon" in t.column_names
                   else pa.array([""] * n, pa.string()))
        sink = pc.if_else(pc.equal(created, ""), _LAKE_START, created)
        head = {"Id": t[key], "SinkCreatedOn": sink, "SinkModifiedOn": sink}
        t = pa.table({**head, **{c: t[c] for c in t.column_names}})
        (folder / path.stem).mkdir()
        years = pc.utf8_slice_codeunits(sink, 0, 4)
        parts = []
        for year in sorted(set(years.to_pylist())):
            part = t.filter(pc.equal(years, year))
            _write(folder / path.stem / f"{year}.csv", _csv_text(part, header=False))
            parts.append({"name": year, "location": f"https://contoso.dfs.core.windows.net/"
                          f"dataverse-contoso/{path.stem}/{year}.csv"})
        entities.append({
            "$type": "LocalEntity", "name": path.stem, "description": path.stem,
            "attributes": [{"name": c, "dataType": "string"} for c in t.column_names],
            "partitions": parts,
        })
        path.unlink()
        renamed[path.name] = path.stem
    model = {"name": "cdm", "description": "cdm", "version": "1.0", "entities": entities}
    (folder / "model.json").write_text(json.dumps(model, indent=2) + "\n")
    truth.rename_files("dynamics365", renamed)
    return counts


def _append_only(t: pa.Table, key: str) -> tuple[pa.Table, int, int]:
    """Opportunity rows as append-only mode writes them: an older version before some rows,
    and deleted records (a row, then the same record with IsDelete = True)."""
    older = t.take(pa.array(_pick(t.num_rows, _SHARE, 5)))
    older = _set(older, "estimatedvalue", "1.00")  # an earlier value, replaced later
    gone = t.take(pa.array(_pick(t.num_rows, _SHARE, 9)))
    ids = gone[key].combine_chunks()
    gone = _set(gone, key, pc.binary_join_element_wise(
        "ffffffff", pc.utf8_slice_codeunits(ids, 8), ""))
    tomb = _set(gone, "IsDelete", "True")
    rows = pa.concat_tables([
        _set(older, "IsDelete", "False"), _set(gone, "IsDelete", "False"),
        _set(t, "IsDelete", "False"), tomb,
    ])
    return rows, older.num_rows, gone.num_rows


# --- Oracle -------------------------------------------------------------------------------------


def _rest_v3(folder: Path, truth: _Truth, crm: bool) -> dict[str, int]:
    """REST framework v3 child collections, translated tables, soft-deleted snapshots."""
    path = folder / "opportunities.json"
    page = json.loads(path.read_text())
    for item in page["items"]:
        lines = item.get("ChildRevenue") or []
        item["ChildRevenue"] = {"items": lines, "count": len(lines), "hasMore": False,
                                "limit": 25, "offset": 0, "links": []}
    path.write_text(json.dumps(page) + "\n")
    for name, text in (("RA_TERMS_TL", "NAME"), ("MOO_STG_VL", "NAME")):
        t = _set(_read(folder / f"{name}.csv"), "SOURCE_LANG", "US")
        langs = [_set(_set(t, "LANGUAGE", code), text, pc.binary_join_element_wise(
            t[text].combine_chunks(), f" ({code})", "")) for code in ("D", "F")]
        _write(folder / f"{name}.csv", _csv_text(pa.concat_tables([langs[0], t, langs[1]])))
    snaps = _read(folder / "MOO_OPTY_STG_SNAPSHOTS.csv")
    gone = snaps.take(pa.array(_pick(snaps.num_rows, _SHARE, 13)))
    ids = pc.cast(pc.add(pc.cast(gone["OPTY_STG_SNAPSHOT_ID"], pa.int64()), 90_000_000_000_000),
                  pa.string())
    gone = _set(_set(gone, "OPTY_STG_SNAPSHOT_ID", ids), "DELETE_FLAG", "Y")
    gone = _set(gone, "STG_ID", "104")  # a move to Negotiate, if it were read
    snaps = pa.concat_tables([_set(snaps, "DELETE_FLAG", "N"), gone])
    _write(folder / "MOO_OPTY_STG_SNAPSHOTS.csv", _csv_text(snaps))
    return {"deleted rows": gone.num_rows}


STYLES: dict[str, ExportStyle] = {
    s.name: s
    for s in (
        ExportStyle("data-export", "salesforce", "Setup > Data Export (weekly)", _data_export),
        ExportStyle("data-loader", "salesforce", "Data Loader / Bulk API, Export All",
                    _data_loader),
        ExportStyle("se16n", "sap-s4hana", "SE16N download, Text with Tabs", _se16n),
        ExportStyle("slt", "sap-s4hana", "SLT replication with logical deletes", _slt),
        ExportStyle("synapse-link", "dynamics365", "Azure Synapse Link, append-only",
                    _synapse_link),
        ExportStyle("rest-v3", "oracle-cx", "REST framework v3 and BICC", _rest_v3),
    )
}


def check_export_styles(landscape: str, styles: list[str] | tuple[str, ...]
                        ) -> dict[str, ExportStyle]:
    """The styles by system, checked against the landscape (before anything is simulated)."""
    land = find_landscape(landscape)
    systems = {m.KEY for m in land.systems}
    chosen: dict[str, ExportStyle] = {}
    for name in styles:
        style = STYLES.get(name)
        if style is None:
            raise Lead2CashError(f"unknown export style {name!r}",
                                 f"choose from: {', '.join(STYLES)}")
        if style.system not in systems:
            raise Lead2CashError(
                f"export style {name!r} is for {style.system}, which landscape "
                f"{landscape!r} does not have",
                f"use a style of {', '.join(sorted(systems))}: " + ", ".join(
                    s.name for s in STYLES.values() if s.system in systems))
        if style.system in chosen:
            raise Lead2CashError(f"two export styles for {style.system}",
                                 "give one --export-style per system")
        chosen[style.system] = style
    return chosen


def apply_export_styles(result: SimulationResult, styles: list[str] | tuple[str, ...]
                        ) -> dict[str, dict[str, int]]:
    """Rewrite a simulation's folders as real tools export them (at most one style per system);
    the ground truth follows. Returns what each style did (counts of the quirks it added)."""
    chosen = check_export_styles(result.landscape, styles)
    crm = find_landscape(result.landscape).crm.KEY
    truth = _Truth(result.ground_truth)
    done = {}
    for system, style in chosen.items():
        folder = result.out_dir / system
        (folder / "_manifest.json").unlink(missing_ok=True)  # a real tool writes none
        done[style.name] = style.apply(folder, truth, system == crm)
    truth.save()
    return done
