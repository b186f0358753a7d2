"""The Metrics domain in plain Python: ingestion, queries, statistics, rollups, streams."""
