"""The Access store: tokens and audit events, all of their SQL."""
