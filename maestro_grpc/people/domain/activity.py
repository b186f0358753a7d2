"""The feed: follows, the events the registry's changes and the discussion make, reading.

Registry changes and moved predictions arrive as notes of the outbox
(store/outbox.py), written in their write's own transaction; `relay` turns
them into events and deletes them in one transaction, right after the write
and from a periodic sweep (for a writer that died before relaying).

Events are stored once with what they are about (their targets); a feed is
read from the follows (store/activity.py). Watchers wake on this replica's
own events at once, and poll the store for every other replica's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from maestro_grpc.clock import Clock, utcnow
from maestro_grpc.errors import FailedPrecondition, NotFound, PermissionDenied
from maestro_grpc.people.model import Event, FeedPage, NewEvent, SubjectKind, Target
from maestro_grpc.people.store.activity import ActivityStore, Note
from maestro_grpc.people.store.people import PeopleStore
from maestro_grpc.registry.read import RegistryReader

log = logging.getLogger("maestro.people.activity")

WATCH_POLL_SECONDS = 0.25
WATCH_BATCH = 500
# Notes relayed per transaction, and how often a sweep looks for notes a
# process left unrelayed (it died between its write's commit and its relay).
RELAY_BATCH = 200
SWEEP_SECONDS = 5.0


@dataclass(frozen=True)
class Reader:
    """Who is reading or writing: their person, their projects, whether an admin."""

    person_id: uuid.UUID | None
    within: frozenset[uuid.UUID] | None
    admin: bool = False

    def person(self) -> uuid.UUID:
        if self.person_id is None:
            raise FailedPrecondition(
                "this call acts as a person: use a token that names one (CreateToken person_id)",
                reason="PERSON_REQUIRED",
            )
        return self.person_id

    def sees(self, project_id: uuid.UUID | None) -> bool:
        return self.within is None or project_id is None or project_id in self.within


def _uuid_or_none(raw: object) -> uuid.UUID | None:
    return uuid.UUID(str(raw)) if raw else None


def _prediction_event(note: dict[str, Any]) -> NewEvent:
    """A moved prediction's event (prediction/domain/predictor.py writes the note)."""
    project_id = uuid.UUID(str(note["project_id"]))
    summary = f"predicted success moved from {note['before']:.0%} to {note['now']:.0%}"
    return NewEvent(
        "prediction_moved",
        summary,
        (Target("project", str(project_id)),),
        project_id=project_id,
        actor_person_id=_uuid_or_none(note.get("actor_person_id")),
        dedupe_key=str(note["key"]),
    )


def _out_of_scope(what: str) -> PermissionDenied:
    return PermissionDenied(f"this token may not see {what}", reason="PROJECT_OUT_OF_SCOPE")


