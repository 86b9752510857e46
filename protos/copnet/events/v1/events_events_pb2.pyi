import datetime

from copnet.events.v1 import events_pb2 as _events_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ConveningScheduled(_message.Message):
    __slots__ = ("convening_id", "community_id", "plan_id", "title", "topic", "description", "format", "venue", "starts_at", "ends_at", "time_zone", "capacity", "registration_opens_at", "registration_closes_at", "sequence")
    CONVENING_ID_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    PLAN_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    TOPIC_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    VENUE_FIELD_NUMBER: _ClassVar[int]
    STARTS_AT_FIELD_NUMBER: _ClassVar[int]
    ENDS_AT_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_FIELD_NUMBER: _ClassVar[int]
    REGISTRATION_OPENS_AT_FIELD_NUMBER: _ClassVar[int]
    REGISTRATION_CLOSES_AT_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    convening_id: str
    community_id: str
    plan_id: str
    title: str
    topic: str
    description: str
    format: _events_pb2.ConveningFormat
    venue: str
    starts_at: _timestamp_pb2.Timestamp
    ends_at: _timestamp_pb2.Timestamp
    time_zone: str
    capacity: int
    registration_opens_at: _timestamp_pb2.Timestamp
    registration_closes_at: _timestamp_pb2.Timestamp
    sequence: int
    def __init__(self, convening_id: _Optional[str] = ..., community_id: _Optional[str] = ..., plan_id: _Optional[str] = ..., title: _Optional[str] = ..., topic: _Optional[str] = ..., description: _Optional[str] = ..., format: _Optional[_Union[_events_pb2.ConveningFormat, str]] = ..., venue: _Optional[str] = ..., starts_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., ends_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., time_zone: _Optional[str] = ..., capacity: _Optional[int] = ..., registration_opens_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., registration_closes_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., sequence: _Optional[int] = ...) -> None: ...

class ConveningDetailsChanged(_message.Message):
    __slots__ = ("convening_id", "community_id", "title", "topic", "description", "format", "venue", "sequence")
    CONVENING_ID_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    TOPIC_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    VENUE_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    convening_id: str
    community_id: str
    title: str
    topic: str
    description: str
    format: _events_pb2.ConveningFormat
    venue: str
    sequence: int
    def __init__(self, convening_id: _Optional[str] = ..., community_id: _Optional[str] = ..., title: _Optional[str] = ..., topic: _Optional[str] = ..., description: _Optional[str] = ..., format: _Optional[_Union[_events_pb2.ConveningFormat, str]] = ..., venue: _Optional[str] = ..., sequence: _Optional[int] = ...) -> None: ...

class ConveningJoinLinkChanged(_message.Message):
    __slots__ = ("convening_id", "community_id", "join_link", "sequence")
    CONVENING_ID_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    JOIN_LINK_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    convening_id: str
    community_id: str
    join_link: str
    sequence: int
    def __init__(self, convening_id: _Optional[str] = ..., community_id: _Optional[str] = ..., join_link: _Optional[str] = ..., sequence: _Optional[int] = ...) -> None: ...

class ConveningOrganisersChanged(_message.Message):
    __slots__ = ("convening_id", "community_id", "organiser_ids", "sequence")
    CONVENING_ID_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    ORGANISER_IDS_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    convening_id: str
    community_id: str
    organiser_ids: _containers.RepeatedScalarFieldContainer[str]
    sequence: int
    def __init__(self, convening_id: _Optional[str] = ..., community_id: _Optional[str] = ..., organiser_ids: _Optional[_Iterable[str]] = ..., sequence: _Optional[int] = ...) -> None: ...

class ConveningRescheduled(_message.Message):
    __slots__ = ("convening_id", "community_id", "starts_at", "ends_at", "time_zone", "reason", "sequence")
    CONVENING_ID_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    STARTS_AT_FIELD_NUMBER: _ClassVar[int]
    ENDS_AT_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    convening_id: str
    community_id: str
    starts_at: _timestamp_pb2.Timestamp
    ends_at: _timestamp_pb2.Timestamp
    time_zone: str
    reason: str
    sequence: int
    def __init__(self, convening_id: _Optional[str] = ..., community_id: _Optional[str] = ..., starts_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., ends_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., time_zone: _Optional[str] = ..., reason: _Optional[str] = ..., sequence: _Optional[int] = ...) -> None: ...

class ConveningCapacityChanged(_message.Message):
    __slots__ = ("convening_id", "community_id", "capacity")
    CONVENING_ID_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_FIELD_NUMBER: _ClassVar[int]
    convening_id: str
    community_id: str
    capacity: int
    def __init__(self, convening_id: _Optional[str] = ..., community_id: _Optional[str] = ..., capacity: _Optional[int] = ...) -> None: ...

