import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ItemKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ITEM_KIND_UNSPECIFIED: _ClassVar[ItemKind]
    ITEM_KIND_QUALITY_IMPROVEMENT_PROJECT: _ClassVar[ItemKind]
    ITEM_KIND_RESOURCE: _ClassVar[ItemKind]
    ITEM_KIND_CASE_STUDY: _ClassVar[ItemKind]
    ITEM_KIND_REPLICABLE_MODEL: _ClassVar[ItemKind]
    ITEM_KIND_SHADOWING_OPPORTUNITY: _ClassVar[ItemKind]
    ITEM_KIND_WEBINAR_RECORDING: _ClassVar[ItemKind]
    ITEM_KIND_TOOLKIT: _ClassVar[ItemKind]

class ItemStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ITEM_STATUS_UNSPECIFIED: _ClassVar[ItemStatus]
    ITEM_STATUS_DRAFT: _ClassVar[ItemStatus]
    ITEM_STATUS_PUBLISHED: _ClassVar[ItemStatus]
    ITEM_STATUS_WITHDRAWN: _ClassVar[ItemStatus]

class Visibility(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VISIBILITY_UNSPECIFIED: _ClassVar[Visibility]
    VISIBILITY_NODE: _ClassVar[Visibility]
    VISIBILITY_REGION: _ClassVar[Visibility]
    VISIBILITY_PARTNERS: _ClassVar[Visibility]

class AdoptionStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ADOPTION_STATUS_UNSPECIFIED: _ClassVar[AdoptionStatus]
    ADOPTION_STATUS_EXPLORING: _ClassVar[AdoptionStatus]
    ADOPTION_STATUS_PILOTING: _ClassVar[AdoptionStatus]
    ADOPTION_STATUS_ADOPTED: _ClassVar[AdoptionStatus]
    ADOPTION_STATUS_ABANDONED: _ClassVar[AdoptionStatus]
ITEM_KIND_UNSPECIFIED: ItemKind
ITEM_KIND_QUALITY_IMPROVEMENT_PROJECT: ItemKind
ITEM_KIND_RESOURCE: ItemKind
ITEM_KIND_CASE_STUDY: ItemKind
ITEM_KIND_REPLICABLE_MODEL: ItemKind
ITEM_KIND_SHADOWING_OPPORTUNITY: ItemKind
ITEM_KIND_WEBINAR_RECORDING: ItemKind
ITEM_KIND_TOOLKIT: ItemKind
ITEM_STATUS_UNSPECIFIED: ItemStatus
ITEM_STATUS_DRAFT: ItemStatus
ITEM_STATUS_PUBLISHED: ItemStatus
ITEM_STATUS_WITHDRAWN: ItemStatus
VISIBILITY_UNSPECIFIED: Visibility
VISIBILITY_NODE: Visibility
VISIBILITY_REGION: Visibility
VISIBILITY_PARTNERS: Visibility
ADOPTION_STATUS_UNSPECIFIED: AdoptionStatus
ADOPTION_STATUS_EXPLORING: AdoptionStatus
ADOPTION_STATUS_PILOTING: AdoptionStatus
ADOPTION_STATUS_ADOPTED: AdoptionStatus
ADOPTION_STATUS_ABANDONED: AdoptionStatus

class Link(_message.Message):
    __slots__ = ("title", "url")
    TITLE_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    title: str
    url: str
    def __init__(self, title: _Optional[str] = ..., url: _Optional[str] = ...) -> None: ...

class Presentation(_message.Message):
    __slots__ = ("convening_id", "title", "presented_on")
    CONVENING_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    PRESENTED_ON_FIELD_NUMBER: _ClassVar[int]
    convening_id: str
    title: str
    presented_on: str
    def __init__(self, convening_id: _Optional[str] = ..., title: _Optional[str] = ..., presented_on: _Optional[str] = ...) -> None: ...

class Adoption(_message.Message):
    __slots__ = ("node_id", "organisation_id", "organisation_name", "status", "evidence", "effective_on", "reported_at")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    ORGANISATION_ID_FIELD_NUMBER: _ClassVar[int]
    ORGANISATION_NAME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    EFFECTIVE_ON_FIELD_NUMBER: _ClassVar[int]
    REPORTED_AT_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    organisation_id: str
    organisation_name: str
    status: AdoptionStatus
    evidence: str
    effective_on: str
    reported_at: _timestamp_pb2.Timestamp
    def __init__(self, node_id: _Optional[str] = ..., organisation_id: _Optional[str] = ..., organisation_name: _Optional[str] = ..., status: _Optional[_Union[AdoptionStatus, str]] = ..., evidence: _Optional[str] = ..., effective_on: _Optional[str] = ..., reported_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Reception(_message.Message):
    __slots__ = ("node_id", "received_at")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_AT_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    received_at: _timestamp_pb2.Timestamp
    def __init__(self, node_id: _Optional[str] = ..., received_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class LearningItem(_message.Message):
    __slots__ = ("item_id", "origin_node", "local", "kind", "status", "revision", "title", "summary", "body", "links", "domain_tags", "community_id", "community_name", "organisation_id", "organisation_name", "contributor_member_ids", "visibility", "partner_nodes", "presentations", "adoptions", "published_at", "updated_at", "received_at", "version", "withdrawn_reason")
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_NODE_FIELD_NUMBER: _ClassVar[int]
    LOCAL_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    LINKS_FIELD_NUMBER: _ClassVar[int]
    DOMAIN_TAGS_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_NAME_FIELD_NUMBER: _ClassVar[int]
    ORGANISATION_ID_FIELD_NUMBER: _ClassVar[int]
    ORGANISATION_NAME_FIELD_NUMBER: _ClassVar[int]
    CONTRIBUTOR_MEMBER_IDS_FIELD_NUMBER: _ClassVar[int]
    VISIBILITY_FIELD_NUMBER: _ClassVar[int]
    PARTNER_NODES_FIELD_NUMBER: _ClassVar[int]
    PRESENTATIONS_FIELD_NUMBER: _ClassVar[int]
    ADOPTIONS_FIELD_NUMBER: _ClassVar[int]
    PUBLISHED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_AT_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    WITHDRAWN_REASON_FIELD_NUMBER: _ClassVar[int]
    item_id: str
    origin_node: str
    local: bool
    kind: ItemKind
    status: ItemStatus
    revision: int
    title: str
    summary: str
    body: str
    links: _containers.RepeatedCompositeFieldContainer[Link]
    domain_tags: _containers.RepeatedScalarFieldContainer[str]
    community_id: str
    community_name: str
    organisation_id: str
    organisation_name: str
    contributor_member_ids: _containers.RepeatedScalarFieldContainer[str]
    visibility: Visibility
    partner_nodes: _containers.RepeatedScalarFieldContainer[str]
    presentations: _containers.RepeatedCompositeFieldContainer[Presentation]
    adoptions: _containers.RepeatedCompositeFieldContainer[Adoption]
    published_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    received_at: _timestamp_pb2.Timestamp
    version: int
    withdrawn_reason: str
    def __init__(self, item_id: _Optional[str] = ..., origin_node: _Optional[str] = ..., local: _Optional[bool] = ..., kind: _Optional[_Union[ItemKind, str]] = ..., status: _Optional[_Union[ItemStatus, str]] = ..., revision: _Optional[int] = ..., title: _Optional[str] = ..., summary: _Optional[str] = ..., body: _Optional[str] = ..., links: _Optional[_Iterable[_Union[Link, _Mapping]]] = ..., domain_tags: _Optional[_Iterable[str]] = ..., community_id: _Optional[str] = ..., community_name: _Optional[str] = ..., organisation_id: _Optional[str] = ..., organisation_name: _Optional[str] = ..., contributor_member_ids: _Optional[_Iterable[str]] = ..., visibility: _Optional[_Union[Visibility, str]] = ..., partner_nodes: _Optional[_Iterable[str]] = ..., presentations: _Optional[_Iterable[_Union[Presentation, _Mapping]]] = ..., adoptions: _Optional[_Iterable[_Union[Adoption, _Mapping]]] = ..., published_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., received_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., version: _Optional[int] = ..., withdrawn_reason: _Optional[str] = ...) -> None: ...

class Revision(_message.Message):
    __slots__ = ("revision", "title", "summary", "body", "links", "domain_tags", "note", "revised_at")
    REVISION_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    LINKS_FIELD_NUMBER: _ClassVar[int]
    DOMAIN_TAGS_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    REVISED_AT_FIELD_NUMBER: _ClassVar[int]
    revision: int
    title: str
    summary: str
    body: str
    links: _containers.RepeatedCompositeFieldContainer[Link]
    domain_tags: _containers.RepeatedScalarFieldContainer[str]
    note: str
    revised_at: _timestamp_pb2.Timestamp
    def __init__(self, revision: _Optional[int] = ..., title: _Optional[str] = ..., summary: _Optional[str] = ..., body: _Optional[str] = ..., links: _Optional[_Iterable[_Union[Link, _Mapping]]] = ..., domain_tags: _Optional[_Iterable[str]] = ..., note: _Optional[str] = ..., revised_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreateItemRequest(_message.Message):
    __slots__ = ("request_id", "kind", "title", "summary", "body", "links", "domain_tags", "community_id", "organisation_id", "contributor_member_ids", "visibility", "partner_nodes", "min_registry_position")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    LINKS_FIELD_NUMBER: _ClassVar[int]
    DOMAIN_TAGS_FIELD_NUMBER: _ClassVar[int]
    COMMUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    ORGANISATION_ID_FIELD_NUMBER: _ClassVar[int]
    CONTRIBUTOR_MEMBER_IDS_FIELD_NUMBER: _ClassVar[int]
    VISIBILITY_FIELD_NUMBER: _ClassVar[int]
    PARTNER_NODES_FIELD_NUMBER: _ClassVar[int]
    MIN_REGISTRY_POSITION_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    kind: ItemKind
    title: str
    summary: str
    body: str
    links: _containers.RepeatedCompositeFieldContainer[Link]
    domain_tags: _containers.RepeatedScalarFieldContainer[str]
    community_id: str
    organisation_id: str
    contributor_member_ids: _containers.RepeatedScalarFieldContainer[str]
    visibility: Visibility
    partner_nodes: _containers.RepeatedScalarFieldContainer[str]
    min_registry_position: int
    def __init__(self, request_id: _Optional[str] = ..., kind: _Optional[_Union[ItemKind, str]] = ..., title: _Optional[str] = ..., summary: _Optional[str] = ..., body: _Optional[str] = ..., links: _Optional[_Iterable[_Union[Link, _Mapping]]] = ..., domain_tags: _Optional[_Iterable[str]] = ..., community_id: _Optional[str] = ..., organisation_id: _Optional[str] = ..., contributor_member_ids: _Optional[_Iterable[str]] = ..., visibility: _Optional[_Union[Visibility, str]] = ..., partner_nodes: _Optional[_Iterable[str]] = ..., min_registry_position: _Optional[int] = ...) -> None: ...

class CreateItemResponse(_message.Message):
    __slots__ = ("item", "position")
    ITEM_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    item: LearningItem
    position: int
    def __init__(self, item: _Optional[_Union[LearningItem, _Mapping]] = ..., position: _Optional[int] = ...) -> None: ...

class UpdateDraftRequest(_message.Message):
    __slots__ = ("request_id", "item_id", "title", "summary", "body", "replace_links", "links", "replace_domain_tags", "domain_tags", "expected_version", "min_registry_position")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    REPLACE_LINKS_FIELD_NUMBER: _ClassVar[int]
    LINKS_FIELD_NUMBER: _ClassVar[int]
    REPLACE_DOMAIN_TAGS_FIELD_NUMBER: _ClassVar[int]
    DOMAIN_TAGS_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    MIN_REGISTRY_POSITION_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    item_id: str
    title: str
    summary: str
    body: str
    replace_links: bool
    links: _containers.RepeatedCompositeFieldContainer[Link]
    replace_domain_tags: bool
    domain_tags: _containers.RepeatedScalarFieldContainer[str]
    expected_version: int
    min_registry_position: int
    def __init__(self, request_id: _Optional[str] = ..., item_id: _Optional[str] = ..., title: _Optional[str] = ..., summary: _Optional[str] = ..., body: _Optional[str] = ..., replace_links: _Optional[bool] = ..., links: _Optional[_Iterable[_Union[Link, _Mapping]]] = ..., replace_domain_tags: _Optional[bool] = ..., domain_tags: _Optional[_Iterable[str]] = ..., expected_version: _Optional[int] = ..., min_registry_position: _Optional[int] = ...) -> None: ...

class UpdateDraftResponse(_message.Message):
    __slots__ = ("item", "position")
    ITEM_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    item: LearningItem
    position: int
    def __init__(self, item: _Optional[_Union[LearningItem, _Mapping]] = ..., position: _Optional[int] = ...) -> None: ...

class PublishItemRequest(_message.Message):
    __slots__ = ("request_id", "item_id", "expected_version", "min_registry_position")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    MIN_REGISTRY_POSITION_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    item_id: str
    expected_version: int
    min_registry_position: int
    def __init__(self, request_id: _Optional[str] = ..., item_id: _Optional[str] = ..., expected_version: _Optional[int] = ..., min_registry_position: _Optional[int] = ...) -> None: ...

class PublishItemResponse(_message.Message):
    __slots__ = ("item", "position")
    ITEM_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    item: LearningItem
    position: int
    def __init__(self, item: _Optional[_Union[LearningItem, _Mapping]] = ..., position: _Optional[int] = ...) -> None: ...

class ReviseItemRequest(_message.Message):
    __slots__ = ("request_id", "item_id", "title", "summary", "body", "replace_links", "links", "replace_domain_tags", "domain_tags", "note", "expected_version", "min_registry_position")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    REPLACE_LINKS_FIELD_NUMBER: _ClassVar[int]
    LINKS_FIELD_NUMBER: _ClassVar[int]
    REPLACE_DOMAIN_TAGS_FIELD_NUMBER: _ClassVar[int]
    DOMAIN_TAGS_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    MIN_REGISTRY_POSITION_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    item_id: str
    title: str
    summary: str
    body: str
    replace_links: bool
    links: _containers.RepeatedCompositeFieldContainer[Link]
    replace_domain_tags: bool
    domain_tags: _containers.RepeatedScalarFieldContainer[str]
    note: str
    expected_version: int
    min_registry_position: int
    def __init__(self, request_id: _Optional[str] = ..., item_id: _Optional[str] = ..., title: _Optional[str] = ..., summary: _Optional[str] = ..., body: _Optional[str] = ..., replace_links: _Optional[bool] = ..., links: _Optional[_Iterable[_Union[Link, _Mapping]]] = ..., replace_domain_tags: _Optional[bool] = ..., domain_tags: _Optional[_Iterable[str]] = ..., note: _Optional[str] = ..., expected_version: _Optional[int] = ..., min_registry_position: _Optional[int] = ...) -> None: ...

class ReviseItemResponse(_message.Message):
    __slots__ = ("item", "position")
    ITEM_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    item: LearningItem
    position: int
    def __init__(self, item: _Optional[_Union[LearningItem, _Mapping]] = ..., position: _Optional[int] = ...) -> None: ...

class WithdrawItemRequest(_message.Message):
    __slots__ = ("request_id", "item_id", "reason", "expected_version", "min_registry_position")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    MIN_REGISTRY_POSITION_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    item_id: str
    reason: str
    expected_version: int
    min_registry_position: int
    def __init__(self, request_id: _Optional[str] = ..., item_id: _Optional[str] = ..., reason: _Optional[str] = ..., expected_version: _Optional[int] = ..., min_registry_position: _Optional[int] = ...) -> None: ...

class WithdrawItemResponse(_message.Message):
    __slots__ = ("item", "position")
    ITEM_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    item: LearningItem
    position: int
    def __init__(self, item: _Optional[_Union[LearningItem, _Mapping]] = ..., position: _Optional[int] = ...) -> None: ...

class ChangeVisibilityRequest(_message.Message):
    __slots__ = ("request_id", "item_id", "visibility", "partner_nodes", "expected_version", "min_registry_position")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    VISIBILITY_FIELD_NUMBER: _ClassVar[int]
    PARTNER_NODES_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    MIN_REGISTRY_POSITION_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    item_id: str
    visibility: Visibility
    partner_nodes: _containers.RepeatedScalarFieldContainer[str]
    expected_version: int
    min_registry_position: int
    def __init__(self, request_id: _Optional[str] = ..., item_id: _Optional[str] = ..., visibility: _Optional[_Union[Visibility, str]] = ..., partner_nodes: _Optional[_Iterable[str]] = ..., expected_version: _Optional[int] = ..., min_registry_position: _Optional[int] = ...) -> None: ...

class ChangeVisibilityResponse(_message.Message):
    __slots__ = ("item", "position")
    ITEM_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    item: LearningItem
    position: int
    def __init__(self, item: _Optional[_Union[LearningItem, _Mapping]] = ..., position: _Optional[int] = ...) -> None: ...

class RecordPresentationRequest(_message.Message):
    __slots__ = ("request_id", "item_id", "convening_id", "title", "presented_on", "min_registry_position")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    CONVENING_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    PRESENTED_ON_FIELD_NUMBER: _ClassVar[int]
    MIN_REGISTRY_POSITION_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    item_id: str
    convening_id: str
    title: str
    presented_on: str
    min_registry_position: int
    def __init__(self, request_id: _Optional[str] = ..., item_id: _Optional[str] = ..., convening_id: _Optional[str] = ..., title: _Optional[str] = ..., presented_on: _Optional[str] = ..., min_registry_position: _Optional[int] = ...) -> None: ...

class RecordPresentationResponse(_message.Message):
    __slots__ = ("item", "position")
    ITEM_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    item: LearningItem
    position: int
    def __init__(self, item: _Optional[_Union[LearningItem, _Mapping]] = ..., position: _Optional[int] = ...) -> None: ...

class GetItemRequest(_message.Message):
    __slots__ = ("item_id", "min_position", "min_registry_position")
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    MIN_POSITION_FIELD_NUMBER: _ClassVar[int]
    MIN_REGISTRY_POSITION_FIELD_NUMBER: _ClassVar[int]
    item_id: str
    min_position: int
    min_registry_position: int
    def __init__(self, item_id: _Optional[str] = ..., min_position: _Optional[int] = ..., min_registry_position: _Optional[int] = ...) -> None: ...

class GetItemResponse(_message.Message):
    __slots__ = ("item",)
    ITEM_FIELD_NUMBER: _ClassVar[int]
    item: LearningItem
    def __init__(self, item: _Optional[_Union[LearningItem, _Mapping]] = ...) -> None: ...

class ListRevisionsRequest(_message.Message):
    __slots__ = ("item_id", "min_position", "min_registry_position")
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    MIN_POSITION_FIELD_NUMBER: _ClassVar[int]
    MIN_REGISTRY_POSITION_FIELD_NUMBER: _ClassVar[int]
    item_id: str
    min_position: int
    min_registry_position: int
    def __init__(self, item_id: _Optional[str] = ..., min_position: _Optional[int] = ..., min_registry_position: _Optional[int] = ...) -> None: ...

class ListRevisionsResponse(_message.Message):
    __slots__ = ("revisions",)
    REVISIONS_FIELD_NUMBER: _ClassVar[int]
    revisions: _containers.RepeatedCompositeFieldContainer[Revision]
    def __init__(self, revisions: _Optional[_Iterable[_Union[Revision, _Mapping]]] = ...) -> None: ...

class SearchCatalogueRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "text", "domain_tag", "kind", "origin_node", "organisation_id", "published_from", "published_until", "include_withdrawn", "min_position", "min_registry_position")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    DOMAIN_TAG_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_NODE_FIELD_NUMBER: _ClassVar[int]
    ORGANISATION_ID_FIELD_NUMBER: _ClassVar[int]
    PUBLISHED_FROM_FIELD_NUMBER: _ClassVar[int]
    PUBLISHED_UNTIL_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_WITHDRAWN_FIELD_NUMBER: _ClassVar[int]
    MIN_POSITION_FIELD_NUMBER: _ClassVar[int]
    MIN_REGISTRY_POSITION_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    text: str
    domain_tag: str
    kind: ItemKind
    origin_node: str
    organisation_id: str
    published_from: str
    published_until: str
    include_withdrawn: bool
    min_position: int
    min_registry_position: int
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., text: _Optional[str] = ..., domain_tag: _Optional[str] = ..., kind: _Optional[_Union[ItemKind, str]] = ..., origin_node: _Optional[str] = ..., organisation_id: _Optional[str] = ..., published_from: _Optional[str] = ..., published_until: _Optional[str] = ..., include_withdrawn: _Optional[bool] = ..., min_position: _Optional[int] = ..., min_registry_position: _Optional[int] = ...) -> None: ...

class SearchCatalogueResponse(_message.Message):
    __slots__ = ("items", "next_page_token")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[LearningItem]
    next_page_token: str
    def __init__(self, items: _Optional[_Iterable[_Union[LearningItem, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class DeclareAdoptionRequest(_message.Message):
    __slots__ = ("request_id", "item_id", "organisation_id", "status", "evidence", "effective_on", "min_registry_position")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    ORGANISATION_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    EFFECTIVE_ON_FIELD_NUMBER: _ClassVar[int]
    MIN_REGISTRY_POSITION_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    item_id: str
    organisation_id: str
    status: AdoptionStatus
    evidence: str
    effective_on: str
    min_registry_position: int
    def __init__(self, request_id: _Optional[str] = ..., item_id: _Optional[str] = ..., organisation_id: _Optional[str] = ..., status: _Optional[_Union[AdoptionStatus, str]] = ..., evidence: _Optional[str] = ..., effective_on: _Optional[str] = ..., min_registry_position: _Optional[int] = ...) -> None: ...

class DeclareAdoptionResponse(_message.Message):
    __slots__ = ("adoption", "position")
    ADOPTION_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    adoption: Adoption
    position: int
    def __init__(self, adoption: _Optional[_Union[Adoption, _Mapping]] = ..., position: _Optional[int] = ...) -> None: ...

class GetAdoptionSummaryRequest(_message.Message):
    __slots__ = ("domain_tag", "min_position", "min_registry_position")
    DOMAIN_TAG_FIELD_NUMBER: _ClassVar[int]
    MIN_POSITION_FIELD_NUMBER: _ClassVar[int]
    MIN_REGISTRY_POSITION_FIELD_NUMBER: _ClassVar[int]
    domain_tag: str
    min_position: int
    min_registry_position: int
    def __init__(self, domain_tag: _Optional[str] = ..., min_position: _Optional[int] = ..., min_registry_position: _Optional[int] = ...) -> None: ...

class AdoptionCount(_message.Message):
    __slots__ = ("item_id", "origin_node", "title", "exploring", "piloting", "adopted", "abandoned")
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_NODE_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    EXPLORING_FIELD_NUMBER: _ClassVar[int]
    PILOTING_FIELD_NUMBER: _ClassVar[int]
    ADOPTED_FIELD_NUMBER: _ClassVar[int]
    ABANDONED_FIELD_NUMBER: _ClassVar[int]
    item_id: str
    origin_node: str
    title: str
    exploring: int
    piloting: int
    adopted: int
    abandoned: int
    def __init__(self, item_id: _Optional[str] = ..., origin_node: _Optional[str] = ..., title: _Optional[str] = ..., exploring: _Optional[int] = ..., piloting: _Optional[int] = ..., adopted: _Optional[int] = ..., abandoned: _Optional[int] = ...) -> None: ...

class GetAdoptionSummaryResponse(_message.Message):
    __slots__ = ("items",)
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[AdoptionCount]
    def __init__(self, items: _Optional[_Iterable[_Union[AdoptionCount, _Mapping]]] = ...) -> None: ...

class GetSpreadRequest(_message.Message):
    __slots__ = ("item_id", "min_position", "min_registry_position")
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    MIN_POSITION_FIELD_NUMBER: _ClassVar[int]
    MIN_REGISTRY_POSITION_FIELD_NUMBER: _ClassVar[int]
    item_id: str
    min_position: int
    min_registry_position: int
    def __init__(self, item_id: _Optional[str] = ..., min_position: _Optional[int] = ..., min_registry_position: _Optional[int] = ...) -> None: ...

class SpreadStep(_message.Message):
    __slots__ = ("at", "kind", "node_id", "organisation_id", "organisation_name", "adoption_status", "revision", "detail")
    AT_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    ORGANISATION_ID_FIELD_NUMBER: _ClassVar[int]
    ORGANISATION_NAME_FIELD_NUMBER: _ClassVar[int]
    ADOPTION_STATUS_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    at: _timestamp_pb2.Timestamp
    kind: str
    node_id: str
    organisation_id: str
    organisation_name: str
    adoption_status: AdoptionStatus
    revision: int
    detail: str
    def __init__(self, at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., kind: _Optional[str] = ..., node_id: _Optional[str] = ..., organisation_id: _Optional[str] = ..., organisation_name: _Optional[str] = ..., adoption_status: _Optional[_Union[AdoptionStatus, str]] = ..., revision: _Optional[int] = ..., detail: _Optional[str] = ...) -> None: ...

class GetSpreadResponse(_message.Message):
    __slots__ = ("steps",)
    STEPS_FIELD_NUMBER: _ClassVar[int]
    steps: _containers.RepeatedCompositeFieldContainer[SpreadStep]
    def __init__(self, steps: _Optional[_Iterable[_Union[SpreadStep, _Mapping]]] = ...) -> None: ...

class SubscribeRequest(_message.Message):
    __slots__ = ("request_id", "node_id", "domain_tags", "min_registry_position")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    DOMAIN_TAGS_FIELD_NUMBER: _ClassVar[int]
    MIN_REGISTRY_POSITION_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    node_id: str
    domain_tags: _containers.RepeatedScalarFieldContainer[str]
    min_registry_position: int
    def __init__(self, request_id: _Optional[str] = ..., node_id: _Optional[str] = ..., domain_tags: _Optional[_Iterable[str]] = ..., min_registry_position: _Optional[int] = ...) -> None: ...

class SubscribeResponse(_message.Message):
    __slots__ = ("subscription", "position")
    SUBSCRIPTION_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    subscription: Subscription
    position: int
    def __init__(self, subscription: _Optional[_Union[Subscription, _Mapping]] = ..., position: _Optional[int] = ...) -> None: ...

class UnsubscribeRequest(_message.Message):
    __slots__ = ("request_id", "node_id", "min_registry_position")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    MIN_REGISTRY_POSITION_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    node_id: str
    min_registry_position: int
    def __init__(self, request_id: _Optional[str] = ..., node_id: _Optional[str] = ..., min_registry_position: _Optional[int] = ...) -> None: ...

class UnsubscribeResponse(_message.Message):
    __slots__ = ("subscription", "position")
    SUBSCRIPTION_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    subscription: Subscription
    position: int
    def __init__(self, subscription: _Optional[_Union[Subscription, _Mapping]] = ..., position: _Optional[int] = ...) -> None: ...

class Subscription(_message.Message):
    __slots__ = ("node_id", "domain_tags", "active", "since", "last_received_at", "lag", "connected")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    DOMAIN_TAGS_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    LAST_RECEIVED_AT_FIELD_NUMBER: _ClassVar[int]
    LAG_FIELD_NUMBER: _ClassVar[int]
    CONNECTED_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    domain_tags: _containers.RepeatedScalarFieldContainer[str]
    active: bool
    since: _timestamp_pb2.Timestamp
    last_received_at: _timestamp_pb2.Timestamp
    lag: int
    connected: bool
    def __init__(self, node_id: _Optional[str] = ..., domain_tags: _Optional[_Iterable[str]] = ..., active: _Optional[bool] = ..., since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_received_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., lag: _Optional[int] = ..., connected: _Optional[bool] = ...) -> None: ...

class ListSubscriptionsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListSubscriptionsResponse(_message.Message):
    __slots__ = ("subscriptions",)
    SUBSCRIPTIONS_FIELD_NUMBER: _ClassVar[int]
    subscriptions: _containers.RepeatedCompositeFieldContainer[Subscription]
    def __init__(self, subscriptions: _Optional[_Iterable[_Union[Subscription, _Mapping]]] = ...) -> None: ...

class ListRegionNodesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RegionNode(_message.Message):
    __slots__ = ("node_id", "name")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    name: str
    def __init__(self, node_id: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class ListRegionNodesResponse(_message.Message):
    __slots__ = ("region", "nodes")
    REGION_FIELD_NUMBER: _ClassVar[int]
    NODES_FIELD_NUMBER: _ClassVar[int]
    region: str
    nodes: _containers.RepeatedCompositeFieldContainer[RegionNode]
    def __init__(self, region: _Optional[str] = ..., nodes: _Optional[_Iterable[_Union[RegionNode, _Mapping]]] = ...) -> None: ...

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