class Activity:
    def __init__(
        self,
        store: ActivityStore,
        people: PeopleStore,
        registry: RegistryReader,
        *,
        actor: Callable[[], uuid.UUID | None] = lambda: None,
        clock: Clock = utcnow,
    ) -> None:
        self.store = store
        self.people = people
        self.registry = registry
        self.actor = actor
        self.clock = clock
        self._wake = asyncio.Event()
        # Told of every batch of events recorded on this replica (the webhooks).
        self.listeners: list[Callable[[Sequence[int]], None]] = []

    def recorded(self, seqs: Sequence[int]) -> None:
        """Events committed: wake this replica's watchers and tell the listeners."""
        if not seqs:
            return
        self._wake.set()
        self._wake = asyncio.Event()
        for listener in self.listeners:
            listener(seqs)

    async def record(self, events: Sequence[NewEvent]) -> None:
        self.recorded(await self.store.record(events, self.clock()))

    # ---- what the registry changed ----------------------------------------------------------

    async def relay(self) -> None:
        """Move committed notes of the outbox (registry changes, moved predictions: each
        written in its write's transaction) into the feed, batch by batch."""
        while True:
            seqs, taken = await self.store.relay(self._events_of, self.clock(), RELAY_BATCH)
            self.recorded(seqs)
            if taken < RELAY_BATCH:
                return

    async def sweep(self, every: float = SWEEP_SECONDS) -> None:
        """Forever: relay the notes whose writer died before it relayed them."""
        while True:
            await asyncio.sleep(every)
            try:
                await self.relay()
            except Exception as error:  # the store is out of reach: next time
                log.warning("could not relay the feed's outbox: %s", error)

    async def _events_of(self, notes: Sequence[Note]) -> list[NewEvent]:
        events = []
        for note in notes:
            if note.topic == "registry":
                events.append(await self._registry_event(note.payload))
            elif note.topic == "prediction":
                events.append(_prediction_event(note.payload))
            else:
                log.warning("an outbox note of no known topic %r is dropped", note.topic)
        return events

    async def _registry_event(self, note: dict[str, Any]) -> NewEvent:
        """A registry change's event (registry/outward.py's change_note) and its targets."""
        project_id = _uuid_or_none(note.get("project_id"))
        targets: list[Target] = []
        if project_id is not None:
            targets.append(Target("project", str(project_id)))
        if note.get("artifact_id"):
            targets.append(Target("artifact", str(note["artifact_name"])))
            if note["kind"] == "artifact_version":
                targets += [Target("tag", t) for t in note.get("artifact_tags") or ()]
                creator = note.get("artifact_creator") or ""
                maker = await self.people.find(creator) if creator else None
                if maker is not None:
                    targets.append(Target("person", str(maker.id)))
        if note.get("member_person_id"):
            targets.append(Target("person", str(note["member_person_id"])))
        return NewEvent(
            kind=note["kind"],
            summary=note["summary"],
            targets=tuple(targets),
            project_id=project_id,
            artifact_id=_uuid_or_none(note.get("artifact_id")),
            actor_person_id=_uuid_or_none(note.get("actor_person_id")),
            dedupe_key=note["key"],
        )

    async def on_experiment_verdict(
        self, experiment_id: uuid.UUID, project_ids: Sequence[uuid.UUID], summary: str, key: str
    ) -> None:
        """One event per project the experiment counted, for that project's followers (so
        a reader limited to some projects sees only theirs); `key` makes a repeat nothing."""
        events = [
            NewEvent(
                "experiment_verdict",
                summary,
                (Target("project", str(project_id)),),
                project_id=project_id,
                actor_person_id=self.actor(),
                dedupe_key=f"{key}:{experiment_id}:{project_id}",
            )
            for project_id in project_ids
        ]
        await self.record(events)

    # ---- follows ------------------------------------------------------------------------

    async def target_of(self, reader: Reader, kind: SubjectKind, subject: str) -> Target:
        """The stored form of a follow, checked: the thing exists and the reader sees it."""
        if kind is SubjectKind.PROJECT:
            project_id = uuid.UUID(subject)
            if not await self.registry.project_exists(project_id):
                raise NotFound(f"project {project_id} not found", reason="PROJECT_NOT_FOUND")
            if not reader.sees(project_id):
                raise _out_of_scope(f"project {project_id}")
            return Target("project", str(project_id))
        if kind is SubjectKind.ARTIFACT:
            artifact_id = uuid.UUID(subject)
            found = (await self.registry.artifacts([artifact_id])).get(artifact_id)
            if found is None:
                raise NotFound(f"artifact {artifact_id} not found", reason="ARTIFACT_NOT_FOUND")
            if not reader.sees(found.origin_project_id):
                raise _out_of_scope(f"artifact {artifact_id}")
            return Target("artifact", found.name)
        if kind is SubjectKind.PERSON:
            await self.people.get(uuid.UUID(subject))
            return Target("person", str(uuid.UUID(subject)))
        return Target("tag", subject)

    async def follow(self, reader: Reader, kind: SubjectKind, subject: str) -> Target:
        target = await self.target_of(reader, kind, subject)
        await self.store.follow(reader.person(), target, self.clock())
        return target

    async def unfollow(self, reader: Reader, kind: SubjectKind, subject: str) -> bool:
        me = reader.person()
        if kind is SubjectKind.ARTIFACT:
            target = await self.target_of(reader, kind, subject)
        elif kind is SubjectKind.TAG:
            target = Target("tag", subject)
        else:
            target = Target(kind.value, str(uuid.UUID(subject)))
        return await self.store.unfollow(me, target)

    async def follows(self, reader: Reader) -> list[Target]:
        return await self.store.follows(reader.person())

    # ---- reading ------------------------------------------------------------------------

    async def feed(
        self, reader: Reader, *, page_size: int, before: int | None, unread_only: bool
    ) -> FeedPage:
        events, unread = await self.store.feed(
            reader.person(),
            reader.within,
            before=before,
            limit=page_size + 1,
            unread_only=unread_only,
        )
        more = len(events) > page_size
        events = events[:page_size]
        return FeedPage(events, events[-1].seq if more and events else None, unread)

    async def mark_read(self, reader: Reader, up_to: int) -> tuple[int, int]:
        return await self.store.mark_read(reader.person(), reader.within, up_to)

    async def watch(self, reader: Reader, after: int | None) -> AsyncIterator[Event]:
        """Every event of the reader's feed after `after` (None: from now), in order."""
        me = reader.person()
        last = after if after is not None else await self.store.head()
        while True:
            wake = self._wake
            batch = await self.store.after(me, reader.within, last, WATCH_BATCH)
            for event in batch:
                last = event.seq
                yield event
            if len(batch) == WATCH_BATCH:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), WATCH_POLL_SECONDS)
