"""User-facing errors: each names where the problem is and how to fix it."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Lead2CashError", "InputError", "Location", "out_of_memory"]


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


_SPARK_OOM = ("SparkOutOfMemoryError", "java.lang.OutOfMemoryError", "UNABLE_TO_ACQUIRE_MEMORY")


def out_of_memory(exc: BaseException) -> Lead2CashError | None:
    """An engine that ran out of memory, as the user error it is, with the setting to change;
    None for any other exception.

    Recognised by name and message, so that the caller (the CLI's last resort) need not import
    DuckDB or PySpark: Spark reports through py4j (`Py4JJavaError` wrapping a
    `SparkOutOfMemoryError`), DuckDB with `OutOfMemoryException`.
    """
    import os

    kind, text = type(exc).__name__, str(exc)
    if kind == "OutOfMemoryException" or text.startswith("Out of Memory Error"):
        limit = os.environ.get("LEAD2CASH_MEMORY_LIMIT", "4GB")
        return Lead2CashError(
            f"DuckDB ran out of memory (memory_limit {limit}, the workspace's spill folder full "
            "or unusable)",
            "raise LEAD2CASH_MEMORY_LIMIT (e.g. LEAD2CASH_MEMORY_LIMIT=8GB), free disk space "
            "in LEAD2CASH_TEMP_DIR, or narrow the analysis with --filter")
    if any(marker in text for marker in _SPARK_OOM):
        memory = os.environ.get("LEAD2CASH_SPARK_MEMORY", "2g")
        parts = os.environ.get("LEAD2CASH_SPARK_PARTITIONS", "4")
        return Lead2CashError(
            f"Spark ran out of memory (spark.driver.memory {memory}, "
            f"{parts} shuffle partitions)",
            "give Spark more memory (e.g. LEAD2CASH_SPARK_MEMORY=8g) or more, smaller "
            "partitions (e.g. LEAD2CASH_SPARK_PARTITIONS=32), or use --engine duckdb, "
            "which spills to disk")
    return None
