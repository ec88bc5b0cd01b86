"""The `lead2cash` command: one Typer app, each command group in its own module."""

from __future__ import annotations

import sys

import typer

from ..errors import Lead2CashError
from . import options
from .console import print_error

__all__ = ["app", "main"]

app = typer.Typer(
    name="lead2cash",
    help="Process mining for Lead-to-Cash: build, check and mine one event log from CRM and ERP data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register() -> None:
    """Attach every command module to the app (each module defines `register(app)`)."""
    from . import demo, extract, log_commands, mine, runs, simulate

    for module in (log_commands, simulate, extract, mine, demo, runs):
        module.register(app)


_register()


def main() -> None:
    """Console entry point: user errors print as one clear message and exit 2."""
    options.ARGV = sys.argv[1:]
    try:
        code = app(standalone_mode=False)
    except Lead2CashError as exc:
        print_error(exc)
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.exit(130)
    except Exception as exc:  # click usage errors carry their own exit code
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise
    sys.exit(code if isinstance(code, int) else 0)
