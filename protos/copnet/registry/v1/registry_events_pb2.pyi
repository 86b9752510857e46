from copnet.registry.v1 import registry_pb2 as _registry_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class OrganisationRegistered(_message.Message):
    __slots__ = ("organisation_id", "name", "kind", "region", "ods_code")
    ORGANISATION_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    ODS_CODE_FIELD_NUMBER: _ClassVar[int]
    organisation_id: str
    name: str
    kind: _registry_pb2.OrganisationKind
    region: str
    ods_code: str
    def __init__(self, organisation_id: _Optional[str] = ..., name: _Optional[str] = ..., kind: _Optional[_Union[_registry_pb2.OrganisationKind, str]] = ..., region: _Optional[str] = ..., ods_code: _Optional[str] = ...) -> None: ...

class OrganisationRenamed(_message.Message):
    __slots__ = ("organisation_id", "name")
    ORGANISATION_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    organisation_id: str
    name: str
    def __init__(self, organisation_id: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class OrganisationKindChanged(_message.Message):
    __slots__ = ("organisation_id", "kind")
    ORGANISATION_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    organisation_id: str
    kind: _registry_pb2.OrganisationKind
    def __init__(self, organisation_id: _Optional[str] = ..., kind: _Optional[_Union[_registry_pb2.OrganisationKind, str]] = ...) -> None: ...

class OrganisationRegionChanged(_message.Message):
    __slots__ = ("organisation_id", "region")
    ORGANISATION_ID_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    organisation_id: str
    region: str
    def __init__(self, organisation_id: _Optional[str] = ..., region: _Optional[str] = ...) -> None: ...

class OrganisationOdsCodeChanged(_message.Message):
    __slots__ = ("organisation_id", "ods_code")
    ORGANISATION_ID_FIELD_NUMBER: _ClassVar[int]
    ODS_CODE_FIELD_NUMBER: _ClassVar[int]
    organisation_id: str
    ods_code: str
    def __init__(self, organisation_id: _Optional[str] = ..., ods_code: _Optional[str] = ...) -> None: ...

class OrganisationRetired(_message.Message):
    __slots__ = ("organisation_id",)
    ORGANISATION_ID_FIELD_NUMBER: _ClassVar[int]
    organisation_id: str
    def __init__(self, organisation_id: _Optional[str] = ...) -> None: ...

class CommunityCreated(_message.Message):
    __slots__ = ("community_id", "slug", "name", "domain", "purpose", "region", "host_organisation_ids", "joining_policy")
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    SLUG_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    HOST_ORGANISATION_IDS_FIELD_NUMBER: _ClassVar[int]
    JOINING_POLICY_FIELD_NUMBER: _ClassVar[int]
    community_id: str
    slug: str
    name: str
    domain: str
    purpose: str
    region: str
    host_organisation_ids: _containers.RepeatedScalarFieldContainer[str]
    joining_policy: _registry_pb2.JoiningPolicy
    def __init__(self, community_id: _Optional[str] = ..., slug: _Optional[str] = ..., name: _Optional[str] = ..., domain: _Optional[str] = ..., purpose: _Optional[str] = ..., region: _Optional[str] = ..., host_organisation_ids: _Optional[_Iterable[str]] = ..., joining_policy: _Optional[_Union[_registry_pb2.JoiningPolicy, str]] = ...) -> None: ...

class CommunityDetailsChanged(_message.Message):
    __slots__ = ("community_id", "name", "domain", "purpose", "region")
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    community_id: str
    name: str
    domain: str
    purpose: str
    region: str
    def __init__(self, community_id: _Optional[str] = ..., name: _Optional[str] = ..., domain: _Optional[str] = ..., purpose: _Optional[str] = ..., region: _Optional[str] = ...) -> None: ...

class CommunityHostsChanged(_message.Message):
    __slots__ = ("community_id", "host_organisation_ids")
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    HOST_ORGANISATION_IDS_FIELD_NUMBER: _ClassVar[int]
    community_id: str
    host_organisation_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, community_id: _Optional[str] = ..., host_organisation_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class CommunityJoiningPolicyChanged(_message.Message):
    __slots__ = ("community_id", "joining_policy")
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    JOINING_POLICY_FIELD_NUMBER: _ClassVar[int]
    community_id: str
    joining_policy: _registry_pb2.JoiningPolicy
    def __init__(self, community_id: _Optional[str] = ..., joining_policy: _Optional[_Union[_registry_pb2.JoiningPolicy, str]] = ...) -> None: ...

class CommunityLifecycleChanged(_message.Message):
    __slots__ = ("community_id", "lifecycle", "reason")
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    LIFECYCLE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    community_id: str
    lifecycle: _registry_pb2.CommunityLifecycle
    reason: str
    def __init__(self, community_id: _Optional[str] = ..., lifecycle: _Optional[_Union[_registry_pb2.CommunityLifecycle, str]] = ..., reason: _Optional[str] = ...) -> None: ...

class MemberRegistered(_message.Message):
    __slots__ = ("member_id", "display_name", "profession", "home_organisation_id", "email")
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    PROFESSION_FIELD_NUMBER: _ClassVar[int]
    HOME_ORGANISATION_ID_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    member_id: str
    display_name: str
    profession: _registry_pb2.Profession
    home_organisation_id: str
    email: str
    def __init__(self, member_id: _Optional[str] = ..., display_name: _Optional[str] = ..., profession: _Optional[_Union[_registry_pb2.Profession, str]] = ..., home_organisation_id: _Optional[str] = ..., email: _Optional[str] = ...) -> None: ...

class MemberErased(_message.Message):
    __slots__ = ("member_id",)
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    member_id: str
    def __init__(self, member_id: _Optional[str] = ...) -> None: ...

class MemberDetailsChanged(_message.Message):
    __slots__ = ("member_id", "display_name", "profession")
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    PROFESSION_FIELD_NUMBER: _ClassVar[int]
    member_id: str
    display_name: str
    profession: _registry_pb2.Profession
    def __init__(self, member_id: _Optional[str] = ..., display_name: _Optional[str] = ..., profession: _Optional[_Union[_registry_pb2.Profession, str]] = ...) -> None: ...

class MemberEmailChanged(_message.Message):
    __slots__ = ("member_id", "email")
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    member_id: str
    email: str
    def __init__(self, member_id: _Optional[str] = ..., email: _Optional[str] = ...) -> None: ...

class MemberHomeOrganisationChanged(_message.Message):
    __slots__ = ("member_id", "home_organisation_id")
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    HOME_ORGANISATION_ID_FIELD_NUMBER: _ClassVar[int]
    member_id: str
    home_organisation_id: str
    def __init__(self, member_id: _Optional[str] = ..., home_organisation_id: _Optional[str] = ...) -> None: ...

class MembershipStatusChanged(_message.Message):
    __slots__ = ("membership_id", "community_id", "member_id", "status", "effective_date", "note")
    MEMBERSHIP_ID_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    EFFECTIVE_DATE_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    membership_id: str
    community_id: str
    member_id: str
    status: _registry_pb2.MembershipStatus
    effective_date: str
    note: str
    def __init__(self, membership_id: _Optional[str] = ..., community_id: _Optional[str] = ..., member_id: _Optional[str] = ..., status: _Optional[_Union[_registry_pb2.MembershipStatus, str]] = ..., effective_date: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class RoleAssigned(_message.Message):
    __slots__ = ("membership_id", "community_id", "member_id", "role", "start_date")
    MEMBERSHIP_ID_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    membership_id: str
    community_id: str
    member_id: str
    role: _registry_pb2.Role
    start_date: str
    def __init__(self, membership_id: _Optional[str] = ..., community_id: _Optional[str] = ..., member_id: _Optional[str] = ..., role: _Optional[_Union[_registry_pb2.Role, str]] = ..., start_date: _Optional[str] = ...) -> None: ...

class RoleEnded(_message.Message):
    __slots__ = ("membership_id", "community_id", "member_id", "role", "end_date")
    MEMBERSHIP_ID_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    END_DATE_FIELD_NUMBER: _ClassVar[int]
    membership_id: str
    community_id: str
    member_id: str
    role: _registry_pb2.Role
    end_date: str
    def __init__(self, membership_id: _Optional[str] = ..., community_id: _Optional[str] = ..., member_id: _Optional[str] = ..., role: _Optional[_Union[_registry_pb2.Role, str]] = ..., end_date: _Optional[str] = ...) -> None: ...
