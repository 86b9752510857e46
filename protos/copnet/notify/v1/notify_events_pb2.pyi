import datetime

from copnet.notify.v1 import notify_pb2 as _notify_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class NotificationDelivered(_message.Message):
    __slots__ = ("notification_id", "member_id", "kind", "attempt", "delivered_at")
    NOTIFICATION_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    DELIVERED_AT_FIELD_NUMBER: _ClassVar[int]
    notification_id: str
    member_id: str
    kind: _notify_pb2.NotificationKind
    attempt: int
    delivered_at: _timestamp_pb2.Timestamp
    def __init__(self, notification_id: _Optional[str] = ..., member_id: _Optional[str] = ..., kind: _Optional[_Union[_notify_pb2.NotificationKind, str]] = ..., attempt: _Optional[int] = ..., delivered_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class NotificationFailed(_message.Message):
    __slots__ = ("notification_id", "member_id", "kind", "reason")
    NOTIFICATION_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    notification_id: str
    member_id: str
    kind: _notify_pb2.NotificationKind
    reason: str
    def __init__(self, notification_id: _Optional[str] = ..., member_id: _Optional[str] = ..., kind: _Optional[_Union[_notify_pb2.NotificationKind, str]] = ..., reason: _Optional[str] = ...) -> None: ...

class NotificationInDoubt(_message.Message):
    __slots__ = ("notification_id", "member_id", "kind", "reason")
    NOTIFICATION_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    notification_id: str
    member_id: str
    kind: _notify_pb2.NotificationKind
    reason: str
    def __init__(self, notification_id: _Optional[str] = ..., member_id: _Optional[str] = ..., kind: _Optional[_Union[_notify_pb2.NotificationKind, str]] = ..., reason: _Optional[str] = ...) -> None: ...

class PreferencesChanged(_message.Message):
    __slots__ = ("preferences",)
    PREFERENCES_FIELD_NUMBER: _ClassVar[int]
    preferences: _notify_pb2.Preferences
    def __init__(self, preferences: _Optional[_Union[_notify_pb2.Preferences, _Mapping]] = ...) -> None: ...

class NewsletterSent(_message.Message):
    __slots__ = ("newsletter_id", "community_id", "recipients")
    NEWSLETTER_ID_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    RECIPIENTS_FIELD_NUMBER: _ClassVar[int]
    newsletter_id: str
    community_id: str
    recipients: int
    def __init__(self, newsletter_id: _Optional[str] = ..., community_id: _Optional[str] = ..., recipients: _Optional[int] = ...) -> None: ...
