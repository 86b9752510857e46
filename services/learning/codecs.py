"""Protobuf <-> domain enum pairs of the learning service."""

from copnet.learning.v1 import learning_pb2 as pb
from services.common.protoconv import EnumCodec
from services.learning import domain

ITEM_KIND = EnumCodec(pb.ItemKind, domain.ItemKind)
ITEM_STATUS = EnumCodec(pb.ItemStatus, domain.ItemStatus)
VISIBILITY = EnumCodec(pb.Visibility, domain.Visibility)
ADOPTION_STATUS = EnumCodec(pb.AdoptionStatus, domain.AdoptionStatus)
