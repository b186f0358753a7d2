"""The Metrics context: exactly-once ingest, summaries, velocity, DORA, live watch."""
