import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class WebhookFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    WEBHOOK_FORMAT_UNSPECIFIED: _ClassVar[WebhookFormat]
    WEBHOOK_FORMAT_JSON: _ClassVar[WebhookFormat]
    WEBHOOK_FORMAT_SLACK: _ClassVar[WebhookFormat]

class DeliveryState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DELIVERY_STATE_UNSPECIFIED: _ClassVar[DeliveryState]
    DELIVERY_STATE_PENDING: _ClassVar[DeliveryState]
    DELIVERY_STATE_DELIVERED: _ClassVar[DeliveryState]
    DELIVERY_STATE_DEAD: _ClassVar[DeliveryState]

class SubjectKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SUBJECT_KIND_UNSPECIFIED: _ClassVar[SubjectKind]
    SUBJECT_KIND_PROJECT: _ClassVar[SubjectKind]
    SUBJECT_KIND_ARTIFACT: _ClassVar[SubjectKind]
    SUBJECT_KIND_PERSON: _ClassVar[SubjectKind]
    SUBJECT_KIND_TAG: _ClassVar[SubjectKind]

class CommentState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    COMMENT_STATE_UNSPECIFIED: _ClassVar[CommentState]
    COMMENT_STATE_VISIBLE: _ClassVar[CommentState]
    COMMENT_STATE_HIDDEN: _ClassVar[CommentState]
    COMMENT_STATE_DELETED: _ClassVar[CommentState]

class ActivityKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ACTIVITY_KIND_UNSPECIFIED: _ClassVar[ActivityKind]
    ACTIVITY_KIND_ARTIFACT_VERSION: _ClassVar[ActivityKind]
    ACTIVITY_KIND_PROJECT_STATUS: _ClassVar[ActivityKind]
    ACTIVITY_KIND_PROJECT_OUTCOME: _ClassVar[ActivityKind]
    ACTIVITY_KIND_TEAM_CHANGE: _ClassVar[ActivityKind]
    ACTIVITY_KIND_COMMENT: _ClassVar[ActivityKind]
    ACTIVITY_KIND_REPLY: _ClassVar[ActivityKind]
    ACTIVITY_KIND_MENTION: _ClassVar[ActivityKind]
    ACTIVITY_KIND_USAGE: _ClassVar[ActivityKind]
    ACTIVITY_KIND_REVIEW: _ClassVar[ActivityKind]
    ACTIVITY_KIND_PREDICTION_MOVED: _ClassVar[ActivityKind]
    ACTIVITY_KIND_EXPERIMENT_VERDICT: _ClassVar[ActivityKind]
WEBHOOK_FORMAT_UNSPECIFIED: WebhookFormat
WEBHOOK_FORMAT_JSON: WebhookFormat
WEBHOOK_FORMAT_SLACK: WebhookFormat
DELIVERY_STATE_UNSPECIFIED: DeliveryState
DELIVERY_STATE_PENDING: DeliveryState
DELIVERY_STATE_DELIVERED: DeliveryState
DELIVERY_STATE_DEAD: DeliveryState
SUBJECT_KIND_UNSPECIFIED: SubjectKind
SUBJECT_KIND_PROJECT: SubjectKind
SUBJECT_KIND_ARTIFACT: SubjectKind
SUBJECT_KIND_PERSON: SubjectKind
SUBJECT_KIND_TAG: SubjectKind
COMMENT_STATE_UNSPECIFIED: CommentState
COMMENT_STATE_VISIBLE: CommentState
COMMENT_STATE_HIDDEN: CommentState
COMMENT_STATE_DELETED: CommentState
ACTIVITY_KIND_UNSPECIFIED: ActivityKind
ACTIVITY_KIND_ARTIFACT_VERSION: ActivityKind
ACTIVITY_KIND_PROJECT_STATUS: ActivityKind
ACTIVITY_KIND_PROJECT_OUTCOME: ActivityKind
ACTIVITY_KIND_TEAM_CHANGE: ActivityKind
ACTIVITY_KIND_COMMENT: ActivityKind
ACTIVITY_KIND_REPLY: ActivityKind
ACTIVITY_KIND_MENTION: ActivityKind
ACTIVITY_KIND_USAGE: ActivityKind
ACTIVITY_KIND_REVIEW: ActivityKind
ACTIVITY_KIND_PREDICTION_MOVED: ActivityKind
ACTIVITY_KIND_EXPERIMENT_VERDICT: ActivityKind

