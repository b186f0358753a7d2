"""The Metrics wire layer: the servicer, proto <-> record conversion, validation, streams."""
