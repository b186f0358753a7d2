"""The artifact library through a real server, on both stores."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import grpc
import pytest
from google.protobuf import field_mask_pb2, struct_pb2

from maestro.registry.v1 import artifact_pb2 as ap
from maestro.registry.v1 import project_pb2 as pp
from maestro.registry.v1 import registry_service_pb2 as rs
from maestro.registry.v1 import registry_service_pb2_grpc as rsg
from tests.helpers import error_info, expect_error, expect_invalid, ts

MODEL, DATASET, NOTEBOOK = (
    ap.ARTIFACT_TYPE_MODEL,
    ap.ARTIFACT_TYPE_DATASET,
    ap.ARTIFACT_TYPE_NOTEBOOK,
)


async def make_project(
    registry: rsg.RegistryServiceStub, name: str = "proj", **fields: Any
) -> pp.Project:
    return (
        await registry.CreateProject(
            rs.CreateProjectRequest(project=pp.Project(name=name, **fields))
        )
    ).project


async def make_artifact(
    registry: rsg.RegistryServiceStub, name: str, version: str = "1.0.0", **fields: Any
) -> ap.Artifact:
    fields.setdefault("type", MODEL)
    return (
        await registry.CreateArtifact(
            rs.CreateArtifactRequest(artifact=ap.Artifact(name=name, version=version, **fields))
        )
    ).artifact


async def search(registry: rsg.RegistryServiceStub, **kwargs: Any) -> rs.SearchArtifactsResponse:
    return await registry.SearchArtifacts(rs.SearchArtifactsRequest(**kwargs))


def names(response: rs.SearchArtifactsResponse) -> list[str]:
    return [a.name for a in response.artifacts]


async def test_create_and_get_artifact(registry: rsg.RegistryServiceStub) -> None:
    project = await make_project(registry)
    metadata = struct_pb2.Struct()
    metadata.update({"framework": "xgboost", "metrics": {"auc": 0.91}, "features": ["a", "b"]})
    digest = hashlib.sha256(b"model bytes").hexdigest()
    created = await make_artifact(
        registry,
        "churn-xgb",
        "2.1.0",
        description="Gradient boosted churn model",
        tags=["Churn", "tabular", "churn"],
        origin_project_id=project.id,
        creator="alice",
        metadata=metadata,
        content_sha256=digest,
        size_bytes=11,
        storage_uri="s3://models/churn-xgb/2.1.0",
    )
    assert uuid.UUID(created.id)
    assert list(created.tags) == ["churn", "tabular"]
    assert created.usage_count == 0
    assert created.impact_score == 0.0
    metrics = created.metadata["metrics"]
    assert isinstance(metrics, struct_pb2.Struct)
    assert metrics["auc"] == 0.91
    got = (await registry.GetArtifact(rs.GetArtifactRequest(artifact_id=created.id))).artifact
    assert got == created


async def test_versions_are_unique_per_name(registry: rsg.RegistryServiceStub) -> None:
    await make_artifact(registry, "emb", "1.0")
    await make_artifact(registry, "emb", "1.1")
    error = await expect_error(
        make_artifact(registry, "emb", "1.0"), grpc.StatusCode.ALREADY_EXISTS
    )
    assert error_info(error).reason == "ARTIFACT_EXISTS"
    versions = await search(registry, name="emb", order_by=rs.ARTIFACT_ORDER_BY_RECENCY)
    assert [a.version for a in versions.artifacts] == ["1.1", "1.0"]


async def test_create_artifact_errors(registry: rsg.RegistryServiceStub) -> None:
    found = await expect_invalid(
        registry.CreateArtifact(
            rs.CreateArtifactRequest(
                artifact=ap.Artifact(
                    name="",
                    version="bad version",
                    tags=["ok", "Not Valid!"],
                    content_sha256="xyz",
                    size_bytes=-1,
                    origin_project_id="nope",
                )
            )
        ),
        "artifact.name",
    )
    assert {
        "artifact.version",
        "artifact.type",
        "artifact.tags[1]",
        "artifact.content_sha256",
        "artifact.size_bytes",
        "artifact.origin_project_id",
    } <= set(found)
    await expect_error(
        make_artifact(registry, "orphan", origin_project_id=str(uuid.uuid4())),
        grpc.StatusCode.NOT_FOUND,
    )


async def test_create_artifact_is_idempotent(registry: rsg.RegistryServiceStub) -> None:
    request = rs.CreateArtifactRequest(
        artifact=ap.Artifact(name="idem", version="1", type=DATASET), request_id="r-idem"
    )
    first = (await registry.CreateArtifact(request)).artifact
    second = (await registry.CreateArtifact(request)).artifact
    assert first.id == second.id
    assert (await search(registry, name="idem")).total_size == 1


async def test_search_by_type(registry: rsg.RegistryServiceStub) -> None:
    await make_artifact(registry, "m1", type=MODEL)
    await make_artifact(registry, "d1", type=DATASET)
    await make_artifact(registry, "n1", type=NOTEBOOK)
    await make_artifact(registry, "m2", type=MODEL)
    models = await search(registry, types=[MODEL])
    assert sorted(names(models)) == ["m1", "m2"]
    assert models.total_size == 2
    both = await search(registry, types=[MODEL, DATASET])
    assert sorted(names(both)) == ["d1", "m1", "m2"]


@pytest.fixture
async def tagged(registry: rsg.RegistryServiceStub) -> None:
    await make_artifact(registry, "a", tags=["nlp", "bert", "english"])
    await make_artifact(registry, "b", tags=["nlp", "gpt"])
    await make_artifact(registry, "c", tags=["vision", "resnet"])
    await make_artifact(registry, "d", tags=["vision", "nlp", "clip"])
    await make_artifact(registry, "e", tags=[])


async def test_search_by_tags_any_of(registry: rsg.RegistryServiceStub, tagged: None) -> None:
    assert sorted(names(await search(registry, tags_any=["bert", "resnet"]))) == ["a", "c"]
    assert sorted(names(await search(registry, tags_any=["nlp"]))) == ["a", "b", "d"]
    assert names(await search(registry, tags_any=["unknown"])) == []


async def test_search_by_tags_all_of(registry: rsg.RegistryServiceStub, tagged: None) -> None:
    assert sorted(names(await search(registry, tags_all=["nlp", "vision"]))) == ["d"]
    assert sorted(names(await search(registry, tags_all=["nlp"]))) == ["a", "b", "d"]
    assert names(await search(registry, tags_all=["nlp", "resnet"])) == []
    # Both filters together, and tags are matched case-insensitively.
    assert names(await search(registry, tags_any=["GPT", "clip"], tags_all=["vision"])) == ["d"]


async def test_free_text_search(registry: rsg.RegistryServiceStub) -> None:
    await make_artifact(
        registry, "resnet50-imagenet", description="ResNet-50 trained on ImageNet", tags=["vision"]
    )
    await make_artifact(
        registry, "bert-base", description="BERT base, uncased English", tags=["nlp"]
    )
    await make_artifact(
        registry,
        "churn_features",
        type=ap.ARTIFACT_TYPE_FEATURE_PIPELINE,
        description="Features for churn",
    )
    assert names(await search(registry, query="imagenet")) == ["resnet50-imagenet"]
    assert names(await search(registry, query="resn")) == ["resnet50-imagenet"]  # prefix
    assert names(await search(registry, query="ENGLISH bert")) == [
        "bert-base"
    ]  # all words, any case
    assert names(await search(registry, query="churn")) == ["churn_features"]  # from the name
    assert names(await search(registry, query="nlp")) == ["bert-base"]  # from the tags
    assert names(await search(registry, query="bert imagenet")) == []
    assert names(await search(registry, query="!!!")) == []
    # Text search combines with the other filters.
    assert names(await search(registry, query="features", types=[MODEL])) == []


async def test_search_order_and_pages(registry: rsg.RegistryServiceStub) -> None:
    project = await make_project(registry)
    created = [await make_artifact(registry, f"art{i}", tags=["shared"]) for i in range(6)]
    # Give art3 the most use, art1 some.
    for artifact, uses in ((created[3], 3), (created[1], 1)):
        for _ in range(uses):
            await registry.LogArtifactUsage(
                rs.LogArtifactUsageRequest(
                    artifact_usage=ap.ArtifactUsage(
                        artifact_id=artifact.id,
                        project_id=project.id,
                        outcome=ap.USAGE_OUTCOME_HELPFUL,
                    )
                )
            )
    by_impact = await search(registry, tags_any=["shared"])
    assert names(by_impact)[:2] == ["art3", "art1"]
    by_usage = await search(registry, tags_any=["shared"], order_by=rs.ARTIFACT_ORDER_BY_USAGE)
    assert [a.usage_count for a in by_usage.artifacts] == [3, 1, 0, 0, 0, 0]
    by_recency = await search(registry, tags_any=["shared"], order_by=rs.ARTIFACT_ORDER_BY_RECENCY)
    assert names(by_recency) == [f"art{i}" for i in reversed(range(6))]

    for order in (
        rs.ARTIFACT_ORDER_BY_IMPACT,
        rs.ARTIFACT_ORDER_BY_USAGE,
        rs.ARTIFACT_ORDER_BY_RECENCY,
    ):
        whole = names(await search(registry, tags_any=["shared"], order_by=order))
        paged: list[str] = []
        token = ""
        while True:
            page = await search(
                registry, tags_any=["shared"], order_by=order, page_size=4, page_token=token
            )
            assert page.total_size == 6
            paged += names(page)
            token = page.next_page_token
            if not token:
                break
        assert paged == whole

    min_impact = await search(registry, min_impact_score=by_impact.artifacts[1].impact_score)
    assert names(min_impact) == ["art3", "art1"]
    # A token issued for one order does not work for another.
    first = await search(registry, tags_any=["shared"], page_size=2)
    await expect_invalid(
        registry.SearchArtifacts(
            rs.SearchArtifactsRequest(
                tags_any=["shared"],
                page_size=2,
                order_by=rs.ARTIFACT_ORDER_BY_USAGE,
                page_token=first.next_page_token,
            )
        ),
        "page_token",
    )


async def test_search_by_origin_project(registry: rsg.RegistryServiceStub) -> None:
    p1 = await make_project(registry, "p1")
    p2 = await make_project(registry, "p2")
    await make_artifact(registry, "from-p1", origin_project_id=p1.id)
    await make_artifact(registry, "from-p2", origin_project_id=p2.id)
    assert names(await search(registry, origin_project_id=p1.id)) == ["from-p1"]


async def test_log_usage_changes_count_and_impact(registry: rsg.RegistryServiceStub) -> None:
    project = await make_project(registry)
    artifact = await make_artifact(
        registry, "feature-store", type=ap.ARTIFACT_TYPE_FEATURE_PIPELINE
    )
    response = await registry.LogArtifactUsage(
        rs.LogArtifactUsageRequest(
            artifact_usage=ap.ArtifactUsage(
                artifact_id=artifact.id,
                project_id=project.id,
                user="bob",
                purpose="baseline features",
                outcome=ap.USAGE_OUTCOME_HELPFUL,
            )
        )
    )
    assert response.artifact.usage_count == 1
    # One helpful usage by a project of unknown outcome, just now: s = 1.0.
    assert response.artifact.impact_score == pytest.approx(
        100 * (1 - 2.718281828459045 ** (-1 / 5)), rel=1e-6
    )
    assert response.artifact_usage.user == "bob"
    assert response.artifact_usage.outcome == ap.USAGE_OUTCOME_HELPFUL
    first_score = response.artifact.impact_score

    harmful = await registry.LogArtifactUsage(
        rs.LogArtifactUsageRequest(
            artifact_usage=ap.ArtifactUsage(
                artifact_id=artifact.id, project_id=project.id, outcome=ap.USAGE_OUTCOME_HARMFUL
            )
        )
    )
    assert harmful.artifact.usage_count == 2
    assert harmful.artifact.impact_score < first_score

    got = (await registry.GetArtifact(rs.GetArtifactRequest(artifact_id=artifact.id))).artifact
    assert got.usage_count == 2
    assert got.impact_score == harmful.artifact.impact_score


async def test_usage_weighs_by_project_success_and_age(registry: rsg.RegistryServiceStub) -> None:
    won = await make_project(registry, "won")
    lost = await make_project(registry, "lost")
    await registry.UpdateProjectSuccess(
        rs.UpdateProjectSuccessRequest(project_id=won.id, success=pp.ProjectSuccess(succeeded=True))
    )
    await registry.UpdateProjectSuccess(
        rs.UpdateProjectSuccessRequest(
            project_id=lost.id, success=pp.ProjectSuccess(succeeded=False)
        )
    )
    a_won = await make_artifact(registry, "used-by-winner")
    a_lost = await make_artifact(registry, "used-by-loser")
    a_old = await make_artifact(registry, "used-long-ago")
    old_time = datetime.now(UTC) - timedelta(days=360)
    scores = {}
    for artifact, project, when in (
        (a_won, won, None),
        (a_lost, lost, None),
        (a_old, won, old_time),
    ):
        usage = ap.ArtifactUsage(
            artifact_id=artifact.id, project_id=project.id, outcome=ap.USAGE_OUTCOME_HELPFUL
        )
        if when is not None:
            usage.use_time.CopyFrom(ts(when))
        logged = await registry.LogArtifactUsage(rs.LogArtifactUsageRequest(artifact_usage=usage))
        scores[artifact.name] = logged.artifact.impact_score
    assert scores["used-by-winner"] > scores["used-long-ago"] > 0
    assert scores["used-by-winner"] > scores["used-by-loser"] > 0


async def test_log_usage_is_idempotent(registry: rsg.RegistryServiceStub) -> None:
    project = await make_project(registry)
    artifact = await make_artifact(registry, "x")
    request = rs.LogArtifactUsageRequest(
        artifact_usage=ap.ArtifactUsage(artifact_id=artifact.id, project_id=project.id),
        request_id="usage-1",
    )
    first = await registry.LogArtifactUsage(request)
    second = await registry.LogArtifactUsage(request)
    assert first.artifact_usage.id == second.artifact_usage.id
    assert second.artifact.usage_count == 1
    assert first.artifact_usage.outcome == ap.USAGE_OUTCOME_UNKNOWN


async def test_log_usage_errors(registry: rsg.RegistryServiceStub) -> None:
    project = await make_project(registry)
    artifact = await make_artifact(registry, "x")
    await expect_error(
        registry.LogArtifactUsage(
            rs.LogArtifactUsageRequest(
                artifact_usage=ap.ArtifactUsage(
                    artifact_id=str(uuid.uuid4()), project_id=project.id
                )
            )
        ),
        grpc.StatusCode.NOT_FOUND,
    )
    await expect_error(
        registry.LogArtifactUsage(
            rs.LogArtifactUsageRequest(
                artifact_usage=ap.ArtifactUsage(
                    artifact_id=artifact.id, project_id=str(uuid.uuid4())
                )
            )
        ),
        grpc.StatusCode.NOT_FOUND,
    )
    future = ap.ArtifactUsage(artifact_id=artifact.id, project_id=project.id)
    future.use_time.CopyFrom(ts(datetime.now(UTC) + timedelta(days=2)))
    await expect_invalid(
        registry.LogArtifactUsage(rs.LogArtifactUsageRequest(artifact_usage=future)),
        "artifact_usage.use_time",
    )
    found = await expect_invalid(
        registry.LogArtifactUsage(
            rs.LogArtifactUsageRequest(
                artifact_usage=ap.ArtifactUsage(artifact_id="x", outcome=cast(ap.UsageOutcome, 42))
            )
        ),
        "artifact_usage.artifact_id",
    )
    assert {"artifact_usage.project_id", "artifact_usage.outcome"} <= set(found)
    # Nothing was half-written.
    got = (await registry.GetArtifact(rs.GetArtifactRequest(artifact_id=artifact.id))).artifact
    assert got.usage_count == 0


async def test_list_usages(registry: rsg.RegistryServiceStub) -> None:
    p1 = await make_project(registry, "p1")
    p2 = await make_project(registry, "p2")
    a = await make_artifact(registry, "a")
    b = await make_artifact(registry, "b")
    base = datetime(2026, 3, 1, tzinfo=UTC)
    for i, (artifact, project) in enumerate([(a, p1), (a, p2), (b, p1), (a, p1)]):
        usage = ap.ArtifactUsage(artifact_id=artifact.id, project_id=project.id, purpose=f"u{i}")
        usage.use_time.CopyFrom(ts(base + timedelta(days=i)))
        await registry.LogArtifactUsage(rs.LogArtifactUsageRequest(artifact_usage=usage))
    of_a = await registry.ListArtifactUsages(rs.ListArtifactUsagesRequest(artifact_id=a.id))
    assert [u.purpose for u in of_a.artifact_usages] == ["u3", "u1", "u0"]
    by_p1 = await registry.ListArtifactUsages(rs.ListArtifactUsagesRequest(project_id=p1.id))
    assert [u.purpose for u in by_p1.artifact_usages] == ["u3", "u2", "u0"]
    both = await registry.ListArtifactUsages(
        rs.ListArtifactUsagesRequest(project_id=p1.id, artifact_id=a.id, page_size=1)
    )
    assert [u.purpose for u in both.artifact_usages] == ["u3"]
    rest = await registry.ListArtifactUsages(
        rs.ListArtifactUsagesRequest(
            project_id=p1.id, artifact_id=a.id, page_size=1, page_token=both.next_page_token
        )
    )
    assert [u.purpose for u in rest.artifact_usages] == ["u0"]
    await expect_invalid(registry.ListArtifactUsages(rs.ListArtifactUsagesRequest()), "artifact_id")


async def test_update_artifact(registry: rsg.RegistryServiceStub) -> None:
    artifact = await make_artifact(registry, "upd", description="old words", tags=["x"])
    updated = (
        await registry.UpdateArtifact(
            rs.UpdateArtifactRequest(
                artifact=ap.Artifact(
                    id=artifact.id, description="fresh words", tags=["y", "z"], creator="ignored"
                ),
                update_mask=field_mask_pb2.FieldMask(paths=["description", "tags"]),
            )
        )
    ).artifact
    assert updated.description == "fresh words"
    assert list(updated.tags) == ["y", "z"]
    assert updated.creator == ""
    # The search index follows the update.
    assert names(await search(registry, query="fresh")) == ["upd"]
    assert names(await search(registry, query="old")) == []
    assert names(await search(registry, tags_any=["x"])) == []
    await expect_invalid(
        registry.UpdateArtifact(
            rs.UpdateArtifactRequest(
                artifact=ap.Artifact(id=artifact.id, name="renamed"),
                update_mask=field_mask_pb2.FieldMask(paths=["name"]),
            )
        ),
        "update_mask.paths[0]",
    )


async def test_delete_artifact(registry: rsg.RegistryServiceStub) -> None:
    artifact = await make_artifact(registry, "gone", tags=["t"])
    deleted = (
        await registry.DeleteArtifact(rs.DeleteArtifactRequest(artifact_id=artifact.id))
    ).artifact
    assert deleted.delete_time.seconds > 0
    await expect_error(
        registry.GetArtifact(rs.GetArtifactRequest(artifact_id=artifact.id)),
        grpc.StatusCode.NOT_FOUND,
    )
    assert names(await search(registry, tags_any=["t"])) == []
    await expect_error(
        registry.DeleteArtifact(rs.DeleteArtifactRequest(artifact_id=artifact.id)),
        grpc.StatusCode.NOT_FOUND,
    )
    # The name and version are free again.
    again = await make_artifact(registry, "gone")
    assert again.id != artifact.id


async def test_recommend_artifacts(registry: rsg.RegistryServiceStub) -> None:
    me = await make_project(
        registry, "new-nlp", labels={"domain": "nlp", "required_skills": "pytorch"}
    )
    peer = await make_project(registry, "old-nlp", labels={"domain": "nlp"})
    other = await make_project(registry, "vision", labels={"domain": "vision"})
    await registry.UpdateProjectSuccess(
        rs.UpdateProjectSuccessRequest(
            project_id=peer.id, success=pp.ProjectSuccess(succeeded=True)
        )
    )
    shared = await make_artifact(registry, "tokenizer", tags=["nlp"])
    peer_pick = await make_artifact(registry, "bert-finetune", tags=["transformers"])
    vision_pick = await make_artifact(registry, "resnet", tags=["vision"])
    pytorch_util = await make_artifact(
        registry, "torch-utils", type=ap.ARTIFACT_TYPE_CODE, tags=["pytorch"]
    )
    await make_artifact(registry, "my-own", tags=["nlp"], origin_project_id=me.id)
    for artifact, project in (
        (shared, me),
        (shared, peer),
        (peer_pick, peer),
        (vision_pick, other),
    ):
        await registry.LogArtifactUsage(
            rs.LogArtifactUsageRequest(
                artifact_usage=ap.ArtifactUsage(
                    artifact_id=artifact.id, project_id=project.id, outcome=ap.USAGE_OUTCOME_HELPFUL
                )
            )
        )
    response = await registry.RecommendArtifacts(rs.RecommendArtifactsRequest(project_id=me.id))
    recommended = [r.artifact.name for r in response.recommendations]
    # Already used or self-made artifacts are not recommended.
    assert "tokenizer" not in recommended
    assert "my-own" not in recommended
    assert recommended[0] == "bert-finetune"
    top = response.recommendations[0]
    # old-nlp used it together with the tokenizer this project uses.
    kinds = {r.kind: r for r in top.reasons}
    assert top.reasons[0].kind == ap.RECOMMENDATION_REASON_KIND_CO_USED
    assert "tokenizer" in top.reasons[0].detail
    assert "old-nlp" in kinds[ap.RECOMMENDATION_REASON_KIND_USED_BY_SIMILAR_PROJECTS].detail
    assert sum(r.weight for r in top.reasons) == pytest.approx(1.0)
    torch = next(r for r in response.recommendations if r.artifact.name == "torch-utils")
    assert torch.reasons[0].kind == ap.RECOMMENDATION_REASON_KIND_MATCHING_TAGS
    scores = [r.score for r in response.recommendations]
    assert scores == sorted(scores, reverse=True)

    only_code = await registry.RecommendArtifacts(
        rs.RecommendArtifactsRequest(project_id=me.id, types=[ap.ARTIFACT_TYPE_CODE], max_results=5)
    )
    assert [r.artifact.name for r in only_code.recommendations] == ["torch-utils"]
    await expect_error(
        registry.RecommendArtifacts(rs.RecommendArtifactsRequest(project_id=str(uuid.uuid4()))),
        grpc.StatusCode.NOT_FOUND,
    )
    await expect_invalid(
        registry.RecommendArtifacts(
            rs.RecommendArtifactsRequest(project_id=me.id, max_results=1000)
        ),
        "max_results",
    )
    assert pytorch_util.id
