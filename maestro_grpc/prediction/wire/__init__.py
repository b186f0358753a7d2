"""The PredictionService wire: the servicer, request validation, proto <-> record conversion."""
