"""The `maestro agent` sub-commands, one module each: its options and what it collects.

`common.py` holds what they share (the agent's options, settings, running a
collector); `maestro_grpc.agent.cli` puts the parsers together.
"""
