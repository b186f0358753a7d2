"""Where a walk can start when the state dir has no cursor: the heads the server has.

A CI job's state dir is new every run, so without help every run would walk
(and send) the whole history again. `GetRepositoryHeads` answers with the
branch heads that complete walks sent (BranchHead events); those the local
clone has are as good as a cursor: everything before them is stored. And a
walk that covered everything before its own head (no shallow boundary met,
no --since, no cursor tip from a walk that did not) sends that head as a
BranchHead after its commits, for the next fresh state dir.

The look-up is best effort: a server without the RPC, an unreachable one or
a token that may not read gives no heads, and the walk is a full one
(correct, only slower); the summary says why.
"""

from __future__ import annotations

import grpc
from google.protobuf import timestamp_pb2

from maestro.metrics.v1 import metrics_service_pb2, process_event_pb2
from maestro_grpc.agent.settings import AgentSettings
from maestro_grpc.agent.wire import call_metadata, open_sync_channel

LOOKUP_SECONDS = 20.0
HEADS_METHOD = "/maestro.metrics.v1.MetricsService/GetRepositoryHeads"


def server_heads(settings: AgentSettings, project_id: str, repo: str) -> tuple[list[str], str]:
    """(the shas of the repository's stored branch heads, "" or why there are none)."""
    channel = open_sync_channel(settings)
    try:
        # The generated stubs are typed for grpc.aio; this thread's call is blocking.
        method = channel.unary_unary(
            HEADS_METHOD,
            request_serializer=metrics_service_pb2.GetRepositoryHeadsRequest.SerializeToString,
            response_deserializer=metrics_service_pb2.GetRepositoryHeadsResponse.FromString,
        )
        reply: metrics_service_pb2.GetRepositoryHeadsResponse = method(
            metrics_service_pb2.GetRepositoryHeadsRequest(project_id=project_id, repo=repo),
            metadata=tuple(call_metadata(settings)),
            timeout=min(LOOKUP_SECONDS, settings.deadline_seconds),
        )
    except grpc.RpcError as error:
        if isinstance(error, grpc.Call):
            return [], f"{error.code().name}: {error.details()}"
        return [], str(error)
    finally:
        channel.close()
    return [head.sha for head in reply.heads], ""


def head_event(
    project_id: str, repo: str, branch: str, sha: str, commit_time: int
) -> process_event_pb2.ProcessEvent:
    return process_event_pb2.ProcessEvent(
        project_id=project_id,
        branch_head=process_event_pb2.BranchHead(
            repo=repo,
            branch=branch,
            sha=sha,
            commit_time=timestamp_pb2.Timestamp(seconds=commit_time),
        ),
    )
