"""What each service does on its node's NATS, as the supervisor needs it to write the
server's users (`copnet up`, deploy/), without importing the services.

Each service's definition says the same (`ServiceDefinition.nats_grants`, from its inboxes
and integration map); importing the four definitions would bring every service's code and
libraries into the supervisor (about 80 MB), so the supervisor reads this table instead.
`tests/node/test_lean_supervisor.py` keeps the two equal; a service missing here (a new
one) is read from its definition.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from dataclasses import dataclass

from services.common.messaging import NodeIdentity
from services.common.nodeauth import ServiceGrants
from services.common.region import DIRECTORY_SUBJECT
from services.common.settings import available_services

# The stream an inbox reads.
NODE = "node"  # the node's own stream
FEDERATION = "federation"  # what the node receives from the region's other nodes


@dataclass(frozen=True)
class DeclaredGrants:
    # (inbox name, stream) of each inbox, in the definition's order.
    inboxes: tuple[tuple[str, str], ...] = ()
    # Deletes members' personal messages (its integration map erases personal data).
    erases: bool = False

    def grants(self, service: str, identity: NodeIdentity) -> ServiceGrants:
        streams = {NODE: identity.stream_name, FEDERATION: identity.federation_stream_name}
        federated = any(stream == FEDERATION for _, stream in self.inboxes)
        return ServiceGrants(
            service,
            tuple((streams[stream], f"{service}-{name}") for name, stream in self.inboxes),
            federation=federated,
            requests=(DIRECTORY_SUBJECT,) if federated else (),
            erases=self.erases,
        )


DECLARED = {
    "registry": DeclaredGrants(erases=True),
    "events": DeclaredGrants((("registry", NODE), ("erasures", NODE)), erases=True),
    "learning": DeclaredGrants((("registry", NODE), ("federation", FEDERATION))),
    "notify": DeclaredGrants(
        (("registry", NODE), ("events", NODE), ("learning", NODE), ("addresses", NODE))
    ),
}


def definition_grants(service: str, identity: NodeIdentity) -> ServiceGrants:
    """From the service's definition (imports the service)."""
    definition = importlib.import_module(f"services.{service}.service").DEFINITION
    grants: ServiceGrants = definition.nats_grants(identity)
    return grants


def service_grants(
    identity: NodeIdentity, services: Iterable[str] | None = None
) -> list[ServiceGrants]:
    """What each service of this installation does on the node's NATS."""
    return [
        DECLARED[name].grants(name, identity)
        if name in DECLARED
        else definition_grants(name, identity)
        for name in (available_services() if services is None else services)
    ]
