"""How the learning service runs: its application, catalogue, registry mirror,
federation inbox and links, API and published events."""

from services.common.federation import FederationLinks
from services.common.service import (
    InboxDefinition,
    ServiceDefinition,
    ServiceParts,
    ServiceRuntime,
)
from services.contracts.registry_mirror import RegistryMirror, registry_subjects
from services.learning.application import Learning
from services.learning.federation import FederationPolicy, federation_subjects
from services.learning.grpc_api import SERVICE_NAME, LearningServicer
from services.learning.integration import LEARNING
from services.learning.views import Catalogue


def build(runtime: ServiceRuntime[Learning]) -> ServiceParts:
    app = runtime.app
    mirror = runtime.view(RegistryMirror)
    app.connect(mirror)
    catalogue = runtime.view(Catalogue)
    return ServiceParts(
        servicer=lambda: LearningServicer(
            app,
            catalogue,
            runtime.follower(Catalogue.name),
            runtime.identity,
            runtime.nats,
            trust=runtime.trust,
        ),
        workers=(
            lambda: FederationLinks(
                runtime.identity,
                runtime.nats,
                runtime.trust,
                catalogue.subscribed_nodes,
                app.changes,
                services=("learning",),
            ),
        ),
        handlers={"federation": lambda: FederationPolicy(app)},
        registry_position=mirror.registry_position,
    )


DEFINITION = ServiceDefinition(
    name="learning",
    application=Learning,
    integration=LEARNING,
    grpc_service_name=SERVICE_NAME,
    build=build,
    projections=(Catalogue,),
    inboxes=(
        InboxDefinition(name="registry", subjects=registry_subjects, view=RegistryMirror),
        InboxDefinition(
            name="federation",
            subjects=federation_subjects,
            stream=lambda identity: identity.federation_stream_name,
            federated=True,
        ),
    ),
)
