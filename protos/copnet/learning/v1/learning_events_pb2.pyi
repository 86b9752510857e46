import datetime

from copnet.learning.v1 import learning_pb2 as _learning_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ItemSnapshot(_message.Message):
    __slots__ = ("item", "receptions", "revisions", "adoption_history", "contributor_pseudonyms")
    ITEM_FIELD_NUMBER: _ClassVar[int]
    RECEPTIONS_FIELD_NUMBER: _ClassVar[int]
    REVISIONS_FIELD_NUMBER: _ClassVar[int]
    ADOPTION_HISTORY_FIELD_NUMBER: _ClassVar[int]
    CONTRIBUTOR_PSEUDONYMS_FIELD_NUMBER: _ClassVar[int]
    item: _learning_pb2.LearningItem
    receptions: _containers.RepeatedCompositeFieldContainer[_learning_pb2.Reception]
    revisions: _containers.RepeatedCompositeFieldContainer[_learning_pb2.Revision]
    adoption_history: _containers.RepeatedCompositeFieldContainer[_learning_pb2.Adoption]
    contributor_pseudonyms: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, item: _Optional[_Union[_learning_pb2.LearningItem, _Mapping]] = ..., receptions: _Optional[_Iterable[_Union[_learning_pb2.Reception, _Mapping]]] = ..., revisions: _Optional[_Iterable[_Union[_learning_pb2.Revision, _Mapping]]] = ..., adoption_history: _Optional[_Iterable[_Union[_learning_pb2.Adoption, _Mapping]]] = ..., contributor_pseudonyms: _Optional[_Iterable[str]] = ...) -> None: ...

class ItemRetracted(_message.Message):
    __slots__ = ("item_id", "version")
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    item_id: str
    version: int
    def __init__(self, item_id: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class AdoptionDeclared(_message.Message):
    __slots__ = ("item_id", "item_origin_node", "adoption")
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    ITEM_ORIGIN_NODE_FIELD_NUMBER: _ClassVar[int]
    ADOPTION_FIELD_NUMBER: _ClassVar[int]
    item_id: str
    item_origin_node: str
    adoption: _learning_pb2.Adoption
    def __init__(self, item_id: _Optional[str] = ..., item_origin_node: _Optional[str] = ..., adoption: _Optional[_Union[_learning_pb2.Adoption, _Mapping]] = ...) -> None: ...

class ItemReceived(_message.Message):
    __slots__ = ("item_id", "item_origin_node", "revision", "received_at")
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    ITEM_ORIGIN_NODE_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_AT_FIELD_NUMBER: _ClassVar[int]
    item_id: str
    item_origin_node: str
    revision: int
    received_at: _timestamp_pb2.Timestamp
    def __init__(self, item_id: _Optional[str] = ..., item_origin_node: _Optional[str] = ..., revision: _Optional[int] = ..., received_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class SubscriptionChanged(_message.Message):
    __slots__ = ("node_id", "domain_tags", "active")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    DOMAIN_TAGS_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    domain_tags: _containers.RepeatedScalarFieldContainer[str]
    active: bool
    def __init__(self, node_id: _Optional[str] = ..., domain_tags: _Optional[_Iterable[str]] = ..., active: _Optional[bool] = ...) -> None: ...
