import datetime

from google.protobuf import any_pb2 as _any_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Envelope(_message.Message):
    __slots__ = ("event_id", "origin_region", "origin_node", "service", "position", "aggregate_id", "aggregate_version", "event_type", "occurred_at", "schema_version", "payload", "actor", "epoch")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_REGION_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_NODE_FIELD_NUMBER: _ClassVar[int]
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    AGGREGATE_ID_FIELD_NUMBER: _ClassVar[int]
    AGGREGATE_VERSION_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_VERSION_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    origin_region: str
    origin_node: str
    service: str
    position: int
    aggregate_id: str
    aggregate_version: int
    event_type: str
    occurred_at: _timestamp_pb2.Timestamp
    schema_version: int
    payload: _any_pb2.Any
    actor: str
    epoch: int
    def __init__(self, event_id: _Optional[str] = ..., origin_region: _Optional[str] = ..., origin_node: _Optional[str] = ..., service: _Optional[str] = ..., position: _Optional[int] = ..., aggregate_id: _Optional[str] = ..., aggregate_version: _Optional[int] = ..., event_type: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., schema_version: _Optional[int] = ..., payload: _Optional[_Union[_any_pb2.Any, _Mapping]] = ..., actor: _Optional[str] = ..., epoch: _Optional[int] = ...) -> None: ...
