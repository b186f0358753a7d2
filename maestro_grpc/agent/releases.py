"""Deployments and incidents, as `maestro agent deploy` and `incident open|resolve` report them.

An incident is one event (natural key incident_id) whose later state replaces
the earlier, so `resolve` must send the whole incident again, opening time
included: `incident open` remembers what it sent in the state dir, and
`resolve` takes it from there (or from `--open-time` and friends when the
incident was opened elsewhere).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from maestro.metrics.v1 import process_event_pb2
from maestro_grpc.agent.ci import parse_time, timestamp

DEPLOY_STATUSES: dict[str, int] = {
    "in_progress": process_event_pb2.DEPLOYMENT_STATUS_IN_PROGRESS,
    "in-progress": process_event_pb2.DEPLOYMENT_STATUS_IN_PROGRESS,
    "running": process_event_pb2.DEPLOYMENT_STATUS_IN_PROGRESS,
    "succeeded": process_event_pb2.DEPLOYMENT_STATUS_SUCCEEDED,
    "success": process_event_pb2.DEPLOYMENT_STATUS_SUCCEEDED,
    "failed": process_event_pb2.DEPLOYMENT_STATUS_FAILED,
    "failure": process_event_pb2.DEPLOYMENT_STATUS_FAILED,
    "rolled_back": process_event_pb2.DEPLOYMENT_STATUS_ROLLED_BACK,
    "rolled-back": process_event_pb2.DEPLOYMENT_STATUS_ROLLED_BACK,
    "rollback": process_event_pb2.DEPLOYMENT_STATUS_ROLLED_BACK,
}


class ReleaseError(ValueError):
    """A deployment or incident that cannot be reported as asked."""


def parse_deploy_status(raw: str) -> int:
    value = raw.strip().lower()
    if value not in DEPLOY_STATUSES:
        raise ReleaseError(
            f"unknown deployment status {raw!r}; use one of {', '.join(sorted(DEPLOY_STATUSES))}"
        )
    return DEPLOY_STATUSES[value]


def deployment_event(
    project_id: str,
    *,
    deployment_id: str,
    environment: str,
    status: int,
    deploy_time: datetime,
    commit_shas: list[str],
    repo: str = "",
    service: str = "",
) -> process_event_pb2.ProcessEvent:
    if not deployment_id:
        raise ReleaseError("a deployment needs an id (--id)")
    if not environment:
        raise ReleaseError("a deployment needs an environment (--environment)")
    return process_event_pb2.ProcessEvent(
        project_id=project_id,
        deployment=process_event_pb2.Deployment(
            deployment_id=deployment_id,
            environment=environment,
            status=status,  # type: ignore[arg-type]
            deploy_time=timestamp(deploy_time),
            commit_shas=list(dict.fromkeys(commit_shas)),
            repo=repo,
            service=service,
        ),
    )


@dataclass
class IncidentRecord:
    incident_id: str
    open_time: datetime
    title: str = ""
    caused_by_deployment_id: str = ""
    environment: str = ""
    resolve_time: datetime | None = None

    def event(self, project_id: str) -> process_event_pb2.ProcessEvent:
        incident = process_event_pb2.Incident(
            incident_id=self.incident_id,
            title=self.title,
            open_time=timestamp(self.open_time),
            caused_by_deployment_id=self.caused_by_deployment_id,
            environment=self.environment,
        )
        if self.resolve_time is not None:
            if self.resolve_time < self.open_time:
                raise ReleaseError(
                    f"incident {self.incident_id} cannot be resolved ({self.resolve_time}) "
                    f"before it opened ({self.open_time})"
                )
            incident.resolve_time.CopyFrom(timestamp(self.resolve_time))
        return process_event_pb2.ProcessEvent(project_id=project_id, incident=incident)


class IncidentBook:
    """Incidents this state dir opened, so that `resolve` can send them whole."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / "incidents.json"

    def _load(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text())
        except (FileNotFoundError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def get(self, project_id: str, incident_id: str) -> IncidentRecord | None:
        raw = self._load().get(f"{project_id}/{incident_id}")
        if not isinstance(raw, dict):
            return None
        return IncidentRecord(
            incident_id=incident_id,
            open_time=parse_time(raw["open_time"]),
            title=raw.get("title", ""),
            caused_by_deployment_id=raw.get("caused_by_deployment_id", ""),
            environment=raw.get("environment", ""),
        )

    def put(self, project_id: str, record: IncidentRecord) -> None:
        data = self._load()
        key = f"{project_id}/{record.incident_id}"
        if record.resolve_time is not None:
            data.pop(key, None)
        else:
            data[key] = {
                "open_time": record.open_time.isoformat(),
                "title": record.title,
                "caused_by_deployment_id": record.caused_by_deployment_id,
                "environment": record.environment,
            }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(data))
        os.replace(tmp, self.path)
