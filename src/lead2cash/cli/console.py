"""Terminal side of the CLI: one rich console, error printing and progress bars."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rich.console import Console

from ..errors import Lead2CashError

if TYPE_CHECKING:
    from rich.progress import TaskID

    from ..progress import Progress as ProgressSink

__all__ = ["console", "err_console", "print_error", "progress_bars"]

console = Console()
err_console = Console(stderr=True)


def print_error(exc: Lead2CashError) -> None:
    """Print a user error in red, with its fix on the next line, and no traceback."""
    from rich.markup import escape  # messages quote config sections such as [salesforce]

    err_console.print(f"[bold red]error:[/] {escape(exc.message)}", highlight=False, markup=True)
    if exc.hint:
        err_console.print(f"  [yellow]fix:[/] {escape(exc.hint)}", highlight=False)


@contextmanager
def progress_bars() -> Iterator[ProgressSink]:
    """A progress sink drawing one rich bar per step (on stderr, so --json output stays clean)."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    bars = Progress(
        TextColumn("[bold blue]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,.0f}/{task.total:,.0f}" ),
        TimeElapsedColumn(),
        console=err_console,
        transient=False,
    )
    tasks: dict[str, TaskID] = {}

    def report(step: str, done: int, total: int | None = None) -> None:
        if step not in tasks:
            tasks[step] = bars.add_task(step, total=total)
        bars.update(tasks[step], completed=done, total=total)

    with bars:
        yield report
