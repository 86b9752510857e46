"""Protobuf <-> domain enum pairs of the registry, shared by its servicer and its relay."""

from copnet.registry.v1 import registry_pb2 as pb
from services.common.protoconv import EnumCodec
from services.registry import domain

ORGANISATION_KIND = EnumCodec(pb.OrganisationKind, domain.OrganisationKind)
JOINING_POLICY = EnumCodec(pb.JoiningPolicy, domain.JoiningPolicy)
LIFECYCLE = EnumCodec(pb.CommunityLifecycle, domain.Lifecycle)
PROFESSION = EnumCodec(pb.Profession, domain.Profession)
MEMBERSHIP_STATUS = EnumCodec(pb.MembershipStatus, domain.MembershipStatus)
ROLE = EnumCodec(pb.Role, domain.Role)
