"""The conformance, drivers, compare and activity-times commands: JSON equals the API, the
printed rule file and model read back, usage errors exit 2 without a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from mining_log import load_frame, synthetic_frame
from typer.testing import CliRunner

from lead2cash.cli import app, main
from lead2cash.conformance import (
    align_log,
    check_rules,
    load_rules,
    read_pnml,
    reference_model,
    replay_log,
)
from lead2cash.mining import DuckDBEngine, parse_filter
from lead2cash.mining.compare import compare
from lead2cash.mining.drivers import drivers
from lead2cash.store import Workspace


RULES = load_rules().by_id()


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "log.duckdb"
    with Workspace(path, memory_limit="1GB") as ws:
        load_frame(ws, synthetic_frame(cases=60, seed=4))
    return path


def _json(argv: list[str]) -> dict:
    out = CliRunner().invoke(app, ["mine", *argv, "--json"])
    assert out.exit_code == 0, out.output
    return json.loads(out.stdout)


def test_json_equals_the_api(db: Path) -> None:
    with Workspace(db, read_only=True) as ws, DuckDBEngine(ws) as e:
        expected = [
            (["conformance"], check_rules(e).to_dict()),
            (["conformance", "--filter", "breaks 'order-after-won'"],
             check_rules(e, filters=parse_filter("breaks 'order-after-won'", RULES)).to_dict()),
            (["conformance", "--method", "replay", "--per-case"], replay_log(e, per_case=True).to_dict()),
            (["drivers", "--target", "lost", "--min-cases", "3"],
             drivers(e, target="lost", min_cases=3, top=25).to_dict()),
            (["compare", "--a", "SalesRegion = 'EMEA'", "--b", "SalesRegion = 'APAC'"],
             compare(e, parse_filter("SalesRegion = 'EMEA'"), parse_filter("SalesRegion = 'APAC'"),
                     a_text="SalesRegion = 'EMEA'", b_text="SalesRegion = 'APAC'").to_dict()),
        ]
        aligned = align_log(e, time_limit=30.0).to_dict()
    for argv, want in expected:
        assert _json([*argv, "--db", str(db)]) == json.loads(json.dumps(want, default=str)), argv
    got = _json(["conformance", "--method", "alignments", "--time-limit", "30", "--db", str(db)])
    assert {k: v for k, v in got.items() if k != "variant_details"} == json.loads(json.dumps(
        {k: v for k, v in aligned.items() if k != "variant_details"}))
    times = _json(["activity-times", "--db", str(db)])
    assert times["activities"] and "waiting_median_s" in times["activities"][0]


def test_printed_rules_and_model_read_back(db: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    rules = runner.invoke(app, ["mine", "conformance", "--print-rules"])
    assert rules.exit_code == 0 and "[[rule]]" in rules.stdout
    (tmp_path / "rules.toml").write_text(rules.stdout)
    model = runner.invoke(app, ["mine", "conformance", "--print-model"])
    (tmp_path / "model.pnml").write_text(model.stdout)
    assert read_pnml(tmp_path / "model.pnml").transitions == reference_model().transitions
    a = _json(["conformance", "--rules", str(tmp_path / "rules.toml"), "--db", str(db)])
    b = _json(["conformance", "--db", str(db)])
    assert {k: v for k, v in a.items() if k != "rules_from"} == \
        {k: v for k, v in b.items() if k != "rules_from"}
    c = _json(["conformance", "--model", str(tmp_path / "model.pnml"), "--db", str(db)])
    d = _json(["conformance", "--method", "replay", "--db", str(db)])
    assert c["log_fitness"] == d["log_fitness"] and c["method"] == "token replay"


@pytest.mark.parametrize(("argv", "message"), [
    (["conformance", "--rules", "{bad}"], "line 3: unknown template"),
    (["conformance", "--model", "{missing}"], "no such file"),
    (["conformance", "--model", "{bad}"], "unknown model format"),
    (["conformance", "--method", "rules", "--model", "x.pnml"], "--model goes with"),
    (["drivers", "--target", "fast"], "not lost, late-payment, slow or a rule id"),
    (["dfg", "--filter", "breaks 'no-such-rule'"], "no rule 'no-such-rule'"),
])
def test_usage_errors_exit_2_without_traceback(db: Path, tmp_path: Path, argv: list[str],
                                               message: str, capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[rule]]\nid = "x"\ntemplate = "precedense"\na = "A"\n')
    argv = [a.format(bad=bad, missing=tmp_path / "missing.pnml") for a in argv]
    monkeypatch.setattr(sys, "argv", ["lead2cash", "mine", *argv, "--db", str(db)])
    with pytest.raises(SystemExit) as done:
        main()
    err = capsys.readouterr().err
    assert done.value.code == 2, err
    assert message in " ".join(err.split()) and "Traceback" not in err


def test_a_user_error_in_a_fresh_process(db: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-c", "from lead2cash.cli import main; main()", "mine", "drivers",
         "--target", "fast", "--db", str(db)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "fix:" in run.stderr and "Traceback" not in run.stderr


@pytest.fixture(scope="module")
def objects_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hand-written object-centric log (tests/data/ocel), imported into a workspace."""
    from ocel_support import SMALL

    from lead2cash.io.importer import import_log

    path = tmp_path_factory.mktemp("objects") / "small.duckdb"
    with Workspace(path) as ws:
        import_log(ws, SMALL)
    return path


def _on_case_type(e: DuckDBEngine | object) -> dict[str, object]:
    """Every new verb's answer on an engine (the log flattened on its case type)."""
    from lead2cash.mining.activity_times import activity_times

    return {
        "conformance": check_rules(e).to_dict(),  # type: ignore[arg-type]
        "replay": replay_log(e).to_dict(),  # type: ignore[arg-type]
        "drivers": drivers(e, target="late-payment", min_cases=1).to_dict(),  # type: ignore[arg-type]
        "compare": compare(e, parse_filter("closed"), parse_filter("open"),  # type: ignore[arg-type]
                           a_text="closed", b_text="open").to_dict(),
        "activity-times": {"activities": [a.to_dict() for a in activity_times(e)]},  # type: ignore[arg-type]
    }


def test_case_type_reaches_the_new_verbs(objects_db: Path) -> None:
    """`--case-type Invoice` mines the log flattened on invoices (3 cases here), the same
    answer as the API on an engine opened on that case type."""
    with Workspace(objects_db, read_only=True) as ws, DuckDBEngine(ws, case_type="Invoice") as e:
        want = json.loads(json.dumps(_on_case_type(e), default=str))
    assert want["conformance"]["cases"] == 3
    argv = {"conformance": ["conformance"], "replay": ["conformance", "--method", "replay"],
            "drivers": ["drivers", "--target", "late-payment", "--min-cases", "1"],
            "compare": ["compare", "--a", "closed", "--b", "open"],
            "activity-times": ["activity-times"]}
    for name, args in argv.items():
        got = _json([*args, "--case-type", "Invoice", "--db", str(objects_db)])
        assert got == want[name], name
    opportunities = _json(["conformance", "--db", str(objects_db)])
    assert opportunities["cases"] != 3


@pytest.mark.spark
def test_case_type_on_spark_equals_duckdb(objects_db: Path) -> None:
    from lead2cash.mining import SparkEngine

    with Workspace(objects_db, read_only=True) as ws:
        with DuckDBEngine(ws, case_type="Invoice") as duck:
            want = _on_case_type(duck)
        with SparkEngine.from_workspace(ws, case_type="Invoice") as spark:
            assert _on_case_type(spark) == want
