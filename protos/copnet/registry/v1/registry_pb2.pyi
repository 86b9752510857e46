import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class OrganisationKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ORGANISATION_KIND_UNSPECIFIED: _ClassVar[OrganisationKind]
    ORGANISATION_KIND_NHS_TRUST: _ClassVar[OrganisationKind]
    ORGANISATION_KIND_GP_PRACTICE: _ClassVar[OrganisationKind]
    ORGANISATION_KIND_COMMUNITY_PHARMACY: _ClassVar[OrganisationKind]
    ORGANISATION_KIND_INTEGRATED_CARE_SYSTEM: _ClassVar[OrganisationKind]
    ORGANISATION_KIND_COMMISSIONER: _ClassVar[OrganisationKind]
    ORGANISATION_KIND_VOLUNTARY_COMMUNITY_GROUP: _ClassVar[OrganisationKind]
    ORGANISATION_KIND_PATIENT_GROUP: _ClassVar[OrganisationKind]
    ORGANISATION_KIND_UNIVERSITY: _ClassVar[OrganisationKind]
    ORGANISATION_KIND_OTHER: _ClassVar[OrganisationKind]

class JoiningPolicy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    JOINING_POLICY_UNSPECIFIED: _ClassVar[JoiningPolicy]
    JOINING_POLICY_OPEN: _ClassVar[JoiningPolicy]
    JOINING_POLICY_APPROVAL: _ClassVar[JoiningPolicy]
    JOINING_POLICY_INVITE_ONLY: _ClassVar[JoiningPolicy]

