"""RecommendArtifacts' ranking, as a user would check it, its query cost, and its benchmark."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from maestro.registry.v1 import artifact_pb2 as ap
from maestro.registry.v1 import registry_service_pb2 as rs
from maestro.registry.v1 import registry_service_pb2_grpc as rsg
from maestro_grpc.server import RunningServer
from tests.registry.test_artifacts import make_artifact, make_project

ROOT = Path(__file__).resolve().parents[2]
HELPFUL, HARMFUL = ap.USAGE_OUTCOME_HELPFUL, ap.USAGE_OUTCOME_HARMFUL


async def use(
    registry: rsg.RegistryServiceStub, artifact: ap.Artifact, project: Any, outcome: Any = HELPFUL
) -> None:
    await registry.LogArtifactUsage(
        rs.LogArtifactUsageRequest(
            artifact_usage=ap.ArtifactUsage(
                artifact_id=artifact.id, project_id=project.id, outcome=outcome
            )
        )
    )


async def recommend(
    registry: rsg.RegistryServiceStub, project: Any
) -> list[ap.ArtifactRecommendation]:
    response = await registry.RecommendArtifacts(
        rs.RecommendArtifactsRequest(project_id=project.id, max_results=20)
    )
    return list(response.recommendations)


async def test_co_used_ranks_above_popular_and_harmful_ranks_low(
    registry: rsg.RegistryServiceStub,
) -> None:
    me = await make_project(registry, "me", labels={"domain": "vision"})
    anchor = await make_artifact(registry, "detector-data", tags=["vision"])
    partner = await make_artifact(registry, "detector-model", tags=["misc"])
    popular = await make_artifact(registry, "everyone-uses", tags=["misc"])
    mostly_bad = await make_artifact(registry, "cursed-model", tags=["vision"])
    once_bad = await make_artifact(registry, "flaky-model", tags=["vision"])
    await use(registry, anchor, me)
    # Two projects use the detector data with the detector model.
    for i in range(2):
        peer = await make_project(registry, f"peer-{i}", labels={"domain": "robots"})
        await use(registry, anchor, peer)
        await use(registry, partner, peer)
    # Six others use a popular artifact, never with what `me` uses.
    for i in range(6):
        other = await make_project(registry, f"crowd-{i}", labels={"domain": "crowd"})
        await use(registry, popular, other)
    # Harm: one artifact harmed two of its three users, another one of four.
    for i, outcome in enumerate([HARMFUL, HARMFUL, HELPFUL]):
        victim = await make_project(registry, f"victim-{i}", labels={"domain": "vision"})
        await use(registry, anchor, victim)
        await use(registry, mostly_bad, victim, outcome)
    for i, outcome in enumerate([HARMFUL, HELPFUL, HELPFUL, HELPFUL]):
        user = await make_project(registry, f"user-{i}", labels={"domain": "vision"})
        await use(registry, once_bad, user, outcome)

    found = await recommend(registry, me)
    names = [r.artifact.name for r in found]
    assert names[0] == "detector-model"
    assert names.index("detector-model") < names.index("everyone-uses")
    top = found[0]
    assert top.reasons[0].kind == ap.RECOMMENDATION_REASON_KIND_CO_USED
    assert "detector-data" in top.reasons[0].detail
    assert sum(r.weight for r in top.reasons) == pytest.approx(1.0)
    # Harmful to most of its users: never recommended. Harmful to some: ranked below
    # the ones that helped, though it matches the project's domain.
    assert "cursed-model" not in names
    assert names.index("flaky-model") > names.index("detector-model")
    assert "detector-data" not in names  # already used


@contextmanager
def counting(server: RunningServer) -> Iterator[list[str]]:
    """The statements reading usages that the server's read engine runs meanwhile."""
    seen: list[str] = []
    engine = server.ctx.db.read_engine.sync_engine

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "artifact_usages" in statement:
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)


