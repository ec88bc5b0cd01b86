"""The `lead2cash` console entry point: loads the CLI, and stops quietly on an early Ctrl-C.

Loading the CLI (Typer, rich, the command modules) takes a noticeable moment; a Ctrl-C
then would otherwise end in a traceback, before `cli.main` can handle it.
"""

from __future__ import annotations

import sys

__all__ = ["main"]


def main() -> None:
    """Run the CLI (`cli.main` handles errors and Ctrl-C once it is loaded)."""
    try:
        from .cli import main as cli_main
    except KeyboardInterrupt:
        sys.stderr.write("interrupted (Ctrl-C)\n")
        sys.exit(130)
    cli_main()
