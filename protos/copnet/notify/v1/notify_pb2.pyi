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

class Frequency(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FREQUENCY_UNSPECIFIED: _ClassVar[Frequency]
    FREQUENCY_IMMEDIATELY: _ClassVar[Frequency]
    FREQUENCY_DAILY_DIGEST: _ClassVar[Frequency]
    FREQUENCY_WEEKLY_DIGEST: _ClassVar[Frequency]
    FREQUENCY_NEVER: _ClassVar[Frequency]

class NotificationKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    NOTIFICATION_KIND_UNSPECIFIED: _ClassVar[NotificationKind]
    NOTIFICATION_KIND_INVITATION: _ClassVar[NotificationKind]
    NOTIFICATION_KIND_CONVENING_UPDATE: _ClassVar[NotificationKind]
    NOTIFICATION_KIND_CONVENING_CANCELLED: _ClassVar[NotificationKind]
    NOTIFICATION_KIND_REMINDER: _ClassVar[NotificationKind]
    NOTIFICATION_KIND_PLACE_CONFIRMED: _ClassVar[NotificationKind]
    NOTIFICATION_KIND_LEARNING: _ClassVar[NotificationKind]
    NOTIFICATION_KIND_DIGEST: _ClassVar[NotificationKind]
    NOTIFICATION_KIND_NEWSLETTER: _ClassVar[NotificationKind]

class DeliveryStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DELIVERY_STATUS_UNSPECIFIED: _ClassVar[DeliveryStatus]
    DELIVERY_STATUS_PENDING: _ClassVar[DeliveryStatus]
    DELIVERY_STATUS_SENDING: _ClassVar[DeliveryStatus]
    DELIVERY_STATUS_SENT: _ClassVar[DeliveryStatus]
    DELIVERY_STATUS_FAILED: _ClassVar[DeliveryStatus]
    DELIVERY_STATUS_IN_DOUBT: _ClassVar[DeliveryStatus]
    DELIVERY_STATUS_CANCELLED: _ClassVar[DeliveryStatus]
    DELIVERY_STATUS_SKIPPED: _ClassVar[DeliveryStatus]

class AttemptOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ATTEMPT_OUTCOME_UNSPECIFIED: _ClassVar[AttemptOutcome]
    ATTEMPT_OUTCOME_OPEN: _ClassVar[AttemptOutcome]
    ATTEMPT_OUTCOME_DELIVERED: _ClassVar[AttemptOutcome]
    ATTEMPT_OUTCOME_TEMPORARY_FAILURE: _ClassVar[AttemptOutcome]
    ATTEMPT_OUTCOME_PERMANENT_FAILURE: _ClassVar[AttemptOutcome]
    ATTEMPT_OUTCOME_IN_DOUBT: _ClassVar[AttemptOutcome]

class NewsletterStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    NEWSLETTER_STATUS_UNSPECIFIED: _ClassVar[NewsletterStatus]
    NEWSLETTER_STATUS_DRAFT: _ClassVar[NewsletterStatus]
    NEWSLETTER_STATUS_SENT: _ClassVar[NewsletterStatus]
FREQUENCY_UNSPECIFIED: Frequency
FREQUENCY_IMMEDIATELY: Frequency
FREQUENCY_DAILY_DIGEST: Frequency
FREQUENCY_WEEKLY_DIGEST: Frequency
FREQUENCY_NEVER: Frequency
NOTIFICATION_KIND_UNSPECIFIED: NotificationKind
NOTIFICATION_KIND_INVITATION: NotificationKind
NOTIFICATION_KIND_CONVENING_UPDATE: NotificationKind
NOTIFICATION_KIND_CONVENING_CANCELLED: NotificationKind
NOTIFICATION_KIND_REMINDER: NotificationKind
NOTIFICATION_KIND_PLACE_CONFIRMED: NotificationKind
NOTIFICATION_KIND_LEARNING: NotificationKind
NOTIFICATION_KIND_DIGEST: NotificationKind
NOTIFICATION_KIND_NEWSLETTER: NotificationKind
DELIVERY_STATUS_UNSPECIFIED: DeliveryStatus
DELIVERY_STATUS_PENDING: DeliveryStatus
DELIVERY_STATUS_SENDING: DeliveryStatus
DELIVERY_STATUS_SENT: DeliveryStatus
DELIVERY_STATUS_FAILED: DeliveryStatus
DELIVERY_STATUS_IN_DOUBT: DeliveryStatus
DELIVERY_STATUS_CANCELLED: DeliveryStatus
DELIVERY_STATUS_SKIPPED: DeliveryStatus
ATTEMPT_OUTCOME_UNSPECIFIED: AttemptOutcome
ATTEMPT_OUTCOME_OPEN: AttemptOutcome
ATTEMPT_OUTCOME_DELIVERED: AttemptOutcome
ATTEMPT_OUTCOME_TEMPORARY_FAILURE: AttemptOutcome
ATTEMPT_OUTCOME_PERMANENT_FAILURE: AttemptOutcome
ATTEMPT_OUTCOME_IN_DOUBT: AttemptOutcome
NEWSLETTER_STATUS_UNSPECIFIED: NewsletterStatus
NEWSLETTER_STATUS_DRAFT: NewsletterStatus
NEWSLETTER_STATUS_SENT: NewsletterStatus

class Preferences(_message.Message):
    __slots__ = ("member_id", "invitations", "my_sign_ups", "learning", "newsletters", "learning_domains", "learning_communities", "learning_from_my_communities", "newsletter_opt_outs", "reminder_hours_before", "default_reminder_hours_before", "version", "updated_at")
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    INVITATIONS_FIELD_NUMBER: _ClassVar[int]
    MY_SIGN_UPS_FIELD_NUMBER: _ClassVar[int]
    LEARNING_FIELD_NUMBER: _ClassVar[int]
    NEWSLETTERS_FIELD_NUMBER: _ClassVar[int]
    LEARNING_DOMAINS_FIELD_NUMBER: _ClassVar[int]
    LEARNING_COMMUNITIES_FIELD_NUMBER: _ClassVar[int]
    LEARNING_FROM_MY_COMMUNITIES_FIELD_NUMBER: _ClassVar[int]
    NEWSLETTER_OPT_OUTS_FIELD_NUMBER: _ClassVar[int]
    REMINDER_HOURS_BEFORE_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_REMINDER_HOURS_BEFORE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    member_id: str
    invitations: Frequency
    my_sign_ups: Frequency
    learning: Frequency
    newsletters: Frequency
    learning_domains: _containers.RepeatedScalarFieldContainer[str]
    learning_communities: _containers.RepeatedScalarFieldContainer[str]
    learning_from_my_communities: bool
    newsletter_opt_outs: _containers.RepeatedScalarFieldContainer[str]
    reminder_hours_before: int
    default_reminder_hours_before: int
    version: int
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, member_id: _Optional[str] = ..., invitations: _Optional[_Union[Frequency, str]] = ..., my_sign_ups: _Optional[_Union[Frequency, str]] = ..., learning: _Optional[_Union[Frequency, str]] = ..., newsletters: _Optional[_Union[Frequency, str]] = ..., learning_domains: _Optional[_Iterable[str]] = ..., learning_communities: _Optional[_Iterable[str]] = ..., learning_from_my_communities: _Optional[bool] = ..., newsletter_opt_outs: _Optional[_Iterable[str]] = ..., reminder_hours_before: _Optional[int] = ..., default_reminder_hours_before: _Optional[int] = ..., version: _Optional[int] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetPreferencesRequest(_message.Message):
    __slots__ = ("member_id", "min_registry_position")
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    MIN_REGISTRY_POSITION_FIELD_NUMBER: _ClassVar[int]
    member_id: str
    min_registry_position: int
    def __init__(self, member_id: _Optional[str] = ..., min_registry_position: _Optional[int] = ...) -> None: ...

class GetPreferencesResponse(_message.Message):
    __slots__ = ("preferences",)
    PREFERENCES_FIELD_NUMBER: _ClassVar[int]
    preferences: Preferences
    def __init__(self, preferences: _Optional[_Union[Preferences, _Mapping]] = ...) -> None: ...

class SetPreferencesRequest(_message.Message):
    __slots__ = ("request_id", "preferences", "update_mask", "expected_version", "min_registry_position")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PREFERENCES_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    MIN_REGISTRY_POSITION_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    preferences: Preferences
    update_mask: _field_mask_pb2.FieldMask
    expected_version: int
    min_registry_position: int
    def __init__(self, request_id: _Optional[str] = ..., preferences: _Optional[_Union[Preferences, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ..., expected_version: _Optional[int] = ..., min_registry_position: _Optional[int] = ...) -> None: ...

class SetPreferencesResponse(_message.Message):
    __slots__ = ("preferences", "position")
    PREFERENCES_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    preferences: Preferences
    position: int
    def __init__(self, preferences: _Optional[_Union[Preferences, _Mapping]] = ..., position: _Optional[int] = ...) -> None: ...

class UnsubscribeRequest(_message.Message):
    __slots__ = ("request_id", "token", "min_registry_position")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    MIN_REGISTRY_POSITION_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    token: str
    min_registry_position: int
    def __init__(self, request_id: _Optional[str] = ..., token: _Optional[str] = ..., min_registry_position: _Optional[int] = ...) -> None: ...

class UnsubscribeResponse(_message.Message):
    __slots__ = ("preferences", "description", "position")
    PREFERENCES_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    preferences: Preferences
    description: str
    position: int
    def __init__(self, preferences: _Optional[_Union[Preferences, _Mapping]] = ..., description: _Optional[str] = ..., position: _Optional[int] = ...) -> None: ...

class DeliveryAttempt(_message.Message):
    __slots__ = ("attempt", "started_at", "finished_at", "outcome", "detail")
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    FINISHED_AT_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    attempt: int
    started_at: _timestamp_pb2.Timestamp
    finished_at: _timestamp_pb2.Timestamp
    outcome: AttemptOutcome
    detail: str
    def __init__(self, attempt: _Optional[int] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., finished_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., outcome: _Optional[_Union[AttemptOutcome, str]] = ..., detail: _Optional[str] = ...) -> None: ...

class Notification(_message.Message):
    __slots__ = ("notification_id", "member_id", "kind", "subject", "status", "status_reason", "due_at", "retry_at", "message_id", "attempts", "convening_id", "newsletter_id", "item_id", "digest_frequency", "digest_period", "entry_count", "created_at", "updated_at", "version")
    NOTIFICATION_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    STATUS_REASON_FIELD_NUMBER: _ClassVar[int]
    DUE_AT_FIELD_NUMBER: _ClassVar[int]
    RETRY_AT_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    CONVENING_ID_FIELD_NUMBER: _ClassVar[int]
    NEWSLETTER_ID_FIELD_NUMBER: _ClassVar[int]
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FREQUENCY_FIELD_NUMBER: _ClassVar[int]
    DIGEST_PERIOD_FIELD_NUMBER: _ClassVar[int]
    ENTRY_COUNT_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    notification_id: str
    member_id: str
    kind: NotificationKind
    subject: str
    status: DeliveryStatus
    status_reason: str
    due_at: _timestamp_pb2.Timestamp
    retry_at: _timestamp_pb2.Timestamp
    message_id: str
    attempts: _containers.RepeatedCompositeFieldContainer[DeliveryAttempt]
    convening_id: str
    newsletter_id: str
    item_id: str
    digest_frequency: Frequency
    digest_period: str
    entry_count: int
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    version: int
    def __init__(self, notification_id: _Optional[str] = ..., member_id: _Optional[str] = ..., kind: _Optional[_Union[NotificationKind, str]] = ..., subject: _Optional[str] = ..., status: _Optional[_Union[DeliveryStatus, str]] = ..., status_reason: _Optional[str] = ..., due_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., retry_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., message_id: _Optional[str] = ..., attempts: _Optional[_Iterable[_Union[DeliveryAttempt, _Mapping]]] = ..., convening_id: _Optional[str] = ..., newsletter_id: _Optional[str] = ..., item_id: _Optional[str] = ..., digest_frequency: _Optional[_Union[Frequency, str]] = ..., digest_period: _Optional[str] = ..., entry_count: _Optional[int] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., version: _Optional[int] = ...) -> None: ...

class ListNotificationsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "member_id", "status", "kind", "min_position", "min_registry_position")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    MIN_POSITION_FIELD_NUMBER: _ClassVar[int]
    MIN_REGISTRY_POSITION_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    member_id: str
    status: DeliveryStatus
    kind: NotificationKind
    min_position: int
    min_registry_position: int
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., member_id: _Optional[str] = ..., status: _Optional[_Union[DeliveryStatus, str]] = ..., kind: _Optional[_Union[NotificationKind, str]] = ..., min_position: _Optional[int] = ..., min_registry_position: _Optional[int] = ...) -> None: ...

class ListNotificationsResponse(_message.Message):
    __slots__ = ("notifications", "next_page_token")
    NOTIFICATIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    notifications: _containers.RepeatedCompositeFieldContainer[Notification]
    next_page_token: str
    def __init__(self, notifications: _Optional[_Iterable[_Union[Notification, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetNotificationRequest(_message.Message):
    __slots__ = ("notification_id", "min_registry_position")
    NOTIFICATION_ID_FIELD_NUMBER: _ClassVar[int]
    MIN_REGISTRY_POSITION_FIELD_NUMBER: _ClassVar[int]
    notification_id: str
    min_registry_position: int
    def __init__(self, notification_id: _Optional[str] = ..., min_registry_position: _Optional[int] = ...) -> None: ...

class GetNotificationResponse(_message.Message):
    __slots__ = ("notification",)
    NOTIFICATION_FIELD_NUMBER: _ClassVar[int]
    notification: Notification
    def __init__(self, notification: _Optional[_Union[Notification, _Mapping]] = ...) -> None: ...

class ResendNotificationRequest(_message.Message):
    __slots__ = ("request_id", "notification_id", "min_registry_position")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    NOTIFICATION_ID_FIELD_NUMBER: _ClassVar[int]
    MIN_REGISTRY_POSITION_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    notification_id: str
    min_registry_position: int
    def __init__(self, request_id: _Optional[str] = ..., notification_id: _Optional[str] = ..., min_registry_position: _Optional[int] = ...) -> None: ...

class ResendNotificationResponse(_message.Message):
    __slots__ = ("notification", "position")
    NOTIFICATION_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    notification: Notification
    position: int
    def __init__(self, notification: _Optional[_Union[Notification, _Mapping]] = ..., position: _Optional[int] = ...) -> None: ...

class Newsletter(_message.Message):
    __slots__ = ("newsletter_id", "community_id", "community_name", "subject", "body", "status", "author_member_id", "recipients", "created_at", "sent_at", "version")
    NEWSLETTER_ID_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_NAME_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    RECIPIENTS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    SENT_AT_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    newsletter_id: str
    community_id: str
    community_name: str
    subject: str
    body: str
    status: NewsletterStatus
    author_member_id: str
    recipients: int
    created_at: _timestamp_pb2.Timestamp
    sent_at: _timestamp_pb2.Timestamp
    version: int
    def __init__(self, newsletter_id: _Optional[str] = ..., community_id: _Optional[str] = ..., community_name: _Optional[str] = ..., subject: _Optional[str] = ..., body: _Optional[str] = ..., status: _Optional[_Union[NewsletterStatus, str]] = ..., author_member_id: _Optional[str] = ..., recipients: _Optional[int] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., sent_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., version: _Optional[int] = ...) -> None: ...

class ComposeNewsletterRequest(_message.Message):
    __slots__ = ("request_id", "community_id", "subject", "body", "min_registry_position")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    MIN_REGISTRY_POSITION_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    community_id: str
    subject: str
    body: str
    min_registry_position: int
    def __init__(self, request_id: _Optional[str] = ..., community_id: _Optional[str] = ..., subject: _Optional[str] = ..., body: _Optional[str] = ..., min_registry_position: _Optional[int] = ...) -> None: ...

class ComposeNewsletterResponse(_message.Message):
    __slots__ = ("newsletter", "position")
    NEWSLETTER_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    newsletter: Newsletter
    position: int
    def __init__(self, newsletter: _Optional[_Union[Newsletter, _Mapping]] = ..., position: _Optional[int] = ...) -> None: ...

class SendNewsletterRequest(_message.Message):
    __slots__ = ("request_id", "newsletter_id", "expected_version", "min_registry_position")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    NEWSLETTER_ID_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    MIN_REGISTRY_POSITION_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    newsletter_id: str
    expected_version: int
    min_registry_position: int
    def __init__(self, request_id: _Optional[str] = ..., newsletter_id: _Optional[str] = ..., expected_version: _Optional[int] = ..., min_registry_position: _Optional[int] = ...) -> None: ...

class SendNewsletterResponse(_message.Message):
    __slots__ = ("newsletter", "position")
    NEWSLETTER_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    newsletter: Newsletter
    position: int
    def __init__(self, newsletter: _Optional[_Union[Newsletter, _Mapping]] = ..., position: _Optional[int] = ...) -> None: ...

class GetNewsletterRequest(_message.Message):
    __slots__ = ("newsletter_id", "min_registry_position")
    NEWSLETTER_ID_FIELD_NUMBER: _ClassVar[int]
    MIN_REGISTRY_POSITION_FIELD_NUMBER: _ClassVar[int]
    newsletter_id: str
    min_registry_position: int
    def __init__(self, newsletter_id: _Optional[str] = ..., min_registry_position: _Optional[int] = ...) -> None: ...

class GetNewsletterResponse(_message.Message):
    __slots__ = ("newsletter",)
    NEWSLETTER_FIELD_NUMBER: _ClassVar[int]
    newsletter: Newsletter
    def __init__(self, newsletter: _Optional[_Union[Newsletter, _Mapping]] = ...) -> None: ...

class ListNewslettersRequest(_message.Message):
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

class ListNewslettersResponse(_message.Message):
    __slots__ = ("newsletters", "next_page_token")
    NEWSLETTERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    newsletters: _containers.RepeatedCompositeFieldContainer[Newsletter]
    next_page_token: str
    def __init__(self, newsletters: _Optional[_Iterable[_Union[Newsletter, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class PreviewDigestRequest(_message.Message):
    __slots__ = ("member_id", "min_registry_position")
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    MIN_REGISTRY_POSITION_FIELD_NUMBER: _ClassVar[int]
    member_id: str
    min_registry_position: int
    def __init__(self, member_id: _Optional[str] = ..., min_registry_position: _Optional[int] = ...) -> None: ...

class DigestPreview(_message.Message):
    __slots__ = ("frequency", "period", "due_at", "entry_count", "subject", "text", "html")
    FREQUENCY_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    DUE_AT_FIELD_NUMBER: _ClassVar[int]
    ENTRY_COUNT_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    HTML_FIELD_NUMBER: _ClassVar[int]
    frequency: Frequency
    period: str
    due_at: _timestamp_pb2.Timestamp
    entry_count: int
    subject: str
    text: str
    html: str
    def __init__(self, frequency: _Optional[_Union[Frequency, str]] = ..., period: _Optional[str] = ..., due_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., entry_count: _Optional[int] = ..., subject: _Optional[str] = ..., text: _Optional[str] = ..., html: _Optional[str] = ...) -> None: ...

class PreviewDigestResponse(_message.Message):
    __slots__ = ("digests",)
    DIGESTS_FIELD_NUMBER: _ClassVar[int]
    digests: _containers.RepeatedCompositeFieldContainer[DigestPreview]
    def __init__(self, digests: _Optional[_Iterable[_Union[DigestPreview, _Mapping]]] = ...) -> None: ...

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
