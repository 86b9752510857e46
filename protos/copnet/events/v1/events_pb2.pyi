import datetime

from copnet.registry.v1 import registry_pb2 as _registry_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ConveningFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONVENING_FORMAT_UNSPECIFIED: _ClassVar[ConveningFormat]
    CONVENING_FORMAT_FACE_TO_FACE: _ClassVar[ConveningFormat]
    CONVENING_FORMAT_WEBINAR: _ClassVar[ConveningFormat]
    CONVENING_FORMAT_HYBRID: _ClassVar[ConveningFormat]

class ConveningStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONVENING_STATUS_UNSPECIFIED: _ClassVar[ConveningStatus]
    CONVENING_STATUS_SCHEDULED: _ClassVar[ConveningStatus]
    CONVENING_STATUS_RESCHEDULED: _ClassVar[ConveningStatus]
    CONVENING_STATUS_CANCELLED: _ClassVar[ConveningStatus]
    CONVENING_STATUS_HELD: _ClassVar[ConveningStatus]
    CONVENING_STATUS_CLOSED: _ClassVar[ConveningStatus]

class SignUpStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SIGN_UP_STATUS_UNSPECIFIED: _ClassVar[SignUpStatus]
    SIGN_UP_STATUS_REGISTERED: _ClassVar[SignUpStatus]
    SIGN_UP_STATUS_WAITLISTED: _ClassVar[SignUpStatus]
    SIGN_UP_STATUS_PENDING_APPROVAL: _ClassVar[SignUpStatus]
    SIGN_UP_STATUS_DECLINED: _ClassVar[SignUpStatus]
    SIGN_UP_STATUS_CANCELLED: _ClassVar[SignUpStatus]

