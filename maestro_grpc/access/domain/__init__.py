"""The Access domain: authenticating tokens, authorising calls, keeping the audit log."""
