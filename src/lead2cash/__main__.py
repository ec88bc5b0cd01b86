"""`python -m lead2cash` runs the CLI."""

from .launch import main

main()