class Attendance(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ATTENDANCE_UNSPECIFIED: _ClassVar[Attendance]
    ATTENDANCE_ATTENDED: _ClassVar[Attendance]
    ATTENDANCE_NO_SHOW: _ClassVar[Attendance]

class OutcomeKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OUTCOME_KIND_UNSPECIFIED: _ClassVar[OutcomeKind]
    OUTCOME_KIND_ONLINE_RESOURCE: _ClassVar[OutcomeKind]
    OUTCOME_KIND_SHADOWING_OPPORTUNITY: _ClassVar[OutcomeKind]
    OUTCOME_KIND_QI_IDEA_STARTED: _ClassVar[OutcomeKind]
    OUTCOME_KIND_REPLICABLE_MODEL: _ClassVar[OutcomeKind]
    OUTCOME_KIND_OTHER: _ClassVar[OutcomeKind]

class AnalyticsGrouping(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ANALYTICS_GROUPING_UNSPECIFIED: _ClassVar[AnalyticsGrouping]
    ANALYTICS_GROUPING_COMMUNITY: _ClassVar[AnalyticsGrouping]
    ANALYTICS_GROUPING_TOPIC: _ClassVar[AnalyticsGrouping]
    ANALYTICS_GROUPING_FORMAT: _ClassVar[AnalyticsGrouping]
    ANALYTICS_GROUPING_MONTH: _ClassVar[AnalyticsGrouping]
    ANALYTICS_GROUPING_QUARTER: _ClassVar[AnalyticsGrouping]
    ANALYTICS_GROUPING_YEAR: _ClassVar[AnalyticsGrouping]

class CalendarFeedKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CALENDAR_FEED_KIND_UNSPECIFIED: _ClassVar[CalendarFeedKind]
    CALENDAR_FEED_KIND_MEMBER: _ClassVar[CalendarFeedKind]
    CALENDAR_FEED_KIND_COMMUNITY: _ClassVar[CalendarFeedKind]

class CpdRecordFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CPD_RECORD_FORMAT_UNSPECIFIED: _ClassVar[CpdRecordFormat]
    CPD_RECORD_FORMAT_CSV: _ClassVar[CpdRecordFormat]
    CPD_RECORD_FORMAT_PDF: _ClassVar[CpdRecordFormat]
CONVENING_FORMAT_UNSPECIFIED: ConveningFormat
CONVENING_FORMAT_FACE_TO_FACE: ConveningFormat
CONVENING_FORMAT_WEBINAR: ConveningFormat
CONVENING_FORMAT_HYBRID: ConveningFormat
CONVENING_STATUS_UNSPECIFIED: ConveningStatus
CONVENING_STATUS_SCHEDULED: ConveningStatus
CONVENING_STATUS_RESCHEDULED: ConveningStatus
CONVENING_STATUS_CANCELLED: ConveningStatus
CONVENING_STATUS_HELD: ConveningStatus
CONVENING_STATUS_CLOSED: ConveningStatus
SIGN_UP_STATUS_UNSPECIFIED: SignUpStatus
SIGN_UP_STATUS_REGISTERED: SignUpStatus
SIGN_UP_STATUS_WAITLISTED: SignUpStatus
SIGN_UP_STATUS_PENDING_APPROVAL: SignUpStatus
SIGN_UP_STATUS_DECLINED: SignUpStatus
SIGN_UP_STATUS_CANCELLED: SignUpStatus
ATTENDANCE_UNSPECIFIED: Attendance
ATTENDANCE_ATTENDED: Attendance
ATTENDANCE_NO_SHOW: Attendance
OUTCOME_KIND_UNSPECIFIED: OutcomeKind
OUTCOME_KIND_ONLINE_RESOURCE: OutcomeKind
OUTCOME_KIND_SHADOWING_OPPORTUNITY: OutcomeKind
OUTCOME_KIND_QI_IDEA_STARTED: OutcomeKind
OUTCOME_KIND_REPLICABLE_MODEL: OutcomeKind
OUTCOME_KIND_OTHER: OutcomeKind
ANALYTICS_GROUPING_UNSPECIFIED: AnalyticsGrouping
ANALYTICS_GROUPING_COMMUNITY: AnalyticsGrouping
ANALYTICS_GROUPING_TOPIC: AnalyticsGrouping
ANALYTICS_GROUPING_FORMAT: AnalyticsGrouping
ANALYTICS_GROUPING_MONTH: AnalyticsGrouping
ANALYTICS_GROUPING_QUARTER: AnalyticsGrouping
ANALYTICS_GROUPING_YEAR: AnalyticsGrouping
CALENDAR_FEED_KIND_UNSPECIFIED: CalendarFeedKind
CALENDAR_FEED_KIND_MEMBER: CalendarFeedKind
CALENDAR_FEED_KIND_COMMUNITY: CalendarFeedKind
CPD_RECORD_FORMAT_UNSPECIFIED: CpdRecordFormat
CPD_RECORD_FORMAT_CSV: CpdRecordFormat
CPD_RECORD_FORMAT_PDF: CpdRecordFormat

class LearningOutcome(_message.Message):
    __slots__ = ("kind", "text", "links")
    KIND_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    LINKS_FIELD_NUMBER: _ClassVar[int]
    kind: OutcomeKind
    text: str
    links: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, kind: _Optional[_Union[OutcomeKind, str]] = ..., text: _Optional[str] = ..., links: _Optional[_Iterable[str]] = ...) -> None: ...

class Reschedule(_message.Message):
    __slots__ = ("previous_start", "previous_end", "previous_time_zone", "previous_starts_at", "reason", "rescheduled_at")
    PREVIOUS_START_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_END_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_STARTS_AT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    RESCHEDULED_AT_FIELD_NUMBER: _ClassVar[int]
    previous_start: str
    previous_end: str
    previous_time_zone: str
    previous_starts_at: _timestamp_pb2.Timestamp
    reason: str
    rescheduled_at: _timestamp_pb2.Timestamp
    def __init__(self, previous_start: _Optional[str] = ..., previous_end: _Optional[str] = ..., previous_time_zone: _Optional[str] = ..., previous_starts_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reason: _Optional[str] = ..., rescheduled_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Convening(_message.Message):
    __slots__ = ("convening_id", "community_id", "plan_id", "title", "topic", "description", "format", "venue", "join_link", "join_link_hidden", "start", "end", "time_zone", "starts_at", "ends_at", "planned_starts_at", "capacity", "places_taken", "places_left", "waitlist_length", "pending_approvals", "registration_opens_at", "registration_closes_at", "status", "organiser_ids", "reschedules", "cancel_reason", "outcomes", "attendee_count", "attended", "no_shows", "feedback_count", "feedback_average", "sequence", "version", "created_at", "updated_at", "from_records")
    CONVENING_ID_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    PLAN_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    TOPIC_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    VENUE_FIELD_NUMBER: _ClassVar[int]
    JOIN_LINK_FIELD_NUMBER: _ClassVar[int]
    JOIN_LINK_HIDDEN_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    STARTS_AT_FIELD_NUMBER: _ClassVar[int]
    ENDS_AT_FIELD_NUMBER: _ClassVar[int]
    PLANNED_STARTS_AT_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_FIELD_NUMBER: _ClassVar[int]
    PLACES_TAKEN_FIELD_NUMBER: _ClassVar[int]
    PLACES_LEFT_FIELD_NUMBER: _ClassVar[int]
    WAITLIST_LENGTH_FIELD_NUMBER: _ClassVar[int]
    PENDING_APPROVALS_FIELD_NUMBER: _ClassVar[int]
    REGISTRATION_OPENS_AT_FIELD_NUMBER: _ClassVar[int]
    REGISTRATION_CLOSES_AT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ORGANISER_IDS_FIELD_NUMBER: _ClassVar[int]
    RESCHEDULES_FIELD_NUMBER: _ClassVar[int]
    CANCEL_REASON_FIELD_NUMBER: _ClassVar[int]
    OUTCOMES_FIELD_NUMBER: _ClassVar[int]
    ATTENDEE_COUNT_FIELD_NUMBER: _ClassVar[int]
    ATTENDED_FIELD_NUMBER: _ClassVar[int]
    NO_SHOWS_FIELD_NUMBER: _ClassVar[int]
    FEEDBACK_COUNT_FIELD_NUMBER: _ClassVar[int]
    FEEDBACK_AVERAGE_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    FROM_RECORDS_FIELD_NUMBER: _ClassVar[int]
    convening_id: str
    community_id: str
    plan_id: str
    title: str
    topic: str
    description: str
    format: ConveningFormat
    venue: str
    join_link: str
    join_link_hidden: bool
    start: str
    end: str
    time_zone: str
    starts_at: _timestamp_pb2.Timestamp
    ends_at: _timestamp_pb2.Timestamp
    planned_starts_at: _timestamp_pb2.Timestamp
    capacity: int
    places_taken: int
    places_left: int
    waitlist_length: int
    pending_approvals: int
    registration_opens_at: _timestamp_pb2.Timestamp
    registration_closes_at: _timestamp_pb2.Timestamp
    status: ConveningStatus
    organiser_ids: _containers.RepeatedScalarFieldContainer[str]
    reschedules: _containers.RepeatedCompositeFieldContainer[Reschedule]
    cancel_reason: str
    outcomes: _containers.RepeatedCompositeFieldContainer[LearningOutcome]
    attendee_count: int
    attended: int
    no_shows: int
    feedback_count: int
    feedback_average: float
    sequence: int
    version: int
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    from_records: bool
    def __init__(self, convening_id: _Optional[str] = ..., community_id: _Optional[str] = ..., plan_id: _Optional[str] = ..., title: _Optional[str] = ..., topic: _Optional[str] = ..., description: _Optional[str] = ..., format: _Optional[_Union[ConveningFormat, str]] = ..., venue: _Optional[str] = ..., join_link: _Optional[str] = ..., join_link_hidden: _Optional[bool] = ..., start: _Optional[str] = ..., end: _Optional[str] = ..., time_zone: _Optional[str] = ..., starts_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., ends_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., planned_starts_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., capacity: _Optional[int] = ..., places_taken: _Optional[int] = ..., places_left: _Optional[int] = ..., waitlist_length: _Optional[int] = ..., pending_approvals: _Optional[int] = ..., registration_opens_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., registration_closes_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., status: _Optional[_Union[ConveningStatus, str]] = ..., organiser_ids: _Optional[_Iterable[str]] = ..., reschedules: _Optional[_Iterable[_Union[Reschedule, _Mapping]]] = ..., cancel_reason: _Optional[str] = ..., outcomes: _Optional[_Iterable[_Union[LearningOutcome, _Mapping]]] = ..., attendee_count: _Optional[int] = ..., attended: _Optional[int] = ..., no_shows: _Optional[int] = ..., feedback_count: _Optional[int] = ..., feedback_average: _Optional[float] = ..., sequence: _Optional[int] = ..., version: _Optional[int] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., from_records: _Optional[bool] = ...) -> None: ...

class SignUp(_message.Message):
    __slots__ = ("convening_id", "community_id", "member_id", "status", "attendance", "waitlist_position", "feedback_given", "signed_up_at", "updated_at")
    CONVENING_ID_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ATTENDANCE_FIELD_NUMBER: _ClassVar[int]
    WAITLIST_POSITION_FIELD_NUMBER: _ClassVar[int]
    FEEDBACK_GIVEN_FIELD_NUMBER: _ClassVar[int]
    SIGNED_UP_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    convening_id: str
    community_id: str
    member_id: str
    status: SignUpStatus
    attendance: Attendance
    waitlist_position: int
    feedback_given: bool
    signed_up_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, convening_id: _Optional[str] = ..., community_id: _Optional[str] = ..., member_id: _Optional[str] = ..., status: _Optional[_Union[SignUpStatus, str]] = ..., attendance: _Optional[_Union[Attendance, str]] = ..., waitlist_position: _Optional[int] = ..., feedback_given: _Optional[bool] = ..., signed_up_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Feedback(_message.Message):
    __slots__ = ("rating", "comment", "given_at")
    RATING_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    GIVEN_AT_FIELD_NUMBER: _ClassVar[int]
    rating: int
    comment: str
    given_at: _timestamp_pb2.Timestamp
    def __init__(self, rating: _Optional[int] = ..., comment: _Optional[str] = ..., given_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class AttendanceEntry(_message.Message):
    __slots__ = ("member_id", "attendance")
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    ATTENDANCE_FIELD_NUMBER: _ClassVar[int]
    member_id: str
    attendance: Attendance
    def __init__(self, member_id: _Optional[str] = ..., attendance: _Optional[_Union[Attendance, str]] = ...) -> None: ...

class ScheduleConveningRequest(_message.Message):
    __slots__ = ("request_id", "community_id", "title", "topic", "description", "format", "venue", "join_link", "start", "end", "time_zone", "capacity", "registration_opens", "registration_closes", "organiser_ids", "min_registry_position")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    TOPIC_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    VENUE_FIELD_NUMBER: _ClassVar[int]
    JOIN_LINK_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_FIELD_NUMBER: _ClassVar[int]
    REGISTRATION_OPENS_FIELD_NUMBER: _ClassVar[int]
    REGISTRATION_CLOSES_FIELD_NUMBER: _ClassVar[int]
    ORGANISER_IDS_FIELD_NUMBER: _ClassVar[int]
    MIN_REGISTRY_POSITION_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    community_id: str
    title: str
    topic: str
    description: str
    format: ConveningFormat
    venue: str
    join_link: str
    start: str
    end: str
    time_zone: str
    capacity: int
    registration_opens: str
    registration_closes: str
    organiser_ids: _containers.RepeatedScalarFieldContainer[str]
    min_registry_position: int
    def __init__(self, request_id: _Optional[str] = ..., community_id: _Optional[str] = ..., title: _Optional[str] = ..., topic: _Optional[str] = ..., description: _Optional[str] = ..., format: _Optional[_Union[ConveningFormat, str]] = ..., venue: _Optional[str] = ..., join_link: _Optional[str] = ..., start: _Optional[str] = ..., end: _Optional[str] = ..., time_zone: _Optional[str] = ..., capacity: _Optional[int] = ..., registration_opens: _Optional[str] = ..., registration_closes: _Optional[str] = ..., organiser_ids: _Optional[_Iterable[str]] = ..., min_registry_position: _Optional[int] = ...) -> None: ...

class ScheduleConveningResponse(_message.Message):
    __slots__ = ("convening", "position")
    CONVENING_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    convening: Convening
    position: int
    def __init__(self, convening: _Optional[_Union[Convening, _Mapping]] = ..., position: _Optional[int] = ...) -> None: ...

class UpdateConveningRequest(_message.Message):
    __slots__ = ("request_id", "convening_id", "title", "topic", "description", "format", "venue", "join_link", "capacity", "replace_registration_window", "registration_opens", "registration_closes", "replace_organisers", "organiser_ids", "expected_version", "min_registry_position")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CONVENING_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    TOPIC_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    VENUE_FIELD_NUMBER: _ClassVar[int]
    JOIN_LINK_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_FIELD_NUMBER: _ClassVar[int]
    REPLACE_REGISTRATION_WINDOW_FIELD_NUMBER: _ClassVar[int]
    REGISTRATION_OPENS_FIELD_NUMBER: _ClassVar[int]
    REGISTRATION_CLOSES_FIELD_NUMBER: _ClassVar[int]
    REPLACE_ORGANISERS_FIELD_NUMBER: _ClassVar[int]
    ORGANISER_IDS_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    MIN_REGISTRY_POSITION_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    convening_id: str
    title: str
    topic: str
    description: str
    format: ConveningFormat
    venue: str
    join_link: str
    capacity: int
    replace_registration_window: bool
    registration_opens: str
    registration_closes: str
    replace_organisers: bool
    organiser_ids: _containers.RepeatedScalarFieldContainer[str]
    expected_version: int
    min_registry_position: int
    def __init__(self, request_id: _Optional[str] = ..., convening_id: _Optional[str] = ..., title: _Optional[str] = ..., topic: _Optional[str] = ..., description: _Optional[str] = ..., format: _Optional[_Union[ConveningFormat, str]] = ..., venue: _Optional[str] = ..., join_link: _Optional[str] = ..., capacity: _Optional[int] = ..., replace_registration_window: _Optional[bool] = ..., registration_opens: _Optional[str] = ..., registration_closes: _Optional[str] = ..., replace_organisers: _Optional[bool] = ..., organiser_ids: _Optional[_Iterable[str]] = ..., expected_version: _Optional[int] = ..., min_registry_position: _Optional[int] = ...) -> None: ...

class UpdateConveningResponse(_message.Message):
    __slots__ = ("convening", "position")
    CONVENING_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    convening: Convening
    position: int
    def __init__(self, convening: _Optional[_Union[Convening, _Mapping]] = ..., position: _Optional[int] = ...) -> None: ...

class RescheduleConveningRequest(_message.Message):
    __slots__ = ("request_id", "convening_id", "start", "end", "time_zone", "reason", "expected_version", "min_registry_position")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CONVENING_ID_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    MIN_REGISTRY_POSITION_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    convening_id: str
    start: str
    end: str
    time_zone: str
    reason: str
    expected_version: int
    min_registry_position: int
    def __init__(self, request_id: _Optional[str] = ..., convening_id: _Optional[str] = ..., start: _Optional[str] = ..., end: _Optional[str] = ..., time_zone: _Optional[str] = ..., reason: _Optional[str] = ..., expected_version: _Optional[int] = ..., min_registry_position: _Optional[int] = ...) -> None: ...

class RescheduleConveningResponse(_message.Message):
    __slots__ = ("convening", "position")
    CONVENING_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    convening: Convening
    position: int
    def __init__(self, convening: _Optional[_Union[Convening, _Mapping]] = ..., position: _Optional[int] = ...) -> None: ...

class CancelConveningRequest(_message.Message):
    __slots__ = ("request_id", "convening_id", "reason", "expected_version", "min_registry_position")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CONVENING_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    MIN_REGISTRY_POSITION_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    convening_id: str
    reason: str
    expected_version: int
    min_registry_position: int
    def __init__(self, request_id: _Optional[str] = ..., convening_id: _Optional[str] = ..., reason: _Optional[str] = ..., expected_version: _Optional[int] = ..., min_registry_position: _Optional[int] = ...) -> None: ...

class CancelConveningResponse(_message.Message):
    __slots__ = ("convening", "position")
    CONVENING_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    convening: Convening
    position: int
    def __init__(self, convening: _Optional[_Union[Convening, _Mapping]] = ..., position: _Optional[int] = ...) -> None: ...

class MarkConveningHeldRequest(_message.Message):
    __slots__ = ("request_id", "convening_id", "min_registry_position")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CONVENING_ID_FIELD_NUMBER: _ClassVar[int]
    MIN_REGISTRY_POSITION_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    convening_id: str
    min_registry_position: int
    def __init__(self, request_id: _Optional[str] = ..., convening_id: _Optional[str] = ..., min_registry_position: _Optional[int] = ...) -> None: ...

class MarkConveningHeldResponse(_message.Message):
    __slots__ = ("convening", "position")
    CONVENING_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    convening: Convening
    position: int
    def __init__(self, convening: _Optional[_Union[Convening, _Mapping]] = ..., position: _Optional[int] = ...) -> None: ...

class RecordAttendanceRequest(_message.Message):
    __slots__ = ("request_id", "convening_id", "entries", "min_registry_position")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CONVENING_ID_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    MIN_REGISTRY_POSITION_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    convening_id: str
    entries: _containers.RepeatedCompositeFieldContainer[AttendanceEntry]
    min_registry_position: int
    def __init__(self, request_id: _Optional[str] = ..., convening_id: _Optional[str] = ..., entries: _Optional[_Iterable[_Union[AttendanceEntry, _Mapping]]] = ..., min_registry_position: _Optional[int] = ...) -> None: ...

class RecordAttendanceResponse(_message.Message):
    __slots__ = ("convening", "position")
    CONVENING_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    convening: Convening
    position: int
    def __init__(self, convening: _Optional[_Union[Convening, _Mapping]] = ..., position: _Optional[int] = ...) -> None: ...

class CloseConveningRequest(_message.Message):
    __slots__ = ("request_id", "convening_id", "outcomes", "attendee_count", "min_registry_position")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CONVENING_ID_FIELD_NUMBER: _ClassVar[int]
    OUTCOMES_FIELD_NUMBER: _ClassVar[int]
    ATTENDEE_COUNT_FIELD_NUMBER: _ClassVar[int]
    MIN_REGISTRY_POSITION_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    convening_id: str
    outcomes: _containers.RepeatedCompositeFieldContainer[LearningOutcome]
    attendee_count: int
    min_registry_position: int
    def __init__(self, request_id: _Optional[str] = ..., convening_id: _Optional[str] = ..., outcomes: _Optional[_Iterable[_Union[LearningOutcome, _Mapping]]] = ..., attendee_count: _Optional[int] = ..., min_registry_position: _Optional[int] = ...) -> None: ...

class CloseConveningResponse(_message.Message):
    __slots__ = ("convening", "position")
    CONVENING_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    convening: Convening
    position: int
    def __init__(self, convening: _Optional[_Union[Convening, _Mapping]] = ..., position: _Optional[int] = ...) -> None: ...

class ImportConveningRequest(_message.Message):
    __slots__ = ("request_id", "community_id", "title", "topic", "description", "format", "venue", "start", "end", "time_zone", "organiser_ids", "plan_id", "held", "cancelled_reason", "min_registry_position")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    TOPIC_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    VENUE_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    ORGANISER_IDS_FIELD_NUMBER: _ClassVar[int]
    PLAN_ID_FIELD_NUMBER: _ClassVar[int]
    HELD_FIELD_NUMBER: _ClassVar[int]
    CANCELLED_REASON_FIELD_NUMBER: _ClassVar[int]
    MIN_REGISTRY_POSITION_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    community_id: str
    title: str
    topic: str
    description: str
    format: ConveningFormat
    venue: str
    start: str
    end: str
    time_zone: str
    organiser_ids: _containers.RepeatedScalarFieldContainer[str]
    plan_id: str
    held: PastConvening
    cancelled_reason: str
    min_registry_position: int
    def __init__(self, request_id: _Optional[str] = ..., community_id: _Optional[str] = ..., title: _Optional[str] = ..., topic: _Optional[str] = ..., description: _Optional[str] = ..., format: _Optional[_Union[ConveningFormat, str]] = ..., venue: _Optional[str] = ..., start: _Optional[str] = ..., end: _Optional[str] = ..., time_zone: _Optional[str] = ..., organiser_ids: _Optional[_Iterable[str]] = ..., plan_id: _Optional[str] = ..., held: _Optional[_Union[PastConvening, _Mapping]] = ..., cancelled_reason: _Optional[str] = ..., min_registry_position: _Optional[int] = ...) -> None: ...

class PastConvening(_message.Message):
    __slots__ = ("signed_up", "attended", "attendee_count", "outcomes")
    SIGNED_UP_FIELD_NUMBER: _ClassVar[int]
    ATTENDED_FIELD_NUMBER: _ClassVar[int]
    ATTENDEE_COUNT_FIELD_NUMBER: _ClassVar[int]
    OUTCOMES_FIELD_NUMBER: _ClassVar[int]
    signed_up: int
    attended: int
    attendee_count: int
    outcomes: _containers.RepeatedCompositeFieldContainer[LearningOutcome]
    def __init__(self, signed_up: _Optional[int] = ..., attended: _Optional[int] = ..., attendee_count: _Optional[int] = ..., outcomes: _Optional[_Iterable[_Union[LearningOutcome, _Mapping]]] = ...) -> None: ...

class ImportConveningResponse(_message.Message):
    __slots__ = ("convening", "position")
    CONVENING_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    convening: Convening
    position: int
    def __init__(self, convening: _Optional[_Union[Convening, _Mapping]] = ..., position: _Optional[int] = ...) -> None: ...

class GetConveningRequest(_message.Message):
    __slots__ = ("convening_id", "min_registry_position")
    CONVENING_ID_FIELD_NUMBER: _ClassVar[int]
    MIN_REGISTRY_POSITION_FIELD_NUMBER: _ClassVar[int]
    convening_id: str
    min_registry_position: int
    def __init__(self, convening_id: _Optional[str] = ..., min_registry_position: _Optional[int] = ...) -> None: ...

class GetConveningResponse(_message.Message):
    __slots__ = ("convening",)
    CONVENING_FIELD_NUMBER: _ClassVar[int]
    convening: Convening
    def __init__(self, convening: _Optional[_Union[Convening, _Mapping]] = ...) -> None: ...

class ListConveningsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "community_id", "plan_id", "status", "starts_from", "starts_before", "min_position", "min_registry_position")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    PLAN_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    STARTS_FROM_FIELD_NUMBER: _ClassVar[int]
    STARTS_BEFORE_FIELD_NUMBER: _ClassVar[int]
    MIN_POSITION_FIELD_NUMBER: _ClassVar[int]
    MIN_REGISTRY_POSITION_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    community_id: str
    plan_id: str
    status: ConveningStatus
    starts_from: _timestamp_pb2.Timestamp
    starts_before: _timestamp_pb2.Timestamp
    min_position: int
    min_registry_position: int
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., community_id: _Optional[str] = ..., plan_id: _Optional[str] = ..., status: _Optional[_Union[ConveningStatus, str]] = ..., starts_from: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., starts_before: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., min_position: _Optional[int] = ..., min_registry_position: _Optional[int] = ...) -> None: ...

class ListConveningsResponse(_message.Message):
    __slots__ = ("convenings", "next_page_token")
    CONVENINGS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    convenings: _containers.RepeatedCompositeFieldContainer[Convening]
    next_page_token: str
    def __init__(self, convenings: _Optional[_Iterable[_Union[Convening, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class SignUpRequest(_message.Message):
    __slots__ = ("request_id", "convening_id", "member_id", "min_registry_position")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CONVENING_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    MIN_REGISTRY_POSITION_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    convening_id: str
    member_id: str
    min_registry_position: int
    def __init__(self, request_id: _Optional[str] = ..., convening_id: _Optional[str] = ..., member_id: _Optional[str] = ..., min_registry_position: _Optional[int] = ...) -> None: ...

class SignUpResponse(_message.Message):
    __slots__ = ("sign_up", "position")
    SIGN_UP_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    sign_up: SignUp
    position: int
    def __init__(self, sign_up: _Optional[_Union[SignUp, _Mapping]] = ..., position: _Optional[int] = ...) -> None: ...

class CancelSignUpRequest(_message.Message):
    __slots__ = ("request_id", "convening_id", "member_id", "reason", "min_registry_position")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CONVENING_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    MIN_REGISTRY_POSITION_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    convening_id: str
    member_id: str
    reason: str
    min_registry_position: int
    def __init__(self, request_id: _Optional[str] = ..., convening_id: _Optional[str] = ..., member_id: _Optional[str] = ..., reason: _Optional[str] = ..., min_registry_position: _Optional[int] = ...) -> None: ...

class CancelSignUpResponse(_message.Message):
    __slots__ = ("sign_up", "position")
    SIGN_UP_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    sign_up: SignUp
    position: int
    def __init__(self, sign_up: _Optional[_Union[SignUp, _Mapping]] = ..., position: _Optional[int] = ...) -> None: ...

class ApproveSignUpRequest(_message.Message):
    __slots__ = ("request_id", "convening_id", "member_id", "min_registry_position")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CONVENING_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    MIN_REGISTRY_POSITION_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    convening_id: str
    member_id: str
    min_registry_position: int
    def __init__(self, request_id: _Optional[str] = ..., convening_id: _Optional[str] = ..., member_id: _Optional[str] = ..., min_registry_position: _Optional[int] = ...) -> None: ...

class ApproveSignUpResponse(_message.Message):
    __slots__ = ("sign_up", "position")
    SIGN_UP_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    sign_up: SignUp
    position: int
    def __init__(self, sign_up: _Optional[_Union[SignUp, _Mapping]] = ..., position: _Optional[int] = ...) -> None: ...

class DeclineSignUpRequest(_message.Message):
    __slots__ = ("request_id", "convening_id", "member_id", "reason", "min_registry_position")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CONVENING_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    MIN_REGISTRY_POSITION_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    convening_id: str
    member_id: str
    reason: str
    min_registry_position: int
    def __init__(self, request_id: _Optional[str] = ..., convening_id: _Optional[str] = ..., member_id: _Optional[str] = ..., reason: _Optional[str] = ..., min_registry_position: _Optional[int] = ...) -> None: ...

class DeclineSignUpResponse(_message.Message):
    __slots__ = ("sign_up", "position")
    SIGN_UP_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    sign_up: SignUp
    position: int
    def __init__(self, sign_up: _Optional[_Union[SignUp, _Mapping]] = ..., position: _Optional[int] = ...) -> None: ...

class GetSignUpRequest(_message.Message):
    __slots__ = ("convening_id", "member_id", "min_registry_position")
    CONVENING_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    MIN_REGISTRY_POSITION_FIELD_NUMBER: _ClassVar[int]
    convening_id: str
    member_id: str
    min_registry_position: int
    def __init__(self, convening_id: _Optional[str] = ..., member_id: _Optional[str] = ..., min_registry_position: _Optional[int] = ...) -> None: ...

class GetSignUpResponse(_message.Message):
    __slots__ = ("sign_up",)
    SIGN_UP_FIELD_NUMBER: _ClassVar[int]
    sign_up: SignUp
    def __init__(self, sign_up: _Optional[_Union[SignUp, _Mapping]] = ...) -> None: ...

class ListSignUpsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "convening_id", "member_id", "status", "min_position", "min_registry_position")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    CONVENING_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    MIN_POSITION_FIELD_NUMBER: _ClassVar[int]
    MIN_REGISTRY_POSITION_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    convening_id: str
    member_id: str
    status: SignUpStatus
    min_position: int
    min_registry_position: int
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., convening_id: _Optional[str] = ..., member_id: _Optional[str] = ..., status: _Optional[_Union[SignUpStatus, str]] = ..., min_position: _Optional[int] = ..., min_registry_position: _Optional[int] = ...) -> None: ...

class ListSignUpsResponse(_message.Message):
    __slots__ = ("sign_ups", "next_page_token")
    SIGN_UPS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    sign_ups: _containers.RepeatedCompositeFieldContainer[SignUp]
    next_page_token: str
    def __init__(self, sign_ups: _Optional[_Iterable[_Union[SignUp, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GiveFeedbackRequest(_message.Message):
    __slots__ = ("request_id", "convening_id", "rating", "comment", "min_registry_position")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CONVENING_ID_FIELD_NUMBER: _ClassVar[int]
    RATING_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    MIN_REGISTRY_POSITION_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    convening_id: str
    rating: int
    comment: str
    min_registry_position: int
    def __init__(self, request_id: _Optional[str] = ..., convening_id: _Optional[str] = ..., rating: _Optional[int] = ..., comment: _Optional[str] = ..., min_registry_position: _Optional[int] = ...) -> None: ...

class GiveFeedbackResponse(_message.Message):
    __slots__ = ("feedback", "position")
    FEEDBACK_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    feedback: Feedback
    position: int
    def __init__(self, feedback: _Optional[_Union[Feedback, _Mapping]] = ..., position: _Optional[int] = ...) -> None: ...

class ListFeedbackRequest(_message.Message):
    __slots__ = ("convening_id", "page_size", "page_token", "min_position", "min_registry_position")
    CONVENING_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    MIN_POSITION_FIELD_NUMBER: _ClassVar[int]
    MIN_REGISTRY_POSITION_FIELD_NUMBER: _ClassVar[int]
    convening_id: str
    page_size: int
    page_token: str
    min_position: int
    min_registry_position: int
    def __init__(self, convening_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., min_position: _Optional[int] = ..., min_registry_position: _Optional[int] = ...) -> None: ...

class ListFeedbackResponse(_message.Message):
    __slots__ = ("feedback", "next_page_token")
    FEEDBACK_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    feedback: _containers.RepeatedCompositeFieldContainer[Feedback]
    next_page_token: str
    def __init__(self, feedback: _Optional[_Iterable[_Union[Feedback, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class Recurrence(_message.Message):
    __slots__ = ("rule", "first_start")
    RULE_FIELD_NUMBER: _ClassVar[int]
    FIRST_START_FIELD_NUMBER: _ClassVar[int]
    rule: str
    first_start: str
    def __init__(self, rule: _Optional[str] = ..., first_start: _Optional[str] = ...) -> None: ...

class PlanOccurrence(_message.Message):
    __slots__ = ("start", "topic", "title")
    START_FIELD_NUMBER: _ClassVar[int]
    TOPIC_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    start: str
    topic: str
    title: str
    def __init__(self, start: _Optional[str] = ..., topic: _Optional[str] = ..., title: _Optional[str] = ...) -> None: ...

class PlannedOccurrence(_message.Message):
    __slots__ = ("convening_id", "start", "starts_at", "topic")
    CONVENING_ID_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    STARTS_AT_FIELD_NUMBER: _ClassVar[int]
    TOPIC_FIELD_NUMBER: _ClassVar[int]
    convening_id: str
    start: str
    starts_at: _timestamp_pb2.Timestamp
    topic: str
    def __init__(self, convening_id: _Optional[str] = ..., start: _Optional[str] = ..., starts_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., topic: _Optional[str] = ...) -> None: ...

class MeetingPlan(_message.Message):
    __slots__ = ("plan_id", "community_id", "title", "description", "time_zone", "recurrence_rule", "format", "venue", "join_link", "capacity", "duration_minutes", "ended", "end_reason", "occurrence_count", "occurrences", "version", "created_at", "updated_at")
    PLAN_ID_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    RECURRENCE_RULE_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    VENUE_FIELD_NUMBER: _ClassVar[int]
    JOIN_LINK_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_FIELD_NUMBER: _ClassVar[int]
    DURATION_MINUTES_FIELD_NUMBER: _ClassVar[int]
    ENDED_FIELD_NUMBER: _ClassVar[int]
    END_REASON_FIELD_NUMBER: _ClassVar[int]
    OCCURRENCE_COUNT_FIELD_NUMBER: _ClassVar[int]
    OCCURRENCES_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    plan_id: str
    community_id: str
    title: str
    description: str
    time_zone: str
    recurrence_rule: str
    format: ConveningFormat
    venue: str
    join_link: str
    capacity: int
    duration_minutes: int
    ended: bool
    end_reason: str
    occurrence_count: int
    occurrences: _containers.RepeatedCompositeFieldContainer[PlannedOccurrence]
    version: int
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, plan_id: _Optional[str] = ..., community_id: _Optional[str] = ..., title: _Optional[str] = ..., description: _Optional[str] = ..., time_zone: _Optional[str] = ..., recurrence_rule: _Optional[str] = ..., format: _Optional[_Union[ConveningFormat, str]] = ..., venue: _Optional[str] = ..., join_link: _Optional[str] = ..., capacity: _Optional[int] = ..., duration_minutes: _Optional[int] = ..., ended: _Optional[bool] = ..., end_reason: _Optional[str] = ..., occurrence_count: _Optional[int] = ..., occurrences: _Optional[_Iterable[_Union[PlannedOccurrence, _Mapping]]] = ..., version: _Optional[int] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreateMeetingPlanRequest(_message.Message):
    __slots__ = ("request_id", "community_id", "title", "description", "time_zone", "format", "venue", "join_link", "capacity", "duration_minutes", "recurrence", "occurrences", "min_registry_position")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    VENUE_FIELD_NUMBER: _ClassVar[int]
    JOIN_LINK_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_FIELD_NUMBER: _ClassVar[int]
    DURATION_MINUTES_FIELD_NUMBER: _ClassVar[int]
    RECURRENCE_FIELD_NUMBER: _ClassVar[int]
    OCCURRENCES_FIELD_NUMBER: _ClassVar[int]
    MIN_REGISTRY_POSITION_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    community_id: str
    title: str
    description: str
    time_zone: str
    format: ConveningFormat
    venue: str
    join_link: str
    capacity: int
    duration_minutes: int
    recurrence: Recurrence
    occurrences: _containers.RepeatedCompositeFieldContainer[PlanOccurrence]
    min_registry_position: int
    def __init__(self, request_id: _Optional[str] = ..., community_id: _Optional[str] = ..., title: _Optional[str] = ..., description: _Optional[str] = ..., time_zone: _Optional[str] = ..., format: _Optional[_Union[ConveningFormat, str]] = ..., venue: _Optional[str] = ..., join_link: _Optional[str] = ..., capacity: _Optional[int] = ..., duration_minutes: _Optional[int] = ..., recurrence: _Optional[_Union[Recurrence, _Mapping]] = ..., occurrences: _Optional[_Iterable[_Union[PlanOccurrence, _Mapping]]] = ..., min_registry_position: _Optional[int] = ...) -> None: ...

class CreateMeetingPlanResponse(_message.Message):
    __slots__ = ("plan", "convening_ids", "position")
    PLAN_FIELD_NUMBER: _ClassVar[int]
    CONVENING_IDS_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    plan: MeetingPlan
    convening_ids: _containers.RepeatedScalarFieldContainer[str]
    position: int
    def __init__(self, plan: _Optional[_Union[MeetingPlan, _Mapping]] = ..., convening_ids: _Optional[_Iterable[str]] = ..., position: _Optional[int] = ...) -> None: ...

class AddPlanOccurrencesRequest(_message.Message):
    __slots__ = ("request_id", "plan_id", "recurrence", "occurrences", "min_registry_position")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PLAN_ID_FIELD_NUMBER: _ClassVar[int]
    RECURRENCE_FIELD_NUMBER: _ClassVar[int]
    OCCURRENCES_FIELD_NUMBER: _ClassVar[int]
    MIN_REGISTRY_POSITION_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    plan_id: str
    recurrence: Recurrence
    occurrences: _containers.RepeatedCompositeFieldContainer[PlanOccurrence]
    min_registry_position: int
    def __init__(self, request_id: _Optional[str] = ..., plan_id: _Optional[str] = ..., recurrence: _Optional[_Union[Recurrence, _Mapping]] = ..., occurrences: _Optional[_Iterable[_Union[PlanOccurrence, _Mapping]]] = ..., min_registry_position: _Optional[int] = ...) -> None: ...

class AddPlanOccurrencesResponse(_message.Message):
    __slots__ = ("plan", "convening_ids", "position")
    PLAN_FIELD_NUMBER: _ClassVar[int]
    CONVENING_IDS_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    plan: MeetingPlan
    convening_ids: _containers.RepeatedScalarFieldContainer[str]
    position: int
    def __init__(self, plan: _Optional[_Union[MeetingPlan, _Mapping]] = ..., convening_ids: _Optional[_Iterable[str]] = ..., position: _Optional[int] = ...) -> None: ...

class EndMeetingPlanRequest(_message.Message):
    __slots__ = ("request_id", "plan_id", "reason", "min_registry_position")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PLAN_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    MIN_REGISTRY_POSITION_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    plan_id: str
    reason: str
    min_registry_position: int
    def __init__(self, request_id: _Optional[str] = ..., plan_id: _Optional[str] = ..., reason: _Optional[str] = ..., min_registry_position: _Optional[int] = ...) -> None: ...

class EndMeetingPlanResponse(_message.Message):
    __slots__ = ("plan", "cancelled_convening_ids", "position")
    PLAN_FIELD_NUMBER: _ClassVar[int]
    CANCELLED_CONVENING_IDS_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    plan: MeetingPlan
    cancelled_convening_ids: _containers.RepeatedScalarFieldContainer[str]
    position: int
    def __init__(self, plan: _Optional[_Union[MeetingPlan, _Mapping]] = ..., cancelled_convening_ids: _Optional[_Iterable[str]] = ..., position: _Optional[int] = ...) -> None: ...

class GetMeetingPlanRequest(_message.Message):
    __slots__ = ("plan_id", "min_registry_position")
    PLAN_ID_FIELD_NUMBER: _ClassVar[int]
    MIN_REGISTRY_POSITION_FIELD_NUMBER: _ClassVar[int]
    plan_id: str
    min_registry_position: int
    def __init__(self, plan_id: _Optional[str] = ..., min_registry_position: _Optional[int] = ...) -> None: ...

class GetMeetingPlanResponse(_message.Message):
    __slots__ = ("plan",)
    PLAN_FIELD_NUMBER: _ClassVar[int]
    plan: MeetingPlan
    def __init__(self, plan: _Optional[_Union[MeetingPlan, _Mapping]] = ...) -> None: ...

class ListMeetingPlansRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "community_id", "min_position", "min_registry_position")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    MIN_POSITION_FIELD_NUMBER: _ClassVar[int]
    MIN_REGISTRY_POSITION_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    community_id: str
    min_position: int
    min_registry_position: int
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., community_id: _Optional[str] = ..., min_position: _Optional[int] = ..., min_registry_position: _Optional[int] = ...) -> None: ...

class ListMeetingPlansResponse(_message.Message):
    __slots__ = ("plans", "next_page_token")
    PLANS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    plans: _containers.RepeatedCompositeFieldContainer[MeetingPlan]
    next_page_token: str
    def __init__(self, plans: _Optional[_Iterable[_Union[MeetingPlan, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetPlanAdherenceRequest(_message.Message):
    __slots__ = ("plan_id", "planned_from", "planned_before", "min_position", "min_registry_position")
    PLAN_ID_FIELD_NUMBER: _ClassVar[int]
    PLANNED_FROM_FIELD_NUMBER: _ClassVar[int]
    PLANNED_BEFORE_FIELD_NUMBER: _ClassVar[int]
    MIN_POSITION_FIELD_NUMBER: _ClassVar[int]
    MIN_REGISTRY_POSITION_FIELD_NUMBER: _ClassVar[int]
    plan_id: str
    planned_from: str
    planned_before: str
    min_position: int
    min_registry_position: int
    def __init__(self, plan_id: _Optional[str] = ..., planned_from: _Optional[str] = ..., planned_before: _Optional[str] = ..., min_position: _Optional[int] = ..., min_registry_position: _Optional[int] = ...) -> None: ...

class GetPlanAdherenceResponse(_message.Message):
    __slots__ = ("planned", "held", "cancelled", "to_come", "unrecorded", "adherence_rate")
    PLANNED_FIELD_NUMBER: _ClassVar[int]
    HELD_FIELD_NUMBER: _ClassVar[int]
    CANCELLED_FIELD_NUMBER: _ClassVar[int]
    TO_COME_FIELD_NUMBER: _ClassVar[int]
    UNRECORDED_FIELD_NUMBER: _ClassVar[int]
    ADHERENCE_RATE_FIELD_NUMBER: _ClassVar[int]
    planned: int
    held: int
    cancelled: int
    to_come: int
    unrecorded: int
    adherence_rate: float
    def __init__(self, planned: _Optional[int] = ..., held: _Optional[int] = ..., cancelled: _Optional[int] = ..., to_come: _Optional[int] = ..., unrecorded: _Optional[int] = ..., adherence_rate: _Optional[float] = ...) -> None: ...

class GetConveningCalendarRequest(_message.Message):
    __slots__ = ("convening_id", "min_registry_position")
    CONVENING_ID_FIELD_NUMBER: _ClassVar[int]
    MIN_REGISTRY_POSITION_FIELD_NUMBER: _ClassVar[int]
    convening_id: str
    min_registry_position: int
    def __init__(self, convening_id: _Optional[str] = ..., min_registry_position: _Optional[int] = ...) -> None: ...

class GetConveningCalendarResponse(_message.Message):
    __slots__ = ("ics", "content_type", "file_name")
    ICS_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    FILE_NAME_FIELD_NUMBER: _ClassVar[int]
    ics: str
    content_type: str
    file_name: str
    def __init__(self, ics: _Optional[str] = ..., content_type: _Optional[str] = ..., file_name: _Optional[str] = ...) -> None: ...

class GetCommunityCalendarRequest(_message.Message):
    __slots__ = ("community_id", "starts_from", "min_position", "min_registry_position")
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    STARTS_FROM_FIELD_NUMBER: _ClassVar[int]
    MIN_POSITION_FIELD_NUMBER: _ClassVar[int]
    MIN_REGISTRY_POSITION_FIELD_NUMBER: _ClassVar[int]
    community_id: str
    starts_from: _timestamp_pb2.Timestamp
    min_position: int
    min_registry_position: int
    def __init__(self, community_id: _Optional[str] = ..., starts_from: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., min_position: _Optional[int] = ..., min_registry_position: _Optional[int] = ...) -> None: ...

class GetCommunityCalendarResponse(_message.Message):
    __slots__ = ("ics", "content_type", "file_name")
    ICS_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    FILE_NAME_FIELD_NUMBER: _ClassVar[int]
    ics: str
    content_type: str
    file_name: str
    def __init__(self, ics: _Optional[str] = ..., content_type: _Optional[str] = ..., file_name: _Optional[str] = ...) -> None: ...

class ConveningMetrics(_message.Message):
    __slots__ = ("key", "label", "convenings_held", "convenings_cancelled", "convenings_upcoming", "convenings_unrecorded", "signed_up", "attended", "no_shows", "attendance_unrecorded", "conversion_rate", "waitlisted", "attendee_count", "feedback_count", "feedback_average", "planned", "planned_held", "planned_cancelled")
    KEY_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    CONVENINGS_HELD_FIELD_NUMBER: _ClassVar[int]
    CONVENINGS_CANCELLED_FIELD_NUMBER: _ClassVar[int]
    CONVENINGS_UPCOMING_FIELD_NUMBER: _ClassVar[int]
    CONVENINGS_UNRECORDED_FIELD_NUMBER: _ClassVar[int]
    SIGNED_UP_FIELD_NUMBER: _ClassVar[int]
    ATTENDED_FIELD_NUMBER: _ClassVar[int]
    NO_SHOWS_FIELD_NUMBER: _ClassVar[int]
    ATTENDANCE_UNRECORDED_FIELD_NUMBER: _ClassVar[int]
    CONVERSION_RATE_FIELD_NUMBER: _ClassVar[int]
    WAITLISTED_FIELD_NUMBER: _ClassVar[int]
    ATTENDEE_COUNT_FIELD_NUMBER: _ClassVar[int]
    FEEDBACK_COUNT_FIELD_NUMBER: _ClassVar[int]
    FEEDBACK_AVERAGE_FIELD_NUMBER: _ClassVar[int]
    PLANNED_FIELD_NUMBER: _ClassVar[int]
    PLANNED_HELD_FIELD_NUMBER: _ClassVar[int]
    PLANNED_CANCELLED_FIELD_NUMBER: _ClassVar[int]
    key: str
    label: str
    convenings_held: int
    convenings_cancelled: int
    convenings_upcoming: int
    convenings_unrecorded: int
    signed_up: int
    attended: int
    no_shows: int
    attendance_unrecorded: int
    conversion_rate: float
    waitlisted: int
    attendee_count: int
    feedback_count: int
    feedback_average: float
    planned: int
    planned_held: int
    planned_cancelled: int
    def __init__(self, key: _Optional[str] = ..., label: _Optional[str] = ..., convenings_held: _Optional[int] = ..., convenings_cancelled: _Optional[int] = ..., convenings_upcoming: _Optional[int] = ..., convenings_unrecorded: _Optional[int] = ..., signed_up: _Optional[int] = ..., attended: _Optional[int] = ..., no_shows: _Optional[int] = ..., attendance_unrecorded: _Optional[int] = ..., conversion_rate: _Optional[float] = ..., waitlisted: _Optional[int] = ..., attendee_count: _Optional[int] = ..., feedback_count: _Optional[int] = ..., feedback_average: _Optional[float] = ..., planned: _Optional[int] = ..., planned_held: _Optional[int] = ..., planned_cancelled: _Optional[int] = ...) -> None: ...

class GetAnalyticsRequest(_message.Message):
    __slots__ = ("group_by", "community_id", "from_date", "before_date", "page_size", "page_token", "min_position", "min_registry_position")
    GROUP_BY_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_DATE_FIELD_NUMBER: _ClassVar[int]
    BEFORE_DATE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    MIN_POSITION_FIELD_NUMBER: _ClassVar[int]
    MIN_REGISTRY_POSITION_FIELD_NUMBER: _ClassVar[int]
    group_by: AnalyticsGrouping
    community_id: str
    from_date: str
    before_date: str
    page_size: int
    page_token: str
    min_position: int
    min_registry_position: int
    def __init__(self, group_by: _Optional[_Union[AnalyticsGrouping, str]] = ..., community_id: _Optional[str] = ..., from_date: _Optional[str] = ..., before_date: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., min_position: _Optional[int] = ..., min_registry_position: _Optional[int] = ...) -> None: ...

class GetAnalyticsResponse(_message.Message):
    __slots__ = ("groups", "totals", "next_page_token")
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    TOTALS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    groups: _containers.RepeatedCompositeFieldContainer[ConveningMetrics]
    totals: ConveningMetrics
    next_page_token: str
    def __init__(self, groups: _Optional[_Iterable[_Union[ConveningMetrics, _Mapping]]] = ..., totals: _Optional[_Union[ConveningMetrics, _Mapping]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class Community(_message.Message):
    __slots__ = ("community_id", "slug", "name", "joining_policy", "lifecycle", "organiser_ids", "caller_may_organise")
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    SLUG_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    JOINING_POLICY_FIELD_NUMBER: _ClassVar[int]
    LIFECYCLE_FIELD_NUMBER: _ClassVar[int]
    ORGANISER_IDS_FIELD_NUMBER: _ClassVar[int]
    CALLER_MAY_ORGANISE_FIELD_NUMBER: _ClassVar[int]
    community_id: str
    slug: str
    name: str
    joining_policy: _registry_pb2.JoiningPolicy
    lifecycle: _registry_pb2.CommunityLifecycle
    organiser_ids: _containers.RepeatedScalarFieldContainer[str]
    caller_may_organise: bool
    def __init__(self, community_id: _Optional[str] = ..., slug: _Optional[str] = ..., name: _Optional[str] = ..., joining_policy: _Optional[_Union[_registry_pb2.JoiningPolicy, str]] = ..., lifecycle: _Optional[_Union[_registry_pb2.CommunityLifecycle, str]] = ..., organiser_ids: _Optional[_Iterable[str]] = ..., caller_may_organise: _Optional[bool] = ...) -> None: ...

class GetCommunityRequest(_message.Message):
    __slots__ = ("community_id", "min_registry_position")
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    MIN_REGISTRY_POSITION_FIELD_NUMBER: _ClassVar[int]
    community_id: str
    min_registry_position: int
    def __init__(self, community_id: _Optional[str] = ..., min_registry_position: _Optional[int] = ...) -> None: ...

class GetCommunityResponse(_message.Message):
    __slots__ = ("community", "registry_position")
    COMMUNITY_FIELD_NUMBER: _ClassVar[int]
    REGISTRY_POSITION_FIELD_NUMBER: _ClassVar[int]
    community: Community
    registry_position: int
    def __init__(self, community: _Optional[_Union[Community, _Mapping]] = ..., registry_position: _Optional[int] = ...) -> None: ...

class ExportMemberDataRequest(_message.Message):
    __slots__ = ("member_id",)
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    member_id: str
    def __init__(self, member_id: _Optional[str] = ...) -> None: ...

class ExportMemberDataResponse(_message.Message):
    __slots__ = ("document_json",)
    DOCUMENT_JSON_FIELD_NUMBER: _ClassVar[int]
    document_json: str
    def __init__(self, document_json: _Optional[str] = ...) -> None: ...

class CalendarFeed(_message.Message):
    __slots__ = ("feed_id", "member_id", "kind", "community_id", "url", "revoked", "revoke_reason", "rotations", "created_at", "updated_at", "version")
    FEED_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    REVOKED_FIELD_NUMBER: _ClassVar[int]
    REVOKE_REASON_FIELD_NUMBER: _ClassVar[int]
    ROTATIONS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    feed_id: str
    member_id: str
    kind: CalendarFeedKind
    community_id: str
    url: str
    revoked: bool
    revoke_reason: str
    rotations: int
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    version: int
    def __init__(self, feed_id: _Optional[str] = ..., member_id: _Optional[str] = ..., kind: _Optional[_Union[CalendarFeedKind, str]] = ..., community_id: _Optional[str] = ..., url: _Optional[str] = ..., revoked: _Optional[bool] = ..., revoke_reason: _Optional[str] = ..., rotations: _Optional[int] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., version: _Optional[int] = ...) -> None: ...

class IssueCalendarFeedRequest(_message.Message):
    __slots__ = ("request_id", "member_id", "kind", "community_id", "min_registry_position")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    MIN_REGISTRY_POSITION_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    member_id: str
    kind: CalendarFeedKind
    community_id: str
    min_registry_position: int
    def __init__(self, request_id: _Optional[str] = ..., member_id: _Optional[str] = ..., kind: _Optional[_Union[CalendarFeedKind, str]] = ..., community_id: _Optional[str] = ..., min_registry_position: _Optional[int] = ...) -> None: ...

class IssueCalendarFeedResponse(_message.Message):
    __slots__ = ("feed", "position")
    FEED_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    feed: CalendarFeed
    position: int
    def __init__(self, feed: _Optional[_Union[CalendarFeed, _Mapping]] = ..., position: _Optional[int] = ...) -> None: ...

class RotateCalendarFeedRequest(_message.Message):
    __slots__ = ("request_id", "feed_id", "expected_version", "min_registry_position")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    FEED_ID_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    MIN_REGISTRY_POSITION_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    feed_id: str
    expected_version: int
    min_registry_position: int
    def __init__(self, request_id: _Optional[str] = ..., feed_id: _Optional[str] = ..., expected_version: _Optional[int] = ..., min_registry_position: _Optional[int] = ...) -> None: ...

class RotateCalendarFeedResponse(_message.Message):
    __slots__ = ("feed", "position")
    FEED_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    feed: CalendarFeed
    position: int
    def __init__(self, feed: _Optional[_Union[CalendarFeed, _Mapping]] = ..., position: _Optional[int] = ...) -> None: ...

class RevokeCalendarFeedRequest(_message.Message):
    __slots__ = ("request_id", "feed_id", "reason", "min_registry_position")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    FEED_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    MIN_REGISTRY_POSITION_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    feed_id: str
    reason: str
    min_registry_position: int
    def __init__(self, request_id: _Optional[str] = ..., feed_id: _Optional[str] = ..., reason: _Optional[str] = ..., min_registry_position: _Optional[int] = ...) -> None: ...

class RevokeCalendarFeedResponse(_message.Message):
    __slots__ = ("feed", "position")
    FEED_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    feed: CalendarFeed
    position: int
    def __init__(self, feed: _Optional[_Union[CalendarFeed, _Mapping]] = ..., position: _Optional[int] = ...) -> None: ...

class ListCalendarFeedsRequest(_message.Message):
    __slots__ = ("member_id", "include_revoked", "page_size", "page_token", "min_position", "min_registry_position")
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_REVOKED_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    MIN_POSITION_FIELD_NUMBER: _ClassVar[int]
    MIN_REGISTRY_POSITION_FIELD_NUMBER: _ClassVar[int]
    member_id: str
    include_revoked: bool
    page_size: int
    page_token: str
    min_position: int
    min_registry_position: int
    def __init__(self, member_id: _Optional[str] = ..., include_revoked: _Optional[bool] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., min_position: _Optional[int] = ..., min_registry_position: _Optional[int] = ...) -> None: ...

class ListCalendarFeedsResponse(_message.Message):
    __slots__ = ("feeds", "next_page_token")
    FEEDS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    feeds: _containers.RepeatedCompositeFieldContainer[CalendarFeed]
    next_page_token: str
    def __init__(self, feeds: _Optional[_Iterable[_Union[CalendarFeed, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class CpdCredit(_message.Message):
    __slots__ = ("convening_id", "counts_for_cpd", "cpd_hours", "hours_from_duration", "version")
    CONVENING_ID_FIELD_NUMBER: _ClassVar[int]
    COUNTS_FOR_CPD_FIELD_NUMBER: _ClassVar[int]
    CPD_HOURS_FIELD_NUMBER: _ClassVar[int]
    HOURS_FROM_DURATION_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    convening_id: str
    counts_for_cpd: bool
    cpd_hours: float
    hours_from_duration: bool
    version: int
    def __init__(self, convening_id: _Optional[str] = ..., counts_for_cpd: _Optional[bool] = ..., cpd_hours: _Optional[float] = ..., hours_from_duration: _Optional[bool] = ..., version: _Optional[int] = ...) -> None: ...

class SetConveningCpdRequest(_message.Message):
    __slots__ = ("request_id", "convening_id", "counts_for_cpd", "cpd_hours", "expected_version", "min_registry_position")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CONVENING_ID_FIELD_NUMBER: _ClassVar[int]
    COUNTS_FOR_CPD_FIELD_NUMBER: _ClassVar[int]
    CPD_HOURS_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    MIN_REGISTRY_POSITION_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    convening_id: str
    counts_for_cpd: bool
    cpd_hours: float
    expected_version: int
    min_registry_position: int
    def __init__(self, request_id: _Optional[str] = ..., convening_id: _Optional[str] = ..., counts_for_cpd: _Optional[bool] = ..., cpd_hours: _Optional[float] = ..., expected_version: _Optional[int] = ..., min_registry_position: _Optional[int] = ...) -> None: ...

class SetConveningCpdResponse(_message.Message):
    __slots__ = ("credit", "position")
    CREDIT_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    credit: CpdCredit
    position: int
    def __init__(self, credit: _Optional[_Union[CpdCredit, _Mapping]] = ..., position: _Optional[int] = ...) -> None: ...

class GetCpdCertificateRequest(_message.Message):
    __slots__ = ("convening_id", "member_id", "min_registry_position")
    CONVENING_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    MIN_REGISTRY_POSITION_FIELD_NUMBER: _ClassVar[int]
    convening_id: str
    member_id: str
    min_registry_position: int
    def __init__(self, convening_id: _Optional[str] = ..., member_id: _Optional[str] = ..., min_registry_position: _Optional[int] = ...) -> None: ...

class GetCpdCertificateResponse(_message.Message):
    __slots__ = ("pdf", "content_type", "file_name", "verification_url")
    PDF_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    FILE_NAME_FIELD_NUMBER: _ClassVar[int]
    VERIFICATION_URL_FIELD_NUMBER: _ClassVar[int]
    pdf: bytes
    content_type: str
    file_name: str
    verification_url: str
    def __init__(self, pdf: _Optional[bytes] = ..., content_type: _Optional[str] = ..., file_name: _Optional[str] = ..., verification_url: _Optional[str] = ...) -> None: ...

class CpdActivity(_message.Message):
    __slots__ = ("convening_id", "community_id", "community_name", "title", "topic", "format", "date", "starts_at", "ends_at", "hours", "outcomes", "verification_url")
    CONVENING_ID_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_NAME_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    TOPIC_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    DATE_FIELD_NUMBER: _ClassVar[int]
    STARTS_AT_FIELD_NUMBER: _ClassVar[int]
    ENDS_AT_FIELD_NUMBER: _ClassVar[int]
    HOURS_FIELD_NUMBER: _ClassVar[int]
    OUTCOMES_FIELD_NUMBER: _ClassVar[int]
    VERIFICATION_URL_FIELD_NUMBER: _ClassVar[int]
    convening_id: str
    community_id: str
    community_name: str
    title: str
    topic: str
    format: str
    date: str
    starts_at: _timestamp_pb2.Timestamp
    ends_at: _timestamp_pb2.Timestamp
    hours: float
    outcomes: _containers.RepeatedScalarFieldContainer[str]
    verification_url: str
    def __init__(self, convening_id: _Optional[str] = ..., community_id: _Optional[str] = ..., community_name: _Optional[str] = ..., title: _Optional[str] = ..., topic: _Optional[str] = ..., format: _Optional[str] = ..., date: _Optional[str] = ..., starts_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., ends_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., hours: _Optional[float] = ..., outcomes: _Optional[_Iterable[str]] = ..., verification_url: _Optional[str] = ...) -> None: ...

class GetCpdRecordRequest(_message.Message):
    __slots__ = ("member_id", "from_date", "before_date", "min_position", "min_registry_position")
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_DATE_FIELD_NUMBER: _ClassVar[int]
    BEFORE_DATE_FIELD_NUMBER: _ClassVar[int]
    MIN_POSITION_FIELD_NUMBER: _ClassVar[int]
    MIN_REGISTRY_POSITION_FIELD_NUMBER: _ClassVar[int]
    member_id: str
    from_date: str
    before_date: str
    min_position: int
    min_registry_position: int
    def __init__(self, member_id: _Optional[str] = ..., from_date: _Optional[str] = ..., before_date: _Optional[str] = ..., min_position: _Optional[int] = ..., min_registry_position: _Optional[int] = ...) -> None: ...

class GetCpdRecordResponse(_message.Message):
    __slots__ = ("member_id", "member_name", "activities", "total_hours", "truncated")
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_NAME_FIELD_NUMBER: _ClassVar[int]
    ACTIVITIES_FIELD_NUMBER: _ClassVar[int]
    TOTAL_HOURS_FIELD_NUMBER: _ClassVar[int]
    TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    member_id: str
    member_name: str
    activities: _containers.RepeatedCompositeFieldContainer[CpdActivity]
    total_hours: float
    truncated: bool
    def __init__(self, member_id: _Optional[str] = ..., member_name: _Optional[str] = ..., activities: _Optional[_Iterable[_Union[CpdActivity, _Mapping]]] = ..., total_hours: _Optional[float] = ..., truncated: _Optional[bool] = ...) -> None: ...

class ExportCpdRecordRequest(_message.Message):
    __slots__ = ("member_id", "from_date", "before_date", "format", "min_position", "min_registry_position")
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_DATE_FIELD_NUMBER: _ClassVar[int]
    BEFORE_DATE_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    MIN_POSITION_FIELD_NUMBER: _ClassVar[int]
    MIN_REGISTRY_POSITION_FIELD_NUMBER: _ClassVar[int]
    member_id: str
    from_date: str
    before_date: str
    format: CpdRecordFormat
    min_position: int
    min_registry_position: int
    def __init__(self, member_id: _Optional[str] = ..., from_date: _Optional[str] = ..., before_date: _Optional[str] = ..., format: _Optional[_Union[CpdRecordFormat, str]] = ..., min_position: _Optional[int] = ..., min_registry_position: _Optional[int] = ...) -> None: ...

class ExportCpdRecordResponse(_message.Message):
    __slots__ = ("content", "content_type", "file_name")
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    FILE_NAME_FIELD_NUMBER: _ClassVar[int]
    content: bytes
    content_type: str
    file_name: str
    def __init__(self, content: _Optional[bytes] = ..., content_type: _Optional[str] = ..., file_name: _Optional[str] = ...) -> None: ...
