"""The Access context: tokens with roles and project scopes, and the audit log."""
