"""User-facing errors: each names where the problem is and how to fix it."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Lead2CashError", "InputError", "Location"]


class Lead2CashError(Exception):
    """Base class for errors the CLI prints without a traceback."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  fix: {self.hint}"


@dataclass(frozen=True, slots=True)
class Location:
    """Where in an input a value sits: file, row (or XES element) and column."""

    file: str
    row: str | int | None = None
    column: str | None = None

    def __str__(self) -> str:
        parts = [self.file]
        if self.row is not None and self.row != "":
            parts.append(self.row if isinstance(self.row, str) else f"row {self.row}")
        if self.column:
            parts.append(f"column '{self.column}'")
        return ", ".join(parts)


class InputError(Lead2CashError):
    """Bad input: a file, row or column that cannot be read as the model needs."""

    def __init__(
        self,
        location: Location,
        problem: str,
        hint: str | None = None,
        value: object | None = None,
        more: int = 0,
    ) -> None:
        shown = f" (value {value!r})" if value is not None else ""
        extra = f"; {more} more row(s) have the same problem" if more else ""
        super().__init__(f"{location}: {problem}{shown}{extra}", hint)
        self.location = location
        self.problem = problem
        self.value = value
        self.more = more
