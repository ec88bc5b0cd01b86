"""Helpers shared by the dashboard tests: the CLI's JSON, a real server in a subprocess."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient
from typer.testing import CliRunner

VOLATILE = ("checked_at", "age_hours")
"""Freshness fields that depend on when they were computed."""


def cli_json(*args: str, codes: tuple[int, ...] = (0,)) -> Any:
    """Run `lead2cash ARGS --json` in-process and read its JSON (exit code in `codes`)."""
    from lead2cash.cli import app

    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code in codes, result.output
    return json.loads(result.stdout)


def without_volatile(kpis: dict[str, Any]) -> dict[str, Any]:
    """KPI JSON without the fields that change with the clock."""
    out = dict(kpis)
    out["freshness"] = {k: v for k, v in kpis["freshness"].items() if k not in VOLATILE}
    return out


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_server(db: Path, *extra: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """`lead2cash serve` in a subprocess on a free loopback port; yields its base URL."""
    with server_process(db, *extra, env=env) as (base, _):
        yield base


@contextmanager
def server_process(db: Path, *extra: str, env: dict[str, str] | None = None
                   ) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """`lead2cash serve` in a subprocess on a free loopback port; yields its base URL and the
    process."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "lead2cash", "serve", "--db", str(db), "--port", str(port), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, **(env or {}), "COLUMNS": "200"})
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise AssertionError(f"the server stopped: {proc.stdout.read() if proc.stdout else ''}")
            try:
                httpx.get(base + "/api/health", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.3)
        else:
            raise AssertionError("the server did not start within 60 s")
        yield base, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()



def get(client: TestClient, path: str, **params: Any) -> Any:
    """A JSON endpoint's answer, asserting 200 (with the start of the body when not)."""
    r = client.get(path, params=params)
    assert r.status_code == 200, (path, r.text[:500])
    return r.json()