class CommunityLifecycle(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    COMMUNITY_LIFECYCLE_UNSPECIFIED: _ClassVar[CommunityLifecycle]
    COMMUNITY_LIFECYCLE_FORMING: _ClassVar[CommunityLifecycle]
    COMMUNITY_LIFECYCLE_ACTIVE: _ClassVar[CommunityLifecycle]
    COMMUNITY_LIFECYCLE_DORMANT: _ClassVar[CommunityLifecycle]
    COMMUNITY_LIFECYCLE_CLOSED: _ClassVar[CommunityLifecycle]

class Profession(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PROFESSION_UNSPECIFIED: _ClassVar[Profession]
    PROFESSION_GP: _ClassVar[Profession]
    PROFESSION_PHARMACIST: _ClassVar[Profession]
    PROFESSION_NURSE: _ClassVar[Profession]
    PROFESSION_ALLIED_HEALTH_PROFESSIONAL: _ClassVar[Profession]
    PROFESSION_MANAGER: _ClassVar[Profession]
    PROFESSION_COMMISSIONER: _ClassVar[Profession]
    PROFESSION_PATIENT_PARTNER: _ClassVar[Profession]
    PROFESSION_OTHER: _ClassVar[Profession]

class MembershipStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MEMBERSHIP_STATUS_UNSPECIFIED: _ClassVar[MembershipStatus]
    MEMBERSHIP_STATUS_REQUESTED: _ClassVar[MembershipStatus]
    MEMBERSHIP_STATUS_INVITED: _ClassVar[MembershipStatus]
    MEMBERSHIP_STATUS_ACTIVE: _ClassVar[MembershipStatus]
    MEMBERSHIP_STATUS_REJECTED: _ClassVar[MembershipStatus]
    MEMBERSHIP_STATUS_DECLINED: _ClassVar[MembershipStatus]
    MEMBERSHIP_STATUS_LEFT: _ClassVar[MembershipStatus]
    MEMBERSHIP_STATUS_REMOVED: _ClassVar[MembershipStatus]

class Role(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ROLE_UNSPECIFIED: _ClassVar[Role]
    ROLE_MEMBER: _ClassVar[Role]
    ROLE_CO_LEAD: _ClassVar[Role]
    ROLE_STEERING_GROUP: _ClassVar[Role]
    ROLE_FACILITATOR: _ClassVar[Role]
    ROLE_PATIENT_PARTNER: _ClassVar[Role]
ORGANISATION_KIND_UNSPECIFIED: OrganisationKind
ORGANISATION_KIND_NHS_TRUST: OrganisationKind
ORGANISATION_KIND_GP_PRACTICE: OrganisationKind
ORGANISATION_KIND_COMMUNITY_PHARMACY: OrganisationKind
ORGANISATION_KIND_INTEGRATED_CARE_SYSTEM: OrganisationKind
ORGANISATION_KIND_COMMISSIONER: OrganisationKind
ORGANISATION_KIND_VOLUNTARY_COMMUNITY_GROUP: OrganisationKind
ORGANISATION_KIND_PATIENT_GROUP: OrganisationKind
ORGANISATION_KIND_UNIVERSITY: OrganisationKind
ORGANISATION_KIND_OTHER: OrganisationKind
JOINING_POLICY_UNSPECIFIED: JoiningPolicy
JOINING_POLICY_OPEN: JoiningPolicy
JOINING_POLICY_APPROVAL: JoiningPolicy
JOINING_POLICY_INVITE_ONLY: JoiningPolicy
COMMUNITY_LIFECYCLE_UNSPECIFIED: CommunityLifecycle
COMMUNITY_LIFECYCLE_FORMING: CommunityLifecycle
COMMUNITY_LIFECYCLE_ACTIVE: CommunityLifecycle
COMMUNITY_LIFECYCLE_DORMANT: CommunityLifecycle
COMMUNITY_LIFECYCLE_CLOSED: CommunityLifecycle
PROFESSION_UNSPECIFIED: Profession
PROFESSION_GP: Profession
PROFESSION_PHARMACIST: Profession
PROFESSION_NURSE: Profession
PROFESSION_ALLIED_HEALTH_PROFESSIONAL: Profession
PROFESSION_MANAGER: Profession
PROFESSION_COMMISSIONER: Profession
PROFESSION_PATIENT_PARTNER: Profession
PROFESSION_OTHER: Profession
MEMBERSHIP_STATUS_UNSPECIFIED: MembershipStatus
MEMBERSHIP_STATUS_REQUESTED: MembershipStatus
MEMBERSHIP_STATUS_INVITED: MembershipStatus
MEMBERSHIP_STATUS_ACTIVE: MembershipStatus
MEMBERSHIP_STATUS_REJECTED: MembershipStatus
MEMBERSHIP_STATUS_DECLINED: MembershipStatus
MEMBERSHIP_STATUS_LEFT: MembershipStatus
MEMBERSHIP_STATUS_REMOVED: MembershipStatus
ROLE_UNSPECIFIED: Role
ROLE_MEMBER: Role
ROLE_CO_LEAD: Role
ROLE_STEERING_GROUP: Role
ROLE_FACILITATOR: Role
ROLE_PATIENT_PARTNER: Role

class Organisation(_message.Message):
    __slots__ = ("organisation_id", "name", "kind", "region", "ods_code", "retired", "version", "created_at", "updated_at")
    ORGANISATION_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    ODS_CODE_FIELD_NUMBER: _ClassVar[int]
    RETIRED_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    organisation_id: str
    name: str
    kind: OrganisationKind
    region: str
    ods_code: str
    retired: bool
    version: int
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, organisation_id: _Optional[str] = ..., name: _Optional[str] = ..., kind: _Optional[_Union[OrganisationKind, str]] = ..., region: _Optional[str] = ..., ods_code: _Optional[str] = ..., retired: _Optional[bool] = ..., version: _Optional[int] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Community(_message.Message):
    __slots__ = ("community_id", "slug", "name", "domain", "purpose", "region", "host_organisation_ids", "joining_policy", "lifecycle", "version", "created_at", "updated_at")
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    SLUG_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    HOST_ORGANISATION_IDS_FIELD_NUMBER: _ClassVar[int]
    JOINING_POLICY_FIELD_NUMBER: _ClassVar[int]
    LIFECYCLE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    community_id: str
    slug: str
    name: str
    domain: str
    purpose: str
    region: str
    host_organisation_ids: _containers.RepeatedScalarFieldContainer[str]
    joining_policy: JoiningPolicy
    lifecycle: CommunityLifecycle
    version: int
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, community_id: _Optional[str] = ..., slug: _Optional[str] = ..., name: _Optional[str] = ..., domain: _Optional[str] = ..., purpose: _Optional[str] = ..., region: _Optional[str] = ..., host_organisation_ids: _Optional[_Iterable[str]] = ..., joining_policy: _Optional[_Union[JoiningPolicy, str]] = ..., lifecycle: _Optional[_Union[CommunityLifecycle, str]] = ..., version: _Optional[int] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Member(_message.Message):
    __slots__ = ("member_id", "display_name", "profession", "home_organisation_id", "email", "version", "created_at", "updated_at")
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    PROFESSION_FIELD_NUMBER: _ClassVar[int]
    HOME_ORGANISATION_ID_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    member_id: str
    display_name: str
    profession: Profession
    home_organisation_id: str
    email: str
    version: int
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, member_id: _Optional[str] = ..., display_name: _Optional[str] = ..., profession: _Optional[_Union[Profession, str]] = ..., home_organisation_id: _Optional[str] = ..., email: _Optional[str] = ..., version: _Optional[int] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RoleTerm(_message.Message):
    __slots__ = ("role", "start_date", "end_date")
    ROLE_FIELD_NUMBER: _ClassVar[int]
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    END_DATE_FIELD_NUMBER: _ClassVar[int]
    role: Role
    start_date: str
    end_date: str
    def __init__(self, role: _Optional[_Union[Role, str]] = ..., start_date: _Optional[str] = ..., end_date: _Optional[str] = ...) -> None: ...

class Membership(_message.Message):
    __slots__ = ("membership_id", "community_id", "member_id", "status", "role_terms", "version", "created_at", "updated_at")
    MEMBERSHIP_ID_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ROLE_TERMS_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    membership_id: str
    community_id: str
    member_id: str
    status: MembershipStatus
    role_terms: _containers.RepeatedCompositeFieldContainer[RoleTerm]
    version: int
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, membership_id: _Optional[str] = ..., community_id: _Optional[str] = ..., member_id: _Optional[str] = ..., status: _Optional[_Union[MembershipStatus, str]] = ..., role_terms: _Optional[_Iterable[_Union[RoleTerm, _Mapping]]] = ..., version: _Optional[int] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreateOrganisationRequest(_message.Message):
    __slots__ = ("request_id", "name", "kind", "region", "ods_code")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    ODS_CODE_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    name: str
    kind: OrganisationKind
    region: str
    ods_code: str
    def __init__(self, request_id: _Optional[str] = ..., name: _Optional[str] = ..., kind: _Optional[_Union[OrganisationKind, str]] = ..., region: _Optional[str] = ..., ods_code: _Optional[str] = ...) -> None: ...

class CreateOrganisationResponse(_message.Message):
    __slots__ = ("organisation", "position")
    ORGANISATION_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    organisation: Organisation
    position: int
    def __init__(self, organisation: _Optional[_Union[Organisation, _Mapping]] = ..., position: _Optional[int] = ...) -> None: ...

class UpdateOrganisationRequest(_message.Message):
    __slots__ = ("request_id", "organisation_id", "name", "kind", "region", "ods_code", "expected_version")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ORGANISATION_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    ODS_CODE_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    organisation_id: str
    name: str
    kind: OrganisationKind
    region: str
    ods_code: str
    expected_version: int
    def __init__(self, request_id: _Optional[str] = ..., organisation_id: _Optional[str] = ..., name: _Optional[str] = ..., kind: _Optional[_Union[OrganisationKind, str]] = ..., region: _Optional[str] = ..., ods_code: _Optional[str] = ..., expected_version: _Optional[int] = ...) -> None: ...

class UpdateOrganisationResponse(_message.Message):
    __slots__ = ("organisation", "position")
    ORGANISATION_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    organisation: Organisation
    position: int
    def __init__(self, organisation: _Optional[_Union[Organisation, _Mapping]] = ..., position: _Optional[int] = ...) -> None: ...

class RetireOrganisationRequest(_message.Message):
    __slots__ = ("request_id", "organisation_id", "expected_version")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ORGANISATION_ID_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    organisation_id: str
    expected_version: int
    def __init__(self, request_id: _Optional[str] = ..., organisation_id: _Optional[str] = ..., expected_version: _Optional[int] = ...) -> None: ...

class RetireOrganisationResponse(_message.Message):
    __slots__ = ("organisation", "position")
    ORGANISATION_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    organisation: Organisation
    position: int
    def __init__(self, organisation: _Optional[_Union[Organisation, _Mapping]] = ..., position: _Optional[int] = ...) -> None: ...

class GetOrganisationRequest(_message.Message):
    __slots__ = ("organisation_id",)
    ORGANISATION_ID_FIELD_NUMBER: _ClassVar[int]
    organisation_id: str
    def __init__(self, organisation_id: _Optional[str] = ...) -> None: ...

class GetOrganisationResponse(_message.Message):
    __slots__ = ("organisation",)
    ORGANISATION_FIELD_NUMBER: _ClassVar[int]
    organisation: Organisation
    def __init__(self, organisation: _Optional[_Union[Organisation, _Mapping]] = ...) -> None: ...

class ListOrganisationsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "region", "kind", "include_retired", "min_position")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_RETIRED_FIELD_NUMBER: _ClassVar[int]
    MIN_POSITION_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    region: str
    kind: OrganisationKind
    include_retired: bool
    min_position: int
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., region: _Optional[str] = ..., kind: _Optional[_Union[OrganisationKind, str]] = ..., include_retired: _Optional[bool] = ..., min_position: _Optional[int] = ...) -> None: ...

class ListOrganisationsResponse(_message.Message):
    __slots__ = ("organisations", "next_page_token")
    ORGANISATIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    organisations: _containers.RepeatedCompositeFieldContainer[Organisation]
    next_page_token: str
    def __init__(self, organisations: _Optional[_Iterable[_Union[Organisation, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class CreateCommunityRequest(_message.Message):
    __slots__ = ("request_id", "slug", "name", "domain", "purpose", "region", "host_organisation_ids", "joining_policy")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    SLUG_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    HOST_ORGANISATION_IDS_FIELD_NUMBER: _ClassVar[int]
    JOINING_POLICY_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    slug: str
    name: str
    domain: str
    purpose: str
    region: str
    host_organisation_ids: _containers.RepeatedScalarFieldContainer[str]
    joining_policy: JoiningPolicy
    def __init__(self, request_id: _Optional[str] = ..., slug: _Optional[str] = ..., name: _Optional[str] = ..., domain: _Optional[str] = ..., purpose: _Optional[str] = ..., region: _Optional[str] = ..., host_organisation_ids: _Optional[_Iterable[str]] = ..., joining_policy: _Optional[_Union[JoiningPolicy, str]] = ...) -> None: ...

class CreateCommunityResponse(_message.Message):
    __slots__ = ("community", "position")
    COMMUNITY_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    community: Community
    position: int
    def __init__(self, community: _Optional[_Union[Community, _Mapping]] = ..., position: _Optional[int] = ...) -> None: ...

class UpdateCommunityRequest(_message.Message):
    __slots__ = ("request_id", "community_id", "name", "domain", "purpose", "region", "joining_policy", "replace_host_organisations", "host_organisation_ids", "expected_version")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    JOINING_POLICY_FIELD_NUMBER: _ClassVar[int]
    REPLACE_HOST_ORGANISATIONS_FIELD_NUMBER: _ClassVar[int]
    HOST_ORGANISATION_IDS_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    community_id: str
    name: str
    domain: str
    purpose: str
    region: str
    joining_policy: JoiningPolicy
    replace_host_organisations: bool
    host_organisation_ids: _containers.RepeatedScalarFieldContainer[str]
    expected_version: int
    def __init__(self, request_id: _Optional[str] = ..., community_id: _Optional[str] = ..., name: _Optional[str] = ..., domain: _Optional[str] = ..., purpose: _Optional[str] = ..., region: _Optional[str] = ..., joining_policy: _Optional[_Union[JoiningPolicy, str]] = ..., replace_host_organisations: _Optional[bool] = ..., host_organisation_ids: _Optional[_Iterable[str]] = ..., expected_version: _Optional[int] = ...) -> None: ...

class UpdateCommunityResponse(_message.Message):
    __slots__ = ("community", "position")
    COMMUNITY_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    community: Community
    position: int
    def __init__(self, community: _Optional[_Union[Community, _Mapping]] = ..., position: _Optional[int] = ...) -> None: ...

class ChangeCommunityLifecycleRequest(_message.Message):
    __slots__ = ("request_id", "community_id", "lifecycle", "reason", "expected_version")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    LIFECYCLE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    community_id: str
    lifecycle: CommunityLifecycle
    reason: str
    expected_version: int
    def __init__(self, request_id: _Optional[str] = ..., community_id: _Optional[str] = ..., lifecycle: _Optional[_Union[CommunityLifecycle, str]] = ..., reason: _Optional[str] = ..., expected_version: _Optional[int] = ...) -> None: ...

class ChangeCommunityLifecycleResponse(_message.Message):
    __slots__ = ("community", "position")
    COMMUNITY_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    community: Community
    position: int
    def __init__(self, community: _Optional[_Union[Community, _Mapping]] = ..., position: _Optional[int] = ...) -> None: ...

class GetCommunityRequest(_message.Message):
    __slots__ = ("community_id", "slug")
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    SLUG_FIELD_NUMBER: _ClassVar[int]
    community_id: str
    slug: str
    def __init__(self, community_id: _Optional[str] = ..., slug: _Optional[str] = ...) -> None: ...

class GetCommunityResponse(_message.Message):
    __slots__ = ("community",)
    COMMUNITY_FIELD_NUMBER: _ClassVar[int]
    community: Community
    def __init__(self, community: _Optional[_Union[Community, _Mapping]] = ...) -> None: ...

class ListCommunitiesRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "region", "domain", "organisation_id", "lifecycle", "min_position")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    ORGANISATION_ID_FIELD_NUMBER: _ClassVar[int]
    LIFECYCLE_FIELD_NUMBER: _ClassVar[int]
    MIN_POSITION_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    region: str
    domain: str
    organisation_id: str
    lifecycle: CommunityLifecycle
    min_position: int
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., region: _Optional[str] = ..., domain: _Optional[str] = ..., organisation_id: _Optional[str] = ..., lifecycle: _Optional[_Union[CommunityLifecycle, str]] = ..., min_position: _Optional[int] = ...) -> None: ...

class ListCommunitiesResponse(_message.Message):
    __slots__ = ("communities", "next_page_token")
    COMMUNITIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    communities: _containers.RepeatedCompositeFieldContainer[Community]
    next_page_token: str
    def __init__(self, communities: _Optional[_Iterable[_Union[Community, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class RegisterMemberRequest(_message.Message):
    __slots__ = ("request_id", "display_name", "profession", "home_organisation_id", "email")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    PROFESSION_FIELD_NUMBER: _ClassVar[int]
    HOME_ORGANISATION_ID_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    display_name: str
    profession: Profession
    home_organisation_id: str
    email: str
    def __init__(self, request_id: _Optional[str] = ..., display_name: _Optional[str] = ..., profession: _Optional[_Union[Profession, str]] = ..., home_organisation_id: _Optional[str] = ..., email: _Optional[str] = ...) -> None: ...

class RegisterMemberResponse(_message.Message):
    __slots__ = ("member", "position")
    MEMBER_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    member: Member
    position: int
    def __init__(self, member: _Optional[_Union[Member, _Mapping]] = ..., position: _Optional[int] = ...) -> None: ...

class UpdateMemberRequest(_message.Message):
    __slots__ = ("request_id", "member_id", "display_name", "profession", "home_organisation_id", "email", "expected_version")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    PROFESSION_FIELD_NUMBER: _ClassVar[int]
    HOME_ORGANISATION_ID_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    member_id: str
    display_name: str
    profession: Profession
    home_organisation_id: str
    email: str
    expected_version: int
    def __init__(self, request_id: _Optional[str] = ..., member_id: _Optional[str] = ..., display_name: _Optional[str] = ..., profession: _Optional[_Union[Profession, str]] = ..., home_organisation_id: _Optional[str] = ..., email: _Optional[str] = ..., expected_version: _Optional[int] = ...) -> None: ...

class UpdateMemberResponse(_message.Message):
    __slots__ = ("member", "position")
    MEMBER_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    member: Member
    position: int
    def __init__(self, member: _Optional[_Union[Member, _Mapping]] = ..., position: _Optional[int] = ...) -> None: ...

class GetMemberRequest(_message.Message):
    __slots__ = ("member_id",)
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    member_id: str
    def __init__(self, member_id: _Optional[str] = ...) -> None: ...

class GetMemberResponse(_message.Message):
    __slots__ = ("member",)
    MEMBER_FIELD_NUMBER: _ClassVar[int]
    member: Member
    def __init__(self, member: _Optional[_Union[Member, _Mapping]] = ...) -> None: ...

class ListMembersRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "organisation_id", "profession", "min_position")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    ORGANISATION_ID_FIELD_NUMBER: _ClassVar[int]
    PROFESSION_FIELD_NUMBER: _ClassVar[int]
    MIN_POSITION_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    organisation_id: str
    profession: Profession
    min_position: int
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., organisation_id: _Optional[str] = ..., profession: _Optional[_Union[Profession, str]] = ..., min_position: _Optional[int] = ...) -> None: ...

class ListMembersResponse(_message.Message):
    __slots__ = ("members", "next_page_token")
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    members: _containers.RepeatedCompositeFieldContainer[Member]
    next_page_token: str
    def __init__(self, members: _Optional[_Iterable[_Union[Member, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class JoinCommunityRequest(_message.Message):
    __slots__ = ("request_id", "community_id", "member_id")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    community_id: str
    member_id: str
    def __init__(self, request_id: _Optional[str] = ..., community_id: _Optional[str] = ..., member_id: _Optional[str] = ...) -> None: ...

class JoinCommunityResponse(_message.Message):
    __slots__ = ("membership", "position")
    MEMBERSHIP_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    membership: Membership
    position: int
    def __init__(self, membership: _Optional[_Union[Membership, _Mapping]] = ..., position: _Optional[int] = ...) -> None: ...

class RequestMembershipRequest(_message.Message):
    __slots__ = ("request_id", "community_id", "member_id", "message")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    community_id: str
    member_id: str
    message: str
    def __init__(self, request_id: _Optional[str] = ..., community_id: _Optional[str] = ..., member_id: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class RequestMembershipResponse(_message.Message):
    __slots__ = ("membership", "position")
    MEMBERSHIP_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    membership: Membership
    position: int
    def __init__(self, membership: _Optional[_Union[Membership, _Mapping]] = ..., position: _Optional[int] = ...) -> None: ...

class ApproveMembershipRequestRequest(_message.Message):
    __slots__ = ("request_id", "community_id", "member_id")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    community_id: str
    member_id: str
    def __init__(self, request_id: _Optional[str] = ..., community_id: _Optional[str] = ..., member_id: _Optional[str] = ...) -> None: ...

class ApproveMembershipRequestResponse(_message.Message):
    __slots__ = ("membership", "position")
    MEMBERSHIP_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    membership: Membership
    position: int
    def __init__(self, membership: _Optional[_Union[Membership, _Mapping]] = ..., position: _Optional[int] = ...) -> None: ...

class RejectMembershipRequestRequest(_message.Message):
    __slots__ = ("request_id", "community_id", "member_id", "reason")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    community_id: str
    member_id: str
    reason: str
    def __init__(self, request_id: _Optional[str] = ..., community_id: _Optional[str] = ..., member_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class RejectMembershipRequestResponse(_message.Message):
    __slots__ = ("membership", "position")
    MEMBERSHIP_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    membership: Membership
    position: int
    def __init__(self, membership: _Optional[_Union[Membership, _Mapping]] = ..., position: _Optional[int] = ...) -> None: ...

class InviteMemberRequest(_message.Message):
    __slots__ = ("request_id", "community_id", "member_id")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    community_id: str
    member_id: str
    def __init__(self, request_id: _Optional[str] = ..., community_id: _Optional[str] = ..., member_id: _Optional[str] = ...) -> None: ...

class InviteMemberResponse(_message.Message):
    __slots__ = ("membership", "position")
    MEMBERSHIP_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    membership: Membership
    position: int
    def __init__(self, membership: _Optional[_Union[Membership, _Mapping]] = ..., position: _Optional[int] = ...) -> None: ...

class AcceptInvitationRequest(_message.Message):
    __slots__ = ("request_id", "community_id")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    community_id: str
    def __init__(self, request_id: _Optional[str] = ..., community_id: _Optional[str] = ...) -> None: ...

class AcceptInvitationResponse(_message.Message):
    __slots__ = ("membership", "position")
    MEMBERSHIP_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    membership: Membership
    position: int
    def __init__(self, membership: _Optional[_Union[Membership, _Mapping]] = ..., position: _Optional[int] = ...) -> None: ...

class DeclineInvitationRequest(_message.Message):
    __slots__ = ("request_id", "community_id")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    community_id: str
    def __init__(self, request_id: _Optional[str] = ..., community_id: _Optional[str] = ...) -> None: ...

class DeclineInvitationResponse(_message.Message):
    __slots__ = ("membership", "position")
    MEMBERSHIP_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    membership: Membership
    position: int
    def __init__(self, membership: _Optional[_Union[Membership, _Mapping]] = ..., position: _Optional[int] = ...) -> None: ...

class LeaveCommunityRequest(_message.Message):
    __slots__ = ("request_id", "community_id")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    community_id: str
    def __init__(self, request_id: _Optional[str] = ..., community_id: _Optional[str] = ...) -> None: ...

class LeaveCommunityResponse(_message.Message):
    __slots__ = ("membership", "position")
    MEMBERSHIP_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    membership: Membership
    position: int
    def __init__(self, membership: _Optional[_Union[Membership, _Mapping]] = ..., position: _Optional[int] = ...) -> None: ...

class RemoveMemberRequest(_message.Message):
    __slots__ = ("request_id", "community_id", "member_id", "reason")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    community_id: str
    member_id: str
    reason: str
    def __init__(self, request_id: _Optional[str] = ..., community_id: _Optional[str] = ..., member_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class RemoveMemberResponse(_message.Message):
    __slots__ = ("membership", "position")
    MEMBERSHIP_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    membership: Membership
    position: int
    def __init__(self, membership: _Optional[_Union[Membership, _Mapping]] = ..., position: _Optional[int] = ...) -> None: ...

class AssignRoleRequest(_message.Message):
    __slots__ = ("request_id", "community_id", "member_id", "role", "start_date")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    community_id: str
    member_id: str
    role: Role
    start_date: str
    def __init__(self, request_id: _Optional[str] = ..., community_id: _Optional[str] = ..., member_id: _Optional[str] = ..., role: _Optional[_Union[Role, str]] = ..., start_date: _Optional[str] = ...) -> None: ...

class AssignRoleResponse(_message.Message):
    __slots__ = ("membership", "position")
    MEMBERSHIP_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    membership: Membership
    position: int
    def __init__(self, membership: _Optional[_Union[Membership, _Mapping]] = ..., position: _Optional[int] = ...) -> None: ...

class EndRoleRequest(_message.Message):
    __slots__ = ("request_id", "community_id", "member_id", "role", "end_date")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    END_DATE_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    community_id: str
    member_id: str
    role: Role
    end_date: str
    def __init__(self, request_id: _Optional[str] = ..., community_id: _Optional[str] = ..., member_id: _Optional[str] = ..., role: _Optional[_Union[Role, str]] = ..., end_date: _Optional[str] = ...) -> None: ...

class EndRoleResponse(_message.Message):
    __slots__ = ("membership", "position")
    MEMBERSHIP_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    membership: Membership
    position: int
    def __init__(self, membership: _Optional[_Union[Membership, _Mapping]] = ..., position: _Optional[int] = ...) -> None: ...

class GetMembershipRequest(_message.Message):
    __slots__ = ("community_id", "member_id")
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    community_id: str
    member_id: str
    def __init__(self, community_id: _Optional[str] = ..., member_id: _Optional[str] = ...) -> None: ...

class GetMembershipResponse(_message.Message):
    __slots__ = ("membership",)
    MEMBERSHIP_FIELD_NUMBER: _ClassVar[int]
    membership: Membership
    def __init__(self, membership: _Optional[_Union[Membership, _Mapping]] = ...) -> None: ...

class ListMembershipsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "community_id", "member_id", "status", "role", "as_of", "min_position")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    MIN_POSITION_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    community_id: str
    member_id: str
    status: MembershipStatus
    role: Role
    as_of: str
    min_position: int
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., community_id: _Optional[str] = ..., member_id: _Optional[str] = ..., status: _Optional[_Union[MembershipStatus, str]] = ..., role: _Optional[_Union[Role, str]] = ..., as_of: _Optional[str] = ..., min_position: _Optional[int] = ...) -> None: ...

class ListMembershipsResponse(_message.Message):
    __slots__ = ("memberships", "next_page_token")
    MEMBERSHIPS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    memberships: _containers.RepeatedCompositeFieldContainer[Membership]
    next_page_token: str
    def __init__(self, memberships: _Optional[_Iterable[_Union[Membership, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListEntityHistoryRequest(_message.Message):
    __slots__ = ("entity_id", "page_size", "page_token")
    ENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    entity_id: str
    page_size: int
    page_token: str
    def __init__(self, entity_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class HistoryEntry(_message.Message):
    __slots__ = ("version", "event_type", "occurred_at", "actor", "changes")
    class ChangesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    VERSION_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    version: int
    event_type: str
    occurred_at: _timestamp_pb2.Timestamp
    actor: str
    changes: _containers.ScalarMap[str, str]
    def __init__(self, version: _Optional[int] = ..., event_type: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., actor: _Optional[str] = ..., changes: _Optional[_Mapping[str, str]] = ...) -> None: ...

class ListEntityHistoryResponse(_message.Message):
    __slots__ = ("entries", "next_page_token")
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[HistoryEntry]
    next_page_token: str
    def __init__(self, entries: _Optional[_Iterable[_Union[HistoryEntry, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class EraseMemberRequest(_message.Message):
    __slots__ = ("request_id", "member_id", "confirm")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    CONFIRM_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    member_id: str
    confirm: bool
    def __init__(self, request_id: _Optional[str] = ..., member_id: _Optional[str] = ..., confirm: _Optional[bool] = ...) -> None: ...

class EraseMemberResponse(_message.Message):
    __slots__ = ("member_id", "position")
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    member_id: str
    position: int
    def __init__(self, member_id: _Optional[str] = ..., position: _Optional[int] = ...) -> None: ...

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
