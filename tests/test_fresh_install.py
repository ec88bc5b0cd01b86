"""A fresh install, as a new user gets it: today's dependency versions, no dev tools.

Typer >= 0.26 vendors click, so click is no longer installed: a usage error must not need it.
"""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

import pytest

from test_cli_startup import USAGE_ERRORS, assert_usage_error, run_cli

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_usage_errors_on_a_fresh_install(tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", str(REPO)], check=True,
                   timeout=1800)
    versions = subprocess.run(
        [str(python), "-c", "import importlib.util as u, typer; "
         "print(typer.__version__, u.find_spec('click') is not None)"],
        check=True, capture_output=True, text=True).stdout.split()
    print(f"fresh install: typer {versions[0]}, click installed: {versions[1]}", file=sys.stderr)
    for args in USAGE_ERRORS:
        assert_usage_error(run_cli(python, args, tmp_path / "cache"), args)
    shown = run_cli(python, ["--help"], tmp_path / "cache")
    assert shown.returncode == 0 and "mine" in shown.stdout and not shown.stderr
