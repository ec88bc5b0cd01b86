"""The `lead2cash` command: one Typer app, each command group in its own module.

Start-up matters (every command is a new process): the command modules import the core
(DuckDB, Arrow, the simulator, the mining layer) inside the commands, so `--help` and a
usage error cost only Typer and rich, and each command loads what it uses.
"""

from __future__ import annotations

import sys

import typer

from ..errors import Lead2CashError, out_of_memory
from . import options
from .console import err_console, print_error

__all__ = ["app", "main"]

app = typer.Typer(
    name="lead2cash",
    help="Process mining for Lead-to-Cash: build, check and mine one event log from CRM and ERP data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

INTERRUPTED = 130
"""Exit code after Ctrl-C (128 + SIGINT), the shell's convention; Typer returns it too."""


def _register() -> None:
    """Attach every command module to the app (each module defines `register(app)`)."""
    from . import demo, extract, log_commands, mine, runs, serve, simulate

    for module in (log_commands, simulate, extract, mine, demo, serve, runs):
        module.register(app)


_register()


def _show_usage_error(exc: typer.TyperException) -> None:
    """Print a usage error as Typer does: the usage line, where to get help, the error."""
    show = getattr(exc, "show", None)  # usage errors (Typer's vendored click) can show themselves
    if callable(show):
        show()
    else:
        typer.echo(f"Error: {exc.format_message()}", err=True)


def _interrupted() -> None:
    """Ctrl-C: one short line instead of a traceback, and the conventional exit code."""
    err_console.print("[yellow]interrupted[/] (Ctrl-C)", highlight=False)
    sys.exit(INTERRUPTED)


def _is_interrupt(exc: BaseException) -> bool:
    """Whether `exc` is Ctrl-C reaching a running DuckDB query: DuckDB stops the query and
    raises its own error (`InterruptException`, or a RuntimeError "Query interrupted" when it
    happens inside a Python call), not KeyboardInterrupt."""
    kind = getattr(sys.modules.get("duckdb"), "InterruptException", None)
    return (kind is not None and isinstance(exc, kind)) or str(exc).startswith("Query interrupted")


def _internal_error(exc: BaseException) -> None:
    """An error no check foresaw: never a traceback on the terminal. Say what happened, keep the
    traceback in a file for the bug report, exit 1 (`LEAD2CASH_DEBUG=1` shows it instead)."""
    import os
    import tempfile
    import traceback

    if os.environ.get("LEAD2CASH_DEBUG"):
        raise exc
    where = ""
    try:
        with tempfile.NamedTemporaryFile("w", prefix="lead2cash-error-", suffix=".txt",
                                         delete=False) as fh:
            fh.write(f"lead2cash {' '.join(sys.argv[1:])}\n\n")
            traceback.print_exception(exc, file=fh)
            where = fh.name
    except OSError:
        pass
    first = (str(exc).splitlines() or [""])[0]
    err_console.print(f"[bold red]error:[/] unexpected {type(exc).__name__}: {first}",
                      highlight=False, markup=True)
    err_console.print("  this is a defect in lead2cash, not in your input or command: please "
                      "report it" + (f" with the details saved in {where}" if where else ""),
                      highlight=False)
    sys.exit(1)


def main() -> None:
    """Console entry point, the one place where errors meet the user, never as a traceback.

    User errors (`Lead2CashError`) print their message and fix and exit 2. Usage errors
    (unknown command or option, missing argument, bad value) print the usage and exit 2:
    Typer vendors click since 0.26, so click is no longer installed and its classes must not
    be named here; Typer's usage errors derive from `typer.TyperException` (public since
    0.28). Ctrl-C exits 130.
    """
    options.ARGV = sys.argv[1:]  # the runs table names each run's command line
    try:
        code = app(standalone_mode=False)
    except Lead2CashError as exc:
        print_error(exc)
        sys.exit(2)
    except typer.TyperException as exc:
        _show_usage_error(exc)
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:  # end of input at a prompt
        err_console.print("aborted")
        sys.exit(1)
    except KeyboardInterrupt:  # outside the command itself (Typer turns it into 130 inside)
        _interrupted()
    except Exception as exc:  # a defect of ours: one clear paragraph, the traceback in a file
        if _is_interrupt(exc):
            _interrupted()
        if (explained := out_of_memory(exc)) is not None:
            print_error(explained)
            sys.exit(2)
        _internal_error(exc)
    if code == INTERRUPTED:
        _interrupted()
    sys.exit(code if isinstance(code, int) else 0)
