"""Server interceptors, one concern per module: auth, errors, metrics, request id and access log."""
