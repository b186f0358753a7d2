"""The Access wire layer: the AccessService servicer and the per-RPC permission table."""
