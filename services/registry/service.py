"""How the registry runs: its application, read model, API and published events."""

from services.common.service import ServiceDefinition, ServiceParts, ServiceRuntime
from services.registry.application import Registry
from services.registry.grpc_api import SERVICE_NAME, RegistryServicer
from services.registry.integration import REGISTRY
from services.registry.views import Directory


def build(runtime: ServiceRuntime[Registry]) -> ServiceParts:
    directory = runtime.view(Directory)
    return ServiceParts(
        servicer=lambda: RegistryServicer(runtime.app, directory, runtime.follower(Directory.name)),
        known_member=runtime.app.is_registered,
        known_member_authoritative=True,
    )


DEFINITION = ServiceDefinition(
    name="registry",
    application=Registry,
    integration=REGISTRY,
    grpc_service_name=SERVICE_NAME,
    build=build,
    projections=(Directory,),
)