async def test_co_usage_is_counted_by_the_database(
    registry: rsg.RegistryServiceStub, server: RunningServer
) -> None:
    """The same statements whether the project uses one artifact or eight, and the pairs
    are grouped in SQL (one row per pair, not per usage)."""
    library = [await make_artifact(registry, f"a{i}", tags=["t"]) for i in range(10)]
    small = await make_project(registry, "small")
    large = await make_project(registry, "large")
    await use(registry, library[0], small)
    for artifact in library[:8]:
        await use(registry, artifact, large)
    for i in range(5):
        peer = await make_project(registry, f"peer-{i}")
        for artifact in library[i : i + 5]:
            await use(registry, artifact, peer)
    with counting(server) as few:
        assert await recommend(registry, small)
    with counting(server) as many:
        assert await recommend(registry, large)
    assert len(few) == len(many)
    assert any("GROUP BY" in s and "count(DISTINCT" in s for s in many)


def test_the_benchmark_runs_on_a_tiny_organisation(store_url: str) -> None:
    """bench/recommend.py end to end, small: its figures, and the JSON line it ends with."""
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "recommend.py"),
            "--projects",
            "30",
            "--artifacts",
            "50",
            "--database-url",
            store_url,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    lines = done.stdout.strip().splitlines()
    figures = json.loads(lines[-1])
    for method in ("most_popular", "highest_impact", "tag_popularity", "item_knn"):
        assert 0.0 <= figures[f"{method}_recall10"] <= 1.0
        assert any(line.startswith(method) for line in lines)
    assert 0.0 <= figures["recall10_low"] <= figures["recall10"] <= figures["recall10_high"] <= 1
    assert figures["recall10_best_baseline"] == max(
        figures[f"{m}_recall10"]
        for m in ("most_popular", "highest_impact", "tag_popularity", "item_knn")
    )
    assert figures["projects"] == 30
    # Harmful artifacts help nobody (the ground truth): they are rarely recommended.
    assert figures["harm10"] <= 0.05


async def member(
    registry: rsg.RegistryServiceStub, project: Any, who: str, skills: list[str], *, left: bool
) -> None:
    from google.protobuf.timestamp_pb2 import Timestamp

    from maestro.registry.v1 import project_pb2 as pp

    fields: dict[str, Any] = {}
    if left:
        fields["join_time"] = Timestamp(seconds=1_600_000_000)
        fields["leave_time"] = Timestamp(seconds=1_700_000_000)
    await registry.AddTeamMember(
        rs.AddTeamMemberRequest(
            project_id=project.id,
            team_member=pp.TeamMember(
                person_id=who, role=pp.TEAM_ROLE_ML_ENGINEER, skills=skills, **fields
            ),
        )
    )


async def test_similar_projects_by_label_words_current_skills_and_what_they_used(
    registry: rsg.RegistryServiceStub,
) -> None:
    """The database picks the similar projects: label values split at commas, trimmed and
    lower-cased, current (not former) members' skills, used artifacts; the reasons name
    the peers it picked, and a project with nothing in common lends nothing."""
    me = await make_project(registry, "me", labels={"stack": " PyTorch, Vision ,"})
    mine = await make_artifact(registry, "my-data", tags=["zzz"])
    await use(registry, mine, me)
    by_labels = await make_project(registry, "twin", labels={"stack": "pytorch,VISION"})
    twin_model = await make_artifact(registry, "twin-model", tags=["q1"])
    await use(registry, twin_model, by_labels)
    by_skill = await make_project(registry, "skilled")
    await member(registry, by_skill, "ann", ["vision"], left=False)
    skill_model = await make_artifact(registry, "skill-model", tags=["q2"])
    await use(registry, skill_model, by_skill)
    former = await make_project(registry, "former")
    await member(registry, former, "bob", ["pytorch"], left=True)
    former_model = await make_artifact(registry, "former-model", tags=["q3"])
    await use(registry, former_model, former)
    by_usage = await make_project(registry, "sharer", labels={"stack": "cobol"})
    await use(registry, mine, by_usage)
    shared_model = await make_artifact(registry, "shared-model", tags=["q4"])
    await use(registry, shared_model, by_usage)

    found = {r.artifact.name: r for r in await recommend(registry, me)}

    def similar_detail(name: str) -> str:
        reasons = [
            r.detail
            for r in found[name].reasons
            if r.kind == ap.RECOMMENDATION_REASON_KIND_USED_BY_SIMILAR_PROJECTS
        ]
        return reasons[0] if reasons else ""

    assert "twin" in similar_detail("twin-model")
    assert "skilled" in similar_detail("skill-model")
    assert "sharer" in similar_detail("shared-model")
    # A former member's skills are not the project's: nothing in common, nothing lent.
    assert "former-model" not in found or similar_detail("former-model") == ""
