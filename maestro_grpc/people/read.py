"""The directory's read API for other contexts: who a person reference names, who is
available with which skills (RecommendTeam's candidates), and artifacts' reviews."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from maestro_grpc.people.domain.directory import Directory
from maestro_grpc.people.model import PeopleQuery, Person
from maestro_grpc.people.store.discussion import DiscussionStore
from maestro_grpc.people.store.people import PeopleStore
from maestro_grpc.registry.model import PersonRef
from maestro_grpc.registry.read import RegistryReader
from maestro_grpc.store.db import Database


class PeopleReader:
    def __init__(self, db: Database) -> None:
        self._store = PeopleStore(db)
        self._discussion = DiscussionStore(db)
        self._directory = Directory(self._store, RegistryReader(db))

    async def available(self, query: PeopleQuery, limit: int = 1000) -> list[Person]:
        """Up to `limit` people matching `query`, by handle, each with their availability
        (1 minus their current allocations, from the teams): a team recommender's pool."""
        page = await self._directory.search(query, limit, None)
        return page.items

    async def review_summaries(
        self, artifact_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, tuple[float, int]]:
        """Each reviewed artifact's (mean rating, count), in one query."""
        return await self._discussion.summaries(artifact_ids)

    async def exists(self, person_id: uuid.UUID) -> bool:
        return await self._store.find(str(person_id)) is not None

    async def resolve(self, ref: str) -> PersonRef | None:
        """The person `ref` is (their id, e-mail or handle, any case), or None."""
        person = await self._store.find(ref)
        if person is None:
            return None
        return PersonRef(person.id, person.display_name, person.active)
