"""The commands for people: projects, artifacts, predict, metrics, experiments, people, feed."""

from __future__ import annotations

from typing import Any

from maestro_grpc.console import artifacts, insights, people, projects


def add_commands(commands: Any) -> None:
    for area in (projects, artifacts, insights, people):
        area.add_commands(commands)
