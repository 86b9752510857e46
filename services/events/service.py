"""How the events service runs: its application, read models, inbox, API and published events."""

from services.common.service import InboxDefinition, ServiceDefinition, ServiceRuntime
from services.events.application import Events
from services.events.grpc_api import SERVICE_NAME, EventsServicer, register
from services.events.integration import EVENTS
from services.events.mirror import REGISTRY_SERVICE, CommunityMirror
from services.events.views import Schedule


def _servicer(runtime: ServiceRuntime) -> EventsServicer:
    mirror = runtime.projections[CommunityMirror.name]
    assert isinstance(mirror, CommunityMirror)
    runtime.app.use_directory(mirror)  # type: ignore[attr-defined]
    return EventsServicer(
        runtime.app,  # type: ignore[arg-type]
        runtime.projections[Schedule.name],  # type: ignore[arg-type]
        runtime.follower(Schedule.name),
        mirror,
    )


DEFINITION = ServiceDefinition(
    name="events",
    application=Events,
    integration=EVENTS,
    grpc_service_name=SERVICE_NAME,
    servicer=_servicer,
    register=register,
    projections=(Schedule,),
    inboxes=(
        InboxDefinition(
            name="registry",
            subjects=lambda identity: identity.service_subjects(REGISTRY_SERVICE),
            view=CommunityMirror,
        ),
    ),
)
