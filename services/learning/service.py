"""How the learning service runs: its application, catalogue, registry mirror,
federation inbox and links, API and published events."""

from services.common.federation import FederationLinks
from services.common.service import InboxDefinition, ServiceDefinition, ServiceRuntime
from services.contracts.registry_mirror import RegistryMirror, registry_subjects
from services.learning.application import Learning
from services.learning.federation import FederationPolicy, federation_subjects
from services.learning.grpc_api import SERVICE_NAME, LearningServicer, register
from services.learning.integration import LEARNING
from services.learning.views import Catalogue


def _wire(runtime: ServiceRuntime) -> None:
    runtime.app.registry = runtime.projections[RegistryMirror.name]


def _servicer(runtime: ServiceRuntime) -> LearningServicer:
    return LearningServicer(
        runtime.app,
        runtime.projections[Catalogue.name],
        runtime.follower(Catalogue.name),
        runtime.identity,
        runtime.nats,
        joins_hub=runtime.settings.joins_hub,
    )


def _links(runtime: ServiceRuntime) -> FederationLinks:
    catalogue = runtime.projections[Catalogue.name]
    assert isinstance(catalogue, Catalogue)
    return FederationLinks(
        runtime.identity,
        runtime.nats,
        catalogue.subscribed_nodes,
        runtime.app.changes,
        services=("learning",),
    )


DEFINITION = ServiceDefinition(
    name="learning",
    application=Learning,
    integration=LEARNING,
    grpc_service_name=SERVICE_NAME,
    servicer=_servicer,
    register=register,
    projections=(Catalogue,),
    inboxes=(
        InboxDefinition(name="registry", subjects=registry_subjects, view=RegistryMirror),
        InboxDefinition(
            name="federation",
            subjects=federation_subjects,
            handler=lambda runtime: FederationPolicy(runtime.app),
            stream=lambda identity: identity.federation_stream_name,
        ),
    ),
    wire=_wire,
    workers=(_links,),
)
