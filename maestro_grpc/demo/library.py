"""A generated organisation for judging RecommendArtifacts, with its ground truth written down.

`organisation(projects, artifacts, seed)` draws it (pure, deterministic for a
seed); `load(channel, org)` creates it through the public RPCs. The rules:

- **Domains.** Eight (`DOMAINS`), each with four skills. A project belongs to
  one domain, drawn with Zipf-like weights (1 / (rank + 1)): label
  `domain=<domain>` and `required_skills` two of its domain's skills.
- **Artifacts.** Of the library, 8% are *general tools* (tag `tooling`,
  no domain), 6% are *harmful* (a domain's tag, type MODEL), the rest are
  *domain artifacts* grouped in *stacks* of four within their domain
  (dataset, feature pipeline, model, notebook: a stack is what a project of
  that kind reuses together). Every artifact carries its type's tag and one
  tag drawn from twelve generic ones (noise); a domain artifact or a
  harmful one also carries its domain's tag, and each stack member its
  stack's topic tag with probability 0.3.
- **Who uses what.** A project picks one stack of its domain, by the stacks'
  popularity (Zipf weights within the domain), and with probability 0.5 a
  second one; it uses each member of a picked stack with probability 0.8,
  each general tool with probability 0.2, each harmful artifact of its
  domain with probability 0.15, and with probability 0.1 one member of a
  stack of another domain. With probability 0.6 the project says what it
  is about: label `use_case=topic<first stack>` (the topic tag some of that
  stack's members carry). A quarter of the projects are *young*: of what
  they will use, only one or two usages (and the held-out one) are known so
  far.
- **Outcomes.** A use of a harmful artifact is HARMFUL; any other is HELPFUL
  with probability 0.85, else NEUTRAL. 60% of projects record an outcome:
  succeeded with probability 0.7, 0.35 when they used a harmful artifact.
- **What helps whom** (the ground truth): a project is helped by the members
  of its stacks, by general tools, and by nothing harmful.
- **Leave one out.** Each project's `held_out` is one of its HELPFUL usages
  (drawn at random); it is never logged, and a recommender is judged on
  whether it ranks that artifact among the first k.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

from maestro_grpc.demo.calls import Calls

if TYPE_CHECKING:
    import grpc.aio

DOMAINS = {
    "nlp": ("pytorch", "transformers", "python", "text"),
    "vision": ("pytorch", "opencv", "cuda", "python"),
    "tabular": ("sql", "xgboost", "pandas", "python"),
    "timeseries": ("statistics", "pandas", "prophet", "sql"),
    "recsys": ("spark", "embeddings", "sql", "python"),
    "speech": ("pytorch", "audio", "cuda", "dsp"),
    "fraud": ("sql", "graphs", "xgboost", "spark"),
    "forecasting": ("statistics", "spark", "airflow", "sql"),
}
STACK_TYPES = ("dataset", "feature_pipeline", "model", "notebook")
GENERIC_TAGS = tuple(f"misc{i}" for i in range(12))
GENERAL_SHARE = 0.08
HARMFUL_SHARE = 0.06
STACK_SIZE = 4
P_SECOND_STACK = 0.5
P_STACK_MEMBER = 0.8
P_GENERAL = 0.2
P_HARMFUL = 0.15
P_FOREIGN = 0.1
P_TOPIC_TAG = 0.3
P_HELPFUL = 0.85
P_RECORDED = 0.6
P_USE_CASE = 0.6
P_YOUNG = 0.25


@dataclass(frozen=True)
class GeneratedArtifact:
    key: str
    kind: str  # "general", "harmful" or "stack"
    type: str  # an ArtifactType value's suffix, lower-case
    tags: tuple[str, ...]
    domain: str | None = None
    stack: int | None = None


@dataclass
class GeneratedProject:
    key: str
    domain: str
    required_skills: tuple[str, ...]
    use_case: str = ""
    # (artifact key, outcome: "helpful", "neutral" or "harmful"), as logged.
    usages: list[tuple[str, str]] = field(default_factory=list)
    held_out: str | None = None
    succeeded: bool | None = None


@dataclass
class Organisation:
    projects: list[GeneratedProject]
    artifacts: list[GeneratedArtifact]
    # Filled by `load`: key -> id on the server.
    project_ids: dict[str, str] = field(default_factory=dict)
    artifact_ids: dict[str, str] = field(default_factory=dict)

    def helps(self, project: GeneratedProject, artifact: GeneratedArtifact) -> bool:
        """The ground truth: does this artifact help this project?"""
        if artifact.kind == "general":
            return True
        if artifact.kind == "harmful":
            return False
        stacks = {self.by_key[k].stack for k, _ in project.usages if self.by_key[k].kind == "stack"}
        if project.held_out is not None:
            stacks.add(self.by_key[project.held_out].stack)
        return artifact.stack in stacks

    @property
    def by_key(self) -> dict[str, GeneratedArtifact]:
        return {a.key: a for a in self.artifacts}


def _zipf_pick(rng: random.Random, items: list[int]) -> int:
    return rng.choices(items, weights=[1.0 / (rank + 1) for rank in range(len(items))])[0]


def _artifacts(rng: random.Random, count: int) -> list[GeneratedArtifact]:
    domains = list(DOMAINS)
    general = max(1, round(count * GENERAL_SHARE))
    harmful = max(len(domains) // 2, round(count * HARMFUL_SHARE))
    out: list[GeneratedArtifact] = []
    for i in range(general):
        kind_type = rng.choice(("code", "config", "notebook"))
        tags = ("tooling", kind_type, rng.choice(GENERIC_TAGS))
        out.append(GeneratedArtifact(f"tool-{i}", "general", kind_type, tags))
    for i in range(harmful):
        domain = domains[i % len(domains)]
        tags = (domain, "model", rng.choice(GENERIC_TAGS))
        out.append(GeneratedArtifact(f"bad-{domain}-{i}", "harmful", "model", tags, domain))
    stacks = max(len(domains), (count - general - harmful) // STACK_SIZE)
    for s in range(stacks):
        domain = domains[s % len(domains)]
        for member in STACK_TYPES[:STACK_SIZE]:
            words = [domain, member, rng.choice(GENERIC_TAGS)]
            if rng.random() < P_TOPIC_TAG:
                words.append(f"topic{s}")
            out.append(
                GeneratedArtifact(
                    f"{domain}-s{s}-{member}", "stack", member, tuple(words), domain, s
                )
            )
    return out


def organisation(projects: int = 300, artifacts: int = 400, seed: int = 7) -> Organisation:
    """Draw an organisation by the rules above (the same one for the same arguments)."""
    rng = random.Random(seed)
    library = _artifacts(rng, artifacts)
    domains = list(DOMAINS)
    stacks_of: dict[str, list[int]] = {d: [] for d in domains}
    members: dict[int, list[str]] = {}
    for a in library:
        if a.kind == "stack" and a.stack is not None and a.domain is not None:
            if a.stack not in members:
                stacks_of[a.domain].append(a.stack)
            members.setdefault(a.stack, []).append(a.key)
    general = [a.key for a in library if a.kind == "general"]
    harmful = {
        d: [a.key for a in library if a.kind == "harmful" and a.domain == d] for d in domains
    }
    out: list[GeneratedProject] = []
    for i in range(projects):
        domain = domains[_zipf_pick(rng, list(range(len(domains))))]
        skills = tuple(sorted(rng.sample(DOMAINS[domain], 2)))
        project = GeneratedProject(f"project-{i:04d}", domain, skills)
        first = _zipf_pick(rng, stacks_of[domain])
        if rng.random() < P_USE_CASE:
            project.use_case = f"topic{first}"
        picked = {first}
        if rng.random() < P_SECOND_STACK:
            picked.add(_zipf_pick(rng, stacks_of[domain]))
        used: list[str] = [
            k for s in sorted(picked) for k in members[s] if rng.random() < P_STACK_MEMBER
        ]
        used += [k for k in general if rng.random() < P_GENERAL]
        if rng.random() < P_FOREIGN:
            other = rng.choice([d for d in domains if d != domain])
            used.append(rng.choice(members[rng.choice(stacks_of[other])]))
        bad = [k for k in harmful[domain] if rng.random() < P_HARMFUL]
        outcomes = [(k, "helpful" if rng.random() < P_HELPFUL else "neutral") for k in used]
        if rng.random() < P_YOUNG:
            outcomes = rng.sample(outcomes, min(len(outcomes), rng.randint(2, 3)))
        helpful = [k for k, outcome in outcomes if outcome == "helpful"]
        if helpful:
            project.held_out = rng.choice(helpful)
        project.usages = [(k, o) for k, o in outcomes if k != project.held_out]
        project.usages += [(k, "harmful") for k in bad]
        if rng.random() < P_RECORDED:
            project.succeeded = rng.random() < (0.35 if bad else 0.7)
        out.append(project)
    return Organisation(out, library)


async def load(channel: grpc.aio.Channel, org: Organisation, concurrency: int = 8) -> None:
    """Create the organisation through the RPCs (projects, artifacts, usages, outcomes)."""
    from maestro.registry.v1 import artifact_pb2 as ap
    from maestro.registry.v1 import project_pb2 as pp
    from maestro.registry.v1 import registry_service_pb2 as rs

    calls = Calls(channel, concurrency=concurrency)

    async def project(p: GeneratedProject) -> None:
        labels = {"domain": p.domain, "required_skills": ",".join(p.required_skills)}
        if p.use_case:
            labels["use_case"] = p.use_case
        made = await calls.call(
            calls.registry.CreateProject,
            rs.CreateProjectRequest(project=pp.Project(name=p.key, labels=labels)),
        )
        org.project_ids[p.key] = made.project.id

    async def artifact(a: GeneratedArtifact) -> None:
        kind = cast("ap.ArtifactType", ap.ArtifactType.Value("ARTIFACT_TYPE_" + a.type.upper()))
        made = await calls.call(
            calls.registry.CreateArtifact,
            rs.CreateArtifactRequest(
                artifact=ap.Artifact(name=a.key, version="1.0.0", type=kind, tags=list(a.tags))
            ),
        )
        org.artifact_ids[a.key] = made.artifact.id

    async def usages(p: GeneratedProject) -> None:
        for key, outcome in p.usages:
            await calls.call(
                calls.registry.LogArtifactUsage,
                rs.LogArtifactUsageRequest(
                    artifact_usage=ap.ArtifactUsage(
                        artifact_id=org.artifact_ids[key],
                        project_id=org.project_ids[p.key],
                        outcome=cast(
                            "ap.UsageOutcome",
                            ap.UsageOutcome.Value("USAGE_OUTCOME_" + outcome.upper()),
                        ),
                    )
                ),
            )
        if p.succeeded is not None:
            await calls.call(
                calls.registry.UpdateProjectSuccess,
                rs.UpdateProjectSuccessRequest(
                    project_id=org.project_ids[p.key],
                    success=pp.ProjectSuccess(succeeded=p.succeeded),
                ),
            )

    await asyncio.gather(*(project(p) for p in org.projects))
    await asyncio.gather(*(artifact(a) for a in org.artifacts))
    await asyncio.gather(*(usages(p) for p in org.projects))