class Webhook(_message.Message):
    __slots__ = ("id", "name", "url", "format", "event_kinds", "max_attempts", "active", "create_time")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    EVENT_KINDS_FIELD_NUMBER: _ClassVar[int]
    MAX_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    url: str
    format: WebhookFormat
    event_kinds: _containers.RepeatedScalarFieldContainer[ActivityKind]
    max_attempts: int
    active: bool
    create_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., url: _Optional[str] = ..., format: _Optional[_Union[WebhookFormat, str]] = ..., event_kinds: _Optional[_Iterable[_Union[ActivityKind, str]]] = ..., max_attempts: _Optional[int] = ..., active: _Optional[bool] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreateWebhookRequest(_message.Message):
    __slots__ = ("webhook",)
    WEBHOOK_FIELD_NUMBER: _ClassVar[int]
    webhook: Webhook
    def __init__(self, webhook: _Optional[_Union[Webhook, _Mapping]] = ...) -> None: ...

class CreateWebhookResponse(_message.Message):
    __slots__ = ("webhook", "secret")
    WEBHOOK_FIELD_NUMBER: _ClassVar[int]
    SECRET_FIELD_NUMBER: _ClassVar[int]
    webhook: Webhook
    secret: str
    def __init__(self, webhook: _Optional[_Union[Webhook, _Mapping]] = ..., secret: _Optional[str] = ...) -> None: ...

class ListWebhooksRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListWebhooksResponse(_message.Message):
    __slots__ = ("webhooks",)
    WEBHOOKS_FIELD_NUMBER: _ClassVar[int]
    webhooks: _containers.RepeatedCompositeFieldContainer[Webhook]
    def __init__(self, webhooks: _Optional[_Iterable[_Union[Webhook, _Mapping]]] = ...) -> None: ...

class DeleteWebhookRequest(_message.Message):
    __slots__ = ("webhook_id",)
    WEBHOOK_ID_FIELD_NUMBER: _ClassVar[int]
    webhook_id: str
    def __init__(self, webhook_id: _Optional[str] = ...) -> None: ...

class DeleteWebhookResponse(_message.Message):
    __slots__ = ("webhook",)
    WEBHOOK_FIELD_NUMBER: _ClassVar[int]
    webhook: Webhook
    def __init__(self, webhook: _Optional[_Union[Webhook, _Mapping]] = ...) -> None: ...

