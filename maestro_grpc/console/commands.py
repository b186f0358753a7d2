"""The commands for people: projects, artifacts, predict, metrics, experiments."""

from __future__ import annotations

from typing import Any

from maestro_grpc.console import artifacts, insights, projects


def add_commands(commands: Any) -> None:
    for area in (projects, artifacts, insights):
        area.add_commands(commands)
