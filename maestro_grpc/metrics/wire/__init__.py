"""The Metrics wire layer: the servicer, proto <-> record conversion, request validation, streams."""
