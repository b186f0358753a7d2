"""The Registry service: projects, teams, outcomes and the artifact library."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from maestro_grpc.context import AppContext
from maestro_grpc.registry.servicer import RegistryServicer


def build_servicer(ctx: AppContext) -> RegistryServicer:
    from maestro_grpc.registry.artifacts import ArtifactLibrary
    from maestro_grpc.registry.content import ArtifactContent
    from maestro_grpc.registry.project_cache import (
        CacheCollector,
        ChangeListener,
        ProjectCache,
    )
    from maestro_grpc.registry.projects import ProjectRegistry
    from maestro_grpc.registry.recommend import Recommender

    cache = ProjectCache(ctx.settings.project_cache_size if ctx.db.is_postgres else 0)
    if cache.max_entries > 0:
        if ctx.prometheus is not None:
            ctx.prometheus.register(CacheCollector(cache))
        listener = ChangeListener(ctx.db.url, cache)
        ctx.background.append(asyncio.create_task(listener.run(), name="project-change-feed"))
    projects = ProjectRegistry(ctx.db, clock=ctx.clock, cache=cache)
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
