"""Background workers as entry points of their own: `python -m workers.<name> [--once]`.

Each is a thin shell over the service's code (`maestro worker <name>` runs
the same); safe to run as several replicas.
"""
