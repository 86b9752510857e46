"""How the events service runs: its application, read models, inbox, API and published events."""

from services.common.service import InboxDefinition, ServiceDefinition, ServiceRuntime
from services.contracts.registry_mirror import RegistryMirror, registry_subjects
from services.events.application import Events
from services.events.grpc_api import SERVICE_NAME, EventsServicer, register
from services.events.integration import EVENTS
from services.events.mirror import CommunityDirectoryView
from services.events.views import Schedule


def _directory(runtime: ServiceRuntime) -> CommunityDirectoryView:
    mirror = runtime.projections[RegistryMirror.name]
    assert isinstance(mirror, RegistryMirror)
    return CommunityDirectoryView(mirror)


def _wire(runtime: ServiceRuntime) -> None:
    runtime.app.use_directory(_directory(runtime))  # type: ignore[attr-defined]


def _servicer(runtime: ServiceRuntime) -> EventsServicer:
    return EventsServicer(
        runtime.app,  # type: ignore[arg-type]
        runtime.projections[Schedule.name],  # type: ignore[arg-type]
        runtime.follower(Schedule.name),
        _directory(runtime),
    )


DEFINITION = ServiceDefinition(
    name="events",
    application=Events,
    integration=EVENTS,
    grpc_service_name=SERVICE_NAME,
    servicer=_servicer,
    register=register,
    projections=(Schedule,),
    inboxes=(InboxDefinition(name="registry", subjects=registry_subjects, view=RegistryMirror),),
    wire=_wire,
)
