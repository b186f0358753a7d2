"""Benchmarks: each prints its figures beside a limit measured in the same run."""