class WebhookDelivery(_message.Message):
    __slots__ = ("id", "event_sequence", "kind", "state", "attempts", "last_status_code", "last_error", "next_attempt_time", "deliver_time")
    ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    LAST_STATUS_CODE_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    NEXT_ATTEMPT_TIME_FIELD_NUMBER: _ClassVar[int]
    DELIVER_TIME_FIELD_NUMBER: _ClassVar[int]
    id: str
    event_sequence: int
    kind: ActivityKind
    state: DeliveryState
    attempts: int
    last_status_code: int
    last_error: str
    next_attempt_time: _timestamp_pb2.Timestamp
    deliver_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., event_sequence: _Optional[int] = ..., kind: _Optional[_Union[ActivityKind, str]] = ..., state: _Optional[_Union[DeliveryState, str]] = ..., attempts: _Optional[int] = ..., last_status_code: _Optional[int] = ..., last_error: _Optional[str] = ..., next_attempt_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., deliver_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListWebhookDeliveriesRequest(_message.Message):
    __slots__ = ("webhook_id", "states", "page_size", "page_token")
    WEBHOOK_ID_FIELD_NUMBER: _ClassVar[int]
    STATES_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    webhook_id: str
    states: _containers.RepeatedScalarFieldContainer[DeliveryState]
    page_size: int
    page_token: str
    def __init__(self, webhook_id: _Optional[str] = ..., states: _Optional[_Iterable[_Union[DeliveryState, str]]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListWebhookDeliveriesResponse(_message.Message):
    __slots__ = ("deliveries", "next_page_token")
    DELIVERIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    deliveries: _containers.RepeatedCompositeFieldContainer[WebhookDelivery]
    next_page_token: str
    def __init__(self, deliveries: _Optional[_Iterable[_Union[WebhookDelivery, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class CommentEdit(_message.Message):
    __slots__ = ("body", "edit_time")
    BODY_FIELD_NUMBER: _ClassVar[int]
    EDIT_TIME_FIELD_NUMBER: _ClassVar[int]
    body: str
    edit_time: _timestamp_pb2.Timestamp
    def __init__(self, body: _Optional[str] = ..., edit_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Comment(_message.Message):
    __slots__ = ("id", "subject_kind", "subject_id", "parent_id", "author_person_id", "body", "mentioned_person_ids", "state", "edits", "create_time", "update_time")
    ID_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_KIND_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_ID_FIELD_NUMBER: _ClassVar[int]
    PARENT_ID_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    MENTIONED_PERSON_IDS_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    EDITS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    id: str
    subject_kind: SubjectKind
    subject_id: str
    parent_id: str
    author_person_id: str
    body: str
    mentioned_person_ids: _containers.RepeatedScalarFieldContainer[str]
    state: CommentState
    edits: _containers.RepeatedCompositeFieldContainer[CommentEdit]
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., subject_kind: _Optional[_Union[SubjectKind, str]] = ..., subject_id: _Optional[str] = ..., parent_id: _Optional[str] = ..., author_person_id: _Optional[str] = ..., body: _Optional[str] = ..., mentioned_person_ids: _Optional[_Iterable[str]] = ..., state: _Optional[_Union[CommentState, str]] = ..., edits: _Optional[_Iterable[_Union[CommentEdit, _Mapping]]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreateCommentRequest(_message.Message):
    __slots__ = ("comment", "request_id")
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    comment: Comment
    request_id: str
    def __init__(self, comment: _Optional[_Union[Comment, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class CreateCommentResponse(_message.Message):
    __slots__ = ("comment",)
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    comment: Comment
    def __init__(self, comment: _Optional[_Union[Comment, _Mapping]] = ...) -> None: ...

class UpdateCommentRequest(_message.Message):
    __slots__ = ("comment_id", "body")
    COMMENT_ID_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    comment_id: str
    body: str
    def __init__(self, comment_id: _Optional[str] = ..., body: _Optional[str] = ...) -> None: ...

class UpdateCommentResponse(_message.Message):
    __slots__ = ("comment",)
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    comment: Comment
    def __init__(self, comment: _Optional[_Union[Comment, _Mapping]] = ...) -> None: ...

class DeleteCommentRequest(_message.Message):
    __slots__ = ("comment_id",)
    COMMENT_ID_FIELD_NUMBER: _ClassVar[int]
    comment_id: str
    def __init__(self, comment_id: _Optional[str] = ...) -> None: ...

class DeleteCommentResponse(_message.Message):
    __slots__ = ("comment",)
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    comment: Comment
    def __init__(self, comment: _Optional[_Union[Comment, _Mapping]] = ...) -> None: ...

class ModerateCommentRequest(_message.Message):
    __slots__ = ("comment_id", "state")
    COMMENT_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    comment_id: str
    state: CommentState
    def __init__(self, comment_id: _Optional[str] = ..., state: _Optional[_Union[CommentState, str]] = ...) -> None: ...

class ModerateCommentResponse(_message.Message):
    __slots__ = ("comment",)
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    comment: Comment
    def __init__(self, comment: _Optional[_Union[Comment, _Mapping]] = ...) -> None: ...

class ListCommentsRequest(_message.Message):
    __slots__ = ("subject_kind", "subject_id", "page_size", "page_token")
    SUBJECT_KIND_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    subject_kind: SubjectKind
    subject_id: str
    page_size: int
    page_token: str
    def __init__(self, subject_kind: _Optional[_Union[SubjectKind, str]] = ..., subject_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListCommentsResponse(_message.Message):
    __slots__ = ("comments", "next_page_token")
    COMMENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    comments: _containers.RepeatedCompositeFieldContainer[Comment]
    next_page_token: str
    def __init__(self, comments: _Optional[_Iterable[_Union[Comment, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class Review(_message.Message):
    __slots__ = ("id", "artifact_id", "person_id", "rating", "text", "create_time", "update_time")
    ID_FIELD_NUMBER: _ClassVar[int]
    ARTIFACT_ID_FIELD_NUMBER: _ClassVar[int]
    PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    RATING_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    id: str
    artifact_id: str
    person_id: str
    rating: int
    text: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., artifact_id: _Optional[str] = ..., person_id: _Optional[str] = ..., rating: _Optional[int] = ..., text: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ReviewArtifactRequest(_message.Message):
    __slots__ = ("review",)
    REVIEW_FIELD_NUMBER: _ClassVar[int]
    review: Review
    def __init__(self, review: _Optional[_Union[Review, _Mapping]] = ...) -> None: ...

class ReviewArtifactResponse(_message.Message):
    __slots__ = ("review",)
    REVIEW_FIELD_NUMBER: _ClassVar[int]
    review: Review
    def __init__(self, review: _Optional[_Union[Review, _Mapping]] = ...) -> None: ...

class ListReviewsRequest(_message.Message):
    __slots__ = ("artifact_id", "page_size", "page_token")
    ARTIFACT_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    artifact_id: str
    page_size: int
    page_token: str
    def __init__(self, artifact_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListReviewsResponse(_message.Message):
    __slots__ = ("reviews", "next_page_token", "average_rating", "review_count")
    REVIEWS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    AVERAGE_RATING_FIELD_NUMBER: _ClassVar[int]
    REVIEW_COUNT_FIELD_NUMBER: _ClassVar[int]
    reviews: _containers.RepeatedCompositeFieldContainer[Review]
    next_page_token: str
    average_rating: float
    review_count: int
    def __init__(self, reviews: _Optional[_Iterable[_Union[Review, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., average_rating: _Optional[float] = ..., review_count: _Optional[int] = ...) -> None: ...

class FollowTarget(_message.Message):
    __slots__ = ("kind", "subject_id")
    KIND_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_ID_FIELD_NUMBER: _ClassVar[int]
    kind: SubjectKind
    subject_id: str
    def __init__(self, kind: _Optional[_Union[SubjectKind, str]] = ..., subject_id: _Optional[str] = ...) -> None: ...

class FollowRequest(_message.Message):
    __slots__ = ("target",)
    TARGET_FIELD_NUMBER: _ClassVar[int]
    target: FollowTarget
    def __init__(self, target: _Optional[_Union[FollowTarget, _Mapping]] = ...) -> None: ...

class FollowResponse(_message.Message):
    __slots__ = ("target",)
    TARGET_FIELD_NUMBER: _ClassVar[int]
    target: FollowTarget
    def __init__(self, target: _Optional[_Union[FollowTarget, _Mapping]] = ...) -> None: ...

class UnfollowRequest(_message.Message):
    __slots__ = ("target",)
    TARGET_FIELD_NUMBER: _ClassVar[int]
    target: FollowTarget
    def __init__(self, target: _Optional[_Union[FollowTarget, _Mapping]] = ...) -> None: ...

class UnfollowResponse(_message.Message):
    __slots__ = ("was_following",)
    WAS_FOLLOWING_FIELD_NUMBER: _ClassVar[int]
    was_following: bool
    def __init__(self, was_following: _Optional[bool] = ...) -> None: ...

class ListFollowsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListFollowsResponse(_message.Message):
    __slots__ = ("targets",)
    TARGETS_FIELD_NUMBER: _ClassVar[int]
    targets: _containers.RepeatedCompositeFieldContainer[FollowTarget]
    def __init__(self, targets: _Optional[_Iterable[_Union[FollowTarget, _Mapping]]] = ...) -> None: ...

class ActivityEvent(_message.Message):
    __slots__ = ("sequence", "kind", "summary", "project_id", "artifact_id", "comment_id", "actor_person_id", "create_time", "read")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    ARTIFACT_ID_FIELD_NUMBER: _ClassVar[int]
    COMMENT_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    READ_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    kind: ActivityKind
    summary: str
    project_id: str
    artifact_id: str
    comment_id: str
    actor_person_id: str
    create_time: _timestamp_pb2.Timestamp
    read: bool
    def __init__(self, sequence: _Optional[int] = ..., kind: _Optional[_Union[ActivityKind, str]] = ..., summary: _Optional[str] = ..., project_id: _Optional[str] = ..., artifact_id: _Optional[str] = ..., comment_id: _Optional[str] = ..., actor_person_id: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., read: _Optional[bool] = ...) -> None: ...

class ListActivityRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "unread_only")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    UNREAD_ONLY_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    unread_only: bool
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., unread_only: _Optional[bool] = ...) -> None: ...

class ListActivityResponse(_message.Message):
    __slots__ = ("events", "next_page_token", "unread_count")
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    UNREAD_COUNT_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[ActivityEvent]
    next_page_token: str
    unread_count: int
    def __init__(self, events: _Optional[_Iterable[_Union[ActivityEvent, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., unread_count: _Optional[int] = ...) -> None: ...

class MarkActivityReadRequest(_message.Message):
    __slots__ = ("up_to_sequence",)
    UP_TO_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    up_to_sequence: int
    def __init__(self, up_to_sequence: _Optional[int] = ...) -> None: ...

class MarkActivityReadResponse(_message.Message):
    __slots__ = ("read_sequence", "unread_count")
    READ_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    UNREAD_COUNT_FIELD_NUMBER: _ClassVar[int]
    read_sequence: int
    unread_count: int
    def __init__(self, read_sequence: _Optional[int] = ..., unread_count: _Optional[int] = ...) -> None: ...

class WatchActivityRequest(_message.Message):
    __slots__ = ("after_sequence",)
    AFTER_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    after_sequence: int
    def __init__(self, after_sequence: _Optional[int] = ...) -> None: ...

class WatchActivityResponse(_message.Message):
    __slots__ = ("event",)
    EVENT_FIELD_NUMBER: _ClassVar[int]
    event: ActivityEvent
    def __init__(self, event: _Optional[_Union[ActivityEvent, _Mapping]] = ...) -> None: ...
