"""PeopleService: the directory's RPCs, parsed and checked here, answered by the domain."""

from __future__ import annotations

from maestro.people.v1 import people_service_pb2 as pb
from maestro.people.v1 import people_service_pb2_grpc
from maestro_grpc.access import caller
from maestro_grpc.errors import InvalidArgument, Violations
from maestro_grpc.paging import KeyKind
from maestro_grpc.people.domain.directory import Directory
from maestro_grpc.people.model import PeopleQuery
from maestro_grpc.people.wire import convert
from maestro_grpc.wire import checks, pagetoken
from maestro_grpc.wire.context import Context
from maestro_grpc.wire.pagetoken import PageTokens
from maestro_grpc.wire.protoconv import mask_paths, request_fingerprint, require_uuid


class PeopleServicer(people_service_pb2_grpc.PeopleServiceServicer):
    def __init__(self, directory: Directory, pages: PageTokens) -> None:
        self.directory = directory
        self.pages = pages

    async def CreatePerson(
        self, request: pb.CreatePersonRequest, context: Context
    ) -> pb.CreatePersonResponse:
        v = Violations()
        if not request.HasField("person"):
            v.add("person", "is required")
        fields, _ = convert.person_fields(v, request.person)
        checks.request_id(v, request.request_id)
        v.raise_if_any()
        fields.active = True
        person = await self.directory.create(
            fields, request_id=request.request_id, fingerprint=request_fingerprint(request)
        )
        return pb.CreatePersonResponse(person=convert.person_to_proto(person))

    async def GetPerson(
        self, request: pb.GetPersonRequest, context: Context
    ) -> pb.GetPersonResponse:
        person = await self.directory.get(require_uuid(request.person_id, "person_id"))
        return pb.GetPersonResponse(person=convert.person_to_proto(person))

    async def UpdatePerson(
        self, request: pb.UpdatePersonRequest, context: Context
    ) -> pb.UpdatePersonResponse:
        if not request.HasField("person"):
            raise InvalidArgument.for_field("person", "is required")
        person_id = require_uuid(request.person.id, "person.id")
        paths = mask_paths(request.update_mask, convert.UPDATABLE, "update_mask")
        if not paths:
            raise InvalidArgument.for_field("update_mask", "names no field to update")
        v = Violations()
        fields, _ = convert.person_fields(v, request.person)
        # Only the masked fields' mistakes count: an update leaves the others alone.
        v.items[:] = [
            item for item in v.items if any(item.field.startswith(f"person.{p}") for p in paths)
        ]
        v.raise_if_any()
        person = await self.directory.update(person_id, {p: getattr(fields, p) for p in paths})
        return pb.UpdatePersonResponse(person=convert.person_to_proto(person))

    async def SearchPeople(
        self, request: pb.SearchPeopleRequest, context: Context
    ) -> pb.SearchPeopleResponse:
        v = Violations()
        skills = checks.skills(v, request.skills, "skills")
        level = convert.level_field(v, request.min_level, "min_level")
        checks.number(v, request.min_availability, "min_availability", low=0.0, high=1.0)
        v.raise_if_any()
        size = pagetoken.page_size(request.page_size)
        after = self.pages.decode("SearchPeople", request, request.page_token, key=KeyKind.TEXT)
        query = PeopleQuery(skills, level, request.min_availability, request.include_inactive)
        page = await self.directory.search(query, size, after)
        return pb.SearchPeopleResponse(
            people=[convert.person_to_proto(p) for p in page.items],
            next_page_token=self.pages.encode("SearchPeople", request, page.next_cursor),
        )

    async def GetPersonProfile(
        self, request: pb.GetPersonProfileRequest, context: Context
    ) -> pb.GetPersonProfileResponse:
        person_id = require_uuid(request.person_id, "person_id")
        profile = await self.directory.profile(person_id, caller.visible_projects())
        return convert.profile_to_proto(profile)

    async def ListUnlinkedTeamMembers(
        self, request: pb.ListUnlinkedTeamMembersRequest, context: Context
    ) -> pb.ListUnlinkedTeamMembersResponse:
        size = pagetoken.page_size(request.page_size)
        after = self.pages.decode(
            "ListUnlinkedTeamMembers", request, request.page_token, key=KeyKind.TEXT
        )
        page = await self.directory.unlinked(size, after)
        return pb.ListUnlinkedTeamMembersResponse(
            team_members=[convert.unlinked_to_proto(u) for u in page.items],
            next_page_token=self.pages.encode("ListUnlinkedTeamMembers", request, page.next_cursor),
        )
