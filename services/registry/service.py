"""How the registry runs: its application, read model, API and published events."""

from services.common.service import ServiceDefinition, ServiceRuntime
from services.registry.application import Registry
from services.registry.grpc_api import SERVICE_NAME, RegistryServicer, register
from services.registry.integration import REGISTRY
from services.registry.views import Directory


def _servicer(runtime: ServiceRuntime) -> RegistryServicer:
    return RegistryServicer(
        runtime.app, runtime.projections[Directory.name], runtime.follower(Directory.name)
    )


DEFINITION = ServiceDefinition(
    name="registry",
    application=Registry,
    integration=REGISTRY,
    grpc_service_name=SERVICE_NAME,
    servicer=_servicer,
    register=register,
    projections=(Directory,),
)
