"""The Registry service: projects, teams, outcomes and the artifact library."""

from __future__ import annotations

from datetime import timedelta

from maestro_grpc.context import AppContext
from maestro_grpc.registry.servicer import RegistryServicer


def build_servicer(ctx: AppContext) -> RegistryServicer:
    from maestro_grpc.registry.artifacts import ArtifactLibrary
    from maestro_grpc.registry.content import ArtifactContent
    from maestro_grpc.registry.projects import ProjectRegistry
    from maestro_grpc.registry.recommend import Recommender

    projects = ProjectRegistry(ctx.db, clock=ctx.clock)
    library = ArtifactLibrary(
        ctx.db, half_life_days=ctx.settings.impact_half_life_days, clock=ctx.clock
    )
    content = ArtifactContent(
        ctx.db,
        ctx.blobs,
        gc_grace=timedelta(seconds=ctx.settings.blob_gc_grace_seconds),
        clock=ctx.clock,
    )
    return RegistryServicer(projects, library, Recommender(ctx.db, projects), content=content)
