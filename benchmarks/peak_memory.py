"""Peak resident memory of this process, as the benchmarks report it.

`getrusage(RUSAGE_SELF).ru_maxrss` is wrong for a child process on Linux: the high-water
mark survives `execve`, so a benchmark started from a large parent (pytest after the
conformance tests, say) reports the parent's peak (seen in CI: 2,132 MB for a run whose own
peak is 750 MB). `VmHWM` in /proc/self/status belongs to the process's current address
space and starts again at exec, so it is read first; `ru_maxrss` is the fallback elsewhere.
"""

from __future__ import annotations

import os
import resource
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def peak_rss_mb() -> float:
    """Peak resident set size of this process since it started its program, in MiB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024  # bytes on macOS, else kB


def child_env() -> dict[str, str]:
    """Environment for a `python -c` child that imports this module."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE), env.get("PYTHONPATH", "")]))
    return env
