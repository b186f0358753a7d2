"""Recommendation benchmark: RecommendArtifacts against four baselines, leave one out.

Builds the generated organisation of `maestro_grpc/demo/library.py` (its
rules, the ground truth, are written there: domains, stacks of artifacts
reused together, general tools, harmful artifacts) through the public RPCs
on a server of its own (the embedded SQLite store in a temporary data dir,
or `--database-url`). Each project's held-out HELPFUL usage is never logged;
for every project RecommendArtifacts is asked for 100 artifacts and judged
on where the held-out one lands:

- recall@10 (one held-out item: the share of projects that find it in the
  first ten), NDCG@10 (1 / log2(rank + 1) when within ten) and MRR
  (1 / rank within the first 100, else 0);
- beside the same figures of four baselines computed in the same run from
  the same logged usages: most popular (most projects using it),
  highest impact (SearchArtifacts ordered by impact), tag popularity (most
  popular among artifacts carrying the project's domain tag, then the most
  popular) and item-to-item co-usage kNN (cosine of the projects using two
  artifacts, summed over what the project uses, then the most popular); all
  of them leave out what the project already uses, as RecommendArtifacts
  does;
- each with a 95% bootstrap interval (1000 resamples of the projects), and
  the paired interval of RecommendArtifacts' recall@10 minus the best
  baseline's;
- the share of the first ten that are harmful artifacts (ground truth), for
  every method;
- RecommendArtifacts' p50 latency beside GetProject's on the same server
  (the cost of any read RPC): its limit in this run.

Reviews (unless `--no-reviews`): one person per project reviews every
artifact that project logged, as its usage went (helpful 4 or 5 stars,
neutral 3, harmful 1 or 2): consistent with the ground truth, and never of
a held-out artifact (it was never logged), so the reviews leak nothing.
The server then runs with tokens (a bootstrapped admin, one reader token
per reviewer): a review is always some person's.

The last line is one JSON object (`recall10`, `recall10_best_baseline`, ...).

    .venv/bin/python bench/recommend.py [--projects 300] [--artifacts 400] [--seed 7]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import grpc.aio
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from maestro.access.v1 import access_service_pb2 as acs  # noqa: E402
from maestro.access.v1 import access_service_pb2_grpc as acg  # noqa: E402
from maestro.people.v1 import collaboration_service_pb2 as cs  # noqa: E402
from maestro.people.v1 import collaboration_service_pb2_grpc as csg  # noqa: E402
from maestro.people.v1 import people_service_pb2 as ps  # noqa: E402
from maestro.people.v1 import people_service_pb2_grpc as psg  # noqa: E402
from maestro.registry.v1 import registry_service_pb2 as rs  # noqa: E402
from maestro.registry.v1 import registry_service_pb2_grpc as rsg  # noqa: E402
from maestro_client import ClientSettings, open_channel  # noqa: E402
from maestro_grpc.app import bootstrap_admin  # noqa: E402
from maestro_grpc.config import Settings  # noqa: E402
from maestro_grpc.demo.library import GeneratedProject, Organisation, load, organisation  # noqa: E402
from maestro_grpc.server import start_server  # noqa: E402

K = 10
DEPTH = 100
RESAMPLES = 1000
Ranking = list[str]  # artifact keys, best first


def _popularity(org: Organisation) -> Counter[str]:
    return Counter(k for p in org.projects for k in {k for k, _ in p.usages})


def _fill(first: list[str], order: list[str], exclude: set[str]) -> Ranking:
    out, seen = [], set(exclude)
    for key in [*first, *order]:
        if key not in seen:
            seen.add(key)
            out.append(key)
        if len(out) >= DEPTH:
            break
    return out


def baselines(org: Organisation, impact_order: list[str]) -> dict[str, dict[str, Ranking]]:
    """Each baseline's ranking for each project, from the logged usages alone."""
    popular = _popularity(org)
    by_popularity = sorted(popular, key=lambda k: (-popular[k], k))
    tags = {a.key: set(a.tags) for a in org.artifacts}
    users: dict[str, set[str]] = defaultdict(set)
    for p in org.projects:
        for k, _ in p.usages:
            users[k].add(p.key)
    out: dict[str, dict[str, Ranking]] = defaultdict(dict)
    for p in org.projects:
        own = {k for k, _ in p.usages}
        out["most_popular"][p.key] = _fill([], by_popularity, own)
        out["highest_impact"][p.key] = _fill([], impact_order, own)
        in_domain = [k for k in by_popularity if p.domain in tags[k]]
        out["tag_popularity"][p.key] = _fill(in_domain, by_popularity, own)
        knn: dict[str, float] = defaultdict(float)
        for i in own:
            for j in {k for q in users[i] if q != p.key for k, _ in _usages(org, q)}:
                if j in own:
                    continue
                co = len((users[i] & users[j]) - {p.key})
                if co:
                    knn[j] += co / math.sqrt(len(users[i]) * len(users[j]))
        ranked = sorted(knn, key=lambda k: (-knn[k], -popular[k], k))
        out["item_knn"][p.key] = _fill(ranked, by_popularity, own)
    return out


