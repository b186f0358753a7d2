"""Every RPC x every role x (own project, foreign project, unscoped token): the status each gets.

The expectations are written out below, from the roles and scopes the
README promises, not derived from the permission table: a cell is either
PERMISSION_DENIED or what the same call gets from an admin (the call's own
answer: OK, or FAILED_PRECONDITION where no model exists yet, ...). Every
refused cell is run first, and the store must be exactly as before them.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import grpc
import grpc.aio
from sqlalchemy import select

from maestro.access.v1 import access_service_pb2 as ac
from maestro.access.v1 import access_service_pb2_grpc
from maestro.metrics.v1 import metric_pb2 as mp
from maestro.metrics.v1 import metrics_service_pb2 as ms
from maestro.metrics.v1 import metrics_service_pb2_grpc
from maestro.prediction.v1 import experiment_pb2 as ep
from maestro.prediction.v1 import prediction_service_pb2 as ps
from maestro.prediction.v1 import prediction_service_pb2_grpc
from maestro.registry.v1 import artifact_pb2 as ap
from maestro.registry.v1 import project_pb2 as pp
from maestro.registry.v1 import registry_service_pb2 as rs
from maestro.registry.v1 import registry_service_pb2_grpc
from maestro_grpc.catalog import metadata
from maestro_grpc.store.db import Database
from tests.access.conftest import Secured, bearer
from tests.helpers import ts

DENIED = grpc.StatusCode.PERMISSION_DENIED
ROLE_LETTER = {"admin": "A", "writer": "W", "reader": "R", "agent": "G"}
COLUMNS = ("own", "foreign", "unscoped")

# method -> (roles allowed, scope): A admin, W writer, R reader, G agent.
# Scopes: "project" (a scoped token acts only on its projects), "org" (only an
# unscoped token may: it acts on the whole organisation), "open" (no project:
# the library, models, analyses, the caller itself), "rows" (a scoped token's
# rows of other projects are refused one by one, the call goes on).
EXPECTED: dict[str, tuple[str, str]] = {
    "CreateProject": ("AW", "org"),
    "GetProject": ("AWRG", "project"),
    "ListProjects": ("AWR", "open"),
    "UpdateProject": ("AW", "project"),
    "UpdateProjectSuccess": ("AW", "project"),
    "AddTeamMember": ("AW", "project"),
    "UpdateTeamMember": ("AW", "project"),
    "RemoveTeamMember": ("AW", "project"),
    "ListTeamMembers": ("AWR", "project"),
    "CreateArtifact": ("AW", "project"),
    "GetArtifact": ("AWRG", "open"),
    "UpdateArtifact": ("AW", "project"),
    "DeleteArtifact": ("AW", "project"),
    "UploadArtifactContent": ("AW", "project"),
    "DownloadArtifactContent": ("AWRG", "open"),
    "GetArtifactContentUrl": ("AWRG", "open"),
    "SearchArtifacts": ("AWRG", "open"),
    "CountArtifactFacets": ("AWRG", "open"),
    "LogArtifactUsage": ("AW", "project"),
    "ListArtifactUsages": ("AWR", "project"),
    "RecommendArtifacts": ("AWR", "project"),
    "RecordMetrics": ("AWG", "rows"),
    "StreamMetrics": ("AWG", "rows"),
    "WatchMetrics": ("AWR", "project"),
    "GetMetricSummary": ("AWR", "project"),
    "GetVelocity": ("AWR", "project"),
    "GetDoraMetrics": ("AWR", "project"),
    "ListMetricNames": ("AWR", "project"),
    "GetRepositoryHeads": ("AWRG", "project"),
    "GetMetricSeries": ("AWR", "project"),
    "TrainMetaModel": ("A", "open"),
    "GetMetaModel": ("AWR", "open"),
    "ListMetaModels": ("AWR", "open"),
    "PredictSuccess": ("AWR", "project"),
    "ListPredictions": ("AWR", "project"),
    "RecommendTeam": ("AWR", "project"),
    "CreateExperiment": ("AW", "org"),
    "GetExperiment": ("AWR", "open"),
    "AssignVariant": ("AW", "project"),
    "AnalyzeExperiment": ("AWR", "open"),
    "CreateToken": ("A", "open"),
    "ListTokens": ("A", "open"),
    "RevokeToken": ("A", "open"),
    "WhoAmI": ("AWRG", "open"),
    "ListAuditEvents": ("A", "open"),
}


@dataclass
class World:
    secured: Secured
    own: str
    foreign: str
    experiment: str
    n: int = 0
    tokens: dict[tuple[str, str], str] = field(default_factory=dict)

    def fresh(self, what: str) -> str:
        self.n += 1
        return f"{what}-{self.n}"

    @property
    def admin(self) -> tuple[tuple[str, str], ...]:
        return bearer(self.secured.admin)

    @property
    def reg(self) -> registry_service_pb2_grpc.RegistryServiceStub:
        return registry_service_pb2_grpc.RegistryServiceStub(self.secured.channel)

    @property
    def met(self) -> metrics_service_pb2_grpc.MetricsServiceStub:
        return metrics_service_pb2_grpc.MetricsServiceStub(self.secured.channel)

    @property
    def pred(self) -> prediction_service_pb2_grpc.PredictionServiceStub:
        return prediction_service_pb2_grpc.PredictionServiceStub(self.secured.channel)

    @property
    def acc(self) -> access_service_pb2_grpc.AccessServiceStub:
        return access_service_pb2_grpc.AccessServiceStub(self.secured.channel)

    async def member(self, project: str) -> str:
        added = await self.reg.AddTeamMember(
            rs.AddTeamMemberRequest(
                project_id=project,
                team_member=pp.TeamMember(
                    person_id=self.fresh("person"),
                    display_name="Ada",
                    role=pp.TEAM_ROLE_ML_ENGINEER,
                    allocation=0.5,
                ),
            ),
            metadata=self.admin,
        )
        return added.team_member.id

    async def artifact(self, project: str) -> str:
        made = await self.reg.CreateArtifact(
            rs.CreateArtifactRequest(
                artifact=ap.Artifact(
                    name=self.fresh("model"),
                    version="1",
                    type=ap.ARTIFACT_TYPE_MODEL,
                    origin_project_id=project,
                )
            ),
            metadata=self.admin,
        )
        return made.artifact.id


Meta = tuple[tuple[str, str], ...]
# A call of one RPC on a project: simple ones take (world, project, metadata);
# those that need a fresh resource (a member to remove, an artifact to
# delete) are `Prepared`: the resource is made first (by the admin), then
# the call runs, so a refused call's check of the store sees only the call.
Call = Callable[[World, str, Meta], Awaitable[Any]]
Run = Callable[[Meta], Awaitable[Any]]


@dataclass(frozen=True)
class Prepared:
    prepare: Callable[[World, str], Awaitable[Any]]
    call: Callable[[World, str, Meta, Any], Awaitable[Any]]


async def ready(entry: Call | Prepared, world: World, project: str) -> Run:
    if isinstance(entry, Prepared):
        made = await entry.prepare(world, project)
        return lambda m: entry.call(world, project, m, made)
    return lambda m: entry(world, project, m)


def _batch(project: str) -> mp.MetricBatch:
    return mp.MetricBatch(
        points=[
            mp.MetricPoint(
                project_id=project, name="ci.seconds", value=1.0, time=ts("2026-06-01T00:00:00")
            )
        ]
    )


async def _record(w: World, p: str, m: Meta) -> Any:
    response = await w.met.RecordMetrics(ms.RecordMetricsRequest(batch=_batch(p)), metadata=m)
    return [r.reason for r in response.rejected]


async def _stream(w: World, p: str, m: Meta) -> Any:
    async def requests() -> AsyncIterator[ms.StreamMetricsRequest]:
        yield ms.StreamMetricsRequest(open=ms.StreamOpen(producer_id=w.fresh("producer")))
        yield ms.StreamMetricsRequest(batch=ms.StreamBatch(sequence=1, batch=_batch(p)))

    reasons: list[str] = []
    call = w.met.StreamMetrics(requests(), metadata=m)
    async for response in call:
        if response.HasField("ack"):
            reasons += [r.reason for r in response.ack.rejected]
            call.cancel()
            break
    return reasons


async def _watch(w: World, p: str, m: Meta) -> Any:
    # A watch let through answers first with an empty message once it is in
    # place: wait for that one (OK), not for a deadline. With 0.5 s, a watch
    # that took longer to open under load ended DEADLINE_EXCEEDED for one
    # role and OK for the next, and the cells disagreed (a clean-clone run).
    call = w.met.WatchMetrics(ms.WatchMetricsRequest(project_id=p), metadata=m, timeout=30)
    async for _ in call:
        call.cancel()  # the watch is not needed once open
        break


async def _upload(w: World, p: str, m: Meta, artifact: str) -> Any:
    async def requests() -> AsyncIterator[rs.UploadArtifactContentRequest]:
        yield rs.UploadArtifactContentRequest(header=rs.UploadHeader(artifact_id=artifact))
        yield rs.UploadArtifactContentRequest(chunk=b"weights")
        yield rs.UploadArtifactContentRequest(finish=rs.UploadFinish())

    return await w.reg.UploadArtifactContent(requests(), metadata=m)


async def _download(w: World, p: str, m: Meta, artifact: str) -> Any:
    async for _ in w.reg.DownloadArtifactContent(
        rs.DownloadArtifactContentRequest(artifact_id=artifact), metadata=m
    ):
        pass


async def _train(w: World, p: str, m: Meta) -> Any:
    async for _ in w.pred.TrainMetaModel(ps.TrainMetaModelRequest(), metadata=m):
        pass


async def _update_member(w: World, p: str, m: Meta, member: str) -> Any:
    return await w.reg.UpdateTeamMember(
        rs.UpdateTeamMemberRequest(
            team_member=pp.TeamMember(id=member, allocation=0.25),
            update_mask={"paths": ["allocation"]},
        ),
        metadata=m,
    )


CALLS: dict[str, Call | Prepared] = {
    "CreateProject": lambda w, p, m: w.reg.CreateProject(
        rs.CreateProjectRequest(project=pp.Project(name=w.fresh("project"))), metadata=m
    ),
    "GetProject": lambda w, p, m: w.reg.GetProject(rs.GetProjectRequest(project_id=p), metadata=m),
    "ListProjects": lambda w, p, m: w.reg.ListProjects(rs.ListProjectsRequest(), metadata=m),
    "UpdateProject": lambda w, p, m: w.reg.UpdateProject(
        rs.UpdateProjectRequest(
            project=pp.Project(id=p, description=w.fresh("d")),
            update_mask={"paths": ["description"]},
        ),
        metadata=m,
    ),
    "UpdateProjectSuccess": lambda w, p, m: w.reg.UpdateProjectSuccess(
        rs.UpdateProjectSuccessRequest(project_id=p, success=pp.ProjectSuccess(succeeded=True)),
        metadata=m,
    ),
    "AddTeamMember": lambda w, p, m: w.reg.AddTeamMember(
        rs.AddTeamMemberRequest(
            project_id=p,
            team_member=pp.TeamMember(
                person_id=w.fresh("person"), display_name="Bo", role=pp.TEAM_ROLE_ANALYST
            ),
        ),
        metadata=m,
    ),
    "UpdateTeamMember": Prepared(World.member, _update_member),
    "RemoveTeamMember": Prepared(
        World.member,
        lambda w, p, m, member: w.reg.RemoveTeamMember(
            rs.RemoveTeamMemberRequest(team_member_id=member), metadata=m
        ),
    ),
    "ListTeamMembers": lambda w, p, m: w.reg.ListTeamMembers(
        rs.ListTeamMembersRequest(project_id=p), metadata=m
    ),
    "CreateArtifact": lambda w, p, m: w.reg.CreateArtifact(
        rs.CreateArtifactRequest(
            artifact=ap.Artifact(
                name=w.fresh("a"), version="1", type=ap.ARTIFACT_TYPE_DATASET, origin_project_id=p
            )
        ),
        metadata=m,
    ),
    "GetArtifact": Prepared(
        World.artifact,
        lambda w, p, m, a: w.reg.GetArtifact(rs.GetArtifactRequest(artifact_id=a), metadata=m),
    ),
    "UpdateArtifact": Prepared(
        World.artifact,
        lambda w, p, m, a: w.reg.UpdateArtifact(
            rs.UpdateArtifactRequest(
                artifact=ap.Artifact(id=a, description="new"),
                update_mask={"paths": ["description"]},
            ),
            metadata=m,
        ),
    ),
    "DeleteArtifact": Prepared(
        World.artifact,
        lambda w, p, m, a: w.reg.DeleteArtifact(
            rs.DeleteArtifactRequest(artifact_id=a), metadata=m
        ),
    ),
    "UploadArtifactContent": Prepared(World.artifact, _upload),
    "DownloadArtifactContent": Prepared(World.artifact, _download),
    "GetArtifactContentUrl": Prepared(
        World.artifact,
        lambda w, p, m, a: w.reg.GetArtifactContentUrl(
            rs.GetArtifactContentUrlRequest(artifact_id=a), metadata=m
        ),
    ),
    "SearchArtifacts": lambda w, p, m: w.reg.SearchArtifacts(
        rs.SearchArtifactsRequest(query="model"), metadata=m
    ),
    "CountArtifactFacets": lambda w, p, m: w.reg.CountArtifactFacets(
        rs.CountArtifactFacetsRequest(query="model"), metadata=m
    ),
    "LogArtifactUsage": Prepared(
        World.artifact,
        lambda w, p, m, a: w.reg.LogArtifactUsage(
            rs.LogArtifactUsageRequest(
                artifact_usage=ap.ArtifactUsage(
                    artifact_id=a, project_id=p, outcome=ap.USAGE_OUTCOME_HELPFUL
                )
            ),
            metadata=m,
        ),
    ),
    "ListArtifactUsages": lambda w, p, m: w.reg.ListArtifactUsages(
        rs.ListArtifactUsagesRequest(project_id=p), metadata=m
    ),
    "RecommendArtifacts": lambda w, p, m: w.reg.RecommendArtifacts(
        rs.RecommendArtifactsRequest(project_id=p), metadata=m
    ),
    "RecordMetrics": _record,
    "StreamMetrics": _stream,
    "WatchMetrics": _watch,
    "GetMetricSummary": lambda w, p, m: w.met.GetMetricSummary(
        ms.GetMetricSummaryRequest(project_id=p), metadata=m
    ),
    "GetVelocity": lambda w, p, m: w.met.GetVelocity(
        ms.GetVelocityRequest(project_id=p), metadata=m
    ),
    "GetDoraMetrics": lambda w, p, m: w.met.GetDoraMetrics(
        ms.GetDoraMetricsRequest(project_id=p), metadata=m
    ),
    "GetMetricSeries": lambda w, p, m: w.met.GetMetricSeries(
        ms.GetMetricSeriesRequest(project_id=p, name="ci.duration"), metadata=m
    ),
    "ListMetricNames": lambda w, p, m: w.met.ListMetricNames(
        ms.ListMetricNamesRequest(project_id=p), metadata=m
    ),
    "GetRepositoryHeads": lambda w, p, m: w.met.GetRepositoryHeads(
        ms.GetRepositoryHeadsRequest(project_id=p, repo="github.com/acme/app"), metadata=m
    ),
    "TrainMetaModel": _train,
    "GetMetaModel": lambda w, p, m: w.pred.GetMetaModel(ps.GetMetaModelRequest(), metadata=m),
    "ListMetaModels": lambda w, p, m: w.pred.ListMetaModels(ps.ListMetaModelsRequest(), metadata=m),
    "PredictSuccess": lambda w, p, m: w.pred.PredictSuccess(
        ps.PredictSuccessRequest(project_id=p), metadata=m
    ),
    "ListPredictions": lambda w, p, m: w.pred.ListPredictions(
        ps.ListPredictionsRequest(project_id=p), metadata=m
    ),
    "RecommendTeam": lambda w, p, m: w.pred.RecommendTeam(
        ps.RecommendTeamRequest(project_id=p), metadata=m
    ),
    "CreateExperiment": lambda w, p, m: w.pred.CreateExperiment(
        ps.CreateExperimentRequest(
            experiment=ep.Experiment(
                name=w.fresh("exp"),
                unit=ep.EXPERIMENT_UNIT_PROJECT,
                variants=[ep.Variant(name="a", weight=1), ep.Variant(name="b", weight=1)],
                outcome_metric="success",
            )
        ),
        metadata=m,
    ),
    "GetExperiment": lambda w, p, m: w.pred.GetExperiment(
        ps.GetExperimentRequest(experiment_id=w.experiment), metadata=m
    ),
    "AssignVariant": lambda w, p, m: w.pred.AssignVariant(
        ps.AssignVariantRequest(experiment_id=w.experiment, unit_id=p), metadata=m
    ),
    "AnalyzeExperiment": lambda w, p, m: w.pred.AnalyzeExperiment(
        ps.AnalyzeExperimentRequest(experiment_id=w.experiment), metadata=m
    ),
    "CreateToken": lambda w, p, m: w.acc.CreateToken(
        ac.CreateTokenRequest(name=w.fresh("t"), role=ac.ROLE_READER), metadata=m
    ),
    "ListTokens": lambda w, p, m: w.acc.ListTokens(ac.ListTokensRequest(), metadata=m),
    "RevokeToken": Prepared(
        lambda w, p: w.acc.CreateToken(
            ac.CreateTokenRequest(name=w.fresh("victim"), role=ac.ROLE_READER), metadata=w.admin
        ),
        lambda w, p, m, made: w.acc.RevokeToken(
            ac.RevokeTokenRequest(token_id=made.token.id), metadata=m
        ),
    ),
    "WhoAmI": lambda w, p, m: w.acc.WhoAmI(ac.WhoAmIRequest(), metadata=m),
    "ListAuditEvents": lambda w, p, m: w.acc.ListAuditEvents(
        ac.ListAuditEventsRequest(), metadata=m
    ),
}


async def outcome(call: Awaitable[Any]) -> tuple[grpc.StatusCode, Any]:
    try:
        return grpc.StatusCode.OK, await call
    except grpc.aio.AioRpcError as error:
        return error.code(), None


@dataclass(frozen=True)
class Cell:
    method: str
    role: str
    column: str

    def expected_denied(self) -> bool:
        roles, scope = EXPECTED[self.method]
        if ROLE_LETTER[self.role] not in roles:
            return True
        scoped = self.role != "admin" and self.column != "unscoped"
        if scope == "org":
            return scoped
        if scope == "project":
            return scoped and self.column == "foreign"
        return False

    def rows_refused(self) -> bool:
        """A "rows" call goes on, with the rows of another project refused."""
        _, scope = EXPECTED[self.method]
        return scope == "rows" and self.role != "admin" and self.column == "foreign"


async def _world(secured: Secured) -> World:
    own, foreign = await secured.project("own"), await secured.project("foreign")
    experiment = await prediction_service_pb2_grpc.PredictionServiceStub(
        secured.channel
    ).CreateExperiment(
        ps.CreateExperimentRequest(
            experiment=ep.Experiment(
                name="matrix",
                unit=ep.EXPERIMENT_UNIT_PROJECT,
                variants=[ep.Variant(name="a", weight=1), ep.Variant(name="b", weight=1)],
                outcome_metric="success",
            )
        ),
        metadata=bearer(secured.admin),
    )
    world = World(secured, own, foreign, experiment.experiment.id)
    for role in ("writer", "reader", "agent"):
        world.tokens[(role, "scoped")] = (await secured.token(role, own, name=f"{role}-own"))[0]
        world.tokens[(role, "unscoped")] = (await secured.token(role, name=f"{role}-all"))[0]
    return world


async def _prepared(world: World, cell: Cell) -> tuple[Run, Meta]:
    if cell.role == "admin":
        secret = world.secured.admin
    else:
        secret = world.tokens[(cell.role, "unscoped" if cell.column == "unscoped" else "scoped")]
    target = world.own if cell.column == "own" else world.foreign
    return await ready(CALLS[cell.method], world, target), bearer(secret)


async def _snapshot(db: Database) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    async with db.read() as conn:
        for table in metadata.sorted_tables:
            if table.name in {"audit_events", "access_tokens"}:
                continue
            rows = await conn.execute(select(table))
            out[table.name] = sorted(repr(tuple(r)) for r in rows)
    return out


async def _refusals_that_wrote(db: Database, world: World, cells: list[Cell]) -> list[str]:
    """Each refused cell alone, the store read before and after it: the slow
    way, taken only once the refused cells together were seen to change it."""
    wrote = []
    for cell in cells:
        run, metadata = await _prepared(world, cell)
        before = await _snapshot(db)
        await outcome(run(metadata))
        if await _snapshot(db) != before:
            wrote.append(f"{cell}: refused, but the store changed")
    return wrote or ["the refused cells together changed the store, none of them alone"]


async def test_every_rpc_every_role_every_scope(secured: Secured) -> None:
    assert set(EXPECTED) == set(CALLS)
    world = await _world(secured)
    cells = [Cell(m, r, c) for m in EXPECTED for r in ROLE_LETTER for c in COLUMNS]
    db = Database(secured.server.settings.store_url, pool_size=1)
    try:
        wrong = await _check_cells(db, world, cells)
    finally:
        await db.dispose()
    assert not wrong, "\n".join(wrong)


async def _check_cells(db: Database, world: World, cells: list[Cell]) -> list[str]:
    # Every refused cell's resources are made first, then the store is read
    # once, every refused call runs, and the store must read the same after.
    refused = [c for c in cells if c.expected_denied()]
    runs = [await _prepared(world, cell) for cell in refused]
    before = await _snapshot(db)
    wrong: list[str] = []
    for cell, (run, caller) in zip(refused, runs, strict=True):
        code, _ = await outcome(run(caller))
        if code != DENIED:
            wrong.append(f"{cell}: {code.name}, expected PERMISSION_DENIED")
    if await _snapshot(db) != before:
        wrong += await _refusals_that_wrote(db, world, refused)

    for cell in (c for c in cells if not c.expected_denied()):
        as_admin, admin_metadata = await _prepared(world, Cell(cell.method, "admin", cell.column))
        expected_code, _ = await outcome(as_admin(admin_metadata))
        run, metadata = await _prepared(world, cell)
        code, result = await outcome(run(metadata))
        if code != expected_code:
            wrong.append(f"{cell}: {code.name}, expected {expected_code.name} (as an admin)")
        elif cell.rows_refused() and result != ["PERMISSION_DENIED"]:
            wrong.append(f"{cell}: rows {result}, expected refused with PERMISSION_DENIED")
        elif EXPECTED[cell.method][1] == "rows" and not cell.rows_refused() and result:
            wrong.append(f"{cell}: rows {result} refused, expected none")
    return wrong


async def test_lists_show_only_the_callers_projects(secured: Secured) -> None:
    world = await _world(secured)
    reader = bearer(world.tokens[("reader", "scoped")])
    listed = await world.reg.ListProjects(rs.ListProjectsRequest(page_size=1), metadata=reader)
    seen = [p.id for p in listed.projects]
    while listed.next_page_token:
        listed = await world.reg.ListProjects(
            rs.ListProjectsRequest(page_size=1, page_token=listed.next_page_token), metadata=reader
        )
        seen += [p.id for p in listed.projects]
    assert seen == [world.own]
    everyone = await world.reg.ListProjects(rs.ListProjectsRequest(), metadata=world.admin)
    assert {p.id for p in everyone.projects} == {world.own, world.foreign}

    # One artifact of the library, used by both projects: a reader of one sees its uses.
    artifact = await world.artifact(world.foreign)
    for project in (world.own, world.foreign):
        await world.reg.LogArtifactUsage(
            rs.LogArtifactUsageRequest(
                artifact_usage=ap.ArtifactUsage(
                    artifact_id=artifact, project_id=project, outcome=ap.USAGE_OUTCOME_HELPFUL
                )
            ),
            metadata=world.admin,
        )
    usages = await world.reg.ListArtifactUsages(
        rs.ListArtifactUsagesRequest(artifact_id=artifact), metadata=reader
    )
    assert {u.project_id for u in usages.artifact_usages} == {world.own}
    every = await world.reg.ListArtifactUsages(
        rs.ListArtifactUsagesRequest(artifact_id=artifact), metadata=world.admin
    )
    assert {u.project_id for u in every.artifact_usages} == {world.own, world.foreign}


async def test_an_unknown_id_of_no_visible_project_is_denied_like_a_real_one(
    secured: Secured,
) -> None:
    world = await _world(secured)
    reader = bearer(world.tokens[("reader", "scoped")])
    for project in (world.foreign, str(uuid.uuid4())):
        code, _ = await outcome(
            world.reg.GetProject(rs.GetProjectRequest(project_id=project), metadata=reader)
        )
        assert code == DENIED
    writer = bearer(world.tokens[("writer", "scoped")])
    code, _ = await outcome(
        world.reg.RemoveTeamMember(
            rs.RemoveTeamMemberRequest(team_member_id=str(uuid.uuid4())), metadata=writer
        )
    )
    assert code == DENIED
