"""`python -m lead2cash` runs the CLI."""

from .cli import main

main()
