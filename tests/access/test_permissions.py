"""The permission table lists every RPC of every service the server offers."""

from __future__ import annotations

from maestro.access.v1 import access_service_pb2
from maestro.metrics.v1 import metrics_service_pb2
from maestro.people.v1 import collaboration_service_pb2, people_service_pb2
from maestro.prediction.v1 import prediction_service_pb2
from maestro.registry.v1 import registry_service_pb2
from maestro_grpc.access.wire.permissions import RULES

SERVICES = [
    (access_service_pb2, "AccessService"),
    (metrics_service_pb2, "MetricsService"),
    (people_service_pb2, "PeopleService"),
    (collaboration_service_pb2, "CollaborationService"),
    (prediction_service_pb2, "PredictionService"),
    (registry_service_pb2, "RegistryService"),
]


def test_every_rpc_has_an_entry() -> None:
    offered = {
        f"/{service.full_name}/{method.name}"
        for module, name in SERVICES
        for service in [module.DESCRIPTOR.services_by_name[name]]
        for method in service.methods
    }
    missing = sorted(offered - set(RULES))
    assert not missing, f"add these to access/wire/permissions.py: {missing}"
    stale = sorted(m for m in set(RULES) - offered if "ServerReflection" not in m)
    assert not stale, f"these entries name no RPC: {stale}"


def test_request_streaming_rpcs_are_checked_by_their_servicers() -> None:
    """A streamed request's ids arrive after the interceptor ran: its servicer checks them.

    RecordMetrics too: its rows may name many projects, each refused on its own.
    """
    checked_later = set()
    for module, name in SERVICES:
        service = module.DESCRIPTOR.services_by_name[name]
        for method in service.methods:
            rule = RULES[f"/{service.full_name}/{method.name}"]
            if method.client_streaming:
                assert rule.needs is None, method.name
            if rule.needs is None:
                checked_later.add(method.name)
    assert checked_later == {"UploadArtifactContent", "StreamMetrics", "RecordMetrics"}
