"""GetRepositoryHeads: the branch heads agents sent, only where the commit is stored."""

from __future__ import annotations

import uuid

import grpc

from maestro.metrics.v1 import metric_pb2 as mp
from maestro.metrics.v1 import metrics_service_pb2 as ms
from maestro.metrics.v1 import process_event_pb2 as pe
from tests.helpers import expect_error, expect_invalid, ts
from tests.metrics.helpers import Metrics, commit, sha

REPO = "github.com/acme/app"


def head(project: str, branch: str, n: int, when: str, repo: str = REPO) -> pe.ProcessEvent:
    return pe.ProcessEvent(
        project_id=project,
        branch_head=pe.BranchHead(repo=repo, branch=branch, sha=sha(n), commit_time=ts(when)),
    )


async def record(metrics: Metrics, events: list[pe.ProcessEvent]) -> None:
    response = await metrics.RecordMetrics(
        ms.RecordMetricsRequest(batch=mp.MetricBatch(events=events))
    )
    assert list(response.rejected) == []


async def test_heads_per_branch_newest_first(metrics: Metrics, project: str) -> None:
    await record(
        metrics,
        [
            commit(project, sha(1), "2026-03-01T10:00:00"),
            commit(project, sha(2), "2026-03-02T10:00:00"),
            commit(project, sha(3), "2026-03-03T10:00:00", repo="github.com/acme/other"),
            head(project, "main", 1, "2026-03-01T10:00:00"),
            head(project, "release/1.x", 2, "2026-03-02T10:00:00"),
            # Its commit is not stored (yet): not a place to start from.
            head(project, "feature", 9, "2026-03-04T10:00:00"),
            # Another repository's.
            head(project, "main", 3, "2026-03-03T10:00:00", repo="github.com/acme/other"),
        ],
    )
    got = await metrics.GetRepositoryHeads(
        ms.GetRepositoryHeadsRequest(project_id=project, repo=REPO)
    )
    assert [(h.branch, h.sha) for h in got.heads] == [("release/1.x", sha(2)), ("main", sha(1))]
    assert got.heads[0].commit_time == ts("2026-03-02T10:00:00")
    assert got.heads[0].update_time.seconds > 0
    # A later head of a branch replaces the earlier one.
    await record(metrics, [head(project, "main", 2, "2026-03-02T10:00:00")])
    got = await metrics.GetRepositoryHeads(
        ms.GetRepositoryHeadsRequest(project_id=project, repo=REPO)
    )
    assert sorted((h.branch, h.sha) for h in got.heads) == [
        ("main", sha(2)),
        ("release/1.x", sha(2)),
    ]
    none = await metrics.GetRepositoryHeads(
        ms.GetRepositoryHeadsRequest(project_id=project, repo="github.com/acme/none")
    )
    assert list(none.heads) == []


async def test_bad_requests(metrics: Metrics, project: str) -> None:
    await expect_invalid(
        metrics.GetRepositoryHeads(ms.GetRepositoryHeadsRequest(project_id=project)), "repo"
    )
    await expect_invalid(
        metrics.GetRepositoryHeads(
            ms.GetRepositoryHeadsRequest(project_id=project, repo="r" * 301)
        ),
        "repo",
    )
    await expect_invalid(
        metrics.GetRepositoryHeads(ms.GetRepositoryHeadsRequest(project_id="x", repo=REPO)),
        "project_id",
    )
    await expect_invalid(
        metrics.GetRepositoryHeads(ms.GetRepositoryHeadsRequest(project_id=project, repo="a\x00b")),
        "repo",
    )
    await expect_error(
        metrics.GetRepositoryHeads(
            ms.GetRepositoryHeadsRequest(project_id=str(uuid.uuid4()), repo=REPO)
        ),
        grpc.StatusCode.NOT_FOUND,
    )
    bad = pe.ProcessEvent(
        project_id=project, branch_head=pe.BranchHead(repo=REPO, branch="main", sha="nope")
    )
    nul = pe.ProcessEvent(
        project_id=project, branch_head=pe.BranchHead(repo=REPO, branch="a\x00b", sha=sha(1))
    )
    nul.branch_head.commit_time.CopyFrom(ts("2026-03-01T10:00:00"))
    response = await metrics.RecordMetrics(
        ms.RecordMetricsRequest(batch=mp.MetricBatch(events=[bad, nul]))
    )
    assert [r.field for r in response.rejected] == [
        "events[0].branch_head.sha",
        "events[1].branch_head.branch",
    ]
