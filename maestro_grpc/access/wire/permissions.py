"""The permission table: every RPC of every service, what it needs and on which projects.

One entry per method (a test fails for a method without one). `needs`
reads the ids a request names; a request-streaming method's ids arrive
later, so its servicer checks them (`access/caller.py`: a stream's rows, an
upload's artifact). README's "Access control" shows this table.

Scopes, in short: a scoped token acts only on its projects; the artifact
library is open to every caller for reading, and an artifact is changed
only with write access to its origin project; creating a project, an
experiment or an artifact of no project acts on the whole organisation.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from maestro.access.v1 import access_service_pb2
from maestro.metrics.v1 import metrics_service_pb2
from maestro.people.v1 import collaboration_service_pb2, people_service_pb2
from maestro.prediction.v1 import prediction_service_pb2
from maestro.registry.v1 import registry_service_pb2
from maestro_grpc.access.domain.authorize import Need
from maestro_grpc.access.model import Action

NeedOf = Callable[[Any], Need]


@dataclass(frozen=True)
class Rule:
    action: Action
    # The need of a request; None for request-streaming methods (the
    # servicer checks what the stream names).
    needs: NeedOf | None
    # How lists and streams limit themselves to the caller's projects, for the README.
    note: str = ""


def _uuid(value: str) -> uuid.UUID | None:
    # A malformed id is the handler's INVALID_ARGUMENT, not a permission matter.
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


def _set(*values: str) -> frozenset[uuid.UUID]:
    return frozenset(u for u in map(_uuid, values) if u is not None)


def plain(action: Action, note: str = "") -> Rule:
    """No project involved (or a list that filters itself to the caller's projects)."""
    return Rule(action, lambda _request: Need(action), note)


def on_project(action: Action, path: str = "project_id") -> Rule:
    """The project named at `path` ("project_id", "project.id")."""

    def needs(request: Any) -> Need:
        return Need(action, projects=_set(_field(request, path)))

    return Rule(action, needs)


def on_artifact(path: str) -> Rule:
    """A write to the artifact named at `path`: decided by its origin project."""

    def needs(request: Any) -> Need:
        return Need(Action.WRITE, artifacts=_set(_field(request, path)))

    return Rule(Action.WRITE, needs)


def on_member(path: str) -> Rule:
    def needs(request: Any) -> Need:
        return Need(Action.WRITE, members=_set(_field(request, path)))

    return Rule(Action.WRITE, needs)


def organisation(action: Action) -> Rule:
    return Rule(action, lambda _request: Need(action, organisation=True))


def streamed(action: Action, note: str) -> Rule:
    return Rule(action, None, note)


def _field(message: Any, path: str) -> str:
    for part in path.split("."):
        message = getattr(message, part)
    return str(message)


def _create_artifact(request: registry_service_pb2.CreateArtifactRequest) -> Need:
    origin = _uuid(request.artifact.origin_project_id)
    if origin is None:
        return Need(Action.WRITE, organisation=True)
    return Need(Action.WRITE, projects=frozenset({origin}))


def _content_url(request: registry_service_pb2.GetArtifactContentUrlRequest) -> Need:
    if request.method == registry_service_pb2.CONTENT_URL_METHOD_PUT:
        return Need(Action.WRITE, artifacts=_set(request.artifact_id))
    return Need(Action.LIBRARY_READ)


def _usages(request: registry_service_pb2.ListArtifactUsagesRequest) -> Need:
    return Need(Action.READ, projects=_set(request.project_id))


def _assign(request: prediction_service_pb2.AssignVariantRequest) -> Need:
    # A PROJECT experiment's unit is the project itself; a TEAM unit may name one.
    return Need(Action.WRITE, projects=_set(request.project_id, request.unit_id))


def _service(module: Any, name: str) -> str:
    return str(module.DESCRIPTOR.services_by_name[name].full_name)


_REGISTRY = _service(registry_service_pb2, "RegistryService")
_METRICS = _service(metrics_service_pb2, "MetricsService")
_PREDICTION = _service(prediction_service_pb2, "PredictionService")
_ACCESS = _service(access_service_pb2, "AccessService")
_PEOPLE = _service(people_service_pb2, "PeopleService")
_COLLAB = _service(collaboration_service_pb2, "CollaborationService")


def _on_subject(kind: int, subject_id: str) -> Need:
    """A project is read within the caller's projects; an artifact is checked by its
    origin in the domain (the library is shared)."""
    if kind == collaboration_service_pb2.SUBJECT_KIND_PROJECT:
        return Need(Action.READ, projects=_set(subject_id))
    return Need(Action.READ)


def _comment_subject(request: collaboration_service_pb2.CreateCommentRequest) -> Need:
    return _on_subject(request.comment.subject_kind, request.comment.subject_id)


def _list_subject(request: collaboration_service_pb2.ListCommentsRequest) -> Need:
    return _on_subject(request.subject_kind, request.subject_id)


def _follow_subject(request: collaboration_service_pb2.FollowRequest) -> Need:
    return _on_subject(request.target.kind, request.target.subject_id)


A = Action
_BY_SERVICE: dict[str, dict[str, Rule]] = {
    _REGISTRY: {
        "CreateProject": organisation(A.WRITE),
        "GetProject": on_project(A.AGENT_READ),
        "ListProjects": plain(A.READ, "lists only the caller's projects"),
        "UpdateProject": on_project(A.WRITE, "project.id"),
        "UpdateProjectSuccess": on_project(A.WRITE),
        "AddTeamMember": on_project(A.WRITE),
        "UpdateTeamMember": on_member("team_member.id"),
        "RemoveTeamMember": on_member("team_member_id"),
        "ListTeamMembers": on_project(A.READ),
        "CreateArtifact": Rule(A.WRITE, _create_artifact, "write access to its origin project"),
        "GetArtifact": plain(A.LIBRARY_READ),
        "UpdateArtifact": on_artifact("artifact.id"),
        "DeleteArtifact": on_artifact("artifact_id"),
        "UploadArtifactContent": streamed(A.WRITE, "write access to the artifact's origin"),
        "DownloadArtifactContent": plain(A.LIBRARY_READ),
        "GetArtifactContentUrl": Rule(A.LIBRARY_READ, _content_url, "PUT: write access"),
        "SearchArtifacts": plain(A.LIBRARY_READ),
        "CountArtifactFacets": plain(A.LIBRARY_READ),
        "LogArtifactUsage": on_project(A.WRITE, "artifact_usage.project_id"),
        "ListArtifactUsages": Rule(A.READ, _usages, "lists only the caller's projects' usages"),
        "RecommendArtifacts": on_project(A.READ),
    },
    _METRICS: {
        "RecordMetrics": streamed(A.INGEST, "rows of other projects: PERMISSION_DENIED each"),
        "StreamMetrics": streamed(A.INGEST, "rows of other projects: PERMISSION_DENIED each"),
        "WatchMetrics": on_project(A.READ),
        "GetMetricSummary": on_project(A.READ),
        "GetVelocity": on_project(A.READ),
        "GetDoraMetrics": on_project(A.READ),
        "ListMetricNames": on_project(A.READ),
        "GetRepositoryHeads": on_project(A.AGENT_READ),
        "GetMetricSeries": on_project(A.READ),
    },
    _PREDICTION: {
        "TrainMetaModel": plain(A.ADMIN),
        "GetMetaModel": plain(A.READ),
        "ListMetaModels": plain(A.READ),
        "PredictSuccess": on_project(A.READ),
        "ListPredictions": on_project(A.READ),
        "RecommendTeam": on_project(A.READ),
        "CreateExperiment": organisation(A.WRITE),
        "GetExperiment": plain(A.READ),
        "ListExperiments": plain(A.READ),
        "StopExperiment": organisation(A.WRITE),
        "AssignVariant": Rule(A.WRITE, _assign),
        "ListAssignments": plain(A.READ, "lists only units of the caller's projects"),
        "AnalyzeExperiment": plain(A.READ, "aggregates over every unit"),
    },
    _ACCESS: {
        "CreateToken": plain(A.ADMIN),
        "ListTokens": plain(A.ADMIN),
        "RevokeToken": plain(A.ADMIN),
        "WhoAmI": plain(A.SELF),
        "ListAuditEvents": plain(A.ADMIN),
    },
    _PEOPLE: {
        # The directory belongs to the whole organisation.
        "CreatePerson": organisation(A.WRITE),
        "GetPerson": plain(A.READ),
        "UpdatePerson": organisation(A.WRITE),
        "SearchPeople": plain(A.READ),
        "GetPersonProfile": plain(A.READ, "shows only the caller's projects"),
        "ListUnlinkedTeamMembers": plain(A.ADMIN),
    },
    _COLLAB: {
        "CreateComment": Rule(A.READ, _comment_subject, "any reader of the subject"),
        "UpdateComment": plain(A.READ, "its author only"),
        "DeleteComment": plain(A.READ, "its author, or an admin"),
        "ModerateComment": plain(A.ADMIN),
        "ListComments": Rule(A.READ, _list_subject),
        "ReviewArtifact": plain(A.READ, "any reader of the artifact"),
        "ListReviews": plain(A.READ),
        "Follow": Rule(A.READ, _follow_subject, "any reader of the subject"),
        "Unfollow": plain(A.READ),
        "ListFollows": plain(A.READ),
        "ListActivity": plain(A.READ, "the caller's feed, of its projects only"),
        "MarkActivityRead": plain(A.READ),
        "WatchActivity": plain(A.READ, "the caller's feed, of its projects only"),
        "CreateWebhook": plain(A.ADMIN),
        "ListWebhooks": plain(A.ADMIN),
        "DeleteWebhook": plain(A.ADMIN),
        "ListWebhookDeliveries": plain(A.ADMIN),
    },
    # Reflection tells any valid token what the services are.
    "grpc.reflection.v1alpha.ServerReflection": {"ServerReflectionInfo": plain(A.SELF)},
    "grpc.reflection.v1.ServerReflection": {"ServerReflectionInfo": plain(A.SELF)},
}

RULES: dict[str, Rule] = {
    f"/{service}/{method}": rule
    for service, methods in _BY_SERVICE.items()
    for method, rule in methods.items()
}

# Methods every caller reaches without a token (load balancers, probes).
OPEN_PREFIXES = ("/grpc.health.v1.Health/",)


def rule_for(full_method: str) -> Rule | None:
    return RULES.get(full_method)
