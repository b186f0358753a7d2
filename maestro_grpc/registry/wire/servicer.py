"""RegistryService: parse and validate each request, call the domain, map the result.

The handlers live by resource family (`projects.py`, `artifacts.py`,
`content.py`); this class puts them together on the domain objects the
composition root (`app.py`) built.
"""

from __future__ import annotations

from maestro.registry.v1 import registry_service_pb2 as pb
from maestro_grpc.registry.domain.artifacts import ArtifactLibrary
from maestro_grpc.registry.domain.content.downloads import ContentDownloads
from maestro_grpc.registry.domain.content.uploads import ContentUploads
from maestro_grpc.registry.domain.projects import ProjectRegistry
from maestro_grpc.registry.domain.recommend import Recommender
from maestro_grpc.registry.model import Artifact, Project
from maestro_grpc.registry.wire.artifacts import ArtifactHandlers
from maestro_grpc.registry.wire.content import ContentHandlers
from maestro_grpc.registry.wire.memo import AnswerMemo
from maestro_grpc.registry.wire.projects import ProjectHandlers
from maestro_grpc.wire.pagetoken import PageTokens


class RegistryServicer(ProjectHandlers, ArtifactHandlers, ContentHandlers):
    def __init__(
        self,
        projects: ProjectRegistry,
        library: ArtifactLibrary,
        recommender: Recommender,
        *,
        uploads: ContentUploads,
        downloads: ContentDownloads,
        pages: PageTokens,
        answers_kept: int = 0,
        artifact_answers_kept: int = 0,
    ) -> None:
        """`answers_kept`, `artifact_answers_kept`: how many GetProject and GetArtifact
        responses to keep for reuse (the sizes of the domain's caches; 0 where off)."""
        self.projects = projects
        self.library = library
        self.recommender = recommender
        self.uploads = uploads
        self.downloads = downloads
        self.pages = pages
        self.project_answers = AnswerMemo[Project, pb.GetProjectResponse](answers_kept)
        self.artifact_answers = AnswerMemo[Artifact, pb.GetArtifactResponse](artifact_answers_kept)
