"""How the events service runs: its application, read models, inbox, API and published events."""

from services.common.service import (
    InboxDefinition,
    ServiceDefinition,
    ServiceParts,
    ServiceRuntime,
)
from services.contracts.erasure import INBOX_NAME, ErasurePolicy, erasure_inbox
from services.contracts.registry_mirror import RegistryMirror, registry_subjects
from services.events.application import Events
from services.events.grpc_api import SERVICE_NAME, EventsServicer
from services.events.integration import EVENTS
from services.events.mirror import CommunityDirectoryView
from services.events.views import Schedule


def build(runtime: ServiceRuntime[Events]) -> ServiceParts:
    directory = CommunityDirectoryView(runtime.view(RegistryMirror))
    runtime.app.connect(directory)
    schedule = runtime.view(Schedule)
    return ServiceParts(
        servicer=lambda: EventsServicer(
            runtime.app, schedule, runtime.follower(Schedule.name), directory
        ),
        handlers={INBOX_NAME: lambda: ErasurePolicy(runtime.app)},
        registry_position=directory.registry_position,
    )


DEFINITION = ServiceDefinition(
    name="events",
    application=Events,
    integration=EVENTS,
    grpc_service_name=SERVICE_NAME,
    build=build,
    projections=(Schedule,),
    inboxes=(
        InboxDefinition(name="registry", subjects=registry_subjects, view=RegistryMirror),
        erasure_inbox(),
    ),
)
