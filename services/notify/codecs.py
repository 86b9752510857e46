"""Protobuf enums <-> the notify domain's enums."""

from copnet.notify.v1 import notify_pb2 as pb
from services.common.protoconv import EnumCodec
from services.notify.domain import AttemptOutcome, Frequency, Kind, NewsletterStatus, Status

FREQUENCY = EnumCodec(pb.Frequency, Frequency)
KIND = EnumCodec(pb.NotificationKind, Kind)
STATUS = EnumCodec(pb.DeliveryStatus, Status)
OUTCOME = EnumCodec(pb.AttemptOutcome, AttemptOutcome)
NEWSLETTER_STATUS = EnumCodec(pb.NewsletterStatus, NewsletterStatus)