_USAGE_CACHE: dict[int, dict[str, list[tuple[str, str]]]] = {}


def _usages(org: Organisation, key: str) -> list[tuple[str, str]]:
    cache = _USAGE_CACHE.setdefault(id(org), {p.key: p.usages for p in org.projects})
    return cache[key]


def scores(org: Organisation, rankings: dict[str, Ranking]) -> dict[str, np.ndarray]:
    """Per project (those with a held-out usage): hit@10, NDCG@10, reciprocal rank, harm@10."""
    harmful = {a.key for a in org.artifacts if a.kind == "harmful"}
    hit, ndcg, rr, harm = [], [], [], []
    for p in org.projects:
        if p.held_out is None:
            continue
        ranking = rankings.get(p.key, [])
        rank = ranking.index(p.held_out) + 1 if p.held_out in ranking else 0
        hit.append(1.0 if 0 < rank <= K else 0.0)
        ndcg.append(1.0 / math.log2(rank + 1) if 0 < rank <= K else 0.0)
        rr.append(1.0 / rank if rank else 0.0)
        top = ranking[:K]
        harm.append(sum(1 for k in top if k in harmful) / K)
    return {
        n: np.array(v)
        for n, v in (("recall10", hit), ("ndcg10", ndcg), ("mrr", rr), ("harm10", harm))
    }


