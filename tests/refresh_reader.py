"""A reader process for the refresh tests: asks the workspace the same question again and again.

Run as `python refresh_reader.py DB OUT STOP`. Until the file STOP exists it alternates a
fresh read-only open (as a CLI call does) and a long-lived read-only workspace that follows
new versions with `reopen_if_changed` (as the web server does), and appends each answer
(or the error it got) to OUT as one JSON line. It writes OUT.ready once the first answer is in.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from lead2cash.errors import Lead2CashError
from lead2cash.store import Workspace

FINGERPRINT = """
SELECT (SELECT count(*) FROM events),
       (SELECT count(DISTINCT SalesOpportunityId) FROM events),
       (SELECT sum(hash(SalesOpportunityId, ActivityName, EventTime)) FROM events)::VARCHAR,
       (SELECT count(*) FROM mining_steps),
       (SELECT count(*) FROM mining_cases),
       (SELECT value FROM log_meta WHERE key = 'file')
"""
"""What a reader sees of a log: its events, and the derived tables and metadata built with
them. A half-written version would disagree with itself or with both complete versions."""


def fingerprint(ws: Workspace) -> list[object]:
    """The answer to the reader's question, JSON-ready."""
    row = ws.con.execute(FINGERPRINT).fetchone()
    assert row is not None
    return [int(row[0]), int(row[1]), row[2], int(row[3]), int(row[4]), row[5]]


def main(db: Path, out: Path, stop: Path) -> None:
    """Read until told to stop; never exit on an error, record it."""
    long_lived = Workspace(db, read_only=True)
    n = 0
    with out.open("a", encoding="utf-8") as fh:
        while not stop.exists():
            for kind in ("fresh", "long-lived"):
                try:
                    if kind == "fresh":
                        with Workspace(db, read_only=True) as ws:
                            answer = fingerprint(ws)
                    else:
                        long_lived.reopen_if_changed()
                        answer = fingerprint(long_lived)
                    fh.write(json.dumps({"kind": kind, "answer": answer}) + "\n")
                except (Lead2CashError, Exception) as exc:  # noqa: BLE001 - the test judges it
                    fh.write(json.dumps({"kind": kind, "error": repr(exc)}) + "\n")
                fh.flush()
            n += 1
            if n == 1:
                Path(f"{out}.ready").write_text("ok")
            time.sleep(0.01)
    long_lived.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