class ConveningRegistrationWindowChanged(_message.Message):
    __slots__ = ("convening_id", "community_id", "opens_at", "closes_at")
    CONVENING_ID_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    OPENS_AT_FIELD_NUMBER: _ClassVar[int]
    CLOSES_AT_FIELD_NUMBER: _ClassVar[int]
    convening_id: str
    community_id: str
    opens_at: _timestamp_pb2.Timestamp
    closes_at: _timestamp_pb2.Timestamp
    def __init__(self, convening_id: _Optional[str] = ..., community_id: _Optional[str] = ..., opens_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., closes_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ConveningCancelled(_message.Message):
    __slots__ = ("convening_id", "community_id", "reason", "sequence")
    CONVENING_ID_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    convening_id: str
    community_id: str
    reason: str
    sequence: int
    def __init__(self, convening_id: _Optional[str] = ..., community_id: _Optional[str] = ..., reason: _Optional[str] = ..., sequence: _Optional[int] = ...) -> None: ...

class ConveningHeld(_message.Message):
    __slots__ = ("convening_id", "community_id")
    CONVENING_ID_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    convening_id: str
    community_id: str
    def __init__(self, convening_id: _Optional[str] = ..., community_id: _Optional[str] = ...) -> None: ...

class ConveningClosed(_message.Message):
    __slots__ = ("convening_id", "community_id", "outcomes", "attendee_count", "signed_up", "attended", "no_shows", "from_records")
    CONVENING_ID_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    OUTCOMES_FIELD_NUMBER: _ClassVar[int]
    ATTENDEE_COUNT_FIELD_NUMBER: _ClassVar[int]
    SIGNED_UP_FIELD_NUMBER: _ClassVar[int]
    ATTENDED_FIELD_NUMBER: _ClassVar[int]
    NO_SHOWS_FIELD_NUMBER: _ClassVar[int]
    FROM_RECORDS_FIELD_NUMBER: _ClassVar[int]
    convening_id: str
    community_id: str
    outcomes: _containers.RepeatedCompositeFieldContainer[_events_pb2.LearningOutcome]
    attendee_count: int
    signed_up: int
    attended: int
    no_shows: int
    from_records: bool
    def __init__(self, convening_id: _Optional[str] = ..., community_id: _Optional[str] = ..., outcomes: _Optional[_Iterable[_Union[_events_pb2.LearningOutcome, _Mapping]]] = ..., attendee_count: _Optional[int] = ..., signed_up: _Optional[int] = ..., attended: _Optional[int] = ..., no_shows: _Optional[int] = ..., from_records: _Optional[bool] = ...) -> None: ...

class SignUpChanged(_message.Message):
    __slots__ = ("convening_id", "community_id", "member_id", "status", "reason")
    CONVENING_ID_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    convening_id: str
    community_id: str
    member_id: str
    status: _events_pb2.SignUpStatus
    reason: str
    def __init__(self, convening_id: _Optional[str] = ..., community_id: _Optional[str] = ..., member_id: _Optional[str] = ..., status: _Optional[_Union[_events_pb2.SignUpStatus, str]] = ..., reason: _Optional[str] = ...) -> None: ...

class AttendanceRecorded(_message.Message):
    __slots__ = ("convening_id", "community_id", "entries")
    CONVENING_ID_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    convening_id: str
    community_id: str
    entries: _containers.RepeatedCompositeFieldContainer[_events_pb2.AttendanceEntry]
    def __init__(self, convening_id: _Optional[str] = ..., community_id: _Optional[str] = ..., entries: _Optional[_Iterable[_Union[_events_pb2.AttendanceEntry, _Mapping]]] = ...) -> None: ...

class FeedbackGiven(_message.Message):
    __slots__ = ("convening_id", "community_id", "member_id", "rating", "comment")
    CONVENING_ID_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    RATING_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    convening_id: str
    community_id: str
    member_id: str
    rating: int
    comment: str
    def __init__(self, convening_id: _Optional[str] = ..., community_id: _Optional[str] = ..., member_id: _Optional[str] = ..., rating: _Optional[int] = ..., comment: _Optional[str] = ...) -> None: ...

class MeetingPlanCreated(_message.Message):
    __slots__ = ("plan_id", "community_id", "title", "time_zone", "recurrence_rule", "format")
    PLAN_ID_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    RECURRENCE_RULE_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    plan_id: str
    community_id: str
    title: str
    time_zone: str
    recurrence_rule: str
    format: _events_pb2.ConveningFormat
    def __init__(self, plan_id: _Optional[str] = ..., community_id: _Optional[str] = ..., title: _Optional[str] = ..., time_zone: _Optional[str] = ..., recurrence_rule: _Optional[str] = ..., format: _Optional[_Union[_events_pb2.ConveningFormat, str]] = ...) -> None: ...

class MeetingPlanOccurrencesAdded(_message.Message):
    __slots__ = ("plan_id", "community_id", "occurrences")
    PLAN_ID_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRENCES_FIELD_NUMBER: _ClassVar[int]
    plan_id: str
    community_id: str
    occurrences: _containers.RepeatedCompositeFieldContainer[_events_pb2.PlannedOccurrence]
    def __init__(self, plan_id: _Optional[str] = ..., community_id: _Optional[str] = ..., occurrences: _Optional[_Iterable[_Union[_events_pb2.PlannedOccurrence, _Mapping]]] = ...) -> None: ...

class MeetingPlanEnded(_message.Message):
    __slots__ = ("plan_id", "community_id", "reason", "cancelled_convening_ids")
    PLAN_ID_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    CANCELLED_CONVENING_IDS_FIELD_NUMBER: _ClassVar[int]
    plan_id: str
    community_id: str
    reason: str
    cancelled_convening_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, plan_id: _Optional[str] = ..., community_id: _Optional[str] = ..., reason: _Optional[str] = ..., cancelled_convening_ids: _Optional[_Iterable[str]] = ...) -> None: ...
