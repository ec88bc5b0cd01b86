"""Readers and writers for event-log files (CSV, Parquet, XES) and the shared import pipeline."""