def interval(values: np.ndarray, rng: np.random.Generator) -> tuple[float, float]:
    n = len(values)
    means = values[rng.integers(0, n, size=(RESAMPLES, n))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(low), float(high)


async def recommended(
    registry: rsg.RegistryServiceStub, org: Organisation
) -> tuple[dict[str, Ranking], list[float]]:
    keys = {v: k for k, v in org.artifact_ids.items()}
    out: dict[str, Ranking] = {}
    seconds: list[float] = []
    for p in org.projects:
        started = time.perf_counter()
        response = await registry.RecommendArtifacts(
            rs.RecommendArtifactsRequest(project_id=org.project_ids[p.key], max_results=DEPTH)
        )
        seconds.append(time.perf_counter() - started)
        out[p.key] = [keys[r.artifact.id] for r in response.recommendations]
    return out, seconds


async def impact_order(registry: rsg.RegistryServiceStub, org: Organisation) -> list[str]:
    keys = {v: k for k, v in org.artifact_ids.items()}
    order: list[str] = []
    token = ""
    while True:
        page = await registry.SearchArtifacts(
            rs.SearchArtifactsRequest(
                order_by=rs.ARTIFACT_ORDER_BY_IMPACT, page_size=1000, page_token=token
            )
        )
        order += [keys[a.id] for a in page.artifacts]
        token = page.next_page_token
        if not token:
            return order


async def get_project_seconds(registry: rsg.RegistryServiceStub, org: Organisation) -> list[float]:
    seconds = []
    for p in org.projects:
        started = time.perf_counter()
        await registry.GetProject(rs.GetProjectRequest(project_id=org.project_ids[p.key]))
        seconds.append(time.perf_counter() - started)
    return seconds


def report(results: dict[str, dict[str, np.ndarray]], seed: int) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    print(f"{'method':<22}{'recall@10':>24}{'NDCG@10':>24}{'MRR':>24}{'harm@10':>10}")
    for method, s in results.items():
        cells = []
        for name in ("recall10", "ndcg10", "mrr"):
            low, high = interval(s[name], rng)
            cells.append(f"{s[name].mean():.3f} [{low:.3f}, {high:.3f}]")
        print(f"{method:<22}" + "".join(f"{c:>24}" for c in cells) + f"{s['harm10'].mean():>10.3f}")
    ours = results["recommend_artifacts"]
    others = {m: s for m, s in results.items() if m != "recommend_artifacts"}
    best = max(others, key=lambda m: others[m]["recall10"].mean())
    low, high = interval(ours["recall10"] - others[best]["recall10"], rng)
    ratio = ours["recall10"].mean() / max(others[best]["recall10"].mean(), 1e-9)
    print(
        f"recall@10 {ours['recall10'].mean():.3f} against the best baseline ({best}) "
        f"{others[best]['recall10'].mean():.3f}: ratio {ratio:.2f} "
        f"(target > 1), difference 95% interval [{low:.3f}, {high:.3f}]"
    )
    figures: dict[str, float] = {}
    for method, s in results.items():
        prefix = "" if method == "recommend_artifacts" else f"{method}_"
        for name in ("recall10", "ndcg10", "mrr", "harm10"):
            figures[f"{prefix}{name}"] = round(float(s[name].mean()), 4)
    figures["recall10_low"], figures["recall10_high"] = (
        round(v, 4) for v in interval(ours["recall10"], rng)
    )
    figures["recall10_best_baseline"] = figures[f"{best}_recall10"]
    figures["best_baseline"] = best  # type: ignore[assignment]
    figures["recall10_ratio"] = round(ratio, 3)
    figures["recall10_diff_low"], figures["recall10_diff_high"] = round(low, 4), round(high, 4)
    return figures


STARS = {"helpful": (4, 5), "neutral": (3, 3), "harmful": (1, 2)}


async def review(channel: grpc.aio.Channel, org: Organisation, seed: int) -> int:
    """Each project's reviewer rates what the project logged, as it went; how many reviews."""
    rng = np.random.default_rng(seed)
    people = psg.PeopleServiceStub(channel)
    access = acg.AccessServiceStub(channel)
    collab = csg.CollaborationServiceStub(channel)
    gate = asyncio.Semaphore(8)

    async def reviewer(i: int, project: GeneratedProject) -> int:
        async with gate:
            person = await people.CreatePerson(
                ps.CreatePersonRequest(
                    person=ps.Person(
                        display_name=f"Reviewer {i}", email=f"r{i}@bench.example", handle=f"r{i}"
                    )
                )
            )
            token = await access.CreateToken(
                acs.CreateTokenRequest(
                    name=f"r{i}", role=acs.ROLE_READER, person_id=person.person.id
                )
            )
            said = dict(project.usages)  # the last outcome of each artifact it used
            for key, outcome in said.items():
                low, high = STARS[outcome]
                await collab.ReviewArtifact(
                    cs.ReviewArtifactRequest(
                        review=cs.Review(
                            artifact_id=org.artifact_ids[key],
                            rating=int(rng.integers(low, high + 1)),
                        )
                    ),
                    metadata=(("authorization", f"Bearer {token.secret}"),),
                )
            return len(said)

    counts = await asyncio.gather(*(reviewer(i, p) for i, p in enumerate(org.projects)))
    return sum(counts)


async def run(args: argparse.Namespace, data_dir: Path) -> dict[str, float]:
    settings = Settings(
        host="127.0.0.1",
        port=0,
        data_dir=data_dir,
        database_url=args.database_url,
        migrate_on_start=True,
        metrics_port=None,
        access_log=False,
        log_level="WARNING",
    )
    org = organisation(args.projects, args.artifacts, args.seed)
    token = (await bootstrap_admin(settings, "bench")).secret if args.reviews else ""
    server = await start_server(settings)
    reviews = 0
    try:
        address = f"127.0.0.1:{server.port}"
        async with open_channel(ClientSettings(address=address, token=token)) as channel:
            started = time.perf_counter()
            await load(channel, org)
            if args.reviews:
                reviews = await review(channel, org, args.seed)
            loaded = time.perf_counter() - started
            registry = rsg.RegistryServiceStub(channel)
            rankings, recommend_seconds = await recommended(registry, org)
            order = await impact_order(registry, org)
            get_seconds = await get_project_seconds(registry, org)
    finally:
        await server.stop(grace=1.0)
    usages = sum(len(p.usages) for p in org.projects)
    print(
        f"organisation: {len(org.projects)} projects, {len(org.artifacts)} artifacts, "
        f"{usages} usages logged, {reviews} reviews, loaded through the RPCs in {loaded:.1f} s"
    )
    results = {"recommend_artifacts": scores(org, rankings)}
    for name, ranked in baselines(org, order).items():
        results[name] = scores(org, ranked)
    figures = report(results, args.seed)
    p50 = statistics.median(recommend_seconds) * 1000
    limit = statistics.median(get_seconds) * 1000
    print(
        f"RecommendArtifacts p50 {p50:.2f} ms beside GetProject p50 {limit:.2f} ms: "
        f"ratio {p50 / limit:.1f}"
    )
    figures.update(
        projects=len(org.projects),
        artifacts=len(org.artifacts),
        usages=usages,
        reviews=reviews,
        recommend_p50_ms=round(p50, 2),
        get_project_p50_ms=round(limit, 2),
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--projects", type=int, default=300)
    parser.add_argument("--artifacts", type=int, default=400)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--database-url", default="", help="a migrated store; SQLite in a temporary dir without it"
    )
    parser.add_argument(
        "--no-reviews", dest="reviews", action="store_false", help="log usages only (no reviews)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="maestro-bench-recommend-") as tmp:
        figures = asyncio.run(run(args, Path(tmp)))
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
