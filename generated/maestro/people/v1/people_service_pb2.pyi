import datetime

from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SkillLevel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SKILL_LEVEL_UNSPECIFIED: _ClassVar[SkillLevel]
    SKILL_LEVEL_BEGINNER: _ClassVar[SkillLevel]
    SKILL_LEVEL_INTERMEDIATE: _ClassVar[SkillLevel]
    SKILL_LEVEL_ADVANCED: _ClassVar[SkillLevel]
    SKILL_LEVEL_EXPERT: _ClassVar[SkillLevel]
SKILL_LEVEL_UNSPECIFIED: SkillLevel
SKILL_LEVEL_BEGINNER: SkillLevel
SKILL_LEVEL_INTERMEDIATE: SkillLevel
SKILL_LEVEL_ADVANCED: SkillLevel
SKILL_LEVEL_EXPERT: SkillLevel

class PersonSkill(_message.Message):
    __slots__ = ("skill", "level")
    SKILL_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    skill: str
    level: SkillLevel
    def __init__(self, skill: _Optional[str] = ..., level: _Optional[_Union[SkillLevel, str]] = ...) -> None: ...

class Person(_message.Message):
    __slots__ = ("id", "display_name", "email", "handle", "skills", "time_zone", "active", "availability", "create_time", "update_time")
    ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    HANDLE_FIELD_NUMBER: _ClassVar[int]
    SKILLS_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    AVAILABILITY_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    id: str
    display_name: str
    email: str
    handle: str
    skills: _containers.RepeatedCompositeFieldContainer[PersonSkill]
    time_zone: str
    active: bool
    availability: float
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., display_name: _Optional[str] = ..., email: _Optional[str] = ..., handle: _Optional[str] = ..., skills: _Optional[_Iterable[_Union[PersonSkill, _Mapping]]] = ..., time_zone: _Optional[str] = ..., active: _Optional[bool] = ..., availability: _Optional[float] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreatePersonRequest(_message.Message):
    __slots__ = ("person", "request_id")
    PERSON_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    person: Person
    request_id: str
    def __init__(self, person: _Optional[_Union[Person, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class CreatePersonResponse(_message.Message):
    __slots__ = ("person",)
    PERSON_FIELD_NUMBER: _ClassVar[int]
    person: Person
    def __init__(self, person: _Optional[_Union[Person, _Mapping]] = ...) -> None: ...

class GetPersonRequest(_message.Message):
    __slots__ = ("person_id",)
    PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    person_id: str
    def __init__(self, person_id: _Optional[str] = ...) -> None: ...

class GetPersonResponse(_message.Message):
    __slots__ = ("person",)
    PERSON_FIELD_NUMBER: _ClassVar[int]
    person: Person
    def __init__(self, person: _Optional[_Union[Person, _Mapping]] = ...) -> None: ...

class UpdatePersonRequest(_message.Message):
    __slots__ = ("person", "update_mask")
    PERSON_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    person: Person
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, person: _Optional[_Union[Person, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdatePersonResponse(_message.Message):
    __slots__ = ("person",)
    PERSON_FIELD_NUMBER: _ClassVar[int]
    person: Person
    def __init__(self, person: _Optional[_Union[Person, _Mapping]] = ...) -> None: ...

class SearchPeopleRequest(_message.Message):
    __slots__ = ("skills", "min_level", "min_availability", "include_inactive", "page_size", "page_token")
    SKILLS_FIELD_NUMBER: _ClassVar[int]
    MIN_LEVEL_FIELD_NUMBER: _ClassVar[int]
    MIN_AVAILABILITY_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_INACTIVE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    skills: _containers.RepeatedScalarFieldContainer[str]
    min_level: SkillLevel
    min_availability: float
    include_inactive: bool
    page_size: int
    page_token: str
    def __init__(self, skills: _Optional[_Iterable[str]] = ..., min_level: _Optional[_Union[SkillLevel, str]] = ..., min_availability: _Optional[float] = ..., include_inactive: _Optional[bool] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class SearchPeopleResponse(_message.Message):
    __slots__ = ("people", "next_page_token")
    PEOPLE_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    people: _containers.RepeatedCompositeFieldContainer[Person]
    next_page_token: str
    def __init__(self, people: _Optional[_Iterable[_Union[Person, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetPersonProfileRequest(_message.Message):
    __slots__ = ("person_id",)
    PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    person_id: str
    def __init__(self, person_id: _Optional[str] = ...) -> None: ...

class ProfileMembership(_message.Message):
    __slots__ = ("team_member_id", "project_id", "project_name", "role", "allocation", "join_time", "leave_time", "skills")
    TEAM_MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_NAME_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    ALLOCATION_FIELD_NUMBER: _ClassVar[int]
    JOIN_TIME_FIELD_NUMBER: _ClassVar[int]
    LEAVE_TIME_FIELD_NUMBER: _ClassVar[int]
    SKILLS_FIELD_NUMBER: _ClassVar[int]
    team_member_id: str
    project_id: str
    project_name: str
    role: str
    allocation: float
    join_time: _timestamp_pb2.Timestamp
    leave_time: _timestamp_pb2.Timestamp
    skills: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, team_member_id: _Optional[str] = ..., project_id: _Optional[str] = ..., project_name: _Optional[str] = ..., role: _Optional[str] = ..., allocation: _Optional[float] = ..., join_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., leave_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., skills: _Optional[_Iterable[str]] = ...) -> None: ...

class ProfileArtifact(_message.Message):
    __slots__ = ("artifact_id", "name", "version")
    ARTIFACT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    artifact_id: str
    name: str
    version: str
    def __init__(self, artifact_id: _Optional[str] = ..., name: _Optional[str] = ..., version: _Optional[str] = ...) -> None: ...

class ProfileUse(_message.Message):
    __slots__ = ("artifact_id", "name", "version", "uses", "helpful", "neutral", "harmful", "unknown")
    ARTIFACT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    USES_FIELD_NUMBER: _ClassVar[int]
    HELPFUL_FIELD_NUMBER: _ClassVar[int]
    NEUTRAL_FIELD_NUMBER: _ClassVar[int]
    HARMFUL_FIELD_NUMBER: _ClassVar[int]
    UNKNOWN_FIELD_NUMBER: _ClassVar[int]
    artifact_id: str
    name: str
    version: str
    uses: int
    helpful: int
    neutral: int
    harmful: int
    unknown: int
    def __init__(self, artifact_id: _Optional[str] = ..., name: _Optional[str] = ..., version: _Optional[str] = ..., uses: _Optional[int] = ..., helpful: _Optional[int] = ..., neutral: _Optional[int] = ..., harmful: _Optional[int] = ..., unknown: _Optional[int] = ...) -> None: ...

class SkillExperience(_message.Message):
    __slots__ = ("skill", "projects", "years", "level")
    SKILL_FIELD_NUMBER: _ClassVar[int]
    PROJECTS_FIELD_NUMBER: _ClassVar[int]
    YEARS_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    skill: str
    projects: int
    years: float
    level: SkillLevel
    def __init__(self, skill: _Optional[str] = ..., projects: _Optional[int] = ..., years: _Optional[float] = ..., level: _Optional[_Union[SkillLevel, str]] = ...) -> None: ...

class GetPersonProfileResponse(_message.Message):
    __slots__ = ("person", "memberships", "created", "used", "experience", "current_allocation")
    PERSON_FIELD_NUMBER: _ClassVar[int]
    MEMBERSHIPS_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    USED_FIELD_NUMBER: _ClassVar[int]
    EXPERIENCE_FIELD_NUMBER: _ClassVar[int]
    CURRENT_ALLOCATION_FIELD_NUMBER: _ClassVar[int]
    person: Person
    memberships: _containers.RepeatedCompositeFieldContainer[ProfileMembership]
    created: _containers.RepeatedCompositeFieldContainer[ProfileArtifact]
    used: _containers.RepeatedCompositeFieldContainer[ProfileUse]
    experience: _containers.RepeatedCompositeFieldContainer[SkillExperience]
    current_allocation: float
    def __init__(self, person: _Optional[_Union[Person, _Mapping]] = ..., memberships: _Optional[_Iterable[_Union[ProfileMembership, _Mapping]]] = ..., created: _Optional[_Iterable[_Union[ProfileArtifact, _Mapping]]] = ..., used: _Optional[_Iterable[_Union[ProfileUse, _Mapping]]] = ..., experience: _Optional[_Iterable[_Union[SkillExperience, _Mapping]]] = ..., current_allocation: _Optional[float] = ...) -> None: ...

class ListUnlinkedTeamMembersRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class UnlinkedTeamMember(_message.Message):
    __slots__ = ("team_member_id", "project_id", "person_id", "display_name", "reason")
    TEAM_MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    team_member_id: str
    project_id: str
    person_id: str
    display_name: str
    reason: str
    def __init__(self, team_member_id: _Optional[str] = ..., project_id: _Optional[str] = ..., person_id: _Optional[str] = ..., display_name: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class ListUnlinkedTeamMembersResponse(_message.Message):
    __slots__ = ("team_members", "next_page_token")
    TEAM_MEMBERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    team_members: _containers.RepeatedCompositeFieldContainer[UnlinkedTeamMember]
    next_page_token: str
    def __init__(self, team_members: _Optional[_Iterable[_Union[UnlinkedTeamMember, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
