"""Source systems: per-system defaults (stages, status codes) and the readers of their exports."""
