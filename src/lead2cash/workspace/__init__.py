"""The workspace layer's file mechanics: refresh by atomic file switch, and the record of runs.

`store.Workspace` is the face of the workspace; these modules hold what it needs to let
readers keep reading while a refresh builds the next version (`refresh`) and to record
every import and extract (`runs`). See docs/reliability.md.
"""
