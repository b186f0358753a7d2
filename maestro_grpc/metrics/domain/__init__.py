"""The Metrics domain: ingestion, queries, statistics, rollups and the stream protocol, in plain Python."""
