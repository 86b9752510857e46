"""Protobuf <-> domain enum pairs of the events service, shared by its servicer and its relay."""

from copnet.events.v1 import events_pb2 as pb
from copnet.registry.v1 import registry_pb2
from services.common.protoconv import EnumCodec
from services.events import values
from services.events.domain import FeedKind

FORMAT = EnumCodec(pb.ConveningFormat, values.Format)
STATUS = EnumCodec(pb.ConveningStatus, values.ConveningStatus)
SIGN_UP_STATUS = EnumCodec(pb.SignUpStatus, values.SignUpStatus)
ATTENDANCE = EnumCodec(pb.Attendance, values.Attendance)
OUTCOME_KIND = EnumCodec(pb.OutcomeKind, values.OutcomeKind)
GROUPING = EnumCodec(pb.AnalyticsGrouping, values.Grouping)
JOINING_POLICY = EnumCodec(registry_pb2.JoiningPolicy, values.JoiningPolicy)
LIFECYCLE = EnumCodec(registry_pb2.CommunityLifecycle, values.CommunityLifecycle)


def attendance_pb(value: str | None) -> pb.Attendance:
    """ATTENDANCE_UNSPECIFIED when not recorded."""
    return ATTENDANCE.to_pb(value) if value else pb.ATTENDANCE_UNSPECIFIED


FEED_KIND = EnumCodec(pb.CalendarFeedKind, FeedKind)
