"""The application layer under both faces (the `lead2cash` command and the web app).

What a face needs beyond the analyses themselves, defined once: opening a workspace and an
engine with parsed filters (`session`), reading the shared options (`session`), which KPIs
are the headline figures with their labels and units (`figures`), how a duration is shown
in calendar or working time (`units`), and the dashboard's view data with its cache
(`views`, `casesets`). `cli/` and `web/` both import from here; neither imports the other.
"""
