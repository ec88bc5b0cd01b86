"""Mining: analyses of one event log (process map, variants, performance, KPIs, working time)."""
