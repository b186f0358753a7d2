"""The audit log: successful writes, token changes and denied calls, and how to read it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import grpc
import pytest

from maestro.access.v1 import access_service_pb2 as ac
from maestro.registry.v1 import project_pb2 as pp
from maestro.registry.v1 import registry_service_pb2 as rs
from tests.access.conftest import Secured, bearer
from tests.helpers import eventually, expect_error, expect_invalid

REGISTRY = "/maestro.registry.v1.RegistryService/"
ACCESS = "/maestro.access.v1.AccessService/"


async def events(secured: Secured, **filters: object) -> list[ac.AuditEvent]:
    request = ac.ListAuditEventsRequest(**filters)  # type: ignore[arg-type]
    response = await secured.access.ListAuditEvents(request, metadata=bearer(secured.admin))
    return list(response.audit_events)


async def test_writes_token_changes_and_denials_are_recorded(secured: Secured) -> None:
    writer, writer_token = await secured.token("writer", name="ci")
    reader, _ = await secured.token("reader", name="viewer")
    made = await secured.registry.CreateProject(
        rs.CreateProjectRequest(project=pp.Project(name="audited")),
        metadata=(*bearer(writer), ("x-request-id", "req-audited-1")),
    )
    await expect_error(
        secured.registry.CreateProject(
            rs.CreateProjectRequest(project=pp.Project(name="nope")), metadata=bearer(reader)
        ),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    await expect_error(
        secured.registry.ListProjects(rs.ListProjectsRequest()), grpc.StatusCode.UNAUTHENTICATED
    )

    async def denials_stored() -> list[ac.AuditEvent]:
        found = await events(secured)
        return found if sum(e.code != "OK" for e in found) >= 2 else []

    found = await eventually(denials_stored, "the denials reach the store")
    by_method = {(e.method.rsplit("/", 1)[-1], e.code): e for e in found}
    create = by_method[("CreateProject", "OK")]
    assert (create.token_name, create.token_id, create.request_id) == (
        "ci",
        writer_token.id,
        "req-audited-1",
    )
    assert create.resources == [f"projects/{made.project.id}"]
    assert list(create.project_ids) == [made.project.id]
    assert create.peer.startswith(("ipv4:", "ipv6:"))
    refused = by_method[("CreateProject", "PERMISSION_DENIED")]
    assert refused.token_name == "viewer"
    assert "may not call this method" in refused.detail
    assert by_method[("ListProjects", "UNAUTHENTICATED")].token_name == ""
    tokens_made = [e for e in found if e.method == ACCESS + "CreateToken"]
    assert {r for e in tokens_made for r in e.resources} == {
        f"tokens/{writer_token.id}",
        *(r for e in tokens_made for r in e.resources if r != f"tokens/{writer_token.id}"),
    }
    assert len(tokens_made) == 2
    # Reads leave no event.
    assert not [e for e in found if e.method.endswith(("/ListAuditEvents", "/WhoAmI"))]


async def test_filters_and_pages(secured: Secured) -> None:
    writer, token = await secured.token("writer", name="filler")
    ids = []
    for n in range(5):
        made = await secured.registry.CreateProject(
            rs.CreateProjectRequest(project=pp.Project(name=f"p{n}")), metadata=bearer(writer)
        )
        ids.append(made.project.id)
    by_token = await events(secured, token_id=token.id)
    assert [e.resources[0] for e in by_token] == [f"projects/{p}" for p in reversed(ids)]
    assert [e.project_ids[0] for e in await events(secured, project_id=ids[2])] == [ids[2]]
    assert len(await events(secured, method="CreateProject")) == 5
    assert len(await events(secured, method=REGISTRY + "CreateProject")) == 5
    future = ac.ListAuditEventsRequest()
    future.start_time.FromDatetime(datetime.now(UTC) + timedelta(hours=1))
    later = await secured.access.ListAuditEvents(future, metadata=bearer(secured.admin))
    assert not later.audit_events

    seen: list[str] = []
    request = ac.ListAuditEventsRequest(token_id=token.id, page_size=2)
    while True:
        page = await secured.access.ListAuditEvents(request, metadata=bearer(secured.admin))
        seen += [e.id for e in page.audit_events]
        if not page.next_page_token:
            break
        request.page_token = page.next_page_token
    assert len(seen) == len(set(seen)) == 5


async def test_only_admins_read_it_and_bad_filters_are_named(secured: Secured) -> None:
    writer, _ = await secured.token("writer")
    await expect_error(
        secured.access.ListAuditEvents(ac.ListAuditEventsRequest(), metadata=bearer(writer)),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    bad = ac.ListAuditEventsRequest(token_id="x", project_id="y")
    bad.start_time.FromDatetime(datetime(2026, 2, 1, tzinfo=UTC))
    bad.end_time.FromDatetime(datetime(2026, 1, 1, tzinfo=UTC))
    found = await expect_invalid(
        secured.access.ListAuditEvents(bad, metadata=bearer(secured.admin)), "token_id"
    )
    assert {"project_id", "end_time"} <= set(found)


@pytest.mark.parametrize("days", [0, 30])
async def test_retention_keeps_what_is_recent(secured: Secured, days: int) -> None:
    writer, _ = await secured.token("writer")
    await secured.registry.CreateProject(
        rs.CreateProjectRequest(project=pp.Project(name="kept")), metadata=bearer(writer)
    )
    audit_log = secured.server.app.access.audit_log
    before = len(await events(secured))
    assert await audit_log.apply_retention(days) == 0
    assert len(await events(secured)) == before
    audit_log.clock = lambda: datetime.now(UTC) + timedelta(days=400)
    removed = await audit_log.apply_retention(days)
    assert removed == (before if days else 0)


async def test_metric_writes_and_experiments_are_recorded_once_per_call(secured: Secured) -> None:
    from maestro.metrics.v1 import metric_pb2 as mp
    from maestro.metrics.v1 import metrics_service_pb2 as ms
    from maestro.metrics.v1 import metrics_service_pb2_grpc
    from maestro.prediction.v1 import experiment_pb2 as ep
    from maestro.prediction.v1 import prediction_service_pb2 as ps
    from maestro.prediction.v1 import prediction_service_pb2_grpc
    from tests.helpers import ts

    project = await secured.project("measured")
    agent, agent_token = await secured.token("agent", project, name="ci")
    metrics = metrics_service_pb2_grpc.MetricsServiceStub(secured.channel)
    point = mp.MetricPoint(project_id=project, name="ci.s", value=1.0, time=ts("2026-05-01"))
    for n in range(3):  # concurrent calls share group commits: each keeps its own event
        await metrics.RecordMetrics(
            ms.RecordMetricsRequest(batch=mp.MetricBatch(points=[point] * (n + 1))),
            metadata=bearer(agent),
        )
    recorded = await events(secured, method="RecordMetrics")
    assert len(recorded) == 3
    assert {e.token_id for e in recorded} == {agent_token.id}
    assert [list(e.resources) for e in recorded] == [[f"projects/{project}/metrics"]] * 3
    assert all(list(e.project_ids) == [project] for e in recorded)

    writer, _ = await secured.token("writer", name="experimenter")
    made = await prediction_service_pb2_grpc.PredictionServiceStub(
        secured.channel
    ).CreateExperiment(
        ps.CreateExperimentRequest(
            experiment=ep.Experiment(
                name="review-rule",
                unit=ep.EXPERIMENT_UNIT_PROJECT,
                variants=[ep.Variant(name="a", weight=1), ep.Variant(name="b", weight=1)],
                outcome_metric="success",
            )
        ),
        metadata=bearer(writer),
    )
    [created] = await events(secured, method="CreateExperiment")
    assert list(created.resources) == [f"experiments/{made.experiment.id}"]
